//! The alerts page's read model: channels, rules, the messages (newest first, paged, by state),
//! and the teams and territories a rule may name. Admin and head office only (no scope).

use rusqlite::{Connection, params};

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

fn pairs(c: &Connection, sql: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// `state`: `pending`, `sent`, `failed`, or `None` for all.
pub fn alerts_view(c: &Connection, state: Option<&str>, page: u64) -> rusqlite::Result<AlertsView> {
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

/// A team's (its code) photo retakes overdue on `day`, named.
///
/// LEAD, AT MERGE: connect to the retake requests of branch h-retakes (the team's requests whose
/// state is overdue on `day`: store and rep names). Until then it reports none.
pub fn digest_retakes_overdue(
    _c: &Connection,
    _cal: Calendar,
    _team: &str,
    _day: i64,
) -> ApiResult<Vec<OverdueRetake>> {
    Ok(Vec::new())
}

/// The daily digest's figures from the pages' read models (`serve` hands them to the worker).
pub fn digest_sources() -> DigestSources {
    DigestSources {
        missed_stops: digest_missed_stops,
        retakes_overdue: digest_retakes_overdue,
    }
}
