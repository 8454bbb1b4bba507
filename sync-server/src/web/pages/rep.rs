//! `GET /app/reps/{id}`: one rep's scorecard over a period with its trends per day (plan
//! completion, key actions, on-time as bars; store score as a line), their latest visits and
//! their open exceptions. Out of the viewer's scope, or not a rep: 404.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::store::Store;
use crate::web::charts::{Series, bar_chart, line_chart};
use crate::web::components::{code_chips, status_words, visit_href};
use crate::web::extract::{PageQuery, SignedIn, Viewer};
use crate::web::pages::ranking::{DEFAULT_DAYS, figure_cells, score_formulas};
use crate::web::period::{PeriodQuery, period_nav, rep_href, store_href};
use crate::web::read::health::Ratio;
use crate::web::read::names::Names;
use crate::web::read::plans::PlanFilter;
use crate::web::read::scorecards::{
    OpenException, Scorecard, open_exceptions, rep_visible, scorecards, sum_by,
};
use crate::web::read::visits::{VisitRow, visits_of};
use crate::web::{day_string, fmt_datetime};

/// Latest visits and open exceptions shown.
const RECENT: u64 = 20;
const OPEN_SHOWN: u64 = 50;

/// Whom a visits table names beside each visit: the store (on a rep's page) or the rep (on a
/// store's).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum VisitsBy {
    Store,
    Rep,
}

/// Visits as a table: time, the store or the rep (linked), status, score, findings, the visit.
pub fn visits_table(page: &Viewer, names: &Names, visits: &[VisitRow], by: VisitsBy) -> Markup {
    let t = |k| page.t(k);
    let who = if by == VisitsBy::Store { "store" } else { "rep" };
    html! {
        table.rows {
            thead { tr { th { (t("time")) } th { (t(who)) } th { (t("status")) } th { (t("col_score")) } th { (t("flags")) } th {} } }
            tbody {
                @for v in visits {
                    tr data-visit=(v.id) {
                        td.nowrap data-label=(t("time")) { (fmt_datetime(page.cal, v.started)) }
                        td.name data-label=(t(who)) {
                            @if by == VisitsBy::Store { a href=(store_href(&v.store_id)) { (names.store(&v.store_id)) } }
                            @else { a href=(rep_href(&v.user_id)) { (names.user(&v.user_id)) } }
                        }
                        td data-label=(t("status")) { (status_words(page.lang, &v.status)) }
                        td data-label=(t("col_score")) { @if let Some(s) = v.score { (format!("{s:.1}")) } }
                        td data-label=(t("flags")) { (code_chips(page.lang, &v.codes)) }
                        td data-label="" { a href=(visit_href(&v.id)) { (t("open")) } }
                    }
                }
            }
        }
    }
}

/// Open exceptions as a table: day, code in words, store, the visit.
pub fn open_table(page: &Viewer, names: &Names, open: &[OpenException]) -> Markup {
    let t = |k| page.t(k);
    html! {
        @if open.is_empty() {
            p.muted { (t("no_open_exceptions")) }
        } @else {
            table.rows.open-exceptions {
                thead { tr { th { (t("day")) } th { (t("exception")) } th { (t("store")) } th { (t("rep")) } th {} } }
                tbody {
                    @for e in open {
                        tr data-exception=(e.id) data-code=(e.code) {
                            td.nowrap data-label=(t("day")) { @if let Some(d) = e.visit_day { (day_string(d)) } }
                            td data-label=(t("exception")) { span.code { (page.lang.code_words(&e.code)) } }
                            td.name data-label=(t("store")) {
                                @if let Some(s) = &e.store_id { a href=(store_href(s)) { (names.store(s)) } }
                            }
                            td.name data-label=(t("rep")) { @if let Some(u) = &e.user_id { (names.user(u)) } }
                            td data-label="" { @if let Some(v) = &e.visit_id { a href=(visit_href(v)) { (t("open")) } } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<PeriodQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let cal = page.cal;
    let today = cal.day_of(now_ms());
    let asked = match q.asked(today, DEFAULT_DAYS) {
        Ok(a) => a,
        Err(key) => return page.bad_request(page.t(key)),
    };
    let scope = user.scope().map(str::to_string);
    let rep = id.clone();
    let read = read_with_names(&store, move |c| {
        if !rep_visible(c, scope.as_deref(), &rep)? {
            return Err(ApiError::NotFound("rep".into()));
        }
        let period = asked.period(c, cal, scope.as_deref(), today)?;
        let filter = PlanFilter {
            rep: Some(rep.clone()),
            ..Default::default()
        };
        let days = scorecards(c, cal, scope.as_deref(), period.first, period.last, &filter)?;
        let (recent, _) = visits_of(c, scope.as_deref(), Some(&rep), None, 0, RECENT)?;
        let open = open_exceptions(c, scope.as_deref(), Some(&rep), None, OPEN_SHOWN)?;
        Ok((period, days, recent, open))
    })
    .await;
    let WithNames {
        names,
        data: (period, days, recent, open),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let per_day = sum_by(&days, |_, d| Some(d));
    let mut total = Scorecard::default();
    for c in per_day.values() {
        total.add(c);
    }
    let series = |f: &dyn Fn(&Scorecard) -> Ratio| -> BTreeMap<i64, Ratio> {
        (period.first..=period.last)
            .map(|d| (d, per_day.get(&d).map(f).unwrap_or_default()))
            .collect()
    };
    let completion = series(&|c| Ratio {
        num: c.visited,
        den: c.planned,
    });
    let key_actions = series(&|c| Ratio {
        num: c.key_actions,
        den: c.visits,
    });
    let on_time = series(&|c| Ratio {
        num: c.on_time(),
        den: c.planned,
    });
    let scores = Series {
        name: t("col_score").to_string(),
        points: per_day
            .iter()
            .filter_map(|(d, c)| c.average_score().map(|s| (*d, s)))
            .collect(),
    };
    let name = names.user(&id);
    let path = format!("/app/reps/{}", crate::web::url_enc(&id));
    let body = html! {
        (period_nav(&page, &path, period, today, &PlanFilter::default(), None))
        section id="rep-figures" {
            h2 { (t("scorecard")) }
            table.rows.figures.scorecard {
                thead { tr {
                    th { (t("col_visits")) } th { (t("col_completion")) } th { (t("col_key_actions")) } th { (t("col_on_time")) }
                    th { (t("col_score")) } th { (t("col_exceptions")) } th { (t("col_photos")) } th { (t("col_reuse")) }
                    th { (t("col_mock")) } th { (t("col_minutes")) }
                } }
                tbody { tr data-key=(id) { (figure_cells(&page, &total)) } }
            }
            (score_formulas(&page))
        }
        section id="trends" {
            h2 { (t("trends")) }
            h3 { (t("col_completion")) }
            (bar_chart("trend-completion", &completion, None, t("no_data")))
            h3 { (t("col_key_actions")) }
            (bar_chart("trend-key-actions", &key_actions, None, t("no_data")))
            h3 { (t("col_on_time")) }
            (bar_chart("trend-on-time", &on_time, None, t("no_data")))
            h3 { (t("col_score")) }
            @if scores.points.is_empty() { p.muted { (t("no_data")) } }
            @else { (line_chart(std::slice::from_ref(&scores), period.first, period.last)) }
        }
        section id="recent-visits" {
            h2 { (t("recent_visits")) }
            @if recent.is_empty() { p.muted { (t("no_visits")) } }
            @else {
                (visits_table(&page, &names, &recent, VisitsBy::Store))
            }
        }
        section id="open-exceptions" {
            h2 { (t("open_exceptions")) }
            (open_table(&page, &names, &open))
        }
    };
    page.page(StatusCode::OK, &format!("{} · {}", name, t("rep_page")), body)
}
