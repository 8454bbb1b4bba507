//! Scorecards: each rep's figures per day over a period (the ranking sums them per rep and per
//! team, a rep's page draws them per day), the reps and teams they belong to, and a store's or a
//! rep's open exceptions and latest photos.
//!
//! What is counted (the pages state the same in words, `figures_*` strings):
//! - *visits*: the rep's store checks checked in during the period (any status; a supervisor's
//!   inspections are not a rep's figures);
//! - *planned / visited / late / missed / without a plan*: [`super::plans::planned_vs_done`];
//! - *key actions*: visits with every key action ([`super::health::key_actions_sql`], the health
//!   page's one definition) out of visits;
//! - *on time*: planned stops visited on their day and not late, out of planned stops;
//! - *score*: the average of the visits' scores (visits without a score left out);
//! - *exceptions*: the exceptions raised on the visits, by code, per visit;
//! - *photos*: received photos of the visits, per visit;
//! - *time in store*: the average minutes from check-in to check-out (or completion) of the
//!   visits that ended.

use std::collections::{BTreeMap, HashMap};

use crate::db::{Connection, OptionalExtension, params};

use super::health::key_actions_sql;
use super::plans::{PlanFilter, filter_sql, planned_vs_done};
use crate::calendar::Calendar;
use crate::error::ApiResult;
use crate::web::auth::scope_sql;

/// One rep's (or team's, or day's) figures: the counts every rate is made of.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Scorecard {
    pub visits: i64,
    pub key_actions: i64,
    pub planned: i64,
    pub visited: i64,
    pub late: i64,
    pub unplanned: i64,
    pub score_sum: f64,
    pub scored: i64,
    /// Exception code → exceptions raised on the visits.
    pub exceptions: BTreeMap<String, i64>,
    pub photos: i64,
    pub minutes_sum: i64,
    pub timed: i64,
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl Scorecard {
    pub fn add(&mut self, o: &Scorecard) {
        self.visits += o.visits;
        self.key_actions += o.key_actions;
        self.planned += o.planned;
        self.visited += o.visited;
        self.late += o.late;
        self.unplanned += o.unplanned;
        self.score_sum += o.score_sum;
        self.scored += o.scored;
        for (code, n) in &o.exceptions {
            *self.exceptions.entry(code.clone()).or_default() += n;
        }
        self.photos += o.photos;
        self.minutes_sum += o.minutes_sum;
        self.timed += o.timed;
    }

    pub fn missed(&self) -> i64 {
        self.planned - self.visited
    }
    /// Planned stops visited on their day and not late.
    pub fn on_time(&self) -> i64 {
        self.visited - self.late
    }
    /// Visited / planned.
    pub fn completion(&self) -> Option<f64> {
        ratio(self.visited, self.planned)
    }
    pub fn key_action_rate(&self) -> Option<f64> {
        ratio(self.key_actions, self.visits)
    }
    pub fn on_time_rate(&self) -> Option<f64> {
        ratio(self.on_time(), self.planned)
    }
    pub fn average_score(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.score_sum / self.scored as f64)
    }
    pub fn exception_count(&self) -> i64 {
        self.exceptions.values().sum()
    }
    pub fn exceptions_per_visit(&self) -> Option<f64> {
        ratio(self.exception_count(), self.visits)
    }
    pub fn code_count(&self, code: &str) -> i64 {
        self.exceptions.get(code).copied().unwrap_or(0)
    }
    pub fn photos_per_visit(&self) -> Option<f64> {
        ratio(self.photos, self.visits)
    }
    /// Average minutes in store.
    pub fn minutes_in_store(&self) -> Option<f64> {
        ratio(self.minutes_sum, self.timed)
    }
}

/// A rep in the viewer's scope: their team and territory (codes, when they have one).
#[derive(Debug, Clone)]
pub struct RepInfo {
    pub id: String,
    pub name: String,
    pub team: Option<String>,
    pub territory: Option<String>,
}

/// The reps of the scope and filter (deactivated ones too: their past figures stay theirs),
/// by name; and the names of teams and territories by code.
pub struct Roster {
    pub reps: Vec<RepInfo>,
    pub teams: BTreeMap<String, String>,
    pub territories: BTreeMap<String, String>,
}

impl Roster {
    pub fn rep(&self, id: &str) -> Option<&RepInfo> {
        self.reps.iter().find(|r| r.id == id)
    }
    pub fn team_name(&self, code: &str) -> String {
        self.teams.get(code).cloned().unwrap_or_else(|| code.to_string())
    }
    pub fn territory_name(&self, code: &str) -> String {
        self.territories
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }
}

pub fn roster(c: &Connection, scope: Option<&str>, filter: &PlanFilter) -> ApiResult<Roster> {
    let sql = format!(
        "SELECT u.id, coalesce(json_extract(u.body, '$.name'), u.id), t.code, u.territory
         FROM users u LEFT JOIN teams t ON t.supervisor_id = u.supervisor_id
         WHERE u.role = 'rep' AND {} AND {}
         ORDER BY 2, 1",
        scope_sql("u.id", 1),
        filter_sql("u.id", filter, 2, 3, 4)
    );
    let mut st = c.prepare(&sql)?;
    let reps = st
        .query_map(params![scope, filter.team, filter.territory, filter.rep], |r| {
            Ok(RepInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                team: r.get(2)?,
                territory: r.get::<_, Option<String>>(3)?.filter(|t| !t.is_empty()),
            })
        })?
        .collect::<Result<_, _>>()?;
    let pairs = |sql: &str| -> ApiResult<BTreeMap<String, String>> {
        let mut st = c.prepare(sql)?;
        let m = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(m)
    };
    Ok(Roster {
        reps,
        teams: pairs("SELECT code, name FROM teams")?,
        territories: pairs("SELECT code, name FROM territories")?,
    })
}

/// Is field user `id` a rep the viewer's scope sees?
pub fn rep_visible(c: &Connection, scope: Option<&str>, id: &str) -> ApiResult<bool> {
    let sql = format!(
        "SELECT 1 FROM users WHERE id = ?1 AND role = 'rep' AND {}",
        scope_sql("id", 2)
    );
    Ok(c.query_row(&sql, params![id, scope], |_| Ok(()))
        .optional()?
        .is_some())
}

/// One visit's contribution.
struct VisitFacts {
    rep_id: String,
    started: i64,
    ended: Option<i64>,
    score: Option<f64>,
    key_actions: bool,
    photos: i64,
}

/// Each rep's figures per day of `first..=last`: (rep id, day) → figures, for the reps and
/// days with anything to count.
pub fn scorecards(
    c: &Connection,
    cal: Calendar,
    scope: Option<&str>,
    first: i64,
    last: i64,
    filter: &PlanFilter,
) -> ApiResult<BTreeMap<(String, i64), Scorecard>> {
    let mut out: BTreeMap<(String, i64), Scorecard> = BTreeMap::new();
    if last < first {
        return Ok(out);
    }
    let (from, _) = cal.day_bounds(first);
    let (_, to) = cal.day_bounds(last);
    let visits_of_period = format!(
        "v.started_wall_ms >= ?1 AND v.started_wall_ms < ?2 AND v.kind <> 'inspection' AND {} AND {}",
        scope_sql("v.user_id", 3),
        filter_sql("v.user_id", filter, 4, 5, 6)
    );
    let f = filter;
    let sql = format!(
        "SELECT v.user_id, v.started_wall_ms, coalesce(v.ended_wall_ms, v.completed_wall_ms), v.score, {},
                (SELECT count(*) FROM photos p WHERE p.visit_id = v.id AND p.received = 1)
         FROM visits v WHERE {visits_of_period}",
        key_actions_sql("v")
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(params![from, to, scope, f.team, f.territory, f.rep], |r| {
        Ok(VisitFacts {
            rep_id: r.get(0)?,
            started: r.get(1)?,
            ended: r.get(2)?,
            score: r.get(3)?,
            key_actions: r.get(4)?,
            photos: r.get(5)?,
        })
    })?;
    for v in rows {
        let v = v?;
        let card = out.entry((v.rep_id, cal.day_of(v.started))).or_default();
        card.visits += 1;
        card.key_actions += i64::from(v.key_actions);
        card.photos += v.photos;
        if let Some(s) = v.score {
            card.score_sum += s;
            card.scored += 1;
        }
        // Minutes as the visit lists show them (`VisitRow::minutes`): whole minutes, when it
        // ended after it started.
        if let Some(e) = v.ended.filter(|e| *e >= v.started) {
            card.minutes_sum += (e - v.started) / 60_000;
            card.timed += 1;
        }
    }
    // Grouped by the visit's own key (the same groups as `e.visit_id`): PostgreSQL lets a query
    // read a grouped table's other columns only when its primary key is in the GROUP BY.
    let sql = format!(
        "SELECT v.user_id, v.started_wall_ms, e.code, count(*)
         FROM exceptions e JOIN visits v ON v.id = e.visit_id
         WHERE {visits_of_period} GROUP BY v.id, v.user_id, v.started_wall_ms, e.code"
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(params![from, to, scope, f.team, f.territory, f.rep], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for r in rows {
        let (rep, started, code, n) = r?;
        *out.entry((rep, cal.day_of(started)))
            .or_default()
            .exceptions
            .entry(code)
            .or_default() += n;
    }
    let plans = planned_vs_done(c, cal, scope, first, last, filter)?;
    for s in &plans.stops {
        let card = out.entry((s.rep_id.clone(), s.day)).or_default();
        card.planned += 1;
        card.visited += i64::from(s.visited());
        card.late += i64::from(s.late());
    }
    for u in &plans.unplanned {
        out.entry((u.rep_id.clone(), u.day)).or_default().unplanned += 1;
    }
    Ok(out)
}

/// Sum per key.
pub fn sum_by<K: Ord>(
    days: &BTreeMap<(String, i64), Scorecard>,
    key: impl Fn(&str, i64) -> Option<K>,
) -> BTreeMap<K, Scorecard> {
    let mut out: BTreeMap<K, Scorecard> = BTreeMap::new();
    for ((rep, day), card) in days {
        if let Some(k) = key(rep, *day) {
            out.entry(k).or_default().add(card);
        }
    }
    out
}

/// An open exception as the rep's and store's pages list it.
#[derive(Debug, Clone)]
pub struct OpenException {
    pub id: i64,
    pub code: String,
    pub visit_id: Option<String>,
    pub visit_day: Option<i64>,
    pub user_id: Option<String>,
    pub store_id: Option<String>,
}

/// The open (not resolved or dismissed) exceptions of a rep or a store in the viewer's scope,
/// latest first, at most `limit`.
pub fn open_exceptions(
    c: &Connection,
    scope: Option<&str>,
    rep: Option<&str>,
    store: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<OpenException>> {
    let sql = format!(
        "SELECT e.id, e.code, e.visit_id, e.visit_day, e.user_id, coalesce(e.store_id, v.store_id)
         FROM exceptions e LEFT JOIN visits v ON v.id = e.visit_id
         WHERE e.resolved_ms IS NULL AND (CAST(?1 AS TEXT) IS NULL OR e.user_id = ?1)
           AND (CAST(?2 AS TEXT) IS NULL OR coalesce(e.store_id, v.store_id) = ?2) AND {}
         ORDER BY e.visit_day DESC, e.id DESC LIMIT ?4",
        scope_sql("e.user_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    let rows = st
        .query_map(params![rep, store, scope, limit as i64], |r| {
            Ok(OpenException {
                id: r.get(0)?,
                code: r.get(1)?,
                visit_id: r.get(2)?,
                visit_day: r.get(3)?,
                user_id: r.get(4)?,
                store_id: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A received photo of a store's visit, for its profile.
#[derive(Debug, Clone)]
pub struct StorePhoto {
    pub sha256: String,
    pub visit_id: String,
    pub user_id: String,
    pub started: i64,
}

/// The store's latest received photos (by their visit's check-in), in the viewer's scope.
pub fn latest_store_photos(
    c: &Connection,
    scope: Option<&str>,
    store: &str,
    limit: u64,
) -> ApiResult<Vec<StorePhoto>> {
    let sql = format!(
        "SELECT p.sha256, p.visit_id, v.user_id, v.started_wall_ms
         FROM visits v JOIN photos p ON p.visit_id = v.id AND p.received = 1
         WHERE v.store_id = ?1 AND {}
         ORDER BY v.started_wall_ms DESC, p.rowid LIMIT ?3",
        scope_sql("v.user_id", 2)
    );
    let mut st = c.prepare(&sql)?;
    let rows = st
        .query_map(params![store, scope, limit as i64], |r| {
            Ok(StorePhoto {
                sha256: r.get(0)?,
                visit_id: r.get(1)?,
                user_id: r.get(2)?,
                started: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A store's average score per day of `first..=last` (its scored visits in the scope).
pub fn store_scores(
    c: &Connection,
    cal: Calendar,
    scope: Option<&str>,
    store: &str,
    first: i64,
    last: i64,
) -> ApiResult<BTreeMap<i64, f64>> {
    let (from, _) = cal.day_bounds(first);
    let (_, to) = cal.day_bounds(last);
    let sql = format!(
        "SELECT v.started_wall_ms, v.score FROM visits v
         WHERE v.store_id = ?1 AND v.score IS NOT NULL AND v.started_wall_ms >= ?2 AND v.started_wall_ms < ?3 AND {}",
        scope_sql("v.user_id", 4)
    );
    let mut st = c.prepare(&sql)?;
    let mut sums: HashMap<i64, (f64, i64)> = HashMap::new();
    for r in st.query_map(params![store, from, to, scope], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
    })? {
        let (ms, score) = r?;
        let e = sums.entry(cal.day_of(ms)).or_default();
        e.0 += score;
        e.1 += 1;
    }
    Ok(sums.into_iter().map(|(d, (s, n))| (d, s / n as f64)).collect())
}

/// Does store `id` exist?
pub fn store_exists(c: &Connection, id: &str) -> ApiResult<bool> {
    Ok(
        c.query_row("SELECT 1 FROM stores WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}
