//! Routing in storage: the reps as routing sees them (team, tags, open leads, last assignment),
//! the dry run of the saved rules over the last 30 days of leads (kept in `routing_dry_runs` for
//! the rules page), going live only past `routing_live_threshold`, and the intake of new leads
//! ([`route_new_leads`]), run by the scheduler every minute and by an import right after it
//! inserts leads.

use std::collections::HashMap;

use fieldproof_core::customers::{NewCustomer, dedupe_keys};
use serde::Serialize;

use crate::db::{Connection, OptionalExtension, TransactionBehavior, params};
use crate::i18n::Lang;
use crate::pipeline::routing::{
    DryRunReport, LeadClose, LeadFacts, RepProfile, RouteDecision, Router, dry_run, passes_threshold,
};
use crate::store::Store;

use super::settings::{SettingsError, load_pipeline, load_routing, write_routing_live};
use super::{DAY_MS, MINUTE_MS};

/// The dry run's window: the "last 30 days of leads".
pub const DRY_RUN_DAYS: i64 = 30;

/// Leads states that count in a rep's load (open, held by the rep).
const OPEN: &str = "('assigned', 'claimed')";

/// Reps as routing sees them now: active or not, their team (their supervisor's), their tags,
/// their open leads and their last assignment.
pub(crate) fn reps_now(c: &Connection) -> crate::db::Result<Vec<RepProfile>> {
    let mut reps: Vec<RepProfile> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    {
        let mut st = c.prepare_cached(
            "SELECT u.id, t.code, u.deactivated_ms FROM users u LEFT JOIN teams t ON t.supervisor_id = u.supervisor_id
             WHERE u.role = 'rep' ORDER BY u.id",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let deactivated: Option<i64> = r.get(2)?;
            index.insert(id.clone(), reps.len());
            reps.push(RepProfile {
                id,
                team: r.get(1)?,
                tags: Vec::new(),
                load: 0,
                last_assigned_ms: None,
                active: deactivated.is_none(),
            });
        }
    }
    for (user, tags) in super::settings::list_rep_tags(c)? {
        if let Some(&k) = index.get(&user) {
            reps[k].tags = tags;
        }
    }
    let mut st = c.prepare_cached(&format!(
        "SELECT assigned_rep, sum(CASE WHEN state IN {OPEN} THEN 1 ELSE 0 END), max(assigned_ms)
         FROM leads WHERE assigned_rep IS NOT NULL GROUP BY assigned_rep"
    ))?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let rep: String = r.get(0)?;
        if let Some(&k) = index.get(&rep) {
            let load: i64 = r.get(1)?;
            reps[k].load = u32::try_from(load).unwrap_or(u32::MAX);
            reps[k].last_assigned_ms = r.get(2)?;
        }
    }
    Ok(reps)
}

/// The lead's customer, by its duplicate keys: (owner if owned, whether in the pool).
fn customer_of(c: &Connection, keys: &[String]) -> crate::db::Result<(Option<String>, bool)> {
    let mut in_pool = false;
    for k in keys {
        let found: Option<(Option<String>, String)> = c
            .prepare_cached(
                "SELECT c.owner_id, c.state FROM customer_keys k JOIN customers c ON c.id = k.customer_id
                 WHERE k.key = ?1",
            )?
            .query_row([k.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match found {
            Some((Some(owner), state)) if state == "owned" => return Ok((Some(owner), false)),
            Some((_, state)) if state == "pool" => in_pool = true,
            _ => {}
        }
    }
    Ok((None, in_pool))
}

/// A lead row as routing needs it.
struct LeadRow {
    id: String,
    name: String,
    company: Option<String>,
    phones: String,
    industry: Option<String>,
    region: Option<String>,
    budget_cents: Option<i64>,
    source: Option<String>,
    created_ms: i64,
}

const LEAD_COLUMNS: &str = "id, name, company, phones, industry, region, budget_cents, source, created_ms";

fn lead_row(r: &crate::db::Row<'_>) -> crate::db::Result<LeadRow> {
    Ok(LeadRow {
        id: r.get(0)?,
        name: r.get(1)?,
        company: r.get(2)?,
        phones: r.get(3)?,
        industry: r.get(4)?,
        region: r.get(5)?,
        budget_cents: r.get(6)?,
        source: r.get(7)?,
        created_ms: r.get(8)?,
    })
}

fn facts(c: &Connection, l: &LeadRow) -> crate::db::Result<LeadFacts> {
    let probe = NewCustomer {
        name: l.name.clone(),
        company: l.company.clone(),
        phones: serde_json::from_str(&l.phones).unwrap_or_default(),
        contacts: Vec::new(),
        industry: None,
        region: None,
        budget_cents: None,
        store_id: None,
        from_lead_id: None,
    };
    let keys: Vec<String> = dedupe_keys(&probe).into_iter().map(|(_, k)| k).collect();
    let (existing_owner, customer_in_pool) = customer_of(c, &keys)?;
    Ok(LeadFacts {
        id: l.id.clone(),
        industry: l.industry.clone(),
        budget_cents: l.budget_cents,
        region: l.region.clone(),
        source: l.source.clone(),
        created_ms: l.created_ms,
        existing_owner,
        customer_in_pool,
    })
}

/// A dry run as kept for the rules page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDryRun {
    pub id: i64,
    pub rules_version: i64,
    pub window_days: i64,
    pub report: DryRunReport,
    pub run_by: Option<String>,
    pub run_ms: i64,
}

/// Replays the last [`DRY_RUN_DAYS`] days of leads (created in `(now − 30 d, now]`) through the
/// saved rules, from the reps' loads at the window's start: the leads assigned before it that
/// were still open then (those still open now, and those closed since, whose close is replayed
/// at its time). Kept in `routing_dry_runs`; one transaction.
pub fn dry_run_routing(store: &Store, by: Option<&str>, now_ms: i64) -> crate::db::Result<StoredDryRun> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let routing = load_routing(&tx)?;
    let start = now_ms - DRY_RUN_DAYS * DAY_MS;
    let mut reps = reps_now(&tx)?;
    for r in &mut reps {
        r.load = 0;
        r.last_assigned_ms = None;
    }
    let index: HashMap<String, usize> = reps.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
    let mut closes = Vec::new();
    {
        let mut st = tx.prepare_cached(&format!(
            "SELECT assigned_rep, assigned_ms, state, updated_ms FROM leads
             WHERE assigned_rep IS NOT NULL AND assigned_ms <= ?1
               AND (state IN {OPEN} OR updated_ms > ?1)"
        ))?;
        let mut rows = st.query([start])?;
        while let Some(r) = rows.next()? {
            let rep: String = r.get(0)?;
            let assigned: i64 = r.get(1)?;
            let state: String = r.get(2)?;
            let updated: i64 = r.get(3)?;
            if let Some(&k) = index.get(&rep) {
                reps[k].load += 1;
                reps[k].last_assigned_ms =
                    Some(reps[k].last_assigned_ms.map_or(assigned, |m| m.max(assigned)));
                if state != "assigned" && state != "claimed" {
                    closes.push(LeadClose { rep, at_ms: updated });
                }
            }
        }
    }
    let rows: Vec<LeadRow> = {
        let mut st = tx.prepare_cached(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE created_ms > ?1 AND created_ms <= ?2 ORDER BY created_ms, id"
        ))?;
        let mut rows = st.query(params![start, now_ms])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(lead_row(&r)?);
        }
        out
    };
    let mut leads = Vec::with_capacity(rows.len());
    for l in &rows {
        leads.push(facts(&tx, l)?);
    }
    let report = dry_run(&routing.body.rules, &reps, &leads, &closes);
    let text =
        serde_json::to_string(&report).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
    let id: i64 = tx
        .prepare_cached(
            "INSERT INTO routing_dry_runs (rules_version, window_days, leads, matched, report, run_by, run_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )?
        .query_row(
            params![
                routing.version,
                DRY_RUN_DAYS,
                i64::from(report.leads),
                i64::from(report.matched),
                text,
                by,
                now_ms
            ],
            |r| r.get(0),
        )?;
    tx.commit()?;
    Ok(StoredDryRun {
        id,
        rules_version: routing.version,
        window_days: DRY_RUN_DAYS,
        report,
        run_by: by.map(str::to_string),
        run_ms: now_ms,
    })
}

/// The latest dry run, if any.
pub fn last_dry_run(c: &Connection) -> crate::db::Result<Option<StoredDryRun>> {
    let row: Option<(i64, i64, i64, String, Option<String>, i64)> = c
        .prepare_cached(
            "SELECT id, rules_version, window_days, report, run_by, run_ms FROM routing_dry_runs
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    Ok(
        row.and_then(|(id, rules_version, window_days, report, run_by, run_ms)| {
            serde_json::from_str(&report).ok().map(|report| StoredDryRun {
                id,
                rules_version,
                window_days,
                report,
                run_by,
                run_ms,
            })
        }),
    )
}

/// Why the rules were not switched to live; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum GoLiveRefusal {
    #[error("no dry run of the rules yet")]
    NoDryRun,
    #[error("the rules changed since the last dry run")]
    DryRunStale,
    #[error("the last dry run matched {matched} of {leads} leads, below the {threshold} needed")]
    BelowThreshold {
        matched: u32,
        leads: u32,
        threshold: f64,
    },
    #[error("no rules to go live with")]
    NoRules,
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

impl From<crate::db::Error> for GoLiveRefusal {
    fn from(e: crate::db::Error) -> Self {
        GoLiveRefusal::Settings(SettingsError::Storage(e))
    }
}

impl GoLiveRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            GoLiveRefusal::NoDryRun => "routing_no_dry_run",
            GoLiveRefusal::DryRunStale => "routing_dry_run_stale",
            GoLiveRefusal::BelowThreshold { .. } => "routing_below_threshold",
            GoLiveRefusal::NoRules => "routing_no_rules",
            GoLiveRefusal::Settings(e) => e.code(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            GoLiveRefusal::BelowThreshold {
                matched,
                leads,
                threshold,
            } => {
                let share = if *leads == 0 {
                    0.0
                } else {
                    f64::from(*matched) * 100.0 / f64::from(*leads)
                };
                lang.message(
                    self.code(),
                    &[
                        ("share", crate::values::percent(share)),
                        ("goal", crate::values::percent(threshold * 100.0)),
                    ],
                )
            }
            GoLiveRefusal::Settings(e) => e.messages(lang).join(" "),
            _ => lang.message(self.code(), &[]),
        }
    }
}

/// Switch routing to live: only when the latest dry run is of the rules as saved now and matched
/// at least `routing_live_threshold` of its leads. One transaction; returns the version.
pub fn go_live(store: &Store, by: Option<&str>, now_ms: i64) -> Result<i64, GoLiveRefusal> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let routing = load_routing(&tx)?;
    if routing.body.rules.iter().all(|r| !r.enabled) {
        return Err(GoLiveRefusal::NoRules);
    }
    let Some(last) = last_dry_run(&tx)? else {
        return Err(GoLiveRefusal::NoDryRun);
    };
    if last.rules_version != routing.version {
        return Err(GoLiveRefusal::DryRunStale);
    }
    let threshold = load_pipeline(&tx)?.body.routing_live_threshold;
    if !passes_threshold(&last.report, threshold) {
        return Err(GoLiveRefusal::BelowThreshold {
            matched: last.report.matched,
            leads: last.report.leads,
            threshold,
        });
    }
    let version = write_routing_live(&tx, true, by, now_ms)?;
    // The dry run stays the proof of the rules now live: it names the new version too.
    tx.prepare_cached("UPDATE routing_dry_runs SET rules_version = ?1 WHERE id = ?2")?
        .execute(params![version, last.id])?;
    tx.commit()?;
    Ok(version)
}

/// Pause routing (new leads stay `new` and go to the pool at their deadline).
pub fn set_routing_paused(store: &Store, by: Option<&str>, now_ms: i64) -> Result<i64, SettingsError> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = write_routing_live(&tx, false, by, now_ms)?;
    tx.commit()?;
    Ok(version)
}

/// What one intake pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteSummary {
    pub assigned: u32,
    pub to_owner: u32,
    pub to_pool: u32,
}

/// Route every `new` lead when the rules are live (oldest first), in the caller's transaction:
/// to a rep (`assigned`, `assigned_ms`, `deadline_ms = assigned_ms + lead_response_minutes`,
/// `routed_by` the rule's name), to its customer's owner (`routed_by` 'owner'), or to the pool
/// (`routed_by` the reason's code). Each changed lead goes down the feed. Not live: nothing.
pub fn route_new_leads(tx: &Connection, now_ms: i64) -> crate::db::Result<RouteSummary> {
    let mut summary = RouteSummary::default();
    let routing = load_routing(tx)?;
    if !routing.body.live {
        return Ok(summary);
    }
    let rows: Vec<LeadRow> = {
        let mut st = tx.prepare_cached(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE state = 'new' ORDER BY created_ms, id"
        ))?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(lead_row(&r)?);
        }
        out
    };
    if rows.is_empty() {
        return Ok(summary);
    }
    let cfg = load_pipeline(tx)?.body;
    let response_ms = i64::from(cfg.lead_response_minutes) * MINUTE_MS;
    let reps = reps_now(tx)?;
    let mut router = Router::new(&routing.body.rules, &reps);
    let names: HashMap<u32, String> = routing
        .body
        .rules
        .iter()
        .map(|r| (r.position, r.name.clone()))
        .collect();
    for l in &rows {
        let f = facts(tx, l)?;
        let decision = router.route(&f, now_ms);
        let (state, rep, routed_by, deadline) = match &decision {
            RouteDecision::Rep { rep, position } => {
                summary.assigned += 1;
                let name = names.get(position).cloned().unwrap_or_default();
                ("assigned", Some(rep.clone()), name, Some(now_ms + response_ms))
            }
            RouteDecision::Owner { rep } => {
                summary.to_owner += 1;
                (
                    "assigned",
                    Some(rep.clone()),
                    "owner".to_string(),
                    Some(now_ms + response_ms),
                )
            }
            RouteDecision::Pool { reason } => {
                summary.to_pool += 1;
                ("pool", None, reason.code().to_string(), None)
            }
        };
        let n = tx
            .prepare_cached(
                "UPDATE leads SET state = ?2, assigned_rep = ?3, assigned_ms = ?4, deadline_ms = ?5, routed_by = ?6,
                    updated_ms = ?4
                 WHERE id = ?1 AND state = 'new'",
            )?
            .execute(params![l.id, state, rep, now_ms, deadline, routed_by])?;
        if n == 1 {
            tx.prepare_cached(
                "INSERT INTO customer_events (lead_id, kind, user_id, reason, at_ms) VALUES (?1, 'routed', ?2, ?3, ?4)",
            )?
            .execute(params![l.id, rep, routed_by, now_ms])?;
            crate::customers::feed::publish_lead(tx, &l.id, now_ms)?;
        }
    }
    Ok(summary)
}
