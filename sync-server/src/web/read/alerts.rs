//! The alerts page's read model: channels, rules, the messages (newest first, paged, by state),
//! and the teams and territories a rule may name. Admin and head office only (no scope).

use crate::db::{Connection, params};

use crate::alerts::digest::{DigestSources, MissedStop, OverdueRetake};
use crate::alerts::{Channel, Rule, channels_in, rules_in};
use crate::calendar::Calendar;
use crate::error::ApiResult;
use crate::web::read::names::Names;
use crate::web::read::plans::{PlanFilter, planned_vs_done};

/// Messages per page.
pub const DELIVERIES_PAGE: u64 = 50;

/// One message as the page lists it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub channel_name: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub held_quiet: bool,
    /// Why the last attempt failed: a message code and its parameters.
    pub last_error: Option<(String, Vec<(String, String)>)>,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
    pub key: String,
    /// A digest (not an exception's message).
    pub digest: bool,
}

#[derive(Debug, Clone, Default)]
pub struct StateCounts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
}

pub struct AlertsView {
    pub channels: Vec<Channel>,
    pub rules: Vec<Rule>,
    pub deliveries: Vec<DeliveryRow>,
    /// Messages in the chosen state (all states: every message).
    pub total: u64,
    pub page: u64,
    pub counts: StateCounts,
    /// (code, name)
    pub teams: Vec<(String, String)>,
    pub territories: Vec<(String, String)>,
}

fn pairs(c: &Connection, sql: &str) -> crate::db::Result<Vec<(String, String)>> {
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// `state`: `pending`, `sent`, `failed`, or `None` for all.
pub fn alerts_view(c: &Connection, state: Option<&str>, page: u64) -> crate::db::Result<AlertsView> {
    let page = page.max(1);
    let mut counts = StateCounts::default();
    {
        let mut st = c.prepare_cached("SELECT state, count(*) FROM alert_deliveries GROUP BY state")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (s, n) = row?;
            let n = u64::try_from(n).unwrap_or(0);
            match s.as_str() {
                "pending" => counts.pending = n,
                "sent" => counts.sent = n,
                _ => counts.failed = n,
            }
        }
    }
    let total = match state {
        Some("pending") => counts.pending,
        Some("sent") => counts.sent,
        Some("failed") => counts.failed,
        _ => counts.pending + counts.sent + counts.failed,
    };
    let offset = i64::try_from((page - 1) * DELIVERIES_PAGE).unwrap_or(i64::MAX);
    let deliveries = {
        let mut st = c.prepare_cached(
            "SELECT d.id, c.name, d.subject, d.state, d.attempts, d.next_attempt_ms, d.held_quiet,
                    d.last_error_code, d.last_error_detail, d.created_ms, d.sent_ms, d.idempotency_key,
                    d.digest_supervisor IS NOT NULL
             FROM alert_deliveries d JOIN alert_channels c ON c.id = d.channel_id
             WHERE ?1 IS NULL OR d.state = ?1
             ORDER BY d.created_ms DESC, d.id DESC LIMIT ?2 OFFSET ?3",
        )?;
        let rows = st.query_map(params![state, DELIVERIES_PAGE as i64, offset], |r| {
            let code: Option<String> = r.get(7)?;
            let detail: Option<String> = r.get(8)?;
            let params: Vec<(String, String)> = detail
                .and_then(|d| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&d).ok())
                .map(|m| {
                    m.into_iter()
                        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                        .collect()
                })
                .unwrap_or_default();
            Ok(DeliveryRow {
                id: r.get(0)?,
                channel_name: r.get(1)?,
                subject: r.get(2)?,
                state: r.get(3)?,
                attempts: r.get(4)?,
                next_attempt_ms: r.get(5)?,
                held_quiet: r.get(6)?,
                last_error: code.map(|c| (c, params)),
                created_ms: r.get(9)?,
                sent_ms: r.get(10)?,
                key: r.get(11)?,
                digest: r.get(12)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    Ok(AlertsView {
        channels: channels_in(c)?,
        rules: rules_in(c)?,
        deliveries,
        total,
        page,
        counts,
        teams: pairs(c, "SELECT code, name FROM teams ORDER BY name")?,
        territories: pairs(c, "SELECT code, name FROM territories ORDER BY name")?,
    })
}

/// A team's (its code) planned stops on `day` nobody visited, named: the `Missed` stops of
/// [`planned_vs_done`], the one plan-matching rule (the plan page's and the scorecards').
pub fn digest_missed_stops(
    c: &Connection,
    cal: Calendar,
    team: &str,
    day: i64,
) -> ApiResult<Vec<MissedStop>> {
    let filter = PlanFilter {
        team: Some(team.to_string()),
        ..PlanFilter::default()
    };
    let plans = planned_vs_done(c, cal, None, day, day, &filter)?;
    let missed: Vec<_> = plans.stops.iter().filter(|s| !s.visited()).collect();
    if missed.is_empty() {
        return Ok(Vec::new());
    }
    let names = Names::load(c)?;
    Ok(missed
        .iter()
        .map(|s| MissedStop {
            store_name: names
                .store_name(&s.store_id)
                .map_or_else(|| s.store_id.clone(), str::to_string),
            rep_name: names.user(&s.rep_id),
        })
        .collect())
}

/// A team's (its code) photo retakes overdue on `day`, named: requests still open whose due
/// day is before it (`retake_requests`; the retake list's and the visit page's "overdue").
pub fn digest_retakes_overdue(
    c: &Connection,
    _cal: Calendar,
    team: &str,
    day: i64,
) -> ApiResult<Vec<OverdueRetake>> {
    let mut stmt = c.prepare(
        "SELECT r.store_id, r.rep_id FROM retake_requests r
         JOIN users u ON u.id = r.rep_id
         JOIN teams t ON t.supervisor_id = u.supervisor_id
         WHERE t.code = ?1 AND r.state = 'open' AND r.due_day < ?2
         ORDER BY r.due_day, r.requested_ms",
    )?;
    let rows = stmt
        .query_map(params![team, day], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let names = Names::load(c)?;
    Ok(rows
        .into_iter()
        .map(|(store, rep)| OverdueRetake {
            store_name: names
                .store_name(&store)
                .map_or_else(|| store.clone(), str::to_string),
            rep_name: names.user(&rep),
        })
        .collect())
}

/// The daily digest's figures from the pages' read models (`serve` hands them to the worker).
pub fn digest_sources() -> DigestSources {
    DigestSources {
        missed_stops: digest_missed_stops,
        retakes_overdue: digest_retakes_overdue,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// The digest names a team's retakes still open past their due day: not one due today, not
    /// a done one, not another team's.
    #[test]
    fn the_digest_lists_a_teams_overdue_retakes_by_store_and_rep() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(&crate::db::Database::Sqlite(dir.path().join("t.db"))).unwrap();
        c.execute_batch(
            r#"INSERT INTO users (id, role, territory, supervisor_id, body) VALUES
                 ('sup-wang', 'supervisor', NULL, NULL, '{"name":"王磊"}'),
                 ('sup-liu', 'supervisor', NULL, NULL, '{"name":"刘洋"}'),
                 ('rep-li', 'rep', 'east', 'sup-wang', '{"name":"李娜"}'),
                 ('rep-chen', 'rep', 'east', 'sup-liu', '{"name":"陈静"}');
               INSERT INTO teams (code, name, supervisor_id, created_ms, updated_ms) VALUES
                 ('east-1', '华东一组', 'sup-wang', 0, 0), ('east-2', '华东二组', 'sup-liu', 0, 0);
               INSERT INTO stores (id, territory, body) VALUES
                 ('st-001', 'east', '{"name":"联华超市"}'), ('st-002', 'east', '{"name":"全家便利店"}');
               INSERT INTO photo_reviews (id, photo_id, verdict, reason, web_user_id, reviewed_ms) VALUES
                 (1, 'p1', 'retake', 'blurred', 'hq', 0);
               INSERT INTO retake_requests (id, photo_id, visit_id, store_id, rep_id, photo_kind, reason,
                   review_id, requested_ms, due_day, state) VALUES
                 ('r-late', 'p1', 'v1', 'st-001', 'rep-li', 'shelf_overview', 'blurred', 1, 0, 9, 'open'),
                 ('r-today', 'p2', 'v1', 'st-002', 'rep-li', 'shelf_overview', 'blurred', 1, 0, 10, 'open'),
                 ('r-done', 'p3', 'v1', 'st-002', 'rep-li', 'shelf_overview', 'blurred', 1, 0, 5, 'done'),
                 ('r-other', 'p4', 'v2', 'st-002', 'rep-chen', 'shelf_overview', 'blurred', 1, 0, 5, 'open');"#,
        )
        .unwrap();
        let cal = Calendar::default();
        let got = digest_retakes_overdue(&c, cal, "east-1", 10).unwrap();
        let named: Vec<(String, String)> = got.into_iter().map(|r| (r.store_name, r.rep_name)).collect();
        assert_eq!(named, [("联华超市".to_string(), "李娜".to_string())]);
        assert_eq!(digest_retakes_overdue(&c, cal, "east-2", 10).unwrap().len(), 1);
        assert!(digest_retakes_overdue(&c, cal, "east-1", 9).unwrap().is_empty());
    }
}
