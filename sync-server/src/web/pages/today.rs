//! `GET /app`: a day's visits (today when it has any, else the latest day with visits): the
//! day's counts, then the visits by rep and by store, each table paged (`VISITS_PAGE` rows, "1–50
//! of 3,344") as a sales-ops day view is, with the day navigator and the day's export.

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
use crate::web::components::{
    DayNav, Pager, code_chips, day_nav, export_links, geofence, pager, status_words, visit_href,
};
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_day, opt_page};
use crate::web::period::store_href;
use crate::web::read::names::Names;
use crate::web::read::visits::{VisitRow, default_day, visits_between};
use crate::web::{day_string, fmt_time};

#[derive(Deserialize)]
pub struct DayQuery {
    #[serde(default, deserialize_with = "opt_day")]
    date: Option<i64>,
    /// The page of the by-rep table.
    #[serde(default, deserialize_with = "opt_page")]
    rep_page: Option<u32>,
    /// The page of the by-store table.
    #[serde(default, deserialize_with = "opt_page")]
    store_page: Option<u32>,
}

/// Rows of a day page's table: a rep's day (~17 visits) fits several times over, and head
/// office's busiest day (3,344 visits) is 67 pages instead of one 2 MB table.
pub const VISITS_PAGE: u64 = 50;

/// The rows of page `asked` (from 1) of `rows`, and the page shown: past the end shows the last
/// page, so a link from a day that has since shrunk still lands on visits.
fn page_of<T>(rows: &[T], asked: Option<u32>) -> (u64, &[T]) {
    let last = (rows.len() as u64).div_ceil(VISITS_PAGE).max(1);
    let page = u64::from(asked.unwrap_or(1)).clamp(1, last);
    let from = ((page - 1) * VISITS_PAGE) as usize;
    let to = (from + VISITS_PAGE as usize).min(rows.len());
    (page, rows.get(from..to).unwrap_or(&[]))
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
                    // The store's name links to its profile (a rep's page exists for reps only,
                    // and this list has supervisors' inspections too).
                    @let store = html! { a href=(store_href(&v.store_id)) { (names.store(&v.store_id)) } };
                    @let (a, b) = match lead {
                        Lead::Rep => (html! { (names.user(&v.user_id)) }, store),
                        Lead::Store => (store, html! { (names.user(&v.user_id)) }),
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
    let (rep_page, rep_rows) = page_of(&by_rep, q.rep_page);
    let (store_page, store_rows) = page_of(&by_store, q.store_page);
    // Each table's links keep the day and the other table's page; the anchor brings the reader
    // back to the table they paged.
    let rep_href = |n: u64| format!("/app?date={date}&rep_page={n}&store_page={store_page}#by-rep");
    let store_href = |n: u64| format!("/app?date={date}&rep_page={rep_page}&store_page={n}#by-store");
    let total = visits.len() as u64;
    let rep_pager = pager(
        page.lang,
        &Pager {
            range_key: "visits_range",
            page: rep_page,
            page_size: VISITS_PAGE,
            shown: rep_rows.len() as u64,
            total,
            href: &rep_href,
        },
    );
    let store_pager = pager(
        page.lang,
        &Pager {
            range_key: "visits_range",
            page: store_page,
            page_size: VISITS_PAGE,
            shown: store_rows.len() as u64,
            total,
            href: &store_href,
        },
    );
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
            section id="by-rep" {
                h2 { (t("by_rep")) }
                (rep_pager)
                (visit_table(&page, &names, rep_rows, Lead::Rep))
                @if rep_rows.len() > 12 { (rep_pager) }
            }
            section id="by-store" {
                h2 { (t("by_store")) }
                (store_pager)
                (visit_table(&page, &names, store_rows, Lead::Store))
                @if store_rows.len() > 12 { (store_pager) }
            }
        }
        (export_links(page.lang, &filter))
    };
    let title = format!("{} {}", t("visits_on"), date);
    page.page(StatusCode::OK, &title, body)
}
