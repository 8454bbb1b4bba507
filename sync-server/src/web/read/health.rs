//! Process health: three rates per day (key-action completion, on-time plans, exception
//! resolution) and each store's compliance score per day.

use std::collections::{BTreeMap, HashMap};

use crate::db::params;

use crate::calendar::{Calendar, day_string, parse_day};
use crate::error::ApiResult;
use crate::web::auth::scope_sql;

/// A rate's parts on one day.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub num: i64,
    pub den: i64,
}

impl Ratio {
    /// `None` without a denominator.
    pub fn rate(self) -> Option<f64> {
        (self.den > 0).then(|| self.num as f64 / self.den as f64)
    }

    /// The sum over days.
    pub fn total<'a>(days: impl IntoIterator<Item = &'a Ratio>) -> Ratio {
        days.into_iter().fold(Ratio::default(), |a, r| Ratio {
            num: a.num + r.num,
            den: a.den + r.den,
        })
    }
}

pub const DAYS: i64 = 14;
/// Goals: key-action completion ≥ 92 %, exception resolution ≥ 80 %. On-time has none fixed.
pub const KAC_GOAL: f64 = 0.92;
pub const RESOLUTION_GOAL: f64 = 0.80;

#[derive(Debug, Default, Clone)]
pub struct Figures {
    /// Per day.
    pub kac: BTreeMap<i64, Ratio>,
    pub ontime: BTreeMap<i64, Ratio>,
    pub resolution: BTreeMap<i64, Ratio>,
    /// Every store with a score in the period, those that need attention first (lowest period
    /// score, then store id).
    pub compliance: Vec<StoreCompliance>,
}

/// A store's compliance over the period.
#[derive(Debug, Default, Clone)]
pub struct StoreCompliance {
    pub store_id: String,
    /// Day → average score of its scored visits that day.
    pub days: BTreeMap<i64, f64>,
    /// The average score of all its scored visits in the period.
    pub average: f64,
    /// Its scored visits in the period.
    pub visits: i64,
}

impl StoreCompliance {
    /// Its lowest day: (day, score).
    pub fn lowest(&self) -> Option<(i64, f64)> {
        self.days
            .iter()
            .map(|(d, s)| (*d, *s))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// A planned visit: the plan's id and its local day `YYYY-MM-DD`.
struct Plan {
    id: String,
    date: String,
}

/// A done visit of a plan and the local day it was done on.
struct DoneVisit {
    plan_id: String,
    day: i64,
}

/// One day's counts: the day number, then (ok, all) in the query's columns 2 and 1.
struct DayRatio {
    day: i64,
    ratio: Ratio,
}

fn day_ratio(r: &crate::db::Row<'_>) -> crate::db::Result<DayRatio> {
    Ok(DayRatio {
        day: r.get(0)?,
        ratio: Ratio {
            num: r.get(2)?,
            den: r.get(1)?,
        },
    })
}

/// A visit of the period: its local day, store, score and whether it has every key action.
struct PeriodVisit {
    day: i64,
    store_id: String,
    score: Option<f64>,
    key_actions: bool,
}

/// SQL: 1 when visit `v` (the alias) has every key action, else 0 — the one definition the
/// health page and the scorecards count by.
///
/// Key actions: check-in inside the geofence (or its location exceptions all resolved:
/// explained), store check complete, a received photo, a report. The cheap column tests come
/// first (SQLite stops at the first false one); a visit's `report_summary` is written with its
/// first report (`ingest`), so it answers "has a report" without a lookup in `reports` for
/// nearly every visit, which still answers for a visit without it; `photo_received` is kept by
/// triggers (migration 009) in place of a lookup in the photos index per visit.
pub fn key_actions_sql(v: &str) -> String {
    format!(
        "CASE WHEN {v}.completed_wall_ms IS NOT NULL
                  AND ({v}.geofence = 'verified'
                       OR (EXISTS (SELECT 1 FROM exceptions e WHERE e.visit_id = {v}.id
                                   AND e.code IN ('outside_geofence', 'no_fix', 'low_accuracy', 'stale_fix'))
                           AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.visit_id = {v}.id AND e.resolved_ms IS NULL
                                   AND e.code IN ('outside_geofence', 'no_fix', 'low_accuracy', 'stale_fix'))))
                  AND ({v}.report_summary IS NOT NULL OR EXISTS (SELECT 1 FROM reports r WHERE r.visit_id = {v}.id))
                  AND {v}.photo_received = 1
            THEN 1 ELSE 0 END"
    )
}

/// The figures of days `first..=last` in the store's calendar `cal`.
pub fn figures(
    c: &crate::db::Connection,
    cal: Calendar,
    scope: Option<&str>,
    first: i64,
    last: i64,
) -> ApiResult<Figures> {
    let (from, _) = cal.day_bounds(first);
    let (_, to) = cal.day_bounds(last);
    let mut f = Figures::default();
    for d in first..=last {
        f.kac.insert(d, Ratio::default());
        f.ontime.insert(d, Ratio::default());
        f.resolution.insert(d, Ratio::default());
    }
    // One pass over the period's visits gives both the key-action figure and the stores'
    // scores (two scans of the same ~45k rows before).
    let sql = format!(
        "SELECT v.started_wall_ms, v.store_id, v.score, {}
         FROM visits v WHERE v.started_wall_ms >= ?1 AND v.started_wall_ms < ?2 AND {}",
        key_actions_sql("v"),
        scope_sql("v.user_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    // Store id → day → (sum of scores, scored visits).
    let mut by_store: HashMap<String, BTreeMap<i64, (f64, i64)>> = HashMap::new();
    for r in st.query_map(params![from, to, scope], |r| {
        Ok(PeriodVisit {
            day: cal.day_of(r.get(0)?),
            store_id: r.get(1)?,
            score: r.get(2)?,
            key_actions: r.get(3)?,
        })
    })? {
        let v = r?;
        let k = f.kac.entry(v.day).or_default();
        k.den += 1;
        if v.key_actions {
            k.num += 1;
        }
        if let Some(score) = v.score {
            let day = by_store.entry(v.store_id).or_default().entry(v.day).or_default();
            day.0 += score;
            day.1 += 1;
        }
    }
    // Exceptions of each visit day (whenever the server received them), and how many of them
    // are closed (resolved or dismissed).
    let sql = format!(
        "SELECT visit_day, count(*), count(resolved_ms)
         FROM exceptions WHERE visit_day >= ?1 AND visit_day <= ?2 AND {} GROUP BY visit_day",
        scope_sql("user_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    for r in st.query_map(params![first, last, scope], day_ratio)? {
        let r = r?;
        f.resolution.insert(r.day, r.ratio);
    }
    // Planned visits of each day, and those done (completed or checked out) on that day.
    let sql = format!(
        "SELECT p.id, json_extract(p.body, '$.date') FROM plans p
         WHERE json_extract(p.body, '$.date') BETWEEN ?1 AND ?2 AND {}",
        scope_sql("p.rep_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    let plans: Vec<Plan> = st
        .query_map(params![day_string(first), day_string(last), scope], |r| {
            Ok(Plan {
                id: r.get(0)?,
                date: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    // Plan id → the days a visit of it was done on.
    let mut done_on: HashMap<String, Vec<i64>> = HashMap::new();
    {
        let mut st = c.prepare(
            "SELECT plan_id, started_wall_ms FROM visits WHERE plan_id IS NOT NULL
             AND status IN ('completed', 'checked_out') AND started_wall_ms >= ?1 AND started_wall_ms < ?2",
        )?;
        for r in st.query_map(params![from, to], |r| {
            Ok(DoneVisit {
                plan_id: r.get(0)?,
                day: cal.day_of(r.get(1)?),
            })
        })? {
            let done = r?;
            done_on.entry(done.plan_id).or_default().push(done.day);
        }
    }
    for plan in plans {
        let Some(d) = parse_day(&plan.date) else { continue };
        let on_time = done_on.get(&plan.id).is_some_and(|days| days.contains(&d));
        let e = f.ontime.entry(d).or_default();
        e.den += 1;
        if on_time {
            e.num += 1;
        }
    }
    f.compliance = by_store
        .into_iter()
        .map(|(store_id, days)| {
            let (sum, visits) = days.values().fold((0.0, 0), |a, d| (a.0 + d.0, a.1 + d.1));
            StoreCompliance {
                store_id,
                days: days
                    .into_iter()
                    .map(|(d, (sum, n))| (d, sum / n as f64))
                    .collect(),
                average: sum / visits as f64,
                visits,
            }
        })
        .collect();
    // Attention first: the lowest score leads, ties in store order.
    f.compliance.sort_by(|a, b| {
        a.average
            .total_cmp(&b.average)
            .then_with(|| a.store_id.cmp(&b.store_id))
    });
    Ok(f)
}
