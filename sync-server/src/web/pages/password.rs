//! `GET /app/password`, `POST /app/password`: an account made with a one-time sign-in link
//! sets its password (the link brings it here). An account that has one is told to ask head
//! office for a new link instead (no password change without the current one).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::people::run;
use crate::people::{self, AccountRole, Manager, PeopleError};
use crate::store::Store;
use crate::web::auth::{WebRole, sha256_hex};
use crate::web::extract::{SignedForm, SignedIn};
use crate::web::redirect;

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

fn role_of(r: WebRole) -> AccountRole {
    match r {
        WebRole::Admin => AccountRole::Admin,
        WebRole::HeadOffice => AccountRole::HeadOffice,
        WebRole::Supervisor => AccountRole::Supervisor,
    }
}

async fn has_password(store: &Arc<Store>, id: String) -> Result<bool, super::people::Refusal> {
    run(store, move |s| {
        Ok(people::web_users(s)?
            .into_iter()
            .find(|a| a.id == id)
            .is_some_and(|a| a.has_password))
    })
    .await
}

fn form_page(who: &SignedIn, notice: Markup, status: StatusCode) -> Response {
    let page = &who.page;
    let t = |k| page.t(k);
    let body = html! {
        (notice)
        form.login method="post" action="/app/password" id="set-password" {
            input type="hidden" name="csrf" value=(who.user.csrf);
            label { (t("new_password")) input type="password" name="password" autocomplete="new-password" required minlength=(people::MIN_PASSWORD_CHARS); }
            label { (t("repeat_password")) input type="password" name="repeat" autocomplete="new-password" required; }
            button { (t("save")) }
        }
    };
    page.page(status, t("set_password_title"), body)
}

fn has_one(who: &SignedIn) -> Response {
    let body = html! { p id="has-password" { (who.page.t("password_exists")) } p { a href="/app" { (who.page.t("back")) } } };
    who.page
        .page(StatusCode::OK, who.page.t("set_password_title"), body)
}

pub async fn form(State(store): State<Arc<Store>>, who: SignedIn) -> Response {
    match has_password(&store, who.user.id.clone()).await {
        Ok(true) => has_one(&who),
        Ok(false) => form_page(&who, html! {}, StatusCode::OK),
        Err(r) => r.page(&who.page),
    }
}

pub async fn set(State(store): State<Arc<Store>>, f: SignedForm<PasswordForm>) -> Response {
    let SignedForm { who, form } = f;
    match has_password(&store, who.user.id.clone()).await {
        Ok(true) => return has_one(&who),
        Ok(false) => {}
        Err(r) => return r.page(&who.page),
    }
    if form.password != form.repeat {
        let notice = html! { p.err id="refusal" { (who.page.t("passwords_differ")) } };
        return form_page(&who, notice, StatusCode::BAD_REQUEST);
    }
    let id = who.user.id.clone();
    let role = role_of(who.user.role);
    let keep = who.page.token.as_deref().map(sha256_hex);
    let done = run(&store, move |s| {
        people::set_password(s, Manager { id: &id, role }, &id, &form.password, keep.as_deref())
    })
    .await;
    match done {
        Ok(()) => redirect("/app"),
        Err(r) if r.code == PeopleError::NotAllowed.code() => r.page(&who.page),
        Err(r) => {
            let notice = r.markup(who.page.lang);
            form_page(&who, notice, r.status)
        }
    }
}
