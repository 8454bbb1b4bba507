//! `GET /app/plan`: planned versus done for a day or a period: planned stops, visited,
//! missed, late and visits without a plan, in all and per team, territory and rep, and the
//! missed stops listed by store and rep (paged). Figures from [`read::plans`], each with
//! its formula on the page.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::store::Store;
use crate::web::components::{Pager, pager};
use crate::web::day_string;
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_page};
use crate::web::period::{PeriodQuery, pct, period_nav, period_qs, rep_href, store_href};
use crate::web::read::plans::{PlannedStop, StopOutcome, planned_vs_done};
use crate::web::read::scorecards::roster;

#[derive(Deserialize)]
pub struct PlanQuery {
    #[serde(flatten)]
    period: PeriodQuery,
    /// The page of the missed stops.
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
}

/// Missed stops on one page.
const MISSED_PAGE: u64 = 50;

/// One group's counts.
#[derive(Default, Clone, Copy)]
struct Counts {
    planned: i64,
    visited: i64,
    late: i64,
    unplanned: i64,
}

impl Counts {
    fn missed(&self) -> i64 {
        self.planned - self.visited
    }
    fn completion(&self) -> Option<f64> {
        (self.planned > 0).then(|| self.visited as f64 / self.planned as f64)
    }
}

fn counts_table(page: &Viewer, id: &str, head: &str, rows: &[(String, Markup, Counts)]) -> Markup {
    let t = |k| page.t(k);
    html! {
        table.rows.figures id=(id) {
            thead { tr {
                th { (head) } th { (t("fig_planned")) } th { (t("fig_visited")) } th { (t("fig_missed")) }
                th { (t("fig_late")) } th { (t("fig_unplanned")) } th { (t("fig_completion")) }
            } }
            tbody {
                @for (key, name, c) in rows {
                    tr data-key=(key) {
                        td.name data-label=(head) { (name) }
                        td data-label=(t("fig_planned")) data-figure="planned" { (c.planned) }
                        td data-label=(t("fig_visited")) data-figure="visited" { (c.visited) }
                        td data-label=(t("fig_missed")) data-figure="missed" { (c.missed()) }
                        td data-label=(t("fig_late")) data-figure="late" { (c.late) }
                        td data-label=(t("fig_unplanned")) data-figure="unplanned" { (c.unplanned) }
                        td data-label=(t("fig_completion")) data-figure="completion" { (pct(c.completion())) }
                    }
                }
            }
        }
    }
}

/// The rules in words, folded.
pub fn plan_formulas(page: &Viewer) -> Markup {
    let t = |k| page.t(k);
    html! {
        details.formulas {
            summary { (t("how_counted")) }
            ul {
                li { strong { (t("fig_planned")) } ": " (t("formula_planned")) }
                li { strong { (t("fig_visited")) } ": " (t("formula_visited")) }
                li { strong { (t("fig_missed")) } ": " (t("formula_missed")) }
                li { strong { (t("fig_late")) } ": " (t("formula_late")) }
                li { strong { (t("fig_unplanned")) } ": " (t("formula_unplanned")) }
                li { strong { (t("fig_completion")) } ": " (t("formula_completion")) }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<PlanQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let cal = page.cal;
    let today = cal.day_of(now_ms());
    let asked = match q.period.asked(today, 1) {
        Ok(a) => a,
        Err(key) => return page.bad_request(page.t(key)),
    };
    let filter = q.period.filter();
    let scope = user.scope().map(str::to_string);
    let f = filter.clone();
    let read = read_with_names(&store, move |c| {
        let period = asked.period(c, cal, scope.as_deref(), today)?;
        let roster = roster(
            c,
            scope.as_deref(),
            &crate::web::read::plans::PlanFilter::default(),
        )?;
        let pvd = planned_vs_done(c, cal, scope.as_deref(), period.first, period.last, &f)?;
        Ok((period, roster, pvd))
    })
    .await;
    let WithNames {
        names,
        data: (period, roster, pvd),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    // Per rep, then per team and territory of the rep.
    let mut per_rep: BTreeMap<String, Counts> = BTreeMap::new();
    for s in &pvd.stops {
        let c = per_rep.entry(s.rep_id.clone()).or_default();
        c.planned += 1;
        c.visited += i64::from(s.visited());
        c.late += i64::from(s.late());
    }
    for u in &pvd.unplanned {
        per_rep.entry(u.rep_id.clone()).or_default().unplanned += 1;
    }
    let add = |a: &mut Counts, b: &Counts| {
        a.planned += b.planned;
        a.visited += b.visited;
        a.late += b.late;
        a.unplanned += b.unplanned;
    };
    let mut total = Counts::default();
    let mut per_team: BTreeMap<String, Counts> = BTreeMap::new();
    let mut per_territory: BTreeMap<String, Counts> = BTreeMap::new();
    for (rep, c) in &per_rep {
        add(&mut total, c);
        let info = roster.rep(rep);
        let team = info.and_then(|r| r.team.clone()).unwrap_or_default();
        let territory = info.and_then(|r| r.territory.clone()).unwrap_or_default();
        add(per_team.entry(team).or_default(), c);
        add(per_territory.entry(territory).or_default(), c);
    }
    let group_name = |code: &str, name: String| {
        if code.is_empty() {
            t("no_group").to_string()
        } else {
            name
        }
    };
    let mut team_rows: Vec<(String, Markup, Counts)> = per_team
        .iter()
        .map(|(k, c)| (k.clone(), html! { (group_name(k, roster.team_name(k))) }, *c))
        .collect();
    team_rows.sort_by_key(|r| r.1.0.clone());
    let mut territory_rows: Vec<(String, Markup, Counts)> = per_territory
        .iter()
        .map(|(k, c)| (k.clone(), html! { (group_name(k, roster.territory_name(k))) }, *c))
        .collect();
    territory_rows.sort_by_key(|r| r.1.0.clone());
    let mut rep_rows: Vec<(String, Markup, Counts)> = per_rep
        .iter()
        .map(|(k, c)| {
            let name = names.user(k);
            let cell = if roster.rep(k).is_some() {
                html! { a href=(rep_href(k)) { (name) } }
            } else {
                html! { (name) }
            };
            (k.clone(), cell, *c)
        })
        .collect();
    rep_rows.sort_by_key(|r| (names.user(&r.0), r.0.clone()));

    let missed: Vec<&PlannedStop> = pvd
        .stops
        .iter()
        .filter(|s| s.outcome == StopOutcome::Missed)
        .collect();
    let last_page = (missed.len() as u64).div_ceil(MISSED_PAGE).max(1);
    let shown_page = u64::from(q.page.unwrap_or(1)).clamp(1, last_page);
    let from_row = ((shown_page - 1) * MISSED_PAGE) as usize;
    let missed_rows = missed
        .get(from_row..(from_row + MISSED_PAGE as usize).min(missed.len()))
        .unwrap_or(&[]);
    let qs = period_qs(period, &filter);
    let href = |n: u64| format!("/app/plan?{qs}&page={n}#missed");
    let missed_pager = pager(
        page.lang,
        &Pager {
            range_key: "stops_range",
            page: shown_page,
            page_size: MISSED_PAGE,
            shown: missed_rows.len() as u64,
            total: missed.len() as u64,
            href: &href,
        },
    );
    let body = html! {
        (period_nav(&page, "/app/plan", period, today, &filter, Some(&roster)))
        div.cards.totals {
            div.card { (t("fig_planned")) ": " strong data-total="planned" { (total.planned) } }
            div.card { (t("fig_visited")) ": " strong data-total="visited" { (total.visited) } }
            div.card { (t("fig_missed")) ": " strong data-total="missed" { (total.missed()) } }
            div.card { (t("fig_late")) ": " strong data-total="late" { (total.late) } }
            div.card { (t("fig_unplanned")) ": " strong data-total="unplanned" { (total.unplanned) } }
            div.card { (t("fig_completion")) ": " strong data-total="completion" { (pct(total.completion())) } }
        }
        (plan_formulas(&page))
        @if per_rep.is_empty() {
            p.muted { (t("no_plans")) }
        } @else {
            section id="by-team" { h2 { (t("by_team")) } (counts_table(&page, "teams", t("team"), &team_rows)) }
            section id="by-territory" { h2 { (t("by_territory")) } (counts_table(&page, "territories", t("territory"), &territory_rows)) }
            section id="by-rep-plan" { h2 { (t("by_rep")) } (counts_table(&page, "reps", t("rep"), &rep_rows)) }
        }
        section id="missed" {
            h2 { (t("missed_stops")) }
            @if missed.is_empty() {
                p.muted { (t("no_missed")) }
            } @else {
                (missed_pager)
                table.rows.missed {
                    thead { tr { th { (t("day")) } th { (t("rep")) } th { (t("store")) } th { (t("plan_window")) } th { (t("sequence")) } } }
                    tbody {
                        @for s in missed_rows {
                            tr.missed-stop data-plan=(s.plan_id) data-rep=(s.rep_id) data-store=(s.store_id) data-day=(day_string(s.day)) {
                                td.nowrap data-label=(t("day")) { (day_string(s.day)) }
                                td.name data-label=(t("rep")) {
                                    @if roster.rep(&s.rep_id).is_some() {
                                        a href=(rep_href(&s.rep_id)) { (names.user(&s.rep_id)) }
                                    } @else { (names.user(&s.rep_id)) }
                                }
                                td.name data-label=(t("store")) { a href=(store_href(&s.store_id)) { (names.store(&s.store_id)) } }
                                td.nowrap data-label=(t("plan_window")) {
                                    @match &s.window { Some(w) => (w.label()), None => span.muted { (t("no_window")) } }
                                }
                                td data-label=(t("sequence")) { (s.sequence) }
                            }
                        }
                    }
                }
                @if missed_rows.len() > 12 { (missed_pager) }
            }
        }
    };
    page.page(StatusCode::OK, t("plan_title"), body)
}
