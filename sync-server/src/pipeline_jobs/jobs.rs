//! The pipeline's scheduler: every minute `route`, `lead_deadline`, `customer_release`, `stall`
//! and `escalation`; once a day (the field calendar's day) `health`.
//!
//! Each due run is a `pipeline_jobs` row (job, run key: the minute or the day). A process takes
//! it with a conditional UPDATE (its lease, on the wall clock, so a process that died mid-run
//! gives the run up after [`LEASE_MS`]), then runs the job and sets `done_ms` in one transaction
//! that first checks the lease is still its own. A finished run is never taken again; every
//! effect is also conditional on the row it changes, so a lost lease cannot do anything twice.
//!
//! "Now" for the jobs is [`Clock`]: the wall clock, or, in tests only, a file holding Unix ms
//! (`serve --pipeline-clock-file`), so several server processes share one test clock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::db::{Connection, OptionalExtension, TransactionBehavior, params};
use crate::store::{NewException, Store, raise};

use super::settings::load_pipeline;
use super::{DAY_MS, MINUTE_MS};

/// How long a taken run stays its process's (wall clock). A run longer than this (the nightly
/// score of millions of customers) would be taken again by another replica and find its
/// effects already done.
pub const LEASE_MS: i64 = 10 * MINUTE_MS;

/// Where the pipeline jobs read "now".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Clock {
    #[default]
    Wall,
    /// A file holding Unix ms (tests: several processes share one clock they can move).
    File(PathBuf),
}

impl Clock {
    /// Now, in Unix ms; `None` when the clock file cannot be read or holds no number (the
    /// scheduler then waits for the next tick).
    pub fn now_ms(&self) -> Option<i64> {
        match self {
            Clock::Wall => Some(crate::clock::now_ms()),
            Clock::File(p) => std::fs::read_to_string(p).ok()?.trim().parse().ok(),
        }
    }
}

/// How one job's run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum JobOutcome {
    /// This process ran it; the JSON summary of what it did.
    Ran { summary: String },
    /// Done already, or another process holds it.
    Taken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    pub job: &'static str,
    pub run_key: String,
    #[serde(flatten)]
    pub outcome: JobOutcome,
}

/// The minute jobs, in the order they run within a tick (routing first, so a lead routed this
/// minute gets its full response time).
pub const MINUTE_JOBS: [&str; 5] = [
    "route",
    "lead_deadline",
    "customer_release",
    "stall",
    "escalation",
];

/// Take the run (job, key) for `owner` until `lease_until`: whether this process got it.
fn take(store: &Store, job: &str, key: &str, due_ms: i64, owner: &str) -> crate::db::Result<bool> {
    let wall = crate::clock::now_ms();
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(
        "INSERT INTO pipeline_jobs (job, run_key, due_ms) VALUES (?1, ?2, ?3) ON CONFLICT (job, run_key) DO NOTHING",
    )?
    .execute(params![job, key, due_ms])?;
    let n = tx
        .prepare_cached(
            "UPDATE pipeline_jobs SET lease_owner = ?3, lease_until_ms = ?4
             WHERE job = ?1 AND run_key = ?2 AND done_ms IS NULL AND (lease_until_ms IS NULL OR lease_until_ms < ?5)",
        )?
        .execute(params![job, key, owner, wall + LEASE_MS, wall])?;
    tx.commit()?;
    Ok(n == 1)
}

/// Run a taken job and mark it done, in one transaction; nothing when the lease is no longer
/// this process's (it ran out and another took the run).
fn run_taken(
    store: &Store,
    job: &'static str,
    key: &str,
    owner: &str,
    now_ms: i64,
) -> crate::db::Result<Option<String>> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !still_mine(&tx, job, key, owner)? {
        return Ok(None);
    }
    let cal = store.calendar();
    let summary = match job {
        "route" => to_json(&super::route_new_leads(&tx, now_ms)?),
        "lead_deadline" => to_json(&lead_deadline(&tx, cal, now_ms)?),
        "customer_release" => to_json(&customer_release(&tx, cal, now_ms)?),
        "stall" => to_json(&stall(&tx, cal, now_ms)?),
        "escalation" => to_json(&escalation(&tx, cal, now_ms)?),
        _ => "{}".to_string(),
    };
    tx.prepare_cached(
        "UPDATE pipeline_jobs SET done_ms = ?3, outcome = ?4, lease_until_ms = NULL WHERE job = ?1 AND run_key = ?2",
    )?
    .execute(params![job, key, crate::clock::now_ms(), summary])?;
    tx.commit()?;
    Ok(Some(summary))
}

/// Whether the run is still this process's (leased, not done), inside a write transaction.
fn still_mine(tx: &Connection, job: &str, key: &str, owner: &str) -> crate::db::Result<bool> {
    tx.prepare_cached(
        "SELECT 1 FROM pipeline_jobs WHERE job = ?1 AND run_key = ?2 AND lease_owner = ?3 AND done_ms IS NULL",
    )?
    .exists(params![job, key, owner])
}

/// The nightly health run, taken: read and scored on a reader, written in short transactions
/// (pushes do not wait seconds for the writer), the last part and `done_ms` together. Each
/// part first checks the lease is still this process's; a part written twice (a lease lost and
/// the run taken again) writes the same values again.
fn run_health_taken(store: &Store, key: &str, owner: &str, now_ms: i64) -> crate::db::Result<Option<String>> {
    let cal = store.calendar();
    let plan = {
        let r = store
            .reader()
            .map_err(|e| crate::db::Error::ToSqlConversionFailure(e.to_string().into()))?;
        super::health_job::plan(&r, cal, now_ms)?
    };
    let parts = plan.parts();
    for part in 0..parts {
        let mut w = store.writer();
        let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !still_mine(&tx, "health", key, owner)? {
            return Ok(None);
        }
        plan.apply(&tx, cal, part, now_ms)?;
        if part + 1 == parts {
            let summary = to_json(&plan.summary);
            tx.prepare_cached(
                "UPDATE pipeline_jobs SET done_ms = ?3, outcome = ?4, lease_until_ms = NULL
                 WHERE job = ?1 AND run_key = ?2",
            )?
            .execute(params!["health", key, crate::clock::now_ms(), summary])?;
            tx.commit()?;
            return Ok(Some(summary));
        }
        tx.commit()?;
    }
    Ok(None)
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string())
}

/// Run every job due at `now_ms` that no process has run: the minute jobs for this minute, the
/// health job for this day. `owner` names this process in the leases (unique per process).
pub fn run_due_jobs(store: &Store, owner: &str, now_ms: i64) -> crate::db::Result<Vec<JobReport>> {
    let minute = now_ms.div_euclid(MINUTE_MS);
    let day = store.calendar().day_of(now_ms);
    let mut runs: Vec<(&'static str, String, i64)> = MINUTE_JOBS
        .iter()
        .map(|j| (*j, minute.to_string(), minute * MINUTE_MS))
        .collect();
    runs.push(("health", day.to_string(), store.calendar().day_bounds(day).0));
    let mut out = Vec::with_capacity(runs.len());
    for (job, key, due) in runs {
        // A run already done is seen on a reader, without taking the write lock each tick.
        let done = match store.reader() {
            Ok(r) => r
                .prepare_cached(
                    "SELECT 1 FROM pipeline_jobs WHERE job = ?1 AND run_key = ?2 AND done_ms IS NOT NULL",
                )?
                .exists(params![job, key])?,
            Err(_) => false,
        };
        let outcome = if !done && take(store, job, &key, due, owner)? {
            let ran = if job == "health" {
                run_health_taken(store, &key, owner, now_ms)?
            } else {
                run_taken(store, job, &key, owner, now_ms)?
            };
            match ran {
                Some(summary) => JobOutcome::Ran { summary },
                None => JobOutcome::Taken,
            }
        } else {
            JobOutcome::Taken
        };
        out.push(JobReport {
            job,
            run_key: key,
            outcome,
        });
    }
    Ok(out)
}

/// A name for this process's leases: host-independent, unique enough (pid and random bits).
pub fn process_owner() -> String {
    let mut bytes = [0u8; 6];
    let _ = getrandom::fill(&mut bytes);
    format!("p{}-{}", std::process::id(), fieldproof_core::hex::encode(&bytes))
}

/// Start the scheduler on the runtime: a tick every `poll` (15 s on the wall clock; tests with a
/// clock file poll faster), each running the due jobs on the blocking pool.
pub fn spawn_scheduler(store: Arc<Store>, clock: Clock, poll: Duration) -> tokio::task::JoinHandle<()> {
    let owner = process_owner();
    tokio::spawn(async move {
        loop {
            if let Some(now) = clock.now_ms() {
                let store = store.clone();
                let owner = owner.clone();
                match tokio::task::spawn_blocking(move || run_due_jobs(&store, &owner, now)).await {
                    Ok(Ok(reports)) => {
                        for r in reports {
                            if let JobOutcome::Ran { summary } = &r.outcome {
                                tracing::debug!(job = r.job, run = %r.run_key, %summary, "pipeline job ran");
                            }
                        }
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "pipeline jobs failed; tried again next tick"),
                    Err(e) => tracing::warn!(error = %e, "the pipeline scheduler's run stopped"),
                }
            }
            tokio::time::sleep(poll).await;
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The jobs. Each runs in the caller's transaction and changes a row only from the state it read.

#[allow(clippy::too_many_arguments)]
fn exception(
    tx: &Connection,
    cal: crate::calendar::Calendar,
    code: &str,
    user: Option<&str>,
    subject: &str,
    params: serde_json::Value,
    event_ms: i64,
    now_ms: i64,
) -> crate::db::Result<bool> {
    let detail = format!("{code} {subject}");
    raise(
        tx,
        cal,
        &NewException {
            event_ms,
            visit_day: cal.day_of(event_ms),
            code,
            device_id: None,
            user_id: user,
            visit_id: None,
            store_id: None,
            op_id: None,
            rejected_op: None,
            photo_sha256: None,
            subject,
            detail,
            params: Some(params.to_string()),
        },
        now_ms,
    )
}

#[derive(Debug, Default, Serialize)]
pub struct DeadlineSummary {
    pub returned: u32,
    pub alerts: u32,
}

/// Leads past their response deadline go to the pool, once each: an `assigned` lead at its
/// `deadline_ms` (not claimed in time: `responded_in_time = 0`, the rep's supervisor alerted by a
/// `lead_overdue` exception), and a `new` lead never routed (routing not live) at its creation
/// plus the response time (alerted to the exception queue: no rep).
pub(crate) fn lead_deadline(
    tx: &Connection,
    cal: crate::calendar::Calendar,
    now_ms: i64,
) -> crate::db::Result<DeadlineSummary> {
    let cfg = load_pipeline(tx)?.body;
    let response_ms = i64::from(cfg.lead_response_minutes) * MINUTE_MS;
    let due: Vec<(String, String, Option<String>, String, i64)> = {
        let mut st = tx.prepare_cached(
            "SELECT id, name, assigned_rep, state, coalesce(deadline_ms, created_ms + ?2) FROM leads
             WHERE (state = 'assigned' AND deadline_ms <= ?1) OR (state = 'new' AND created_ms + ?2 <= ?1)
             ORDER BY id",
        )?;
        let mut rows = st.query(params![now_ms, response_ms])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
        }
        out
    };
    let mut s = DeadlineSummary::default();
    for (id, name, rep, state, deadline) in due {
        let n = tx
            .prepare_cached(
                "UPDATE leads SET state = 'pool', overdue_ms = ?3, responded_in_time = 0, updated_ms = ?3
                 WHERE id = ?1 AND state = ?2 AND overdue_ms IS NULL",
            )?
            .execute(params![id, state, now_ms])?;
        if n != 1 {
            continue;
        }
        s.returned += 1;
        tx.prepare_cached(
            "INSERT INTO customer_events (lead_id, kind, user_id, reason, at_ms) VALUES (?1, 'deadline_pool', ?2, ?3, ?4)",
        )?
        .execute(params![id, rep, state, now_ms])?;
        crate::customers::feed::publish_lead(tx, &id, now_ms)?;
        let raised = exception(
            tx,
            cal,
            "lead_overdue",
            rep.as_deref(),
            &format!("lead:{id}"),
            serde_json::json!({"name": name, "minutes": cfg.lead_response_minutes}),
            deadline,
            now_ms,
        )?;
        if raised {
            s.alerts += 1;
        }
    }
    Ok(s)
}

#[derive(Debug, Default, Serialize)]
pub struct ReleaseSummary {
    pub released: u32,
}

/// Claimed customers without a real interaction for `release_days` go to the pool, once each:
/// `release_due_ms` passed (kept by the ingest: last real interaction or claim + release days;
/// for a row without it, the same computed here). Owner cleared, a `customer_events` row
/// `auto_release`, the record down the feed, a notice to the rep (and their supervisor's rules).
pub(crate) fn customer_release(
    tx: &Connection,
    cal: crate::calendar::Calendar,
    now_ms: i64,
) -> crate::db::Result<ReleaseSummary> {
    let cfg = load_pipeline(tx)?.body;
    let release_ms = i64::from(cfg.release_days) * DAY_MS;
    let due: Vec<(String, String, String, i64)> = {
        let mut st = tx.prepare_cached(
            "SELECT id, name, owner_id, coalesce(release_due_ms, coalesce(last_interaction_ms, claimed_ms) + ?2)
             FROM customers
             WHERE state = 'owned' AND owner_id IS NOT NULL
               AND (release_due_ms <= ?1
                    OR (release_due_ms IS NULL AND coalesce(last_interaction_ms, claimed_ms) + ?2 <= ?1))
             ORDER BY id",
        )?;
        let mut rows = st.query(params![now_ms, release_ms])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?));
        }
        out
    };
    let mut s = ReleaseSummary::default();
    for (id, name, owner, due_ms) in due {
        let n = tx
            .prepare_cached(
                "UPDATE customers SET state = 'pool', owner_id = NULL, release_due_ms = NULL, updated_ms = ?3
                 WHERE id = ?1 AND state = 'owned' AND owner_id = ?2",
            )?
            .execute(params![id, owner, now_ms])?;
        if n != 1 {
            continue;
        }
        s.released += 1;
        tx.prepare_cached(
            "INSERT INTO customer_events (customer_id, kind, user_id, reason, at_ms)
             VALUES (?1, 'auto_release', ?2, 'no_interaction', ?3)",
        )?
        .execute(params![id, owner, now_ms])?;
        crate::customers::feed::publish_customer(tx, &id, now_ms)?;
        exception(
            tx,
            cal,
            "customer_released",
            Some(&owner),
            &format!("customer:{id}:{due_ms}"),
            serde_json::json!({"name": name, "days": cfg.release_days}),
            due_ms,
            now_ms,
        )?;
    }
    Ok(s)
}

#[derive(Debug, Default, Serialize)]
pub struct StallSummary {
    pub stalled: u32,
}

/// Customers more than `stall_days` in one open stage: once per stage entry (`stall_raised_ms`
/// set after `stage_entered_ms`), a `customer_stalled` exception for the owner (their to-do; the
/// supervisor's alert rules send the warning up) and a `customer_events` row `stall`.
pub(crate) fn stall(
    tx: &Connection,
    cal: crate::calendar::Calendar,
    now_ms: i64,
) -> crate::db::Result<StallSummary> {
    let cfg = load_pipeline(tx)?.body;
    let stall_ms = i64::from(cfg.stall_days) * DAY_MS;
    let due: Vec<(String, String, String, String, i64)> = {
        let mut st = tx.prepare_cached(
            "SELECT id, name, owner_id, stage, stage_entered_ms FROM customers
             WHERE state = 'owned' AND owner_id IS NOT NULL AND stage_entered_ms + ?2 < ?1
               AND (stall_raised_ms IS NULL OR stall_raised_ms < stage_entered_ms)
             ORDER BY id",
        )?;
        let mut rows = st.query(params![now_ms, stall_ms])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
        }
        out
    };
    let mut s = StallSummary::default();
    for (id, name, owner, stage, entered) in due {
        let Some(def) = cfg.stage(&stage) else { continue };
        if def.terminal {
            continue;
        }
        let n = tx
            .prepare_cached(
                "UPDATE customers SET stall_raised_ms = ?3 WHERE id = ?1 AND stage_entered_ms = ?2
                   AND (stall_raised_ms IS NULL OR stall_raised_ms < stage_entered_ms)",
            )?
            .execute(params![id, entered, now_ms])?;
        if n != 1 {
            continue;
        }
        s.stalled += 1;
        tx.prepare_cached(
            "INSERT INTO customer_events (customer_id, kind, user_id, reason, at_ms) VALUES (?1, 'stall', ?2, ?3, ?4)",
        )?
        .execute(params![id, owner, stage, now_ms])?;
        let days = (now_ms - entered) / DAY_MS;
        exception(
            tx,
            cal,
            "customer_stalled",
            Some(&owner),
            &format!("customer:{id}:{stage}:{entered}"),
            serde_json::json!({"name": name, "stage": def.label, "days": days}),
            entered + stall_ms,
            now_ms,
        )?;
    }
    Ok(s)
}

#[derive(Debug, Default, Serialize)]
pub struct EscalationSummary {
    pub leads: u32,
    pub customers: u32,
}

/// `escalate_follow_ups` follow-ups or more within `escalate_window_days` without progress
/// escalate once: an open lead (not converted, lost or a duplicate; `escalated_ms` set), or an
/// owned customer whose follow-ups all fell in its current stage (once per stage entry, by its
/// `escalation` event). A `pipeline_escalated` exception for the rep, warning the supervisor.
pub(crate) fn escalation(
    tx: &Connection,
    cal: crate::calendar::Calendar,
    now_ms: i64,
) -> crate::db::Result<EscalationSummary> {
    let cfg = load_pipeline(tx)?.body;
    let since = now_ms - i64::from(cfg.escalate_window_days) * DAY_MS;
    let need = i64::from(cfg.escalate_follow_ups);
    let mut s = EscalationSummary::default();
    let leads: Vec<(String, String, Option<String>, i64)> = {
        let mut st = tx.prepare_cached(
            "SELECT l.id, l.name, l.assigned_rep, count(*) FROM leads l
               JOIN customer_follow_ups f ON f.lead_id = l.id AND f.at_ms > ?1 AND f.at_ms <= ?2
             WHERE l.state IN ('new', 'assigned', 'claimed', 'pool') AND l.escalated_ms IS NULL
             GROUP BY l.id, l.name, l.assigned_rep HAVING count(*) >= ?3 ORDER BY l.id",
        )?;
        let mut rows = st.query(params![since, now_ms, need])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?));
        }
        out
    };
    for (id, name, rep, count) in leads {
        let n = tx
            .prepare_cached("UPDATE leads SET escalated_ms = ?2 WHERE id = ?1 AND escalated_ms IS NULL")?
            .execute(params![id, now_ms])?;
        if n != 1 {
            continue;
        }
        s.leads += 1;
        tx.prepare_cached(
            "INSERT INTO customer_events (lead_id, kind, user_id, at_ms) VALUES (?1, 'escalation', ?2, ?3)",
        )?
        .execute(params![id, rep, now_ms])?;
        exception(
            tx,
            cal,
            "pipeline_escalated",
            rep.as_deref(),
            &format!("lead:{id}"),
            serde_json::json!({"name": name, "count": count, "days": cfg.escalate_window_days}),
            now_ms,
            now_ms,
        )?;
    }
    let customers: Vec<(String, String, String, i64, i64)> = {
        let mut st = tx.prepare_cached(
            "SELECT c.id, c.name, c.owner_id, c.stage_entered_ms, count(*) FROM customers c
               JOIN customer_follow_ups f ON f.customer_id = c.id AND f.at_ms > ?1 AND f.at_ms <= ?2
                 AND f.at_ms >= c.stage_entered_ms
             WHERE c.state = 'owned' AND c.owner_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM customer_events e WHERE e.customer_id = c.id AND e.kind = 'escalation'
                               AND e.at_ms >= c.stage_entered_ms)
             GROUP BY c.id, c.name, c.owner_id, c.stage_entered_ms HAVING count(*) >= ?3 ORDER BY c.id",
        )?;
        let mut rows = st.query(params![since, now_ms, need])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
        }
        out
    };
    for (id, name, owner, entered, count) in customers {
        // The event is the once-per-stage-entry marker: written first, checked again by the
        // query's NOT EXISTS in any later run.
        let already: Option<i64> = tx
            .prepare_cached(
                "SELECT 1 FROM customer_events WHERE customer_id = ?1 AND kind = 'escalation' AND at_ms >= ?2",
            )?
            .query_row(params![id, entered], |r| r.get(0))
            .optional()?;
        if already.is_some() {
            continue;
        }
        s.customers += 1;
        tx.prepare_cached(
            "INSERT INTO customer_events (customer_id, kind, user_id, at_ms) VALUES (?1, 'escalation', ?2, ?3)",
        )?
        .execute(params![id, owner, now_ms])?;
        exception(
            tx,
            cal,
            "pipeline_escalated",
            Some(&owner),
            &format!("customer:{id}:{entered}"),
            serde_json::json!({"name": name, "count": count, "days": cfg.escalate_window_days}),
            now_ms,
            now_ms,
        )?;
    }
    Ok(s)
}

/// The red warning of the health score: `component` of the customer at zero since `zero_since`
/// (a day), raised once per run of zeros (the subject names the run).
#[allow(clippy::too_many_arguments)]
pub(crate) fn raise_health_zero(
    tx: &Connection,
    cal: crate::calendar::Calendar,
    owner: Option<&str>,
    customer_id: &str,
    name: &str,
    label_zh: &str,
    label_en: &str,
    key: &str,
    zero_since: i64,
    days: u32,
    now_ms: i64,
) -> crate::db::Result<bool> {
    exception(
        tx,
        cal,
        "health_zero",
        owner,
        &format!("customer:{customer_id}:{key}:{zero_since}"),
        serde_json::json!({"name": name, "component_zh": label_zh, "component_en": label_en, "days": days}),
        now_ms,
        now_ms,
    )
}
