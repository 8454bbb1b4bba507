//! `GET /app/exceptions`: the exception queue with its filters; `POST
//! /app/exceptions/{id}/resolve`: resolve one with a comment.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};

use super::{WithNames, read_with_names};
use crate::codes::ReuseParams;
use crate::export::ExportFilter;
use crate::http::blocking;
use crate::now_ms;
use crate::store::Store;
use crate::web::actions::{Resolved, resolve_exception};
use crate::web::components::{export_links, visit_href};
use crate::web::extract::{PageQuery, SignedForm, SignedIn, Viewer, opt_day, trimmed};
use crate::web::read::exceptions::{ExceptionFilter, ExceptionRow, QueuePage, Resolution, queue_page};
use crate::web::read::names::Names;
use crate::web::{day_string, fmt_datetime, redirect, safe_next};

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default, deserialize_with = "opt_day")]
    date: Option<i64>,
    #[serde(default = "open", deserialize_with = "resolution")]
    status: Resolution,
    #[serde(default, deserialize_with = "trimmed")]
    code: String,
    #[serde(default, deserialize_with = "trimmed")]
    rep: String,
}

fn open() -> Resolution {
    Resolution::Open
}

/// `status=open|resolved|all`, empty = open.
fn resolution<'de, D: Deserializer<'de>>(d: D) -> Result<Resolution, D::Error> {
    match String::deserialize(d)?.trim() {
        "" | "open" => Ok(Resolution::Open),
        "resolved" => Ok(Resolution::Resolved),
        "all" => Ok(Resolution::All),
        _ => Err(D::Error::custom("bad_status")),
    }
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default, deserialize_with = "trimmed")]
    comment: String,
    #[serde(default)]
    back: String,
}

/// A `possible_reuse` exception's listed matches, each linked to its visit, and how many there
/// are in all: `None` for other codes and for rows from before schema v4 (their detail is the
/// whole story).
pub fn reuse_matches(page: &Viewer, params: Option<&str>) -> Option<Markup> {
    let p: ReuseParams = serde_json::from_str(params?).ok()?;
    Some(html! {
        (page.t("reuse_total")) ": " (p.matches_total)
        ul.reuse {
            @for m in &p.matches {
                li {
                    a href=(visit_href(&m.visit_id)) { (m.photo_id) }
                    " (" (m.visit_id) ") · " (page.t("reuse_distance")) ": " (m.distance)
                }
            }
        }
    })
}

fn filter_form(page: &Viewer, q: &QueueQuery, names: &Names, codes: &[String], reps: &[String]) -> Markup {
    let t = |k| page.t(k);
    let date = q.date.map(day_string).unwrap_or_default();
    let statuses = [
        (Resolution::Open, "st_open"),
        (Resolution::Resolved, "st_resolved"),
        (Resolution::All, "st_all"),
    ];
    html! {
        form.filters method="get" action="/app/exceptions" id="filter" {
            label { (t("code")) " "
                select name="code" {
                    option value="" selected[q.code.is_empty()] { (t("all")) }
                    @for c in codes {
                        option value=(c) selected[*c == q.code] { (page.lang.code_words(c)) }
                    }
                }
            }
            label { (t("status")) " "
                select name="status" {
                    @for (s, key) in statuses {
                        option value=(s.as_str()) selected[s == q.status] { (t(key)) }
                    }
                }
            }
            label { (t("rep")) " "
                select name="rep" {
                    option value="" selected[q.rep.is_empty()] { (t("all")) }
                    @for r in reps {
                        option value=(r) selected[*r == q.rep] { (names.user(r)) }
                    }
                }
            }
            label { (t("date")) " " input type="date" name="date" value=(date); }
            button { (t("filter")) }
        }
    }
}

fn resolution_cell(page: &Viewer, e: &ExceptionRow, csrf: &str) -> Markup {
    let t = |k| page.t(k);
    html! {
        @if let Some(ms) = e.resolved_ms {
            span.ok { (t("st_resolved")) } " " (e.resolved_by.as_deref().unwrap_or("")) " · " (fmt_datetime(page.cal, ms))
            br;
            span.muted { (e.comment.as_deref().unwrap_or("")) }
        } @else {
            form.resolve method="post" action={ "/app/exceptions/" (e.id) "/resolve" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="back" value=(page.here);
                input name="comment" required maxlength="2000" placeholder=(t("comment")) aria-label=(t("comment"));
                button { (t("resolve")) }
            }
        }
    }
}

fn queue_table(page: &Viewer, names: &Names, rows: &[ExceptionRow], csrf: &str) -> Markup {
    let t = |k| page.t(k);
    html! {
        table.rows id="exceptions" {
            thead { tr {
                th { (t("code")) } th { (t("visit")) } th { (t("rep")) } th { (t("store")) }
                th { (t("detail")) } th { (t("created")) } th { (t("resolution")) }
            } }
            tbody {
                @for e in rows {
                    tr data-code=(e.code) id={ "ex-" (e.id) } {
                        td data-label=(t("code")) {
                            span.code title=(e.code) { (page.lang.code_words(&e.code)) }
                        }
                        td.nowrap data-label=(t("visit")) {
                            @if let Some(v) = e.visit_id.as_deref().filter(|v| !v.is_empty()) {
                                a href=(visit_href(v)) { (v.get(v.len().saturating_sub(8)..).unwrap_or(v)) }
                            }
                        }
                        td.name data-label=(t("rep")) { (e.user_id.as_deref().map(|u| names.user(u)).unwrap_or_default()) }
                        td.name data-label=(t("store")) { (e.store_id.as_deref().map(|s| names.store(s)).unwrap_or_default()) }
                        td.long data-label=(t("detail")) { (e.detail) }
                        td.nowrap data-label=(t("created")) { (fmt_datetime(page.cal, e.created_ms)) }
                        td data-label=(t("resolution")) { (resolution_cell(page, e, csrf)) }
                    }
                }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<QueueQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let scope = user.scope().map(str::to_string);
    let filter = ExceptionFilter {
        code: q.code.clone(),
        rep: q.rep.clone(),
        status: q.status,
        between: q.date.map(|d| (d, d + 1)),
    };
    let read = read_with_names(&store, move |c| queue_page(c, scope.as_deref(), &filter)).await;
    let WithNames { names, data: q_page } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let QueuePage { rows, choices } = q_page;
    let date = q.date.map(day_string);
    let export = ExportFilter {
        from: date.clone(),
        to: date,
        rep_id: (!q.rep.is_empty()).then(|| q.rep.clone()),
        ..Default::default()
    };
    let body = html! {
        (filter_form(&page, &q, &names, &choices.codes, &choices.reps))
        (export_links(page.lang, &export))
        @if rows.is_empty() {
            p.muted { (page.t("no_exceptions")) }
        } @else {
            (queue_table(&page, &names, &rows, &user.csrf))
        }
    };
    page.page(StatusCode::OK, page.t("exceptions_queue"), body)
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
    if form.comment.is_empty() || form.comment.chars().count() > 2000 {
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
