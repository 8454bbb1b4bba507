//! `GET /app/accounts`: web users (who signs in to these pages) and the form for a new one
//! (with a password, or a one-time sign-in link shown once); `GET /app/accounts/{id}`: change
//! the role (and which supervisor's team a supervisor account sees), a new sign-in link,
//! deactivate. Admin and head office only; only an admin manages admin accounts
//! ([`crate::people`] decides).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::people::{NoFields, run, server_url};
use crate::clock::now_ms;
use crate::people::{self, AccountRole, FieldUser, FirstSignIn, Manager, WebAccount, WebUserInput};
use crate::store::Store;
use crate::web::extract::{SignedForm, SignedIn, Viewer, trimmed};
use crate::web::read::people::{Accounts, accounts};
use crate::web::{fmt_datetime, redirect, url_enc};

/// A sign-in link's validity, hours: what the forms offer.
const LINK_HOURS: [(i64, &str); 2] = [(1, "valid_1h"), (24, "valid_24h")];

fn role_key(role: AccountRole) -> &'static str {
    match role {
        AccountRole::Admin => "role_admin",
        AccountRole::HeadOffice => "role_head_office",
        AccountRole::Supervisor => "role_supervisor",
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct AccountForm {
    #[serde(default, deserialize_with = "trimmed")]
    id: String,
    #[serde(default, deserialize_with = "trimmed")]
    name: String,
    #[serde(default, deserialize_with = "trimmed")]
    role: String,
    #[serde(default, deserialize_with = "trimmed")]
    supervisor: String,
    /// `password` or `link`.
    #[serde(default, deserialize_with = "trimmed")]
    first: String,
    #[serde(default)]
    password: String,
    #[serde(default, deserialize_with = "trimmed")]
    hours: String,
}

fn role_select(page: &Viewer, chosen: &str) -> Markup {
    html! {
        label { (page.t("role")) " "
            select name="role" {
                @for r in [AccountRole::HeadOffice, AccountRole::Supervisor, AccountRole::Admin] {
                    option value=(r.as_str()) selected[r.as_str() == chosen] { (page.t(role_key(r))) }
                }
            }
        }
    }
}

fn supervisor_select(page: &Viewer, supervisors: &[FieldUser], chosen: &str) -> Markup {
    html! {
        label { (page.t("sees_team_of")) " "
            select name="supervisor" {
                option value="" selected[chosen.is_empty()] { (page.t("none")) }
                @for s in supervisors {
                    option value=(s.id) selected[s.id == chosen] { (s.name) }
                }
            }
        }
    }
}

fn hours_select(page: &Viewer) -> Markup {
    html! {
        label { (page.t("link_valid")) " "
            select name="hours" {
                @for (h, key) in LINK_HOURS {
                    option value=(h) selected[h == 24] { (page.t(key)) }
                }
            }
        }
    }
}

fn state_words(page: &Viewer, a: &WebAccount) -> Markup {
    html! {
        @if let Some(ms) = a.deactivated_ms {
            span.bad { (page.t("deactivated_on").replace("{time}", &fmt_datetime(page.cal, ms))) }
        } @else if !a.has_password {
            span.muted { (page.t("no_password_yet")) }
        } @else {
            span.ok { (page.t("st_active")) }
        }
    }
}

/// The name of the supervisor a supervisor account sees.
fn sees(data: &Accounts, a: &WebAccount) -> String {
    a.supervisor_id
        .as_deref()
        .map(|id| {
            data.supervisors
                .iter()
                .find(|s| s.id == id)
                .map_or_else(|| id.to_string(), |s| s.name.clone())
        })
        .unwrap_or_default()
}

fn list_page(
    page: &Viewer,
    csrf: &str,
    data: &Accounts,
    form: &AccountForm,
    notice: Markup,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let role_chosen = if form.role.is_empty() {
        "head_office"
    } else {
        &form.role
    };
    let body = html! {
        table.rows id="accounts" {
            thead { tr {
                th { (t("name")) } th { (t("user_id")) } th { (t("role")) } th { (t("sees_team_of")) }
                th { (t("created_at")) } th { (t("status")) }
            } }
            tbody {
                @for a in &data.accounts {
                    tr id={ "account-" (a.id) } {
                        td.name data-label=(t("name")) { a href={ "/app/accounts/" (url_enc(&a.id)) } { (a.name) } }
                        td data-label=(t("user_id")) { (a.id) }
                        td data-label=(t("role")) { (t(role_key(a.role))) }
                        td.name data-label=(t("sees_team_of")) { (sees(data, a)) }
                        td.nowrap data-label=(t("created_at")) { (fmt_datetime(page.cal, a.created_ms)) }
                        td data-label=(t("status")) { (state_words(page, a)) }
                    }
                }
            }
        }
        h2 id="new" { (t("new_account")) }
        (notice)
        form.filters method="post" action="/app/accounts" id="new-account" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("user_id")) " " input name="id" value=(form.id) required maxlength="64" autocomplete="off"; }
            label { (t("name")) " " input name="name" value=(form.name) required maxlength="200"; }
            (role_select(page, role_chosen))
            (supervisor_select(page, &data.supervisors, &form.supervisor))
            fieldset {
                legend { (t("first_sign_in")) }
                label { input type="radio" name="first" value="link" checked[form.first != "password"]; " " (t("by_link")) }
                " "
                (hours_select(page))
                br;
                label { input type="radio" name="first" value="password" checked[form.first == "password"]; " " (t("by_password")) }
                " "
                input type="password" name="password" autocomplete="new-password" aria-label=(t("password")) placeholder=(t("password"));
            }
            button { (t("create")) }
        }
    };
    page.page(status, t("accounts_title"), body)
}

async fn show_list(
    store: &Arc<Store>,
    who: &SignedIn,
    form: &AccountForm,
    notice: Markup,
    status: StatusCode,
) -> Response {
    match run(store, accounts).await {
        Ok(data) => list_page(&who.page, &who.user.csrf, &data, form, notice, status),
        Err(r) => r.page(&who.page),
    }
}

pub async fn list(State(store): State<Arc<Store>>, who: SignedIn) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    show_list(&store, &who, &AccountForm::default(), html! {}, StatusCode::OK).await
}

fn acting(who: &SignedIn) -> Result<(String, AccountRole), Response> {
    who.manager().map(|m| (m.id.to_string(), m.role))
}

/// A sign-in link, shown once, as a full address to send. An account without a password goes
/// on to set one.
fn link_block(page: &Viewer, base: &str, path: &str, name: &str, hours: i64, has_password: bool) -> Markup {
    let next = if has_password {
        ""
    } else {
        "&next=%2Fapp%2Fpassword"
    };
    let href = format!("{base}{path}{next}");
    let until = fmt_datetime(page.cal, now_ms().saturating_add(hours.saturating_mul(3_600_000)));
    html! {
        section.card id="sign-in-link" {
            p { (page.t("link_shown_once").replace("{name}", name).replace("{time}", &until)) }
            p.long { code id="link" { (href) } }
        }
    }
}

fn first_sign_in(form: &AccountForm) -> FirstSignIn {
    if form.first == "password" {
        FirstSignIn::Password(form.password.clone())
    } else {
        FirstSignIn::Link {
            ttl_ms: form.hours.parse::<i64>().unwrap_or(0).saturating_mul(3_600_000),
        }
    }
}

/// `POST /app/accounts`.
pub async fn create(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    f: SignedForm<AccountForm>,
) -> Response {
    let SignedForm { who, form } = f;
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(role) = AccountRole::parse(&form.role) else {
        return who.page.bad_request(who.page.t("bad_form_text"));
    };
    let input = WebUserInput {
        id: form.id.clone(),
        name: form.name.clone(),
        role,
        supervisor_id: (role == AccountRole::Supervisor && !form.supervisor.is_empty())
            .then(|| form.supervisor.clone()),
    };
    let first = first_sign_in(&form);
    let done = run(&store, move |s| {
        people::create_web_user(
            s,
            Manager {
                id: &by.0,
                role: by.1,
            },
            &input,
            &first,
            false,
            now_ms(),
        )
    })
    .await;
    match done {
        Ok(link) => {
            tracing::info!("web user created on the web");
            let notice = match link {
                Some(path) => {
                    let hours = form.hours.parse::<i64>().unwrap_or(0);
                    link_block(
                        &who.page,
                        &server_url(&store, &headers),
                        &path,
                        &form.name,
                        hours,
                        false,
                    )
                }
                None => html! { p.ok id="done" { (who.page.t("done_saved")) } },
            };
            show_list(&store, &who, &AccountForm::default(), notice, StatusCode::OK).await
        }
        Err(r) if r.status == StatusCode::FORBIDDEN => r.page(&who.page),
        Err(r) => {
            let notice = r.markup(who.page.lang);
            let kept = AccountForm {
                password: String::new(),
                ..form
            };
            show_list(&store, &who, &kept, notice, r.status).await
        }
    }
}

// --- one account ------------------------------------------------------------------------------

type AccountId = Result<Path<String>, PathRejection>;

fn account_page(
    page: &Viewer,
    csrf: &str,
    data: &Accounts,
    a: &WebAccount,
    notice: Markup,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let here = format!("/app/accounts/{}", url_enc(&a.id));
    let viewer_is_admin = page
        .user
        .as_ref()
        .is_some_and(|u| u.role == crate::web::auth::WebRole::Admin);
    let body = html! {
        (notice)
        dl id="account" {
            dt { (t("user_id")) } dd { (a.id) }
            dt { (t("role")) } dd { (t(role_key(a.role))) }
            @if a.role == AccountRole::Supervisor {
                dt { (t("sees_team_of")) } dd { (sees(data, a)) }
            }
            dt { (t("created_at")) } dd { (fmt_datetime(page.cal, a.created_ms)) }
            dt { (t("status")) } dd { (state_words(page, a)) }
        }
        @if a.role == AccountRole::Admin && !viewer_is_admin {
            p.muted id="admin-only" { (page.lang.message("people_not_allowed", &[])) }
        } @else if a.deactivated_ms.is_none() {
            h2 { (t("change_role")) }
            form.filters method="post" action={ (here) "/role" } id="change-role" {
                input type="hidden" name="csrf" value=(csrf);
                (role_select(page, a.role.as_str()))
                (supervisor_select(page, &data.supervisors, a.supervisor_id.as_deref().unwrap_or("")))
                button { (t("save")) }
            }
            h2 { (t("new_link")) }
            form.filters method="post" action={ (here) "/link" } id="new-link" {
                input type="hidden" name="csrf" value=(csrf);
                (hours_select(page))
                button { (t("new_link")) }
            }
            h2 { (t("deactivate")) }
            form.inline method="post" action={ (here) "/deactivate" } id="deactivate" {
                input type="hidden" name="csrf" value=(csrf);
                p { button { (t("deactivate")) } " " span.muted { (t("deactivate_account_note")) } }
            }
        }
        p { a href="/app/accounts" { (t("back_to_accounts")) } }
    };
    page.page(status, &a.name, body)
}

async fn show_account(
    store: &Arc<Store>,
    who: &SignedIn,
    id: String,
    notice: Markup,
    status: StatusCode,
) -> Response {
    match run(store, accounts).await {
        Ok(data) => match data.accounts.iter().find(|a| a.id == id) {
            Some(a) => account_page(&who.page, &who.user.csrf, &data, a, notice, status),
            None => who.page.not_found(),
        },
        Err(r) => r.page(&who.page),
    }
}

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

pub async fn show(
    State(store): State<Arc<Store>>,
    id: AccountId,
    who: SignedIn,
    crate::web::extract::PageQuery(q): crate::web::extract::PageQuery<DoneQuery>,
) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let notice = match q.done.as_str() {
        "saved" => html! { p.ok id="done" { (who.page.t("done_saved")) } },
        "deactivated" => html! { p.ok id="done" { (who.page.t("done_deactivated")) } },
        _ => html! {},
    };
    show_account(&store, &who, id, notice, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default, deserialize_with = "trimmed")]
    role: String,
    #[serde(default, deserialize_with = "trimmed")]
    supervisor: String,
}

/// `POST /app/accounts/{id}/role`: their sessions end; they sign in again with the new role.
pub async fn change_role(
    State(store): State<Arc<Store>>,
    id: AccountId,
    f: SignedForm<RoleForm>,
) -> Response {
    let SignedForm { who, form } = f;
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let Some(role) = AccountRole::parse(&form.role) else {
        return who.page.bad_request(who.page.t("bad_form_text"));
    };
    let sup =
        (role == AccountRole::Supervisor && !form.supervisor.is_empty()).then(|| form.supervisor.clone());
    let target = id.clone();
    let done = run(&store, move |s| {
        people::change_web_role(
            s,
            Manager {
                id: &by.0,
                role: by.1,
            },
            &target,
            role,
            sup.as_deref(),
        )
    })
    .await;
    after(&store, &who, id, done, "saved").await
}

/// Where an account action goes: its page with a note, or with the refusal.
async fn after(
    store: &Arc<Store>,
    who: &SignedIn,
    id: String,
    done: Result<(), super::people::Refusal>,
    note: &str,
) -> Response {
    match done {
        Ok(()) => redirect(&format!("/app/accounts/{}?done={note}", url_enc(&id))),
        Err(r) if r.status == StatusCode::FORBIDDEN => r.page(&who.page),
        Err(r) => {
            let notice = r.markup(who.page.lang);
            show_account(store, who, id, notice, r.status).await
        }
    }
}

/// `POST /app/accounts/{id}/deactivate`: sessions and links end, the password stops working.
pub async fn deactivate(State(store): State<Arc<Store>>, id: AccountId, f: SignedForm<NoFields>) -> Response {
    let who = f.who;
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let target = id.clone();
    let done = run(&store, move |s| {
        people::deactivate_web_user(
            s,
            Manager {
                id: &by.0,
                role: by.1,
            },
            &target,
            now_ms(),
        )
    })
    .await;
    after(&store, &who, id, done, "deactivated").await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default, deserialize_with = "trimmed")]
    hours: String,
}

/// `POST /app/accounts/{id}/link`: a new one-time sign-in link (a forgotten password), shown once.
pub async fn new_link(
    State(store): State<Arc<Store>>,
    id: AccountId,
    headers: HeaderMap,
    f: SignedForm<LinkForm>,
) -> Response {
    let SignedForm { who, form } = f;
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let hours = form.hours.parse::<i64>().unwrap_or(0);
    let target = id.clone();
    let done = run(&store, move |s| {
        let by = Manager {
            id: &by.0,
            role: by.1,
        };
        let (name, has_password) = people::web_users(s)?
            .into_iter()
            .find(|a| a.id == target)
            .map(|a| (a.name, a.has_password))
            .unwrap_or_default();
        let path = people::issue_sign_in_link(s, by, &target, hours.saturating_mul(3_600_000), now_ms())?;
        Ok((name, has_password, path))
    })
    .await;
    match done {
        Ok((name, has_password, path)) => {
            let base = server_url(&store, &headers);
            let notice = link_block(&who.page, &base, &path, &name, hours, has_password);
            show_account(&store, &who, id, notice, StatusCode::OK).await
        }
        Err(r) if r.status == StatusCode::FORBIDDEN => r.page(&who.page),
        Err(r) => {
            let notice = r.markup(who.page.lang);
            show_account(&store, &who, id, notice, r.status).await
        }
    }
}
