//! `GET /app/people`: reps and supervisors with their filters, and the form for a new one;
//! `GET /app/people/{id}`: one field user (edit, deactivate / reactivate, their devices and
//! enrolment codes, issue a code shown big with its QR code). Admin and head office only
//! ([`SignedIn::manager`]); every write goes through [`crate::people`], one transaction each.
//!
//! Also the helpers the other people pages share ([`run`], [`Refusal`], [`server_url`]).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fieldproof_core::model::Role;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};

use crate::body::blocking;
use crate::clock::now_ms;
use crate::i18n::Lang;
use crate::people::{self, FieldUser, FieldUserInput, IssuedCode, PeopleError};
use crate::store::Store;
use crate::web::extract::{PageQuery, SignedForm, SignedIn, Viewer, trimmed};
use crate::web::i18n::PageText;
use crate::web::read::people::{Activity, PeopleFilter, PeopleList, Person, people_list, person};
use crate::web::{fmt_datetime, redirect, url_enc};

// --- shared by the people pages ---------------------------------------------------------------

/// A refused people action, ready to show: its catalogue code and parameters, the ids among
/// them named ("王磊 (sup-wang)"), and the HTTP status.
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
}

impl Refusal {
    /// `e` with the people and teams it names looked up in `store` (best effort: an id
    /// without a name stays as typed).
    fn of(store: &Store, e: &PeopleError) -> Refusal {
        let status = match e {
            PeopleError::NotAllowed => StatusCode::FORBIDDEN,
            PeopleError::Storage(m) => {
                tracing::error!(error = %m, "people page failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        };
        let users = people::field_users(store).unwrap_or_default();
        let teams = people::teams(store).unwrap_or_default();
        let params = e
            .params()
            .into_iter()
            .map(|(k, v)| {
                let named = match k {
                    "id" => users
                        .iter()
                        .find(|u| u.id == v && !u.name.is_empty())
                        .map(|u| format!("{} ({})", u.name, v)),
                    "team" => teams.iter().find(|t| t.code == v).map(|t| t.name.clone()),
                    _ => None,
                };
                (k, named.unwrap_or(v))
            })
            .collect();
        Refusal {
            status,
            code: e.code(),
            params,
        }
    }

    /// The message in a box, marked with its code (tests and the browser check read it).
    pub fn markup(&self, lang: Lang) -> Markup {
        html! { p.err id="refusal" data-code=(self.code) { (lang.message(self.code, &self.params)) } }
    }

    /// A whole refusal page.
    pub fn page(&self, page: &Viewer) -> Response {
        page.refused(self.status, self.code, &self.params)
    }
}

/// Run a people action or read on the blocking pool; a refusal comes back ready to show.
pub async fn run<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, PeopleError> + Send + 'static,
) -> Result<T, Refusal> {
    let s = store.clone();
    let r = blocking(move || {
        Ok(match f(&s) {
            Ok(v) => Ok(v),
            Err(e) => Err(Refusal::of(&s, &e)),
        })
    })
    .await;
    match r {
        Ok(r) => r,
        Err(e) => Err(Refusal {
            status: e.status(),
            code: "people_storage",
            params: vec![("detail", e.to_string())],
        }),
    }
}

/// The address phones reach this server at, for the enrolment QR code: `--public-url` when
/// set, else the address this page was asked on (`Host`, with `X-Forwarded-Proto` from a
/// reverse proxy).
pub fn server_url(store: &Store, headers: &HeaderMap) -> String {
    if let Some(url) = &store.limits().public_url {
        return url.clone();
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let scheme = if header("x-forwarded-proto").eq_ignore_ascii_case("https") {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{}", header("host"))
}

/// A field user's role in words.
pub fn role_words(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Rep => lang.t("field_rep"),
        Role::Supervisor => lang.t("field_supervisor"),
    }
}

/// `role=rep|supervisor`; empty = any.
fn opt_role<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Role>, D::Error> {
    match String::deserialize(d)?.trim() {
        "" => Ok(None),
        "rep" => Ok(Some(Role::Rep)),
        "supervisor" => Ok(Some(Role::Supervisor)),
        _ => Err(D::Error::custom("bad_query")),
    }
}

fn activity<'de, D: Deserializer<'de>>(d: D) -> Result<Activity, D::Error> {
    match String::deserialize(d)?.trim() {
        "" | "active" => Ok(Activity::Active),
        "inactive" => Ok(Activity::Inactive),
        "all" => Ok(Activity::All),
        _ => Err(D::Error::custom("bad_query")),
    }
}

fn active() -> Activity {
    Activity::Active
}

/// A done action's note (`?done=saved`…): a page-string key of a fixed list.
fn done_note(page: &Viewer, done: &str) -> Markup {
    let key = match done {
        "saved" => "done_saved",
        "deactivated" => "done_deactivated",
        "reactivated" => "done_reactivated",
        "revoked" => "done_revoked",
        _ => return html! {},
    };
    html! { p.ok id="done" { (page.t(key)) } }
}

// --- the list ---------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct PeopleQuery {
    #[serde(default, deserialize_with = "opt_role")]
    role: Option<Role>,
    #[serde(default, deserialize_with = "trimmed")]
    territory: String,
    #[serde(default, deserialize_with = "trimmed")]
    team: String,
    #[serde(default = "active", deserialize_with = "activity")]
    active: Activity,
}

/// The field-user form's fields (new and edit), kept when a refusal shows the form again.
#[derive(Deserialize, Default, Clone)]
pub struct PersonForm {
    #[serde(default, deserialize_with = "trimmed")]
    id: String,
    #[serde(default, deserialize_with = "trimmed")]
    name: String,
    #[serde(default, deserialize_with = "trimmed")]
    phone: String,
    #[serde(default, deserialize_with = "trimmed")]
    role: String,
    #[serde(default, deserialize_with = "trimmed")]
    territory: String,
    #[serde(default, deserialize_with = "trimmed")]
    team: String,
}

impl PersonForm {
    fn of(u: &FieldUser) -> PersonForm {
        PersonForm {
            id: u.id.clone(),
            name: u.name.clone(),
            phone: u.phone.clone().unwrap_or_default(),
            role: match u.role {
                Role::Rep => "rep",
                Role::Supervisor => "supervisor",
            }
            .to_string(),
            territory: u.territory_code.clone().unwrap_or_default(),
            team: if u.role == Role::Rep {
                u.team_code.clone().unwrap_or_default()
            } else {
                String::new()
            },
        }
    }

    /// The action's input; `None` for a role the form does not offer (a crafted form).
    fn input(&self, id: &str) -> Option<FieldUserInput> {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let role = match self.role.as_str() {
            "rep" => Role::Rep,
            "supervisor" => Role::Supervisor,
            _ => return None,
        };
        Some(FieldUserInput {
            id: id.to_string(),
            name: self.name.clone(),
            role,
            phone: opt(&self.phone),
            territory: opt(&self.territory),
            team: opt(&self.team),
        })
    }
}

/// The fields of a field user (without the id): name, phone, role, territory, team.
fn person_fields(
    page: &Viewer,
    f: &PersonForm,
    territories: &[people::Territory],
    teams: &[people::Team],
) -> Markup {
    let t = |k| page.t(k);
    html! {
        label { (t("name")) " " input name="name" value=(f.name) required maxlength="200"; }
        label { (t("phone")) " " input name="phone" type="tel" value=(f.phone) maxlength="32"; }
        label { (t("role")) " "
            select name="role" {
                option value="rep" selected[f.role != "supervisor"] { (role_words(page.lang, Role::Rep)) }
                option value="supervisor" selected[f.role == "supervisor"] { (role_words(page.lang, Role::Supervisor)) }
            }
        }
        label { (t("territory")) " "
            select name="territory" {
                option value="" selected[f.territory.is_empty()] { (t("none")) }
                @for tr in territories {
                    option value=(tr.code) selected[tr.code == f.territory] { (tr.name) }
                }
            }
        }
        label { (t("team_of_rep")) " "
            select name="team" {
                option value="" selected[f.team.is_empty()] { (t("none")) }
                @for tm in teams {
                    option value=(tm.code) selected[tm.code == f.team] {
                        (tm.name)
                        @if tm.supervisor_name != tm.name { " · " (tm.supervisor_name) }
                    }
                }
            }
        }
    }
}

fn list_page(
    page: &Viewer,
    csrf: &str,
    q: &PeopleQuery,
    list: &PeopleList,
    form: &PersonForm,
    notice: Markup,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let count = t("people_count")
        .replace("{shown}", &list.users.len().to_string())
        .replace("{total}", &list.total.to_string());
    let team_name = |code: &Option<String>, name: &Option<String>| {
        name.clone().or_else(|| code.clone()).unwrap_or_default()
    };
    let body = html! {
        form.filters method="get" action="/app/people" id="filter" {
            label { (t("role")) " "
                select name="role" {
                    option value="" selected[q.role.is_none()] { (t("all")) }
                    option value="rep" selected[q.role == Some(Role::Rep)] { (role_words(page.lang, Role::Rep)) }
                    option value="supervisor" selected[q.role == Some(Role::Supervisor)] { (role_words(page.lang, Role::Supervisor)) }
                }
            }
            label { (t("territory")) " "
                select name="territory" {
                    option value="" selected[q.territory.is_empty()] { (t("all")) }
                    @for tr in &list.territories {
                        option value=(tr.code) selected[tr.code == q.territory] { (tr.name) }
                    }
                }
            }
            label { (t("team")) " "
                select name="team" {
                    option value="" selected[q.team.is_empty()] { (t("all")) }
                    @for tm in &list.teams {
                        option value=(tm.code) selected[tm.code == q.team] { (tm.name) }
                    }
                }
            }
            label { (t("status")) " "
                select name="active" {
                    @for (a, key) in [(Activity::Active, "st_active"), (Activity::Inactive, "st_inactive"), (Activity::All, "st_all")] {
                        option value=(a.as_str()) selected[a == q.active] { (t(key)) }
                    }
                }
            }
            button { (t("filter")) }
        }
        p.muted id="people-count" { (count) }
        @if list.users.is_empty() {
            p.muted { (t("no_people")) }
        } @else {
            table.rows id="people" {
                thead { tr {
                    th { (t("name")) } th { (t("staff_id")) } th { (t("role")) } th { (t("territory")) }
                    th { (t("team")) } th { (t("phone")) } th { (t("devices")) } th { (t("status")) }
                } }
                tbody {
                    @for u in &list.users {
                        tr id={ "person-" (u.id) } {
                            td.name data-label=(t("name")) { a href={ "/app/people/" (url_enc(&u.id)) } { (u.name) } }
                            td data-label=(t("staff_id")) { (u.id) }
                            td data-label=(t("role")) { (role_words(page.lang, u.role)) }
                            td.name data-label=(t("territory")) { (team_name(&u.territory_code, &u.territory_name)) }
                            td.name data-label=(t("team")) { (team_name(&u.team_code, &u.team_name)) }
                            td.nowrap data-label=(t("phone")) { (u.phone.as_deref().unwrap_or("")) }
                            td data-label=(t("devices")) { (u.active_devices) }
                            td data-label=(t("status")) {
                                @if u.deactivated_ms.is_some() { span.bad { (t("st_inactive")) } } @else { span.ok { (t("st_active")) } }
                            }
                        }
                    }
                }
            }
        }
        h2 id="new" { (t("new_person")) }
        (notice)
        form.filters method="post" action="/app/people" id="new-person" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("staff_id")) " " input name="id" value=(form.id) required maxlength="64"; }
            (person_fields(page, form, &list.territories, &list.teams))
            button { (t("create")) }
        }
    };
    page.page(status, t("people_title"), body)
}

pub async fn list(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<PeopleQuery>,
) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let filter = PeopleFilter {
        role: q.role,
        territory: q.territory.clone(),
        team: q.team.clone(),
        activity: q.active,
    };
    match run(&store, move |s| people_list(s, &filter)).await {
        Ok(list) => list_page(
            &who.page,
            &who.user.csrf,
            &q,
            &list,
            &PersonForm::default(),
            html! {},
            StatusCode::OK,
        ),
        Err(r) => r.page(&who.page),
    }
}

/// `POST /app/people`: a new rep or supervisor; then their page (to issue a code).
pub async fn create(State(store): State<Arc<Store>>, f: SignedForm<PersonForm>) -> Response {
    let SignedForm { who, form } = f;
    let by = match who.manager() {
        Ok(m) => (m.id.to_string(), m.role),
        Err(r) => return r,
    };
    let Some(input) = form.input(&form.id) else {
        return who.page.bad_request(who.page.t("bad_form_text"));
    };
    let id = input.id.trim().to_string();
    let done = run(&store, move |s| {
        let by = people::Manager {
            id: &by.0,
            role: by.1,
        };
        people::create_field_user(s, by, &input, now_ms())
    })
    .await;
    match done {
        Ok(_) => {
            tracing::info!("field user created on the web");
            redirect(&format!("/app/people/{}?done=saved", url_enc(&id)))
        }
        Err(refusal) => {
            let q = PeopleQuery {
                role: None,
                territory: String::new(),
                team: String::new(),
                active: Activity::Active,
            };
            let filter = PeopleFilter {
                role: None,
                territory: String::new(),
                team: String::new(),
                activity: Activity::Active,
            };
            match run(&store, move |s| people_list(s, &filter)).await {
                Ok(list) => list_page(
                    &who.page,
                    &who.user.csrf,
                    &q,
                    &list,
                    &form,
                    refusal.markup(who.page.lang),
                    refusal.status,
                ),
                Err(r) => r.page(&who.page),
            }
        }
    }
}

// --- one field user ---------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct PersonQuery {
    #[serde(default)]
    done: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default, deserialize_with = "trimmed")]
    hours: String,
}

pub use super::login::NoFields;

fn person_page(
    page: &Viewer,
    csrf: &str,
    p: &Person,
    form: &PersonForm,
    notice: Markup,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let u = &p.user;
    let here = format!("/app/people/{}", url_enc(&u.id));
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        (notice)
        dl id="person" {
            dt { (t("staff_id")) } dd { (u.id) }
            dt { (t("role")) } dd { (role_words(page.lang, u.role)) }
            dt { (t("territory")) } dd { (u.territory_name.clone().or_else(|| u.territory_code.clone()).unwrap_or_default()) }
            dt { (t("team")) } dd { (opt(&u.team_name)) }
            @if let Some(sup) = &u.supervisor_name {
                dt { (t("supervisor")) } dd { (sup) }
            }
            dt { (t("phone")) } dd { (opt(&u.phone)) }
            dt { (t("status")) } dd {
                @if let Some(ms) = u.deactivated_ms {
                    span.bad { (t("deactivated_on").replace("{time}", &fmt_datetime(page.cal, ms))) }
                } @else {
                    span.ok { (t("st_active")) }
                }
            }
        }
        @if u.deactivated_ms.is_none() {
            h2 { (t("enrol_codes")) }
            form.filters method="post" action={ (here) "/enrol-code" } id="issue-code" {
                input type="hidden" name="csrf" value=(csrf);
                label { (t("valid_for")) " "
                    select name="hours" {
                        option value="24" { (t("valid_24h")) }
                        option value="72" selected { (t("valid_3d")) }
                        option value="168" { (t("valid_7d")) }
                    }
                }
                button { (t("issue_code")) }
            }
            @if p.codes.is_empty() {
                p.muted { (t("no_codes")) }
            } @else {
                table.rows id="codes" {
                    thead { tr { th { (t("issued_at")) } th { (t("expires")) } } }
                    tbody {
                        @for c in &p.codes {
                            tr {
                                td.nowrap data-label=(t("issued_at")) { (fmt_datetime(page.cal, c.created_ms)) }
                                td.nowrap data-label=(t("expires")) { (fmt_datetime(page.cal, c.expires_ms)) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t("devices")) }
        (device_table(page, &p.devices, false))
        @if u.deactivated_ms.is_none() {
            h2 { (t("edit")) }
            form.filters method="post" action=(here) id="edit-person" {
                input type="hidden" name="csrf" value=(csrf);
                (person_fields(page, form, &p.territories, &p.teams))
                button { (t("save")) }
            }
            form.inline method="post" action={ (here) "/deactivate" } id="deactivate" {
                input type="hidden" name="csrf" value=(csrf);
                p { button { (t("deactivate")) } " " span.muted { (t("deactivate_note")) } }
            }
        } @else {
            form.inline method="post" action={ (here) "/reactivate" } id="reactivate" {
                input type="hidden" name="csrf" value=(csrf);
                p { button { (t("reactivate")) } " " span.muted { (t("reactivate_note")) } }
            }
        }
        p { a href="/app/people" { (t("back_to_people")) } }
    };
    page.page(status, &u.name, body)
}

/// Devices as a table (with whose they are on the devices page), revoke links to the
/// confirmation page; device ids only in the technical section.
pub fn device_table(page: &Viewer, devices: &[people::Device], with_user: bool) -> Markup {
    let t = |k| page.t(k);
    html! {
        @if devices.is_empty() {
            p.muted { (t("no_devices")) }
        } @else {
            table.rows id="devices" {
                thead { tr {
                    @if with_user { th { (t("field_user")) } }
                    th { (t("enrolled")) } th { (t("last_seen")) } th { (t("status")) } th { (t("technical")) }
                } }
                tbody {
                    @for d in devices {
                        tr data-device=(d.device_id) {
                            @if with_user {
                                td.name data-label=(t("field_user")) {
                                    a href={ "/app/people/" (url_enc(&d.user_id)) } { (d.user_name.clone().unwrap_or_else(|| d.user_id.clone())) }
                                }
                            }
                            td.nowrap data-label=(t("enrolled")) { (fmt_datetime(page.cal, d.enrolled_ms)) }
                            td.nowrap data-label=(t("last_seen")) { (d.last_seen_ms.map(|ms| fmt_datetime(page.cal, ms)).unwrap_or_default()) }
                            td data-label=(t("status")) {
                                @if let Some(ms) = d.revoked_ms {
                                    span.bad { (t("revoked")) } " " span.muted { (fmt_datetime(page.cal, ms)) }
                                } @else {
                                    span.ok { (t("in_use")) } " · "
                                    a.revoke href={ "/app/devices/" (url_enc(&d.device_id)) "/revoke" } { (t("revoke")) }
                                }
                            }
                            td data-label=(t("technical")) {
                                details.tech { summary { (t("device_id")) } code.long { (d.device_id) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The code just issued: big, with its QR code and its expiry. Shown once (only its hash is
/// kept). When the server's address is not one a phone accepts, the code still shows, with
/// why there is no QR code.
fn issued_block(page: &Viewer, name: &str, issued: &IssuedCode, url: &str) -> Markup {
    let t = |k| page.t(k);
    let qr = people::enrol_qr_svg(url, &issued.code);
    html! {
        section.card id="issued" {
            h2 { (t("code_issued").replace("{name}", name)) }
            p.bigcode id="enrol-code" { (issued.code) }
            p { (t("code_expires").replace("{time}", &fmt_datetime(page.cal, issued.expires_ms))) }
            @match &qr {
                Ok(svg) => {
                    div.qr id="enrol-qr" { (PreEscaped(svg)) }
                    p.muted { (t("enrol_server")) ": " span id="enrol-server" { (url) } }
                }
                Err(e) => {
                    p.err id="qr-refused" data-code=(e.code()) { (page.lang.message(e.code(), &e.params())) " " (t("qr_hint")) }
                }
            }
        }
    }
}

type PersonId = Result<Path<String>, PathRejection>;

async fn show_person(
    store: &Arc<Store>,
    who: &SignedIn,
    id: String,
    form: Option<PersonForm>,
    notice: Markup,
    status: StatusCode,
) -> Response {
    match run(store, move |s| person(s, &id, now_ms())).await {
        Ok(Some(p)) => {
            let form = form.unwrap_or_else(|| PersonForm::of(&p.user));
            person_page(&who.page, &who.user.csrf, &p, &form, notice, status)
        }
        Ok(None) => who.page.not_found(),
        Err(r) => r.page(&who.page),
    }
}

pub async fn show(
    State(store): State<Arc<Store>>,
    id: PersonId,
    who: SignedIn,
    PageQuery(q): PageQuery<PersonQuery>,
) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let note = done_note(&who.page, &q.done);
    show_person(&store, &who, id, None, note, StatusCode::OK).await
}

/// The acting manager, owned (for the blocking pool).
fn acting(who: &SignedIn) -> Result<(String, people::AccountRole), Response> {
    who.manager().map(|m| (m.id.to_string(), m.role))
}

/// `POST /app/people/{id}`: save the edit form.
pub async fn update(State(store): State<Arc<Store>>, id: PersonId, f: SignedForm<PersonForm>) -> Response {
    let SignedForm { who, form } = f;
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let Some(input) = form.input(&id) else {
        return who.page.bad_request(who.page.t("bad_form_text"));
    };
    let done = run(&store, move |s| {
        people::update_field_user(
            s,
            people::Manager {
                id: &by.0,
                role: by.1,
            },
            &input,
            now_ms(),
        )
    })
    .await;
    match done {
        Ok(_) => redirect(&format!("/app/people/{}?done=saved", url_enc(&id))),
        Err(r) if r.status == StatusCode::FORBIDDEN => r.page(&who.page),
        Err(r) => {
            let notice = r.markup(who.page.lang);
            show_person(&store, &who, id, Some(form), notice, r.status).await
        }
    }
}

async fn person_action(
    store: Arc<Store>,
    id: PersonId,
    who: SignedIn,
    done: &'static str,
    act: fn(&Store, people::Manager<'_>, &str) -> Result<(), PeopleError>,
) -> Response {
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let target = id.clone();
    match run(&store, move |s| {
        act(
            s,
            people::Manager {
                id: &by.0,
                role: by.1,
            },
            &target,
        )
    })
    .await
    {
        Ok(()) => redirect(&format!("/app/people/{}?done={done}", url_enc(&id))),
        Err(r) if r.status == StatusCode::FORBIDDEN => r.page(&who.page),
        Err(r) => {
            let notice = r.markup(who.page.lang);
            show_person(&store, &who, id, None, notice, r.status).await
        }
    }
}

/// `POST /app/people/{id}/deactivate`: their devices are revoked, their codes expire.
pub async fn deactivate(State(store): State<Arc<Store>>, id: PersonId, f: SignedForm<NoFields>) -> Response {
    person_action(store, id, f.who, "deactivated", |s, by, id| {
        people::deactivate_field_user(s, by, id, now_ms())
    })
    .await
}

pub async fn reactivate(State(store): State<Arc<Store>>, id: PersonId, f: SignedForm<NoFields>) -> Response {
    person_action(store, id, f.who, "reactivated", people::reactivate_field_user).await
}

/// `POST /app/people/{id}/enrol-code`: issue a code and show it (this answer only).
pub async fn issue_code(
    State(store): State<Arc<Store>>,
    id: PersonId,
    headers: HeaderMap,
    f: SignedForm<CodeForm>,
) -> Response {
    let SignedForm { who, form } = f;
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let Ok(hours) = form.hours.parse::<i64>() else {
        let e = PeopleError::BadLifetime;
        return who.page.refused(StatusCode::BAD_REQUEST, e.code(), &e.params());
    };
    let url = server_url(&store, &headers);
    let target = id.clone();
    let issued = run(&store, move |s| {
        let by = people::Manager {
            id: &by.0,
            role: by.1,
        };
        let name = people::field_user(s, &target)?
            .map(|u| u.name)
            .unwrap_or_default();
        let issued = people::issue_enrol_code(s, by, &target, hours.saturating_mul(3_600_000), now_ms())?;
        Ok((name, issued))
    })
    .await;
    match issued {
        Ok((name, issued)) => {
            tracing::info!("enrolment code issued on the web");
            let block = issued_block(&who.page, &name, &issued, &url);
            show_person(&store, &who, id, None, block, StatusCode::OK).await
        }
        Err(r) if r.status == StatusCode::FORBIDDEN => r.page(&who.page),
        Err(r) => {
            let notice = r.markup(who.page.lang);
            show_person(&store, &who, id, None, notice, r.status).await
        }
    }
}
