//! `GET /app/health`: process health over 14 days: three rates with their formulas and goals
//! (charts and daily tables), and the stores' compliance scores over time, those that need
//! attention first, paged (`STORES_PAGE` stores, "1–50 of 3,000"), each store's days on demand.

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
use crate::web::charts::{Series, bar_chart, line_chart};
use crate::web::components::{DayNav, Pager, day_nav, pager};
use crate::web::day_string;
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_day, opt_page};
use crate::web::read::health::{DAYS, KAC_GOAL, RESOLUTION_GOAL, Ratio, figures};
use crate::web::read::leads::{ResponseRate, response_rate};
use crate::web::read::names::Names;
use crate::web::read::pipeline::pipeline_config;
use crate::web::read::visits::default_day;

#[derive(Deserialize)]
pub struct HealthQuery {
    /// The last day shown.
    #[serde(default, deserialize_with = "opt_day")]
    date: Option<i64>,
    /// The page of the store compliance table.
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
}

/// Stores on one page of the compliance table; the chart draws the first `CHART_STORES` of the
/// page (one colour each: more lines are no longer readable).
pub const STORES_PAGE: u64 = 50;
const CHART_STORES: usize = 8;

/// One rate as the page shows it.
struct Metric<'a> {
    id: &'a str,
    title_key: &'a str,
    formula_key: &'a str,
    days: &'a BTreeMap<i64, Ratio>,
    goal: Option<f64>,
}

fn pct(r: Option<f64>) -> String {
    r.map_or("–".to_string(), |r| format!("{:.1} %", r * 100.0))
}

fn metric(page: &Viewer, m: &Metric<'_>) -> Markup {
    let t = |k| page.t(k);
    let total = Ratio::total(m.days.values());
    let r = total.rate();
    let goal_text = m
        .goal
        .map_or(t("no_goal").to_string(), |g| format!("≥ {:.0} %", g * 100.0));
    html! {
        section id={ "metric-" (m.id) } {
            h2 { (t(m.title_key)) }
            p { strong { (t(m.title_key)) } " = " (t(m.formula_key)) }
            p {
                (t("goal")) ": " (goal_text) " · " (t("period_total")) ": " strong { (pct(r)) }
                " (" (total.num) " / " (total.den) ") "
                @match (m.goal, r) {
                    (Some(g), Some(r)) if r >= g => span.ok { (t("meets_goal")) },
                    (Some(_), Some(_)) => span.bad { (t("below_goal")) },
                    _ => {},
                }
            }
            (bar_chart(&format!("chart-{}", m.id), m.days, m.goal, t("no_data")))
            details {
                summary { (t("daily_table")) }
                table {
                    thead { tr { th { (t("day")) } th { (t("numerator")) } th { (t("denominator")) } th { (t("rate")) } } }
                    tbody {
                        @for (day, r) in m.days {
                            tr { td { (day_string(*day)) } td { (r.num) } td { (r.den) } td { (pct(r.rate())) } }
                        }
                    }
                }
            }
        }
    }
}

/// The lead-response rate per team (the rep's supervisor) and per rep, against its goal.
fn response_breakdown(page: &Viewer, names: &Names, r: &ResponseRate, goal: f64) -> Markup {
    let t = |k| page.t(k);
    let table = |id: &str, head: &str, rows: Vec<(String, Ratio)>| {
        html! {
            table.rows id=(id) {
                thead { tr { th { (head) } th { (t("leads_due")) } th { (t("in_time")) } th { (t("rate")) } } }
                tbody {
                    @for (name, ratio) in &rows {
                        tr {
                            td.name data-label=(head) { (name) }
                            td data-label=(t("leads_due")) { (ratio.den) }
                            td data-label=(t("in_time")) { (ratio.num) }
                            td data-label=(t("rate")) {
                                @match ratio.rate() {
                                    Some(x) if x >= goal => span.ok { (pct(Some(x))) },
                                    x => span.bad { (pct(x)) },
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let team = |sup: &String| {
        if sup.is_empty() {
            t("no_team").to_string()
        } else {
            names.user(sup)
        }
    };
    // The weakest first: who needs a word.
    let order = |mut v: Vec<(String, Ratio)>| {
        v.sort_by(|a, b| {
            a.1.rate()
                .unwrap_or(0.0)
                .total_cmp(&b.1.rate().unwrap_or(0.0))
                .then_with(|| a.0.cmp(&b.0))
        });
        v
    };
    html! {
        @if !r.reps.is_empty() {
            section id="response-breakdown" {
                details open {
                    summary { (t("response_rate")) " · " (t("by_team")) " / " (t("by_rep")) }
                    h3 { (t("by_team")) }
                    (table("response-teams", t("team"), order(r.teams.iter().map(|(s, x)| (team(s), *x)).collect())))
                    h3 { (t("by_rep")) }
                    (table("response-reps", t("field_rep"), order(r.reps.iter().map(|(u, x)| (names.user(u), *x)).collect())))
                }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<HealthQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let cal = page.cal;
    let today = cal.day_of(now_ms());
    let asked = q.date;
    let scope = user.scope().map(str::to_string);
    let read = read_with_names(&store, move |c| {
        let last = match asked {
            Some(d) => d,
            None => default_day(c, cal, scope.as_deref(), today)?,
        };
        let first = last - (DAYS - 1);
        let (from, _) = cal.day_bounds(first);
        let (_, to) = cal.day_bounds(last);
        let mut leads = response_rate(c, scope.as_deref(), from, to, |ms| cal.day_of(ms))?;
        for d in first..=last {
            leads.days.entry(d).or_default();
        }
        let goal = pipeline_config(c)?.response_goal;
        Ok((last, figures(c, cal, scope.as_deref(), first, last)?, leads, goal))
    })
    .await;
    let WithNames {
        names,
        data: (last, f, leads, response_goal),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let first = last - (DAYS - 1);
    let t = |k| page.t(k);
    let metrics = [
        Metric {
            id: "kac",
            title_key: "kac_rate",
            formula_key: "kac_formula",
            days: &f.kac,
            goal: Some(KAC_GOAL),
        },
        Metric {
            id: "ontime",
            title_key: "ontime_rate",
            formula_key: "ontime_formula",
            days: &f.ontime,
            goal: None,
        },
        Metric {
            id: "resolution",
            title_key: "resolution_rate",
            formula_key: "resolution_formula",
            days: &f.resolution,
            goal: Some(RESOLUTION_GOAL),
        },
        Metric {
            id: "response",
            title_key: "response_rate",
            formula_key: "response_formula",
            days: &leads.days,
            goal: Some(response_goal),
        },
    ];
    // Past the end shows the last page (a link from a period that has since shrunk).
    let total = f.compliance.len() as u64;
    let last_page = total.div_ceil(STORES_PAGE).max(1);
    let shown_page = u64::from(q.page.unwrap_or(1)).clamp(1, last_page);
    let from_row = ((shown_page - 1) * STORES_PAGE) as usize;
    let rows = f
        .compliance
        .get(from_row..(from_row + STORES_PAGE as usize).min(f.compliance.len()))
        .unwrap_or(&[]);
    let series: Vec<Series> = rows
        .iter()
        .take(CHART_STORES)
        .map(|s| Series {
            name: names.store(&s.store_id),
            points: s.days.clone(),
        })
        .collect();
    let href = |n: u64| format!("/app/health?date={}&page={n}#compliance", day_string(last));
    let stores_pager = pager(
        page.lang,
        &Pager {
            range_key: "stores_range",
            page: shown_page,
            page_size: STORES_PAGE,
            shown: rows.len() as u64,
            total,
            href: &href,
        },
    );
    let body = html! {
        p.muted { (t("last_14_days")) " " (day_string(last)) }
        (day_nav(page.lang, DayNav { path: "/app/health", day: last, today, keep: &[], controls: html! {} }))
        @for m in &metrics { (metric(&page, m)) }
        (response_breakdown(&page, &names, &leads, response_goal))
        section id="compliance" {
            h2 { (t("compliance")) }
            p.muted { (t("compliance_note")) " " (t("compliance_order")) }
            @if rows.is_empty() {
                p.muted { (t("no_data")) }
            } @else {
                (line_chart(&series, first, last))
                (stores_pager)
                table.rows {
                    thead { tr {
                        th { (t("store")) } th { (t("period_score")) } th { (t("lowest_day")) } th { (t("daily_scores")) }
                    } }
                    tbody {
                        @for s in rows {
                            tr {
                                td.name data-label=(t("store")) { (names.store(&s.store_id)) }
                                td data-label=(t("period_score")) { (format!("{:.1}", s.average)) " (" (s.visits) ")" }
                                td.nowrap data-label=(t("lowest_day")) {
                                    @if let Some((d, v)) = s.lowest() { (day_string(d)) " · " (format!("{v:.1}")) }
                                }
                                td data-label=(t("daily_scores")) {
                                    details {
                                        summary { (s.days.len()) " " (t("days_scored")) }
                                        ul.daily {
                                            @for (d, v) in &s.days {
                                                li { (day_string(*d)) " · " (format!("{v:.1}")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if rows.len() > 12 { (stores_pager) }
            }
        }
    };
    page.page(StatusCode::OK, t("health"), body)
}
