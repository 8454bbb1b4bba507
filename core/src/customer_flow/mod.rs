//! Customers and leads on the phone (客户与线索), offline: entering a customer (refused when the
//! phone knows it already), follow-ups, stage moves behind their evidence (the milestone lock of
//! the visit, for the pipeline), stage-evidence photos, claiming and releasing customers and
//! leads; what the screens read; and the feed's customer records applied on pull.
//!
//! As for visits, every method checks everything first and then writes through one
//! [`crate::outbox::Action`] (one transaction: the rows and the signed op). A refused action
//! writes nothing. The acting rep is named by each call, as `check_in` names its user.

mod actions;
mod photo;
pub(crate) mod pull;
mod reads;

pub(crate) use reads::due_follow_ups;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::customers::{
    Contact, Customer, CustomerState, FollowUp, Lead, LeadState, PipelineConfig, StageChange,
};
use crate::error::{Error, Result};
use crate::model::{MissingItem, PhotoKind, User};
use crate::sync::wire::LeadChange;

const DAY_MS: i64 = 24 * 3_600_000;

/// Which customers a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerList {
    /// The rep's own (一客一主).
    Mine,
    /// The territory's pool (公海), to claim from.
    Pool,
    /// Entries linked as duplicates of another customer: the rep's own entries, and others'
    /// entries of the rep's customers.
    Duplicates,
}

/// Which leads a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadList {
    /// Routed to the rep (waiting for the claim, with its deadline) or claimed by them.
    Mine,
    /// The territory's pool.
    Pool,
}

/// What `update_customer` changes: the contacts and the budget (the rest of a customer is
/// fixed at entry; head office corrects it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerUpdate {
    pub contacts: Vec<Contact>,
    pub budget_cents: Option<i64>,
}

/// A stage-evidence photo taken on this phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerPhoto {
    pub id: String,
    pub customer_id: String,
    /// The stage requirement it was taken for (`tech_spec_form`, `contract`, …).
    pub requirement_id: String,
    pub kind: PhotoKind,
    /// SHA-256 of the stored (stamped) file.
    pub sha256: String,
    pub byte_len: i64,
    pub path: String,
    pub taken_at_ms: i64,
    pub evidence_code: Option<String>,
}

/// One customer with everything the detail screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub customer: Customer,
    /// Newest first.
    pub follow_ups: Vec<FollowUp>,
    /// Stage moves made on this phone, newest first.
    pub stage_changes: Vec<StageChange>,
    pub photos: Vec<CustomerPhoto>,
    /// The stage a forward move leads to; `None` in a terminal stage.
    pub next_stage: Option<String>,
    /// What entering `next_stage` still needs (empty: the move is unlocked).
    pub missing_for_next: Vec<MissingItem>,
}

/// A follow-up the rep planned (下一步 + date) that is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DueFollowUp {
    pub follow_up_id: String,
    pub customer_id: Option<String>,
    pub lead_id: Option<String>,
    /// The customer's or lead's name.
    pub name: String,
    pub next_step: Option<String>,
    /// `YYYY-MM-DD`.
    pub next_date: String,
    /// Due before the day asked about.
    pub overdue: bool,
}

/// The pipeline's part of a rep's day: what to follow up, what is stuck, what is about to be
/// lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineDay {
    /// The latest follow-up of a customer or lead set a next date on or before the day.
    pub follow_ups_due: Vec<DueFollowUp>,
    /// The rep's customers longer than `stall_days` in an open stage, longest first.
    pub stalled: Vec<Customer>,
    /// Leads routed to the rep and not claimed yet, soonest deadline first.
    pub leads_waiting: Vec<Lead>,
    /// The rep's customers due back to the pool within `release_warning_days`, soonest first.
    pub near_release: Vec<Customer>,
}

// --- shared helpers -----------------------------------------------------------------------------

pub(crate) fn pipeline_config(conn: &Connection) -> Result<PipelineConfig> {
    let body: Option<String> = conn
        .query_row("SELECT body FROM pipeline_config WHERE id = 1", [], |r| r.get(0))
        .optional()?;
    Ok(match body {
        Some(b) => serde_json::from_str(&b)?,
        None => PipelineConfig::default(),
    })
}

fn user(conn: &Connection, id: &str) -> Result<User> {
    crate::queries::user(conn, id)?.ok_or_else(|| Error::not_found("user", id))
}

fn state_str(s: CustomerState) -> &'static str {
    match s {
        CustomerState::Owned => "owned",
        CustomerState::Pool => "pool",
        CustomerState::Duplicate => "duplicate",
        CustomerState::Closed => "closed",
    }
}

fn parse_state(s: &str) -> CustomerState {
    match s {
        "pool" => CustomerState::Pool,
        "duplicate" => CustomerState::Duplicate,
        "closed" => CustomerState::Closed,
        _ => CustomerState::Owned,
    }
}

fn lead_state_str(s: LeadState) -> &'static str {
    match s {
        LeadState::New => "new",
        LeadState::Assigned => "assigned",
        LeadState::Claimed => "claimed",
        LeadState::Pool => "pool",
        LeadState::Converted => "converted",
        LeadState::Lost => "lost",
        LeadState::Duplicate => "duplicate",
    }
}

fn parse_lead_state(s: &str) -> Option<LeadState> {
    Some(match s {
        "new" => LeadState::New,
        "assigned" => LeadState::Assigned,
        "claimed" => LeadState::Claimed,
        "pool" => LeadState::Pool,
        "converted" => LeadState::Converted,
        "lost" => LeadState::Lost,
        "duplicate" => LeadState::Duplicate,
        _ => return None,
    })
}

/// The customer columns [`customer_from_row`] reads, in order.
const CUSTOMER_COLUMNS: &str = "c.id, c.name, c.company, c.phones, c.contacts, c.industry, c.region,
    c.budget_cents, c.store_id, c.from_lead_id, c.owner_id, c.owner_name, c.state, c.duplicate_of, c.stage,
    c.stage_entered_ms, c.last_interaction_ms, c.release_due_ms, c.health_grade, c.health_score, c.created_ms,
    EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = c.id AND o.state = 'pending')";

fn json_col<T: serde::de::DeserializeOwned + Default>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

fn customer_from_row(r: &Row<'_>) -> rusqlite::Result<Customer> {
    let state: String = r.get(12)?;
    Ok(Customer {
        id: r.get(0)?,
        name: r.get(1)?,
        company: r.get(2)?,
        phones: json_col(r, 3)?,
        contacts: json_col(r, 4)?,
        industry: r.get(5)?,
        region: r.get(6)?,
        budget_cents: r.get(7)?,
        store_id: r.get(8)?,
        from_lead_id: r.get(9)?,
        owner_id: r.get(10)?,
        owner_name: r.get(11)?,
        state: parse_state(&state),
        duplicate_of: r.get(13)?,
        stage: r.get(14)?,
        stage_entered_ms: r.get(15)?,
        last_interaction_ms: r.get(16)?,
        release_due_ms: r.get(17)?,
        health_grade: r.get(18)?,
        health_score: r.get(19)?,
        created_ms: r.get(20)?,
        pending_sync: r.get(21)?,
    })
}

pub(crate) fn customer(conn: &Connection, id: &str) -> Result<Customer> {
    conn.query_row(
        &format!("SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.id = ?1"),
        [id],
        customer_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("customer", id))
}

fn customers_where(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Customer>> {
    let mut st = conn.prepare(&format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE {filter}"
    ))?;
    let rows = st.query_map(args, customer_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A lead: the server's record (`body`) with the phone's own columns over it (a claim or a
/// close made here shows before the server confirms it).
fn lead_from_row(r: &Row<'_>) -> rusqlite::Result<Lead> {
    let body: String = r.get(0)?;
    let l: LeadChange = serde_json::from_str(&body).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let state: String = r.get(1)?;
    Ok(Lead {
        id: l.id,
        name: l.name,
        company: l.company,
        phones: l.phones,
        industry: l.industry,
        region: l.region,
        budget_cents: l.budget_cents,
        source: l.source,
        state: parse_lead_state(&state).unwrap_or(LeadState::New),
        assigned_rep: r.get(2)?,
        assigned_ms: r.get(3)?,
        deadline_ms: r.get(4)?,
        claimed_ms: r.get(5)?,
        customer_id: r.get(6)?,
        created_ms: l.created_ms,
    })
}

const LEAD_COLUMNS: &str =
    "l.body, l.state, l.assigned_rep, l.assigned_ms, l.deadline_ms, l.claimed_ms, l.customer_id";

pub(crate) fn lead(conn: &Connection, id: &str) -> Result<Lead> {
    conn.query_row(
        &format!("SELECT {LEAD_COLUMNS} FROM leads l WHERE l.id = ?1"),
        [id],
        lead_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("lead", id))
}

fn leads_where(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Lead>> {
    let mut st = conn.prepare(&format!("SELECT {LEAD_COLUMNS} FROM leads l WHERE {filter}"))?;
    let rows = st.query_map(args, lead_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn follow_up_from_row(r: &Row<'_>) -> rusqlite::Result<FollowUp> {
    let channel: String = r.get(4)?;
    let outcome: String = r.get(5)?;
    let text = |s: &str| serde_json::Value::String(s.to_string());
    Ok(FollowUp {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        lead_id: r.get(2)?,
        user_id: r.get(3)?,
        channel: serde_json::from_value(text(&channel)).unwrap_or(crate::customers::FollowUpChannel::Call),
        outcome: serde_json::from_value(text(&outcome)).unwrap_or(crate::customers::FollowUpOutcome::Other),
        note: r.get(6)?,
        next_step: r.get(7)?,
        next_date: r.get(8)?,
        visit_id: r.get(9)?,
        at_ms: r.get(10)?,
        pending_sync: r.get(11)?,
    })
}

const FOLLOW_UP_COLUMNS: &str = "f.id, f.customer_id, f.lead_id, f.user_id, f.channel, f.outcome, f.note,
    f.next_step, f.next_date, f.visit_id, f.at_ms,
    EXISTS (SELECT 1 FROM outbox o WHERE o.op_id = f.op_id AND o.state = 'pending')";

fn follow_ups_of(conn: &Connection, customer_id: &str) -> Result<Vec<FollowUp>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups f WHERE f.customer_id = ?1 ORDER BY f.at_ms DESC, f.id DESC"
    ))?;
    let rows = st.query_map([customer_id], follow_up_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn stage_changes_of(conn: &Connection, customer_id: &str) -> Result<Vec<StageChange>> {
    let mut st = conn.prepare_cached(
        "SELECT id, customer_id, from_stage, to_stage, reason, evidence, user_id, at_ms FROM stage_changes
         WHERE customer_id = ?1 ORDER BY at_ms DESC, id DESC",
    )?;
    let rows = st.query_map([customer_id], |r| {
        Ok(StageChange {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            from: r.get(2)?,
            to: r.get(3)?,
            reason: r.get(4)?,
            evidence: json_col(r, 5)?,
            user_id: r.get(6)?,
            at_ms: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn photos_of(
    conn: &Connection,
    photo_dir: &std::path::Path,
    customer_id: &str,
) -> Result<Vec<CustomerPhoto>> {
    let mut st = conn.prepare_cached(
        "SELECT id, customer_id, requirement_id, kind, sha256, byte_len, path, taken_at_ms, evidence_code
         FROM customer_photos WHERE customer_id = ?1 ORDER BY taken_at_ms DESC, id DESC",
    )?;
    let rows = st.query_map([customer_id], |r| {
        let kind: String = r.get(3)?;
        let file: String = r.get(6)?;
        Ok(CustomerPhoto {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            requirement_id: r.get(2)?,
            kind: PhotoKind::from_key(&kind),
            sha256: r.get(4)?,
            byte_len: r.get(5)?,
            path: photo_dir.join(file).to_string_lossy().into_owned(),
            taken_at_ms: r.get(7)?,
            evidence_code: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// What a customer has toward its next stage, with the photos (requirement id, photo id) and
/// follow-ups behind it, newest first.
type OnHand = (
    crate::customers::EvidenceOnHand,
    Vec<(String, String)>,
    Vec<FollowUp>,
);

/// The evidence a customer has toward its next stage: what was gathered since it entered its
/// current one (photos and follow-ups made on this phone), its filled-in fields, and the reason.
fn evidence_on_hand(conn: &Connection, c: &Customer, reason: Option<&str>) -> Result<OnHand> {
    let mut st = conn.prepare_cached(
        "SELECT requirement_id, id FROM customer_photos WHERE customer_id = ?1 AND taken_at_ms >= ?2
         ORDER BY taken_at_ms DESC, id DESC",
    )?;
    let photos: Vec<(String, String)> = st
        .query_map(params![c.id, c.stage_entered_ms], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let follow_ups: Vec<FollowUp> = follow_ups_of(conn, &c.id)?
        .into_iter()
        .filter(|f| f.at_ms >= c.stage_entered_ms)
        .collect();
    let mut fields = Vec::new();
    let mut filled = |name: &str, yes: bool| {
        if yes {
            fields.push(name.to_string());
        }
    };
    filled("name", !c.name.trim().is_empty());
    filled(
        "company",
        c.company.as_deref().is_some_and(|s| !s.trim().is_empty()),
    );
    filled("phones", !c.phones.is_empty());
    filled("contacts", !c.contacts.is_empty());
    filled(
        "industry",
        c.industry.as_deref().is_some_and(|s| !s.trim().is_empty()),
    );
    filled(
        "region",
        c.region.as_deref().is_some_and(|s| !s.trim().is_empty()),
    );
    filled("budget_cents", c.budget_cents.is_some());
    filled("store_id", c.store_id.is_some());
    let on_hand = crate::customers::EvidenceOnHand {
        photos: photos.iter().map(|(req, _)| req.clone()).collect(),
        follow_ups: follow_ups.iter().map(|f| (f.channel, f.outcome)).collect(),
        fields,
        reason: reason.is_some_and(|r| !r.trim().is_empty()),
    };
    Ok((on_hand, photos, follow_ups))
}

/// The stage a forward move from `from` leads to: the next open stage, or from the last open
/// stage the first terminal one that is not `lost` (成交).
fn next_stage(cfg: &PipelineConfig, from: &str) -> Option<String> {
    let at = cfg.stages.iter().position(|s| s.key == from)?;
    if cfg.stages[at].terminal {
        return None;
    }
    cfg.stages[at + 1..]
        .iter()
        .find(|s| !s.terminal)
        .or_else(|| {
            cfg.stages
                .iter()
                .find(|s| s.terminal && s.key != crate::customers::STAGE_LOST)
        })
        .map(|s| s.key.clone())
}

fn check_text(what: &str, s: &str, max: usize) -> Result<()> {
    if s.len() > max {
        return Err(Error::InvalidInput(format!("{what} longer than {max} bytes")));
    }
    Ok(())
}

fn now_days(days: u32) -> i64 {
    i64::from(days) * DAY_MS
}
