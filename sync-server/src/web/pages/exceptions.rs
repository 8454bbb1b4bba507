//! `GET /app/exceptions`: the exception queue people work: counts per state as tabs, a search
//! box and filters (code, rep, team, territory, store, assignee, the visits' days), sortable
//! columns, pages with totals, and the rows with their messages, history and actions; several
//! can be ticked and resolved, dismissed, assigned or reopened together.
//!
//! `POST /app/exceptions/act`: one action on one or several exceptions (the rows' forms, the
//! bulk bar, the visit page), through the queue's workflow: one transaction, all or nothing.
//! `POST /app/exceptions/{id}/resolve`: resolve one with a comment (kept for links and scripts
//! written against it).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use crate::body::blocking;
use crate::clock::now_ms;
use crate::export::ExportFilter;
use crate::queue::{self, Actor, QueueAction, QueueError, QueueFilter, QueueSort, SortDir, StatusFilter};
use crate::store::Store;
use crate::values;
use crate::web::actions::{Resolved, resolve_exception};
use crate::web::auth::WebUser;
use crate::web::components::{Pager, export_links, pager};
use crate::web::exception_view::{ACT_PATH, RowOptions, exception_table, queue_error_text};
use crate::web::extract::{PageQuery, SignedForm, SignedIn, Viewer, trimmed};
use crate::web::read::exceptions::{QueueView, queue_view};
use crate::web::read::names::Names;
use crate::web::{redirect, safe_next, url_enc};

/// The queue's actor: who acts, and the team a supervisor is limited to.
pub fn actor_of(user: &WebUser) -> Actor {
    Actor {
        id: user.id.clone(),
        scope: user.scope().map(str::to_string),
    }
}

/// The queue's link for `f` (the fields set, in a fixed order).
fn href(f: &QueueFilter) -> String {
    let mut q: Vec<String> = Vec::new();
    let mut add = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            q.push(format!("{k}={}", url_enc(v)));
        }
    };
    add("status", f.status.map(StatusFilter::as_str));
    add("q", f.q.as_deref());
    add("code", f.code.as_deref());
    add("rep", f.rep.as_deref());
    add("team", f.team.as_deref());
    add("territory", f.territory.as_deref());
    add("store", f.store.as_deref());
    add("assignee", f.assignee.as_deref());
    add("visit", f.visit.as_deref());
    add("date", f.date.as_deref());
    add("from", f.from.as_deref());
    add("to", f.to.as_deref());
    add("sort", f.sort.map(QueueSort::as_str));
    add("dir", f.dir.map(SortDir::as_str));
    let per_page = f.per_page.map(|n| n.to_string());
    add("per_page", per_page.as_deref());
    let page = f.page.filter(|p| *p > 1).map(|n| n.to_string());
    add("page", page.as_deref());
    if q.is_empty() {
        "/app/exceptions".to_string()
    } else {
        format!("/app/exceptions?{}", q.join("&"))
    }
}

/// The same filter on its first page.
fn first_page(f: &QueueFilter) -> QueueFilter {
    QueueFilter {
        page: None,
        ..f.clone()
    }
}

/// Tabs: each state with its count under the other filters.
fn status_tabs(page: &Viewer, f: &QueueFilter, v: &QueueView) -> Markup {
    let counts = v.page.counts;
    let current = f.status.unwrap_or_default();
    let label = |s: StatusFilter| match s {
        StatusFilter::Active => page.t("st_unclosed").to_string(),
        StatusFilter::Closed => page.t("st_closed").to_string(),
        StatusFilter::All => page.t("st_all").to_string(),
        other => values::exception_status(page.lang, other.as_str()),
    };
    html! {
        nav.tabs aria-label=(page.t("status")) {
            @for s in StatusFilter::ALL {
                @let n: u64 = s.statuses().iter().map(|st| counts.get(*st)).sum();
                @let link = href(&QueueFilter { status: Some(s), ..first_page(f) });
                @if s == current {
                    a.cur href=(link) aria-current="page" data-status=(s.as_str()) { (label(s)) " " span.n { (n) } }
                } @else {
                    a href=(link) data-status=(s.as_str()) { (label(s)) " " span.n { (n) } }
                }
            }
        }
    }
}

fn options(current: Option<&str>, all: &str, choices: &[(String, String)]) -> Markup {
    html! {
        option value="" selected[current.is_none()] { (all) }
        @for (id, label) in choices {
            option value=(id) selected[current == Some(id.as_str())] { (label) }
        }
    }
}

fn filter_form(page: &Viewer, f: &QueueFilter, v: &QueueView) -> Markup {
    let t = |k| page.t(k);
    let c = &v.choices;
    let codes: Vec<(String, String)> = crate::codes::EXCEPTION_CODES
        .iter()
        .map(|code| (code.to_string(), page.lang.code_words(code)))
        .collect();
    let territories: Vec<(String, String)> = c.territories.iter().map(|x| (x.clone(), x.clone())).collect();
    let assignees: Vec<(String, String)> = v
        .rows
        .assignees
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let more_set = [
        &f.code,
        &f.rep,
        &f.team,
        &f.territory,
        &f.store,
        &f.assignee,
        &f.date,
        &f.from,
        &f.to,
    ]
    .iter()
    .any(|x| x.is_some())
        || f.sort.is_some()
        || f.dir.is_some();
    let sort = f.sort.unwrap_or_default();
    let dir = f.dir.unwrap_or_default();
    html! {
        form.filters method="get" action="/app/exceptions" id="filter" {
            input type="hidden" name="status" value=(f.status.unwrap_or_default().as_str());
            @if let Some(n) = f.per_page {
                input type="hidden" name="per_page" value=(n);
            }
            @if let Some(visit) = &f.visit {
                input type="hidden" name="visit" value=(visit);
            }
            label.search { (t("search")) " "
                input type="search" name="q" value=(f.q.as_deref().unwrap_or("")) maxlength="100"
                    placeholder=(t("search_hint"));
            }
            button { (t("filter")) }
            details.more open[more_set] {
                summary { (t("more_filters")) }
                div.fields {
                    label { (t("code")) " " select name="code" { (options(f.code.as_deref(), t("all"), &codes)) } }
                    label { (t("rep")) " " select name="rep" { (options(f.rep.as_deref(), t("all"), &c.reps)) } }
                    @if !c.teams.is_empty() {
                        label { (t("team")) " " select name="team" { (options(f.team.as_deref(), t("all"), &c.teams)) } }
                    }
                    label { (t("territory")) " " select name="territory" { (options(f.territory.as_deref(), t("all"), &territories)) } }
                    label { (t("store")) " " select name="store" { (options(f.store.as_deref(), t("all"), &c.stores)) } }
                    label { (t("assignee")) " " select name="assignee" { (options(f.assignee.as_deref(), t("anyone"), &assignees)) } }
                    @if let Some(d) = &f.date {
                        input type="hidden" name="date" value=(d);
                    }
                    label { (t("from")) " " input type="date" name="from" value=(f.from.as_deref().unwrap_or("")); }
                    label { (t("to")) " " input type="date" name="to" value=(f.to.as_deref().unwrap_or("")); }
                    label { (t("sort")) " "
                        select name="sort" {
                            @for s in QueueSort::ALL {
                                @let key = format!("sort_{}", s.as_str());
                                option value=(s.as_str()) selected[s == sort] { (page.t(&key)) }
                            }
                        }
                    }
                    label { (t("sort_dir")) " "
                        select name="dir" {
                            option value="asc" selected[dir == SortDir::Asc] { (t("sort_asc")) }
                            option value="desc" selected[dir == SortDir::Desc] { (t("sort_desc")) }
                        }
                    }
                    button { (t("filter")) }
                }
            }
        }
    }
}

/// The table's head: the sortable columns link to the listing sorted by them (again: the
/// other way round).
fn head(page: &Viewer, f: &QueueFilter) -> Markup {
    let t = |k| page.t(k);
    let sort = f.sort.unwrap_or_default();
    let dir = f.dir.unwrap_or_default();
    let th = |key: &str, by: Option<QueueSort>| {
        html! {
            th {
                @if let Some(by) = by {
                    @let next = if by == sort { dir.flipped() } else if by == QueueSort::VisitDay { SortDir::Desc } else { SortDir::Asc };
                    a.sort href=(href(&QueueFilter { sort: Some(by), dir: Some(next), ..first_page(f) })) data-sort=(by.as_str()) {
                        (page.t(key))
                        @if by == sort { @if dir == SortDir::Asc { " ▲" } @else { " ▼" } }
                    }
                } @else {
                    (page.t(key))
                }
            }
        }
    };
    html! {
        thead { tr {
            th.pick { (t("pick")) }
            (th("exception", Some(QueueSort::Code)))
            (th("detail", None))
            (th("store", Some(QueueSort::Store)))
            (th("rep", Some(QueueSort::Rep)))
            (th("visit_day", Some(QueueSort::VisitDay)))
            (th("handling", Some(QueueSort::Status)))
        } }
    }
}

/// The bar under the table acting on the ticked rows (it stays at the screen's foot while the
/// list scrolls, so it is in reach on a phone).
fn bulk_bar(page: &Viewer, v: &QueueView, opts: &RowOptions<'_>, actor: &Actor) -> Markup {
    let t = |k| page.t(k);
    html! {
        form.bulk id="bulk" method="post" action=(ACT_PATH) {
            input type="hidden" name="csrf" value=(opts.csrf);
            input type="hidden" name="back" value=(opts.back);
            strong { (t("bulk_title")) }
            input name="comment" maxlength="2000" placeholder=(t("comment")) aria-label=(t("comment"));
            span.buttons {
                button name="action" value="resolve" { (t("resolve")) }
                button.secondary name="action" value="dismiss" { (t("dismiss")) }
                button.secondary name="action" value="reopen" { (t("reopen")) }
            }
            span.assign {
                select name="assignee" aria-label=(t("assign_to")) {
                    @for a in v.rows.assignees_seeing(actor) {
                        option value=(a.id) { (a.name) }
                    }
                }
                button.secondary name="action" value="assign" { (t("assign")) }
            }
        }
    }
}

/// "3 exceptions resolved." after an action brought the reader back here.
fn done_notice(page: &Viewer) -> Option<Markup> {
    let get = |k: &str| page.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let action = get("done")?;
    let n: usize = get("n")?.parse().ok()?;
    if !["resolve", "dismiss", "assign", "reopen"].contains(&action) {
        return None;
    }
    let text = page.t(&format!("done_{action}")).replace("{n}", &n.to_string());
    Some(html! { p.notice role="status" { (text) } })
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(f): PageQuery<QueueFilter>,
) -> Response {
    let SignedIn { user, page } = who;
    let actor = actor_of(&user);
    let (s, filter, a, cal, lang) = (store.clone(), f.clone(), actor.clone(), page.cal, page.lang);
    let read = blocking(move || {
        let c = s.reader()?;
        let names = Names::load(&c)?;
        Ok((names, queue_view(&c, &a, &filter, cal, lang)))
    })
    .await;
    let (names, v) = match read {
        Ok((names, Ok(v))) => (names, v),
        Ok((_, Err(QueueError::Storage(m)))) => return page.error(&crate::error::ApiError::Internal(m)),
        Ok((_, Err(e))) => return page.bad_request(&queue_error_text(page.lang, &e)),
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let at = |n: u64| {
        href(&QueueFilter {
            page: Some(u32::try_from(n).unwrap_or(u32::MAX)),
            ..f.clone()
        })
    };
    let p = &v.page;
    let pages = pager(
        page.lang,
        &Pager {
            range_key: "exceptions_range",
            page: u64::from(p.page),
            page_size: u64::from(p.per_page),
            shown: v.rows.items.len() as u64,
            total: p.total,
            href: &at,
        },
    );
    let all_picked = page.query.iter().any(|(k, v)| k == "pick" && v == "all");
    let here_with = |pick: bool| {
        let base = href(&f);
        let sep = if base.contains('?') { '&' } else { '?' };
        if pick {
            format!("{base}{sep}pick=all")
        } else {
            base
        }
    };
    let back = href(&f);
    let opts = RowOptions {
        csrf: &user.csrf,
        back: &back,
        bulk_form: Some("bulk"),
        all_picked,
        show_visit: true,
    };
    let export = ExportFilter {
        from: f.from.clone().or_else(|| f.date.clone()),
        to: f.to.clone().or_else(|| f.date.clone()),
        rep_id: f.rep.clone(),
        store_id: f.store.clone(),
        territory: f.territory.clone(),
        team_of: f.team.clone(),
    };
    let body = html! {
        @if let Some(n) = done_notice(&page) { (n) }
        (status_tabs(&page, &f, &v))
        (filter_form(&page, &f, &v))
        (export_links(page.lang, &export))
        @if v.rows.items.is_empty() {
            @if p.total > 0 {
                p.muted { (t("exceptions_past_end").replace("{total}", &p.total.to_string())) " "
                    a href=(at(1)) { (t("first_page")) } }
            } @else {
                p.muted { (t("no_exceptions")) }
            }
        } @else {
            (pages)
            p.picks {
                @if all_picked {
                    a href=(here_with(false)) { (t("pick_none")) }
                } @else {
                    a href=(here_with(true)) { (t("pick_all_page")) }
                }
            }
            (exception_table(&page, &names, &v.rows, &opts, head(&page, &f)))
            (bulk_bar(&page, &v, &opts, &actor))
            @if v.rows.items.len() > 10 { (pages) }
        }
    };
    page.page(StatusCode::OK, page.t("exceptions_queue"), body)
}

/// One action on the exceptions `ids`: the fields of the rows' forms and of the bulk bar.
struct ActForm {
    ids: Vec<i64>,
    action: QueueAction,
    comment: String,
    back: String,
}

impl ActForm {
    /// From the form's pairs: serde's urlencoded decoder cannot collect the repeated `ids`
    /// field of several ticked checkboxes, so the pairs are read as such. None: a field that
    /// no form of ours sends (an id that is not a number, an unknown action).
    fn from_pairs(pairs: Vec<(String, String)>) -> Option<ActForm> {
        let mut ids = Vec::new();
        let (mut action, mut comment, mut assignee, mut back) = (None, String::new(), None, String::new());
        for (k, v) in pairs {
            match k.as_str() {
                "ids" => ids.push(v.trim().parse::<i64>().ok()?),
                "action" => action = Some(v),
                "comment" => comment = v,
                "assignee" => assignee = Some(v.trim().to_string()).filter(|a| !a.is_empty()),
                "back" => back = v,
                _ => {}
            }
        }
        let action = match action.as_deref()? {
            "resolve" => QueueAction::Resolve,
            "dismiss" => QueueAction::Dismiss,
            "reopen" => QueueAction::Reopen,
            "assign" => QueueAction::Assign { assignee: assignee? },
            _ => return None,
        };
        Some(ActForm {
            ids,
            action,
            comment,
            back,
        })
    }
}

/// The page the reader came from, saying what was done (the queue shows it as a notice).
fn back_to(back: &str, action: &str, n: usize) -> String {
    let back = safe_next(back);
    if back.starts_with("/app/exceptions") {
        let sep = if back.contains('?') { '&' } else { '?' };
        format!("{back}{sep}done={action}&n={n}")
    } else {
        back.to_string()
    }
}

pub async fn act(State(store): State<Arc<Store>>, f: SignedForm<Vec<(String, String)>>) -> Response {
    let SignedForm { who, form } = f;
    let SignedIn { user, page } = who;
    let Some(form) = ActForm::from_pairs(form) else {
        return page.bad_request(page.t("bad_form_text"));
    };
    let actor = actor_of(&user);
    let s = store.clone();
    let (ids, action, comment) = (form.ids, form.action, form.comment);
    match blocking(move || Ok(queue::act(&s, &actor, &ids, &action, &comment, now_ms()))).await {
        Ok(Ok(done)) => redirect(&back_to(&form.back, done.action, done.ids.len())),
        Ok(Err(QueueError::NotVisible(_))) => page.not_found(),
        Ok(Err(QueueError::Storage(m))) => page.error(&crate::error::ApiError::Internal(m)),
        Ok(Err(e)) => page.bad_request(&queue_error_text(page.lang, &e)),
        Err(e) => page.error(&e),
    }
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default, deserialize_with = "trimmed")]
    comment: String,
    #[serde(default)]
    back: String,
}

pub async fn resolve(
    State(store): State<Arc<Store>>,
    id: Result<Path<String>, PathRejection>,
    f: SignedForm<ResolveForm>,
) -> Response {
    let SignedForm { who, form } = f;
    let SignedIn { user, page } = who;
    let Some(id) = id.ok().and_then(|Path(id)| id.parse::<i64>().ok()) else {
        return page.not_found();
    };
    if form.comment.is_empty() || form.comment.chars().count() > queue::MAX_COMMENT_CHARS {
        return page.bad_request(page.t("comment_required"));
    }
    let back = safe_next(&form.back).to_string();
    let s = store.clone();
    let (uid, scope) = (user.id.clone(), user.scope().map(str::to_string));
    let comment = form.comment;
    match blocking(move || resolve_exception(&s, scope.as_deref(), id, &uid, &comment, now_ms())).await {
        Ok(Resolved::Now) => {
            tracing::info!(exception = id, "exception resolved on the web");
            redirect(&back)
        }
        Ok(Resolved::Already) => page.bad_request(page.t("already_resolved")),
        Err(e) => page.error(&e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(s).unwrap()
    }

    #[test]
    fn act_forms_collect_every_ticked_id() {
        let f = ActForm::from_pairs(pairs(
            "csrf=x&ids=3&ids=7&action=dismiss&comment=%E8%AF%AF%E6%8A%A5&back=%2Fapp",
        ))
        .unwrap();
        assert_eq!(f.ids, [3, 7]);
        assert_eq!(f.action, QueueAction::Dismiss);
        assert_eq!((f.comment.as_str(), f.back.as_str()), ("误报", "/app"));
        let a = ActForm::from_pairs(pairs("ids=1&action=assign&assignee=wang")).unwrap();
        assert_eq!(
            a.action,
            QueueAction::Assign {
                assignee: "wang".into()
            }
        );
        for bad in [
            "ids=x&action=resolve",
            "ids=1&action=delete",
            "ids=1",
            "ids=1&action=assign&assignee=",
        ] {
            assert!(ActForm::from_pairs(pairs(bad)).is_none(), "{bad}");
        }
        // No id ticked is the workflow's refusal (in words), not a broken form.
        assert!(
            ActForm::from_pairs(pairs("action=resolve&comment=x"))
                .unwrap()
                .ids
                .is_empty()
        );
    }

    #[test]
    fn links_keep_the_filter_and_only_it() {
        let f = QueueFilter {
            q: Some("联华 & co".into()),
            status: Some(StatusFilter::All),
            sort: Some(QueueSort::Store),
            page: Some(1),
            ..QueueFilter::default()
        };
        assert_eq!(
            href(&f),
            "/app/exceptions?status=all&q=%E8%81%94%E5%8D%8E%20%26%20co&sort=store"
        );
        assert_eq!(href(&QueueFilter::default()), "/app/exceptions");
        assert_eq!(
            back_to("/app/exceptions?page=2", "resolve", 3),
            "/app/exceptions?page=2&done=resolve&n=3"
        );
        assert_eq!(back_to("/app/visits/v-1", "resolve", 1), "/app/visits/v-1");
        assert_eq!(back_to("https://evil.example", "resolve", 1), "/app");
    }
}
