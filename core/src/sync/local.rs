//! The database side of sync: enrolment state, the server's answers on outbox ops, photo upload
//! state, pull pages, and the queries the apps read. No network here, so every function is
//! testable with a wire message built by hand.
//!
//! Each write function takes the caller's transaction: the client commits one transaction per
//! pushed batch and one per pull page, so a crash between them loses nothing and repeats at
//! most a push the server answers `duplicate`.

// Without the `sync-client` feature (the server's build) nothing calls the write side; it stays
// built so that its tests run in every configuration.
#![cfg_attr(not(feature = "sync-client"), allow(dead_code))]

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::wire::{ChangeKind, OpStatus, PullResponse, PushResponse, RetakeChange, TeamVisit};
use super::{RejectedOp, ServerException, SyncState};
use crate::error::{Error, Result};
use crate::model::{LoadSummary, OutboxOp, ReferenceData, Role, User};
use crate::{Core, reference};

/// Reason recorded for an op that has no signed entry (written before schema v3): the server
/// takes signed entries only, so it can never be sent. It is set aside visibly, not dropped.
pub(crate) const UNSIGNED_OP: &str = "unsigned_op";

/// What the client needs to talk to the server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Enrolment {
    pub server_url: String,
    pub user_id: String,
    pub pull_cursor: i64,
}

pub(crate) fn enrolment(conn: &Connection) -> Result<Option<Enrolment>> {
    Ok(conn
        .query_row(
            "SELECT server_url, user_id, pull_cursor FROM sync_state WHERE id = 1",
            [],
            |r| {
                Ok(Enrolment {
                    server_url: r.get(0)?,
                    user_id: r.get(1)?,
                    pull_cursor: r.get(2)?,
                })
            },
        )
        .optional()?)
}

fn role_str(role: Role) -> &'static str {
    match role {
        Role::Rep => "rep",
        Role::Supervisor => "supervisor",
    }
}

/// Record a successful enrolment. Another user or another server starts the change feed over
/// (what a user may see differs) and empties the team mirror; the same user on the same server
/// keeps its cursor.
pub(crate) fn store_enrolment(
    tx: &Transaction<'_>,
    server_url: &str,
    user: &User,
    now_ms: i64,
) -> Result<()> {
    let previous = enrolment(tx)?;
    let same = previous
        .as_ref()
        .is_some_and(|p| p.server_url == server_url && p.user_id == user.id);
    let cursor = match (&previous, same) {
        (Some(p), true) => p.pull_cursor,
        _ => 0,
    };
    if !same {
        tx.execute("DELETE FROM team_visits", [])?;
        tx.execute("DELETE FROM retake_requests", [])?;
    }
    tx.execute(
        "INSERT INTO sync_state (id, server_url, user_id, user_role, user_json, enrolled_at_ms, pull_cursor)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url, user_id = excluded.user_id,
           user_role = excluded.user_role, user_json = excluded.user_json,
           enrolled_at_ms = excluded.enrolled_at_ms, pull_cursor = excluded.pull_cursor",
        params![
            server_url,
            user.id,
            role_str(user.role),
            serde_json::to_string(user)?,
            now_ms,
            cursor
        ],
    )?;
    Ok(())
}

pub(crate) fn set_server_offset(conn: &Connection, offset_ms: i64) -> Result<()> {
    conn.execute(
        "UPDATE device SET server_offset_ms = ?1 WHERE id = 1",
        [offset_ms],
    )?;
    Ok(())
}

// --- push results --------------------------------------------------------------------------------

/// What one batch's answer changed locally.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct BatchOutcome {
    pub applied: i32,
    pub duplicates: i32,
    pub rejected: Vec<RejectedOp>,
    pub exceptions: Vec<ServerException>,
}

/// Apply the server's answer to one pushed batch, inside the caller's transaction. The answer is
/// checked as a whole first (one result per op, in request order, naming the op it answers): an
/// answer that does not fit changes nothing, and the ops stay pending.
pub(crate) fn apply_push_results(
    tx: &Transaction<'_>,
    ops: &[OutboxOp],
    response: &PushResponse,
    now_ms: i64,
) -> Result<BatchOutcome> {
    if response.results.len() != ops.len() {
        return Err(Error::SyncProtocol(format!(
            "push of {} ops answered with {} results",
            ops.len(),
            response.results.len()
        )));
    }
    for (i, (op, r)) in ops.iter().zip(&response.results).enumerate() {
        let wrong_id = r.op_id.as_deref().is_some_and(|id| id != op.op_id);
        let wrong_seq = r.seq.is_some_and(|s| s != op.seq);
        if wrong_id || wrong_seq {
            return Err(Error::SyncProtocol(format!(
                "push result {i} names op {:?} seq {:?}, but op seq {} was sent there",
                r.op_id, r.seq, op.seq
            )));
        }
        if r.op_id.is_none() && r.status != OpStatus::Rejected {
            return Err(Error::SyncProtocol(format!(
                "push result {i} has no op id but is not a rejection"
            )));
        }
    }
    let mut out = BatchOutcome::default();
    let mut st = tx.prepare_cached(
        "UPDATE outbox SET state = ?1, server_status = ?2, server_reason = ?3, server_exceptions = ?4,
            answered_at_ms = ?5, attempts = attempts + 1, last_error = ?3
         WHERE seq = ?6 AND state = 'pending'",
    )?;
    for (op, r) in ops.iter().zip(&response.results) {
        let (state, status) = match r.status {
            OpStatus::Applied => ("acknowledged", "applied"),
            OpStatus::Duplicate => ("acknowledged", "duplicate"),
            OpStatus::Rejected => ("rejected", "rejected"),
        };
        let reason = match r.status {
            OpStatus::Rejected => Some(r.reason.clone().unwrap_or_else(|| "unspecified".into())),
            _ => None,
        };
        let exceptions = if r.exceptions.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&r.exceptions)?)
        };
        st.execute(params![state, status, reason, exceptions, now_ms, op.seq])?;
        for code in &r.exceptions {
            out.exceptions.push(ServerException {
                seq: op.seq,
                op_id: op.op_id.clone(),
                kind: op.kind.clone(),
                code: code.clone(),
            });
        }
        match r.status {
            OpStatus::Applied => out.applied += 1,
            OpStatus::Duplicate => out.duplicates += 1,
            OpStatus::Rejected => {
                tracing::warn!(seq = op.seq, kind = %op.kind, reason = ?reason, "op rejected by the server");
                out.rejected.push(RejectedOp {
                    seq: op.seq,
                    op_id: op.op_id.clone(),
                    kind: op.kind.clone(),
                    entity_id: op.entity_id.clone(),
                    reason: reason.unwrap_or_default(),
                    exceptions: r.exceptions.clone(),
                    rejected_at_ms: Some(now_ms),
                });
            }
        }
    }
    Ok(out)
}

/// Set aside ops that cannot be sent because they were never signed (see [`UNSIGNED_OP`]).
pub(crate) fn reject_unsigned(
    tx: &Transaction<'_>,
    ops: &[OutboxOp],
    now_ms: i64,
) -> Result<Vec<RejectedOp>> {
    let mut out = Vec::new();
    for op in ops {
        let n = tx.execute(
            "UPDATE outbox SET state = 'rejected', server_reason = ?1, last_error = ?1, answered_at_ms = ?2
             WHERE seq = ?3 AND state = 'pending'",
            params![UNSIGNED_OP, now_ms, op.seq],
        )?;
        if n == 1 {
            tracing::warn!(seq = op.seq, kind = %op.kind, "unsigned op set aside: cannot be sent");
            out.push(RejectedOp {
                seq: op.seq,
                op_id: op.op_id.clone(),
                kind: op.kind.clone(),
                entity_id: op.entity_id.clone(),
                reason: UNSIGNED_OP.into(),
                exceptions: Vec::new(),
                rejected_at_ms: Some(now_ms),
            });
        }
    }
    Ok(out)
}

// --- photos --------------------------------------------------------------------------------------

/// A photo whose bytes may still have to go to the server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhotoToSend {
    pub op_id: String,
    pub sha256: String,
    pub size: u64,
    /// File name inside the photo folder.
    pub file: String,
    /// The `visit.photo` (or `customer.photo`) op's signed entry: the upload's manifest.
    pub entry: String,
    pub signature_hex: String,
}

/// The photos whose bytes may still have to go: one definition for the uploads and the totals.
/// Visit photos and customers' stage-evidence photos go through the one queue.
const PHOTOS_TO_SEND: &str = "FROM outbox o
     JOIN (SELECT op_id, sha256, byte_len, path FROM photos
           UNION ALL SELECT op_id, sha256, byte_len, path FROM customer_photos) p ON p.op_id = o.op_id
     LEFT JOIN photo_uploads u ON u.op_id = o.op_id
     WHERE o.kind IN ('visit.photo', 'customer.photo') AND o.entry IS NOT NULL AND o.signature IS NOT NULL
       AND o.state <> 'rejected' AND (u.state IS NULL OR u.state = 'pending')";

const PHOTO_COLUMNS: &str = "SELECT o.op_id, p.sha256, p.byte_len, p.path, o.entry, o.signature";

fn photo_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PhotoToSend> {
    Ok(PhotoToSend {
        op_id: r.get(0)?,
        sha256: r.get(1)?,
        size: r.get::<_, i64>(2)?.max(0) as u64,
        file: r.get(3)?,
        entry: r.get(4)?,
        signature_hex: r.get(5)?,
    })
}

/// The photos among these ops whose bytes are not confirmed on the server, in seq order.
pub(crate) fn photos_of_ops(conn: &Connection, ops: &[OutboxOp]) -> Result<Vec<PhotoToSend>> {
    let mut st = conn.prepare_cached(&format!("{PHOTO_COLUMNS} {PHOTOS_TO_SEND} AND o.op_id = ?1"))?;
    let mut out = Vec::new();
    for op in ops
        .iter()
        .filter(|o| o.kind == "visit.photo" || o.kind == "customer.photo")
    {
        if let Some(p) = st.query_row([&op.op_id], photo_row).optional()? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Photos of ops the server already answered whose bytes are still not confirmed (a transient
/// failure last time): the photo channel retries them on its own.
pub(crate) fn photo_backlog(conn: &Connection) -> Result<Vec<PhotoToSend>> {
    let mut st = conn.prepare_cached(&format!(
        "{PHOTO_COLUMNS} {PHOTOS_TO_SEND} AND o.state = 'acknowledged' ORDER BY o.seq"
    ))?;
    let rows = st.query_map([], photo_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// What a sync has to send, as it starts: its progress totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SyncTotals {
    pub ops: i32,
    pub photos: i32,
    pub photo_bytes: i64,
}

pub(crate) fn sync_totals(conn: &Connection) -> Result<SyncTotals> {
    let ops = conn.query_row("SELECT count(*) FROM outbox WHERE state = 'pending'", [], |r| {
        r.get(0)
    })?;
    let (photos, photo_bytes) = conn.query_row(
        &format!("SELECT count(*), coalesce(sum(p.byte_len), 0) {PHOTOS_TO_SEND}"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(SyncTotals {
        ops,
        photos,
        photo_bytes,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadState {
    /// The server holds the bytes.
    Complete,
    /// Refused for good; not retried.
    Failed,
    /// Not done yet; retried by the next sync.
    Pending,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhotoUploadOutcome {
    pub op_id: String,
    pub sha256: String,
    pub size: u64,
    pub state: UploadState,
    pub error: Option<String>,
}

pub(crate) fn record_photo_outcomes(
    tx: &Transaction<'_>,
    outcomes: &[PhotoUploadOutcome],
    now_ms: i64,
) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO photo_uploads (op_id, sha256, size, state, attempts, last_error, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)
         ON CONFLICT (op_id) DO UPDATE SET state = excluded.state, attempts = photo_uploads.attempts + 1,
           last_error = excluded.last_error, updated_at_ms = excluded.updated_at_ms",
    )?;
    for o in outcomes {
        let state = match o.state {
            UploadState::Complete => "complete",
            UploadState::Failed => "failed",
            UploadState::Pending => "pending",
        };
        st.execute(params![o.op_id, o.sha256, o.size as i64, state, o.error, now_ms])?;
    }
    Ok(())
}

// --- pull ----------------------------------------------------------------------------------------

/// What one applied pull page held.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PageOutcome {
    /// Changes in the page (every one was applied).
    pub changes: i32,
    pub reference: LoadSummary,
    pub team_visits: i32,
}

/// Keeps the last version of each record in a page: the feed has a row per upsert, so one
/// record can come twice in a page, and a load refuses duplicate ids.
struct Latest<T> {
    items: Vec<T>,
    index: HashMap<String, usize>,
}

impl<T> Latest<T> {
    fn new() -> Self {
        Latest {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
    fn put(&mut self, key: String, item: T) {
        match self.index.get(&key) {
            Some(&i) => self.items[i] = item,
            None => {
                self.index.insert(key, self.items.len());
                self.items.push(item);
            }
        }
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(change: &super::wire::Change) -> std::result::Result<T, Error> {
    serde_json::from_value(change.body.clone()).map_err(|e| Error::BadReferenceData {
        record: format!("change {} ({:?} {:?})", change.seq, change.kind, change.id),
        reason: e.to_string(),
    })
}

/// Apply one pull page inside the caller's transaction: reference records through the same
/// validation and upsert as a local load (the page as a whole: one bad record refuses the page),
/// team visits into the mirror, then the new cursor. An error leaves the transaction for the
/// caller to drop, so nothing of the page stays.
pub(crate) fn apply_pull_page(tx: &Transaction<'_>, page: &PullResponse, now_ms: i64) -> Result<PageOutcome> {
    let (cursor, user_id): (i64, String) = tx
        .query_row(
            "SELECT pull_cursor, user_id FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(Error::NotEnrolled)?;
    if page.cursor < cursor {
        return Err(Error::SyncProtocol(format!(
            "pull cursor went back from {cursor} to {}",
            page.cursor
        )));
    }
    let mut users = Latest::new();
    let mut stores = Latest::new();
    let mut products = Latest::new();
    let mut templates = Latest::new();
    let mut plans = Latest::new();
    let mut visits: Latest<(i64, TeamVisit)> = Latest::new();
    let mut retakes: Latest<(i64, RetakeChange)> = Latest::new();
    let mut pipeline = Vec::new();
    for c in &page.changes {
        match c.kind {
            ChangeKind::User => {
                let u: User = parse_body(c)?;
                users.put(u.id.clone(), u);
            }
            ChangeKind::Store => {
                let s: crate::model::Store = parse_body(c)?;
                stores.put(s.id.clone(), s);
            }
            ChangeKind::Product => {
                let p: crate::model::Product = parse_body(c)?;
                products.put(p.id.clone(), p);
            }
            ChangeKind::Template => {
                let t: crate::model::CheckTemplate = parse_body(c)?;
                templates.put(format!("{}\u{0}{}", t.id, t.version), t);
            }
            ChangeKind::Plan => {
                let p: crate::model::PlannedVisit = parse_body(c)?;
                plans.put(p.id.clone(), p);
            }
            ChangeKind::TeamVisit => {
                let v: TeamVisit = parse_body(c)?;
                if v.visit_id.trim().is_empty() || v.rep_id.trim().is_empty() {
                    return Err(Error::BadReferenceData {
                        record: format!("change {} (team_visit {:?})", c.seq, c.id),
                        reason: "visit_id or rep_id is empty".into(),
                    });
                }
                visits.put(v.visit_id.clone(), (c.seq, v));
            }
            ChangeKind::Retake => {
                let r: RetakeChange = parse_body(c)?;
                if r.id.trim().is_empty() || r.rep_id.trim().is_empty() || r.store_id.trim().is_empty() {
                    return Err(Error::BadReferenceData {
                        record: format!("change {} (retake {:?})", c.seq, c.id),
                        reason: "id, rep_id or store_id is empty".into(),
                    });
                }
                retakes.put(r.id.clone(), (c.seq, r));
            }
            kind if crate::customer_flow::pull::is_pipeline_kind(kind) => {
                pipeline.push(c);
            }
            // A newer server's kind: skipped, and the cursor moves past it.
            _ => {}
        }
    }
    let data = ReferenceData {
        users: users.items,
        stores: stores.items,
        products: products.items,
        templates: templates.items,
        plans: plans.items,
    };
    let reference = reference::load(tx, &data)?;
    let mut st = tx.prepare_cached(
        "INSERT INTO team_visits (visit_id, rep_id, store_id, status, started_wall_ms, exception_count, body, feed_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (visit_id) DO UPDATE SET rep_id = excluded.rep_id, store_id = excluded.store_id,
           status = excluded.status, started_wall_ms = excluded.started_wall_ms,
           exception_count = excluded.exception_count, body = excluded.body, feed_seq = excluded.feed_seq
         WHERE excluded.feed_seq >= team_visits.feed_seq",
    )?;
    for (seq, v) in &visits.items {
        st.execute(params![
            v.visit_id,
            v.rep_id,
            v.store_id,
            v.status,
            v.started_wall_ms,
            v.exceptions.len() as i64,
            serde_json::to_string(v)?,
            seq
        ])?;
    }
    for (seq, r) in &retakes.items {
        crate::retakes::store_pulled(tx, *seq, r)?;
    }
    // In feed order: the newest copy of a record is the last one applied.
    for c in pipeline {
        crate::customer_flow::pull::apply(tx, c, Some(&user_id))?;
    }
    // The user's own record keeps the enrolment's copy current (a role or team change).
    if let Some(me) = data.users.iter().find(|u| u.id == user_id) {
        tx.execute(
            "UPDATE sync_state SET user_role = ?1, user_json = ?2 WHERE id = 1",
            params![role_str(me.role), serde_json::to_string(me)?],
        )?;
    }
    tx.execute(
        "UPDATE sync_state SET pull_cursor = ?1, last_server_time_ms = ?2, last_sync_ms = ?3 WHERE id = 1",
        params![page.cursor, page.server_time_ms, now_ms],
    )?;
    Ok(PageOutcome {
        changes: page.changes.len() as i32,
        reference,
        team_visits: visits.items.len() as i32,
    })
}

// --- queries -------------------------------------------------------------------------------------

pub(crate) fn sync_state(conn: &Connection) -> Result<SyncState> {
    type Row = (String, String, i64, i64, Option<i64>, Option<i64>);
    let row: Option<Row> = conn
        .query_row(
            "SELECT server_url, user_json, enrolled_at_ms, pull_cursor, last_sync_ms, last_server_time_ms
             FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    let server_offset_ms: Option<i64> =
        conn.query_row("SELECT server_offset_ms FROM device WHERE id = 1", [], |r| {
            r.get(0)
        })?;
    let summary = crate::outbox::summary(conn)?;
    let (not_uploaded, failed): (i32, i32) = conn.query_row(
        "SELECT coalesce(sum(u.state IS NULL OR u.state = 'pending'), 0), coalesce(sum(u.state = 'failed'), 0)
         FROM outbox o
         JOIN (SELECT op_id FROM photos UNION ALL SELECT op_id FROM customer_photos) p ON p.op_id = o.op_id
         LEFT JOIN photo_uploads u ON u.op_id = o.op_id
         WHERE o.kind IN ('visit.photo', 'customer.photo') AND o.entry IS NOT NULL AND o.state <> 'rejected'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut state = SyncState {
        enrolled: false,
        server_url: None,
        user: None,
        enrolled_at_ms: None,
        pull_cursor: 0,
        last_sync_ms: None,
        last_server_time_ms: None,
        server_offset_ms,
        pending_ops: summary.pending,
        rejected_ops: summary.rejected,
        photos_not_uploaded: not_uploaded,
        photos_failed: failed,
    };
    if let Some((url, user_json, enrolled_at, cursor, last_sync, last_server)) = row {
        state.enrolled = true;
        state.server_url = Some(url);
        state.user = Some(serde_json::from_str(&user_json)?);
        state.enrolled_at_ms = Some(enrolled_at);
        state.pull_cursor = cursor;
        state.last_sync_ms = last_sync;
        state.last_server_time_ms = last_server;
    }
    Ok(state)
}

pub(crate) fn rejected_ops(conn: &Connection) -> Result<Vec<RejectedOp>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, op_id, kind, entity_id, coalesce(server_reason, last_error, 'unspecified'),
                server_exceptions, answered_at_ms
         FROM outbox WHERE state = 'rejected' ORDER BY seq",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            RejectedOp {
                seq: r.get(0)?,
                op_id: r.get(1)?,
                kind: r.get(2)?,
                entity_id: r.get(3)?,
                reason: r.get(4)?,
                exceptions: Vec::new(),
                rejected_at_ms: r.get(6)?,
            },
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut op, exceptions) = row?;
        if let Some(json) = exceptions {
            op.exceptions = serde_json::from_str(&json)?;
        }
        out.push(op);
    }
    Ok(out)
}

pub(crate) fn team_visits(conn: &Connection, rep_id: Option<&str>, limit: u32) -> Result<Vec<TeamVisit>> {
    let mut st = conn.prepare_cached(
        "SELECT body FROM team_visits WHERE ?1 IS NULL OR rep_id = ?1
         ORDER BY started_wall_ms DESC, visit_id LIMIT ?2",
    )?;
    let rows = st.query_map(params![rep_id, limit], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for body in rows {
        out.push(serde_json::from_str(&body?)?);
    }
    Ok(out)
}

impl Core {
    /// Whether this device is enrolled, as whom, with which server, and how far sync got.
    pub fn sync_state(&self) -> Result<SyncState> {
        sync_state(&self.lock().conn)
    }

    /// Ops the server refused for good (and ops that could never be sent), oldest first, with
    /// the reason: for the app to show. They are never resent.
    pub fn rejected_ops(&self) -> Result<Vec<RejectedOp>> {
        rejected_ops(&self.lock().conn)
    }

    /// The supervisor's read-only mirror of the team's visits (filled by sync), newest first;
    /// `rep_id` narrows it to one rep.
    pub fn team_visits(&self, rep_id: Option<&str>, limit: i32) -> Result<Vec<TeamVisit>> {
        let limit = Error::non_negative("limit", limit)?;
        team_visits(&self.lock().conn, rep_id, limit)
    }

    /// Apply one pull page in its own transaction (the client's step, callable without a
    /// server for tests and tools).
    pub(crate) fn apply_pull_page(&self, page: &PullResponse) -> Result<PageOutcome> {
        let now = self.clock.wall_ms();
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = apply_pull_page(&tx, page, now)?;
        tx.commit()?;
        Ok(out)
    }

    /// Apply one push answer (and the batch's photo outcomes) in one transaction.
    pub(crate) fn apply_push_answer(
        &self,
        ops: &[OutboxOp],
        response: Option<&PushResponse>,
        unsigned: &[OutboxOp],
        photos: &[PhotoUploadOutcome],
    ) -> Result<BatchOutcome> {
        let now = self.clock.wall_ms();
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        record_photo_outcomes(&tx, photos, now)?;
        let mut out = match response {
            Some(r) => apply_push_results(&tx, ops, r, now)?,
            None => BatchOutcome::default(),
        };
        out.rejected.extend(reject_unsigned(&tx, unsigned, now)?);
        tx.commit()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
