//! Planned versus done: each planned stop of a day range with what became of it, and the visits
//! no plan asked for. The plan page, the scorecards and the map read their plan figures here, so
//! "visited", "missed" and "late" mean one thing everywhere.
//!
//! ```text
//! pub fn planned_vs_done(
//!     c: &Connection,
//!     cal: Calendar,
//!     scope: Option<&str>,
//!     first: i64,
//!     last: i64,
//!     filter: &PlanFilter,
//! ) -> ApiResult<PlansVsDone>
//!
//! PlanFilter { team: Option<String>, territory: Option<String>, rep: Option<String> }
//! PlansVsDone { stops: Vec<PlannedStop>, unplanned: Vec<UnplannedVisit> }
//! PlannedStop { plan_id, day, rep_id, store_id, sequence, window: Option<PlanWindow>, outcome }
//! PlanWindow { start_min, end_min }            // minutes after local midnight
//! StopOutcome::Visited { visit_id, late, checked_in_ms } | StopOutcome::Missed
//! UnplannedVisit { visit_id, day, rep_id, store_id, checked_in_ms }
//! ```
//!
//! Days are store-local day numbers of the one calendar ([`crate::calendar`]); a visit's day is
//! the day of its check-in (`started_wall_ms`), as everywhere else.
//!
//! **The matching rule.** A plan of rep R for store S on day D is *visited* by a visit of R to S
//! checked in on day D that is not cancelled (in progress, completed or checked out all count:
//! the rep was there). A visit that names the plan (`visits.plan_id`) is taken first; otherwise
//! the earliest such visit by check-in time. Each visit fulfils at most one plan (two plans of
//! the same store on the same day need two visits); plans are matched in route order
//! (`sequence`, then plan id). A plan with no such visit is *missed*. A visited plan is *late*
//! when it has a window and the check-in came after the window's end (local time on day D).
//! *Visits without a plan*: the non-cancelled store checks of the range (supervisor
//! inspections are not plan work) that fulfil no plan.
//!
//! Filters: `team` is a team's code (its reps are those whose supervisor leads it), `territory`
//! the rep's territory code, `rep` a field user's id; the viewer's scope applies first.

use std::collections::{HashMap, HashSet};

use crate::db::{Connection, params};
use fieldproof_core::rules;

use crate::calendar::{Calendar, day_string, parse_day};
use crate::error::ApiResult;
use crate::web::auth::scope_sql;

/// Which reps' plans and visits: all of the scope's, or one team's, territory's or rep's.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PlanFilter {
    /// A team's code.
    pub team: Option<String>,
    /// A territory's code (the rep's territory).
    pub territory: Option<String>,
    /// A field user's id.
    pub rep: Option<String>,
}

/// A plan's time window, local time on the plan's day: minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanWindow {
    pub start_min: u32,
    pub end_min: u32,
}

impl PlanWindow {
    /// From the plan's `HH:MM` strings (the core's rule, [`rules::plan_window`]); `None`
    /// without a valid window.
    pub fn parse(start: Option<&str>, end: Option<&str>) -> Option<PlanWindow> {
        rules::plan_window(start, end)
            .ok()
            .flatten()
            .map(|(start_min, end_min)| PlanWindow { start_min, end_min })
    }

    /// `09:00–11:00`.
    pub fn label(&self) -> String {
        format!(
            "{:02}:{:02}–{:02}:{:02}",
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

/// What became of a planned stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    /// Visited on its day by this visit; `late`: checked in after the window's end.
    Visited {
        visit_id: String,
        late: bool,
        checked_in_ms: i64,
    },
    Missed,
}

/// One planned stop and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStop {
    pub plan_id: String,
    /// The plan's local day.
    pub day: i64,
    pub rep_id: String,
    pub store_id: String,
    /// Position in the day's route.
    pub sequence: u32,
    pub window: Option<PlanWindow>,
    pub outcome: StopOutcome,
}

impl PlannedStop {
    pub fn visited(&self) -> bool {
        matches!(self.outcome, StopOutcome::Visited { .. })
    }

    pub fn late(&self) -> bool {
        matches!(self.outcome, StopOutcome::Visited { late: true, .. })
    }
}

/// A store check that fulfils no plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnplannedVisit {
    pub visit_id: String,
    pub day: i64,
    pub rep_id: String,
    pub store_id: String,
    pub checked_in_ms: i64,
}

/// The planned stops of the range (by day, rep, sequence) and the visits without a plan (by
/// check-in time).
#[derive(Debug, Default, Clone)]
pub struct PlansVsDone {
    pub stops: Vec<PlannedStop>,
    pub unplanned: Vec<UnplannedVisit>,
}

/// A visit that may fulfil a plan.
struct CandidateVisit {
    id: String,
    rep_id: String,
    store_id: String,
    plan_id: Option<String>,
    started: i64,
    store_check: bool,
}

/// SQL: the rep in column `col` passes `filter`, whose team, territory and rep are bound as
/// parameters `?a`, `?b`, `?c`. Only the filters given are tested (`?n IS NULL` keeps an absent
/// one's parameter numbered): a plain `{col} = ?c` lets SQLite use the rep's index (a rep's
/// page reads one rep's month, not everyone's), which `(?c IS NULL OR …)` would not.
pub(crate) fn filter_sql(col: &str, filter: &PlanFilter, a: usize, b: usize, c: usize) -> String {
    let rep = if filter.rep.is_some() {
        format!("{col} = ?{c}")
    } else {
        format!("?{c} IS NULL")
    };
    let territory = if filter.territory.is_some() {
        format!("{col} IN (SELECT id FROM users WHERE territory = ?{b})")
    } else {
        format!("?{b} IS NULL")
    };
    let team = if filter.team.is_some() {
        format!(
            "{col} IN (SELECT u.id FROM users u JOIN teams t ON t.supervisor_id = u.supervisor_id WHERE t.code = ?{a})"
        )
    } else {
        format!("?{a} IS NULL")
    };
    format!("{rep} AND {territory} AND {team}")
}

/// The planned stops of days `first..=last` and the visits without a plan, in the viewer's
/// scope and the filter. See the module docs for the matching rule.
pub fn planned_vs_done(
    c: &Connection,
    cal: Calendar,
    scope: Option<&str>,
    first: i64,
    last: i64,
    filter: &PlanFilter,
) -> ApiResult<PlansVsDone> {
    if last < first {
        return Ok(PlansVsDone::default());
    }
    let (from, _) = cal.day_bounds(first);
    let (_, to) = cal.day_bounds(last);
    // The expression is the one index `plans_date` is on (migration 008), character for character.
    let sql = format!(
        "SELECT p.id, p.rep_id, p.store_id, json_extract(p.body, '$.date'),
                coalesce(json_extract(p.body, '$.sequence'), 0),
                json_extract(p.body, '$.window_start'), json_extract(p.body, '$.window_end')
         FROM plans p
         WHERE json_extract(p.body, '$.date') BETWEEN ?1 AND ?2 AND {} AND {}",
        scope_sql("p.rep_id", 3),
        filter_sql("p.rep_id", filter, 4, 5, 6)
    );
    let mut st = c.prepare(&sql)?;
    let f = filter;
    let mut stops = Vec::new();
    let rows = st.query_map(
        params![
            day_string(first),
            day_string(last),
            scope,
            f.team,
            f.territory,
            f.rep
        ],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        },
    )?;
    for r in rows {
        let (plan_id, rep_id, store_id, date, sequence, start, end) = r?;
        // A plan whose date is not a day (bad reference data) cannot be placed in the range.
        let Some(day) = parse_day(&date) else { continue };
        stops.push(PlannedStop {
            plan_id,
            day,
            rep_id,
            store_id,
            sequence: u32::try_from(sequence).unwrap_or(0),
            window: PlanWindow::parse(start.as_deref(), end.as_deref()),
            outcome: StopOutcome::Missed,
        });
    }
    stops.sort_by(|a, b| {
        (a.day, &a.rep_id, a.sequence, &a.plan_id).cmp(&(b.day, &b.rep_id, b.sequence, &b.plan_id))
    });

    let sql = format!(
        "SELECT v.id, v.user_id, v.store_id, v.plan_id, v.started_wall_ms, v.kind <> 'inspection'
         FROM visits v
         WHERE v.started_wall_ms >= ?1 AND v.started_wall_ms < ?2 AND v.status <> 'cancelled' AND {} AND {}
         ORDER BY v.started_wall_ms, v.id",
        scope_sql("v.user_id", 3),
        filter_sql("v.user_id", filter, 4, 5, 6)
    );
    let mut st = c.prepare(&sql)?;
    let visits: Vec<CandidateVisit> = st
        .query_map(params![from, to, scope, f.team, f.territory, f.rep], |r| {
            Ok(CandidateVisit {
                id: r.get(0)?,
                rep_id: r.get(1)?,
                store_id: r.get(2)?,
                plan_id: r.get(3)?,
                started: r.get(4)?,
                store_check: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;

    // (day, rep, store) → the indexes of its visits, in check-in order.
    let mut by_key: HashMap<(i64, &str, &str), Vec<usize>> = HashMap::new();
    for (i, v) in visits.iter().enumerate() {
        by_key
            .entry((cal.day_of(v.started), v.rep_id.as_str(), v.store_id.as_str()))
            .or_default()
            .push(i);
    }
    let mut used: HashSet<usize> = HashSet::new();
    for stop in &mut stops {
        let Some(candidates) = by_key.get(&(stop.day, stop.rep_id.as_str(), stop.store_id.as_str())) else {
            continue;
        };
        let free = || candidates.iter().copied().filter(|i| !used.contains(i));
        let chosen = free()
            .find(|i| visits[*i].plan_id.as_deref() == Some(stop.plan_id.as_str()))
            .or_else(|| free().next());
        if let Some(i) = chosen {
            used.insert(i);
            let v = &visits[i];
            let late = stop
                .window
                .is_some_and(|w| v.started > cal.day_bounds(stop.day).0 + i64::from(w.end_min) * 60_000);
            stop.outcome = StopOutcome::Visited {
                visit_id: v.id.clone(),
                late,
                checked_in_ms: v.started,
            };
        }
    }
    let unplanned = visits
        .iter()
        .enumerate()
        .filter(|(i, v)| v.store_check && !used.contains(i))
        .map(|(_, v)| UnplannedVisit {
            visit_id: v.id.clone(),
            day: cal.day_of(v.started),
            rep_id: v.rep_id.clone(),
            store_id: v.store_id.clone(),
            checked_in_ms: v.started,
        })
        .collect();
    Ok(PlansVsDone { stops, unplanned })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_only_when_whole_and_ordered() {
        assert_eq!(
            PlanWindow::parse(Some("09:00"), Some("11:30")),
            Some(PlanWindow {
                start_min: 540,
                end_min: 690
            })
        );
        assert_eq!(
            PlanWindow::parse(Some("9:05"), Some("24:00")).map(|w| w.start_min),
            Some(545)
        );
        assert_eq!(PlanWindow::parse(Some("11:00"), Some("09:00")), None);
        assert_eq!(PlanWindow::parse(Some("09:00"), None), None);
        assert_eq!(PlanWindow::parse(Some("25:00"), Some("26:00")), None);
        assert_eq!(PlanWindow::parse(Some("09:60"), Some("10:00")), None);
        assert_eq!(PlanWindow::parse(Some("0900"), Some("10:00")), None);
        assert_eq!(
            PlanWindow::parse(Some("09:00"), Some("10:15")).map(|w| w.label()),
            Some("09:00–10:15".to_string())
        );
    }
}
