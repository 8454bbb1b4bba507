//! A figures page's period and filters from its query string: one day (`date`, the day
//! navigator's) or a period (`from`/`to`), and a team, territory or rep. Shared by the plan,
//! ranking, rep and store pages so they read and link their periods alike.

use crate::db::Connection;
use maud::{Markup, html};
use serde::Deserialize;

use super::components::{DayNav, day_nav};
use super::extract::{Viewer, opt_day, trimmed};
use super::read::plans::PlanFilter;
use super::read::scorecards::Roster;
use super::read::visits::default_day;
use super::{day_string, url_enc};
use crate::calendar::Calendar;
use crate::error::ApiResult;

/// The longest period a page counts (a quarter).
pub const MAX_DAYS: i64 = 92;

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default, deserialize_with = "opt_day")]
    pub date: Option<i64>,
    #[serde(default, deserialize_with = "opt_day")]
    pub from: Option<i64>,
    #[serde(default, deserialize_with = "opt_day")]
    pub to: Option<i64>,
    /// A team's code.
    #[serde(default, deserialize_with = "trimmed")]
    pub team: String,
    /// A territory's code.
    #[serde(default, deserialize_with = "trimmed")]
    pub territory: String,
}

/// Days `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first: i64,
    pub last: i64,
}

impl Period {
    pub fn days(&self) -> i64 {
        self.last - self.first + 1
    }
}

/// What the query asks for: a period it names, or, when it names none, the page's default of
/// `len` days, which needs the data to place (it ends on the latest day with visits).
pub enum Asked {
    Given(Period),
    Default { len: i64 },
}

impl Asked {
    /// The period to count: the one asked for, or the default ending on the day the day pages
    /// open on ([`default_day`]: today if the viewer's scope has visits today, else the latest
    /// day with any).
    pub fn period(self, c: &Connection, cal: Calendar, scope: Option<&str>, today: i64) -> ApiResult<Period> {
        Ok(match self {
            Asked::Given(p) => p,
            Asked::Default { len } => {
                let last = default_day(c, cal, scope, today)?;
                Period {
                    first: last - (len - 1),
                    last,
                }
            }
        })
    }
}

impl PeriodQuery {
    /// `from`/`to` (either alone runs to today, or from `default_len` days before `to`), else
    /// `date`, else the default. Refused with a page-string key: from after to, or longer than
    /// [`MAX_DAYS`].
    pub fn asked(&self, today: i64, default_len: i64) -> Result<Asked, &'static str> {
        let p = match (self.from, self.to, self.date) {
            (None, None, None) => return Ok(Asked::Default { len: default_len }),
            (None, None, Some(d)) => Period { first: d, last: d },
            (from, to, _) => {
                let last = to.unwrap_or(today);
                Period {
                    first: from.unwrap_or(last - (default_len - 1)),
                    last,
                }
            }
        };
        if p.first > p.last {
            return Err("bad_period_order");
        }
        if p.days() > MAX_DAYS {
            return Err("bad_period_long");
        }
        Ok(Asked::Given(p))
    }

    pub fn filter(&self) -> PlanFilter {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        PlanFilter {
            team: some(&self.team),
            territory: some(&self.territory),
            rep: None,
        }
    }
}

/// The query string of a period and filter (without `?`), for links that keep them.
pub fn period_qs(p: Period, f: &PlanFilter) -> String {
    let mut s = format!("from={}&to={}", day_string(p.first), day_string(p.last));
    if let Some(t) = &f.team {
        s.push_str(&format!("&team={}", url_enc(t)));
    }
    if let Some(t) = &f.territory {
        s.push_str(&format!("&territory={}", url_enc(t)));
    }
    s
}

/// The day navigator (one day) and the period form (from, to, team, territory), both GET.
pub fn period_nav(
    page: &Viewer,
    path: &str,
    p: Period,
    today: i64,
    f: &PlanFilter,
    roster: Option<&Roster>,
) -> Markup {
    let t = |k| page.t(k);
    let team = f.team.clone().unwrap_or_default();
    let territory = f.territory.clone().unwrap_or_default();
    let keep = [("team", team.as_str()), ("territory", territory.as_str())];
    // Teams and territories that have reps in the viewer's scope.
    let (mut teams, mut territories): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    if let Some(r) = roster {
        teams = r.reps.iter().filter_map(|r| r.team.clone()).collect();
        territories = r.reps.iter().filter_map(|r| r.territory.clone()).collect();
    }
    teams.sort();
    teams.dedup();
    territories.sort();
    territories.dedup();
    html! {
        (day_nav(page.lang, DayNav { path, day: p.last, today, keep: &keep, controls: html! {} }))
        form.filters.period method="get" action=(path) {
            label { (t("from")) " " input type="date" name="from" value=(day_string(p.first)); }
            label { (t("to")) " " input type="date" name="to" value=(day_string(p.last)); }
            @if let Some(r) = roster {
                @if teams.len() > 1 || !team.is_empty() {
                    label { (t("team")) " "
                        select name="team" {
                            option value="" { (t("all")) }
                            @for code in &teams {
                                option value=(code) selected[*code == team] { (r.team_name(code)) }
                            }
                        }
                    }
                }
                @if territories.len() > 1 || !territory.is_empty() {
                    label { (t("territory")) " "
                        select name="territory" {
                            option value="" { (t("all")) }
                            @for code in &territories {
                                option value=(code) selected[*code == territory] { (r.territory_name(code)) }
                            }
                        }
                    }
                }
            }
            button { (t("show")) }
        }
        p.muted.period-shown {
            @if p.first == p.last {
                (day_string(p.first))
            } @else {
                (day_string(p.first)) " – " (day_string(p.last)) " (" (p.days()) " " (t("days_word")) ")"
            }
        }
    }
}

/// A rate as a percentage with one decimal, "–" without a denominator.
pub fn pct(r: Option<f64>) -> String {
    r.map_or("–".to_string(), |r| format!("{:.1} %", r * 100.0))
}

/// A number with `d` decimals, "–" when there is none.
pub fn num(v: Option<f64>, d: usize) -> String {
    v.map_or("–".to_string(), |v| format!("{v:.d$}"))
}

/// The rep page's link.
pub fn rep_href(id: &str) -> String {
    format!("/app/reps/{}", url_enc(id))
}

/// The store page's link.
pub fn store_href(id: &str) -> String {
    format!("/app/stores/{}", url_enc(id))
}
