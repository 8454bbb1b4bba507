//! `GET /app`: a day's visits (today when it has any, else the latest day with visits), by rep
//! and by store, with the day navigator and the day's export.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::export::ExportFilter;
use crate::store::Store;
use crate::web::components::{DayNav, code_chips, day_nav, export_links, geofence, status_words, visit_href};
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_day};
use crate::web::read::names::Names;
use crate::web::read::visits::{VisitRow, default_day, visits_between};
use crate::web::{day_string, fmt_time};

#[derive(Deserialize)]
pub struct DayQuery {
    #[serde(default, deserialize_with = "opt_day")]
    date: Option<i64>,
}

/// Which column leads a visit table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lead {
    Rep,
    Store,
}

fn duration(page: &Viewer, v: &VisitRow) -> String {
    v.minutes()
        .map_or_else(|| "–".to_string(), |m| format!("{m} {}", page.t("min")))
}

fn visit_table(page: &Viewer, names: &Names, visits: &[&VisitRow], lead: Lead) -> Markup {
    let t = |k| page.t(k);
    let (first, second) = match lead {
        Lead::Rep => ("rep", "store"),
        Lead::Store => ("store", "rep"),
    };
    html! {
        table.rows {
            thead { tr {
                th { (t(first)) } th { (t("time")) } th { (t(second)) } th { (t("status")) }
                th { (t("duration")) } th { (t("geofence")) } th { (t("flags")) } th {}
            } }
            tbody {
                @for v in visits {
                    @let (a, b) = match lead {
                        Lead::Rep => (names.user(&v.user_id), names.store(&v.store_id)),
                        Lead::Store => (names.store(&v.store_id), names.user(&v.user_id)),
                    };
                    tr {
                        td.name data-label=(t(first)) { (a) }
                        td.nowrap data-label=(t("time")) { (fmt_time(page.cal, v.started)) }
                        td.name data-label=(t(second)) { (b) }
                        td data-label=(t("status")) { (status_words(page.lang, &v.status)) }
                        td.nowrap data-label=(t("duration")) { (duration(page, v)) }
                        td data-label=(t("geofence")) { (geofence(page.lang, &v.geofence)) }
                        td data-label=(t("flags")) { (code_chips(page.lang, &v.codes)) }
                        td data-label="" { a href=(visit_href(&v.id)) { (t("open")) } }
                    }
                }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<DayQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let cal = page.cal;
    let today = cal.day_of(now_ms());
    let asked = q.date;
    let scope = user.scope().map(str::to_string);
    let read = read_with_names(&store, move |c| {
        let day = match asked {
            Some(d) => d,
            None => default_day(c, cal, scope.as_deref(), today)?,
        };
        let (from, to) = cal.day_bounds(day);
        Ok((day, visits_between(c, scope.as_deref(), from, to)?))
    })
    .await;
    let WithNames {
        names,
        data: (day, visits),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let date = day_string(day);
    let mut by_rep: Vec<&VisitRow> = visits.iter().collect();
    by_rep.sort_by_key(|v| (names.user(&v.user_id), v.started));
    let mut by_store: Vec<&VisitRow> = visits.iter().collect();
    by_store.sort_by_key(|v| (names.store(&v.store_id), v.started));
    let filter = ExportFilter {
        from: Some(date.clone()),
        to: Some(date.clone()),
        ..Default::default()
    };
    let body = html! {
        (day_nav(page.lang, DayNav { path: "/app", day, today, keep: &[], controls: html! {} }))
        @if visits.is_empty() {
            p.muted { (t("no_visits")) }
        } @else {
            div.cards {
                div.card { (t("visits")) ": " strong { (visits.len()) } }
                div.card { (t("completed")) ": " strong { (visits.iter().filter(|v| v.done()).count()) } }
                div.card { (t("flags")) ": " strong { (visits.iter().filter(|v| !v.codes.is_empty()).count()) } }
            }
            h2 { (t("by_rep")) }
            (visit_table(&page, &names, &by_rep, Lead::Rep))
            h2 { (t("by_store")) }
            (visit_table(&page, &names, &by_store, Lead::Store))
        }
        (export_links(page.lang, &filter))
    };
    let title = format!("{} {}", t("visits_on"), date);
    page.page(StatusCode::OK, &title, body)
}
