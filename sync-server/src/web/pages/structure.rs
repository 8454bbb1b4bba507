//! `GET /app/structure`: territories (reps and stores in each) and teams (their supervisor and
//! reps); create and rename a territory; create a team, rename it or give it another supervisor
//! (its reps move along: [`crate::people::save_team`]). Admin and head office only.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::people::run;
use crate::clock::now_ms;
use crate::people::{self, FieldUser, Manager, PeopleError, TeamInput};
use crate::store::Store;
use crate::web::extract::{PageQuery, SignedForm, SignedIn, Viewer, trimmed};
use crate::web::read::people::{Structure, structure};
use crate::web::{redirect, url_enc};

#[derive(Deserialize)]
pub struct StructureQuery {
    #[serde(default)]
    done: String,
}

/// A territory's or a team's form: `new` refuses a code in use; otherwise the code's record
/// is renamed (and a team given `supervisor`).
#[derive(Deserialize, Default, Clone)]
pub struct UnitForm {
    #[serde(default, deserialize_with = "trimmed")]
    code: String,
    #[serde(default, deserialize_with = "trimmed")]
    name: String,
    #[serde(default, deserialize_with = "trimmed")]
    supervisor: String,
    #[serde(default)]
    new: String,
}

/// Which form a refusal belongs to (it is shown above that form, its fields kept).
enum Failed<'a> {
    None,
    Territory(&'a UnitForm, Markup),
    Team(&'a UnitForm, Markup),
}

fn supervisor_options(supervisors: &[FieldUser], chosen: &str) -> Markup {
    html! {
        @for s in supervisors {
            option value=(s.id) selected[s.id == chosen] { (s.name) }
        }
    }
}

fn structure_page(
    page: &Viewer,
    csrf: &str,
    data: &Structure,
    failed: Failed<'_>,
    notice: Markup,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let blank = UnitForm::default();
    let (terr_form, terr_err, team_form, team_err) = match failed {
        Failed::None => (&blank, html! {}, &blank, html! {}),
        Failed::Territory(f, m) => (f, m, &blank, html! {}),
        Failed::Team(f, m) => (&blank, html! {}, f, m),
    };
    let body = html! {
        (notice)
        h2 id="territories" { (t("territories")) }
        @if data.territories.is_empty() {
            p.muted { (t("no_territories")) }
        } @else {
            table.rows id="territory-list" {
                thead { tr { th { (t("unit_name")) } th { (t("unit_code")) } th { (t("reps_count")) } th { (t("stores_count")) } th { (t("rename")) } } }
                tbody {
                    @for tr in &data.territories {
                        tr id={ "territory-" (tr.code) } {
                            td.name data-label=(t("unit_name")) { (tr.name) }
                            td data-label=(t("unit_code")) { (tr.code) }
                            td data-label=(t("reps_count")) {
                                a href={ "/app/people?territory=" (url_enc(&tr.code)) } { (tr.reps) }
                            }
                            td data-label=(t("stores_count")) { (tr.stores) }
                            td data-label=(t("rename")) {
                                form.row-edit method="post" action="/app/structure/territories" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="code" value=(tr.code);
                                    input name="name" value=(tr.name) required maxlength="200" aria-label=(t("unit_name"));
                                    button { (t("save")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t("new_territory")) }
        (terr_err)
        form.filters method="post" action="/app/structure/territories" id="new-territory" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="new" value="1";
            label { (t("unit_code")) " " input name="code" value=(terr_form.code) required maxlength="64"; }
            label { (t("unit_name")) " " input name="name" value=(terr_form.name) required maxlength="200"; }
            button { (t("create")) }
        }
        h2 id="teams" { (t("teams")) }
        @if data.teams.is_empty() {
            p.muted { (t("no_teams")) }
        } @else {
            table.rows id="team-list" {
                thead { tr { th { (t("unit_name")) } th { (t("unit_code")) } th { (t("supervisor")) } th { (t("team_reps")) } th { (t("edit")) } } }
                tbody {
                    @for tw in &data.teams {
                        tr id={ "team-" (tw.team.code) } {
                            td.name data-label=(t("unit_name")) { (tw.team.name) }
                            td data-label=(t("unit_code")) { (tw.team.code) }
                            td.name data-label=(t("supervisor")) {
                                a href={ "/app/people/" (url_enc(&tw.team.supervisor_id)) } { (tw.team.supervisor_name) }
                            }
                            td.name data-label=(t("team_reps")) {
                                @if tw.reps.is_empty() { span.muted { (t("none")) } }
                                @for (i, r) in tw.reps.iter().enumerate() {
                                    @if i > 0 { "、" }
                                    a href={ "/app/people/" (url_enc(&r.id)) } { (r.name) }
                                }
                            }
                            td data-label=(t("edit")) {
                                form.row-edit method="post" action="/app/structure/teams" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="code" value=(tw.team.code);
                                    input name="name" value=(tw.team.name) required maxlength="200" aria-label=(t("unit_name"));
                                    select name="supervisor" aria-label=(t("supervisor")) {
                                        (supervisor_options(&data.supervisors, &tw.team.supervisor_id))
                                    }
                                    button { (t("save")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t("new_team")) }
        (team_err)
        form.filters method="post" action="/app/structure/teams" id="new-team" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="new" value="1";
            label { (t("unit_code")) " " input name="code" value=(team_form.code) required maxlength="64"; }
            label { (t("unit_name")) " " input name="name" value=(team_form.name) required maxlength="200"; }
            label { (t("supervisor")) " "
                select name="supervisor" required {
                    (supervisor_options(&data.supervisors, &team_form.supervisor))
                }
            }
            button { (t("create")) }
        }
    };
    page.page(status, t("structure_title"), body)
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<StructureQuery>,
) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let notice = if q.done == "saved" {
        html! { p.ok id="done" { (who.page.t("done_saved")) } }
    } else {
        html! {}
    };
    match run(&store, structure).await {
        Ok(data) => structure_page(
            &who.page,
            &who.user.csrf,
            &data,
            Failed::None,
            notice,
            StatusCode::OK,
        ),
        Err(r) => r.page(&who.page),
    }
}

fn acting(who: &SignedIn) -> Result<(String, people::AccountRole), Response> {
    who.manager().map(|m| (m.id.to_string(), m.role))
}

/// After a save: back to the page, or the page with the refusal above the form that failed.
async fn after(
    store: &Arc<Store>,
    who: &SignedIn,
    form: &UnitForm,
    territory: bool,
    done: Result<(), super::people::Refusal>,
) -> Response {
    let r = match done {
        Ok(()) => return redirect("/app/structure?done=saved"),
        Err(r) if r.status == StatusCode::FORBIDDEN => return r.page(&who.page),
        Err(r) => r,
    };
    let m = r.markup(who.page.lang);
    let failed = if territory {
        Failed::Territory(form, m)
    } else {
        Failed::Team(form, m)
    };
    match run(store, structure).await {
        Ok(data) => structure_page(&who.page, &who.user.csrf, &data, failed, html! {}, r.status),
        Err(r) => r.page(&who.page),
    }
}

/// `POST /app/structure/territories`: create (`new`) or rename.
pub async fn save_territory(State(store): State<Arc<Store>>, f: SignedForm<UnitForm>) -> Response {
    let SignedForm { who, form } = f;
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let f2 = form.clone();
    let done = run(&store, move |s| {
        let by = Manager {
            id: &by.0,
            role: by.1,
        };
        let code = people::check_id(&f2.code)?;
        let exists = people::territories(s)?.iter().any(|t| t.code == code);
        if !f2.new.is_empty() && exists {
            return Err(PeopleError::IdTaken { id: code });
        }
        if f2.new.is_empty() && !exists {
            return Err(PeopleError::UnknownTerritory { code });
        }
        people::save_territory(s, by, &code, &f2.name, now_ms())
    })
    .await;
    after(&store, &who, &form, true, done).await
}

/// `POST /app/structure/teams`: create (`new`), rename, or give another supervisor.
pub async fn save_team(State(store): State<Arc<Store>>, f: SignedForm<UnitForm>) -> Response {
    let SignedForm { who, form } = f;
    let by = match acting(&who) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let f2 = form.clone();
    let done = run(&store, move |s| {
        let by = Manager {
            id: &by.0,
            role: by.1,
        };
        let code = people::check_id(&f2.code)?;
        let exists = people::teams(s)?.iter().any(|t| t.code == code);
        if !f2.new.is_empty() && exists {
            return Err(PeopleError::IdTaken { id: code });
        }
        if f2.new.is_empty() && !exists {
            return Err(PeopleError::UnknownTeam { code });
        }
        let input = TeamInput {
            code,
            name: f2.name.clone(),
            supervisor_id: f2.supervisor.clone(),
        };
        people::save_team(s, by, &input, now_ms()).map(|_| ())
    })
    .await;
    after(&store, &who, &form, false, done).await
}
