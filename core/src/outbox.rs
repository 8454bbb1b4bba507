//! The outbox: every user action as an operation with an op id, a contiguous per-device sequence
//! number and a hybrid-logical-clock time, written in the same transaction as the action's rows,
//! and signed: each op is an entry in the device's hash chain (see `evidence`).
//!
//! [`Action`] is the only way the core writes field records: it opens the IMMEDIATE transaction,
//! stamps the event time, and on `finish` appends the signed outbox op and commits. Dropping it
//! without `finish` rolls everything back.

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use crate::clock::{CLOCK_JUMP_TOLERANCE_MS, Clock, clock_drift_ms, hlc_next};
use crate::error::Result;
use crate::evidence::{self, EntryHeader, SignedEntry, Signer};
use crate::model::{EventTime, Flag, FlagCode, OutboxOp, OutboxState};
use crate::sync::wire::payload::OpPayload;

pub(crate) struct Action<'c> {
    pub tx: Transaction<'c>,
    pub op_id: String,
    pub time: EventTime,
    /// Wall-clock movement against boot time since the previous event, when beyond tolerance.
    pub clock_jump_ms: Option<i64>,
    /// Hash of the device's last signed entry: this action's entry links to it.
    chain_head: String,
}

impl<'c> Action<'c> {
    pub fn begin(conn: &'c mut Connection, clock: &dyn Clock) -> Result<Action<'c>> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        type DeviceRow = (i64, Option<i64>, Option<i64>, Option<i64>, String);
        let (last_hlc, last_wall, last_boot, offset, chain_head): DeviceRow = tx.query_row(
            "SELECT last_hlc, last_wall_ms, last_boot_ms, server_offset_ms, chain_head FROM device WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        let (wall, boot) = (clock.wall_ms(), clock.boot_ms());
        let hlc = hlc_next(last_hlc, wall);
        let clock_jump_ms = match (last_wall, last_boot) {
            (Some(w), Some(b)) => {
                clock_drift_ms(w, b, wall, boot).filter(|d| d.abs() > CLOCK_JUMP_TOLERANCE_MS)
            }
            _ => None,
        };
        tx.execute(
            "UPDATE device SET last_hlc = ?1, last_wall_ms = ?2, last_boot_ms = ?3 WHERE id = 1",
            params![hlc, wall, boot],
        )?;
        Ok(Action {
            tx,
            op_id: uuid::Uuid::now_v7().to_string(),
            time: EventTime {
                wall_ms: wall,
                boot_ms: boot,
                hlc,
                server_offset_ms: offset,
            },
            clock_jump_ms,
            chain_head,
        })
    }

    /// Raise a flag on a visit, attributed to this action. An identical open flag is left as is.
    pub fn raise_flag(&self, visit_id: &str, flag: &Flag) -> Result<bool> {
        let n = self.tx.execute(
            "INSERT INTO visit_flags (visit_id, code, item_id, detail, raised_at_ms, raised_op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (visit_id, code, item_id) WHERE cleared_at_ms IS NULL DO NOTHING",
            params![
                visit_id,
                flag.code.as_str(),
                flag.item_id.as_deref().unwrap_or(""),
                flag.detail,
                self.time.wall_ms,
                self.op_id
            ],
        )?;
        Ok(n == 1)
    }

    /// Clear an open flag (its cause went away). The row stays, with who cleared it.
    pub fn clear_flag(&self, visit_id: &str, code: FlagCode, item_id: &str) -> Result<bool> {
        let n = self.tx.execute(
            "UPDATE visit_flags SET cleared_at_ms = ?1, cleared_op_id = ?2
             WHERE visit_id = ?3 AND code = ?4 AND item_id = ?5 AND cleared_at_ms IS NULL",
            params![self.time.wall_ms, self.op_id, visit_id, code.as_str(), item_id],
        )?;
        Ok(n > 0)
    }

    /// The rep's own clock moved against boot time: the visit being worked on carries the flag.
    pub fn flag_clock_jump(&self, visit_id: &str) -> Result<Option<Flag>> {
        let Some(drift) = self.clock_jump_ms else {
            return Ok(None);
        };
        let flag = Flag {
            code: FlagCode::ClockJump,
            item_id: None,
            detail: format!("device clock moved {:+} s against time since boot", drift / 1000),
        };
        self.raise_flag(visit_id, &flag)?;
        Ok(Some(flag))
    }

    /// Append the signed outbox op, move the chain head, and commit: the action is now
    /// durable, all of it.
    pub fn finish(self, signer: &Signer, entity_id: &str, payload: &OpPayload) -> Result<String> {
        let kind = payload.kind();
        let seq: i64 = self.tx.query_row(
            "UPDATE device SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1",
            [],
            |r| r.get(0),
        )?;
        let payload = payload.to_value()?;
        let entry = evidence::entry_bytes(
            &EntryHeader {
                device_id: &signer.device_id,
                seq,
                op_id: &self.op_id,
                kind,
                entity_id,
                time: self.time,
                prev_hash: &self.chain_head,
            },
            &payload,
        );
        let entry_hash = evidence::sha256_hex(entry.as_bytes());
        let signature = signer.sign_hex(entry.as_bytes());
        self.tx.execute(
            "INSERT INTO outbox (seq, op_id, kind, entity_id, depends_on, wall_ms, boot_ms, hlc, server_offset_ms,
                payload, entry, entry_hash, signature)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                seq,
                self.op_id,
                kind,
                entity_id,
                self.time.wall_ms,
                self.time.boot_ms,
                self.time.hlc,
                self.time.server_offset_ms,
                evidence::canonical_json(&payload),
                entry,
                entry_hash,
                signature,
            ],
        )?;
        self.tx
            .execute("UPDATE device SET chain_head = ?1 WHERE id = 1", [&entry_hash])?;
        self.tx.commit()?;
        tracing::debug!(kind, seq, "action committed");
        Ok(self.op_id)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxSummary {
    pub pending: i32,
    pub rejected: i32,
    pub acknowledged: i32,
    /// Highest sequence number handed out so far.
    pub last_seq: i64,
}

pub(crate) fn pending(conn: &Connection, limit: u32) -> Result<Vec<OutboxOp>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, op_id, kind, entity_id, depends_on, wall_ms, boot_ms, hlc, server_offset_ms, payload,
                state, attempts, last_error, entry, entry_hash, signature
         FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?1",
    )?;
    let rows = st.query_map([limit], |r| {
        let state: String = r.get(10)?;
        Ok(OutboxOp {
            seq: r.get(0)?,
            op_id: r.get(1)?,
            kind: r.get(2)?,
            entity_id: r.get(3)?,
            depends_on: r.get(4)?,
            time: EventTime {
                wall_ms: r.get(5)?,
                boot_ms: r.get(6)?,
                hlc: r.get(7)?,
                server_offset_ms: r.get(8)?,
            },
            payload_json: r.get(9)?,
            state: OutboxState::parse(&state).unwrap_or(OutboxState::Pending),
            attempts: r.get(11)?,
            last_error: r.get(12)?,
            entry: r.get(13)?,
            entry_hash: r.get(14)?,
            signature_hex: r.get(15)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(crate) fn summary(conn: &Connection) -> Result<OutboxSummary> {
    let mut s = OutboxSummary::default();
    let mut st = conn.prepare_cached("SELECT state, count(*) FROM outbox GROUP BY state")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let state: String = r.get(0)?;
        let n: i32 = r.get(1)?;
        match OutboxState::parse(&state) {
            Some(OutboxState::Pending) => s.pending = n,
            Some(OutboxState::Rejected) => s.rejected = n,
            Some(OutboxState::Acknowledged) => s.acknowledged = n,
            None => {}
        }
    }
    s.last_seq = conn.query_row("SELECT next_seq - 1 FROM device WHERE id = 1", [], |r| r.get(0))?;
    Ok(s)
}

/// The result of [`crate::Core::audit`]: the invariants that make "nothing is ever lost" checkable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditReport {
    pub ops: i64,
    pub problems: Vec<String>,
}

impl AuditReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Each outbox kind and the row that must carry its op id (and vice versa); the last field
/// narrows a table several kinds share.
const OP_ROWS: &[(&str, &str, &str, &str)] = &[
    ("visit.check_in", "visits", "check_in_op", ""),
    ("visit.answer", "answer_history", "op_id", ""),
    ("visit.photo", "photos", "op_id", ""),
    ("visit.report", "report_revisions", "op_id", ""),
    ("visit.complete", "visits", "complete_op", ""),
    ("visit.check_out", "visits", "check_out_op", ""),
    ("visit.cancel", "visits", "cancel_op", ""),
    ("visit.review", "reviews", "op_id", ""),
    ("visit.photo_review", "photo_reviews", "op_id", ""),
    ("customer.create", "customers", "create_op", ""),
    (
        "customer.update",
        "customer_events",
        "op_id",
        "AND t.kind = 'customer.update'",
    ),
    ("customer.follow_up", "follow_ups", "op_id", ""),
    ("customer.stage", "stage_changes", "op_id", ""),
    ("customer.photo", "customer_photos", "op_id", ""),
    (
        "customer.claim",
        "customer_events",
        "op_id",
        "AND t.kind = 'customer.claim'",
    ),
    (
        "customer.release",
        "customer_events",
        "op_id",
        "AND t.kind = 'customer.release'",
    ),
    (
        "lead.claim",
        "customer_events",
        "op_id",
        "AND t.kind = 'lead.claim'",
    ),
    (
        "lead.close",
        "customer_events",
        "op_id",
        "AND t.kind = 'lead.close'",
    ),
];

pub(crate) fn audit(conn: &Connection, public_key_hex: &str) -> Result<AuditReport> {
    let mut problems = Vec::new();
    audit_chain(conn, public_key_hex, &mut problems)?;
    let (count, min, max): (i64, Option<i64>, Option<i64>) =
        conn.query_row("SELECT count(*), min(seq), max(seq) FROM outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let next_seq: i64 = conn.query_row("SELECT next_seq FROM device WHERE id = 1", [], |r| r.get(0))?;
    if count > 0 && (min != Some(1) || max != Some(count)) {
        problems.push(format!(
            "outbox sequence not contiguous: {count} ops span {min:?}..{max:?}"
        ));
    }
    if next_seq != max.unwrap_or(0) + 1 {
        problems.push(format!(
            "device next_seq {next_seq} does not follow the last op {max:?}"
        ));
    }
    let unknown: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM outbox WHERE kind NOT IN ({})",
            OP_ROWS
                .iter()
                .map(|(k, _, _, _)| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        [],
        |r| r.get(0),
    )?;
    if unknown > 0 {
        problems.push(format!("{unknown} outbox ops of unknown kind"));
    }
    for (kind, table, column, narrow) in OP_ROWS {
        // An op without its row: the action's data is missing.
        let orphan_ops: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM outbox o WHERE o.kind = ?1
                 AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{column} = o.op_id)"
            ),
            [kind],
            |r| r.get(0),
        )?;
        if orphan_ops > 0 {
            problems.push(format!("{orphan_ops} {kind} ops without their {table} row"));
        }
        // A row without its op: the server would never hear of it.
        let orphan_rows: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL {narrow}
                 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.op_id = t.{column} AND o.kind = ?1)"
            ),
            [kind],
            |r| r.get(0),
        )?;
        if orphan_rows > 0 {
            problems.push(format!(
                "{orphan_rows} {table}.{column} rows without their {kind} op"
            ));
        }
    }
    let orphan_flags: i64 = conn.query_row(
        "SELECT count(*) FROM visit_flags f WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.op_id = f.raised_op_id)
            OR (f.cleared_op_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.op_id = f.cleared_op_id))",
        [],
        |r| r.get(0),
    )?;
    if orphan_flags > 0 {
        problems.push(format!("{orphan_flags} flags raised or cleared by no op"));
    }
    // The current answer is always the latest revision in the history.
    let stale_answers: i64 = conn.query_row(
        "SELECT count(*) FROM answers a WHERE a.op_id <> (SELECT h.op_id FROM answer_history h
            WHERE h.visit_id = a.visit_id AND h.item_id = a.item_id ORDER BY h.id DESC LIMIT 1)
         OR a.revision <> (SELECT count(*) FROM answer_history h WHERE h.visit_id = a.visit_id AND h.item_id = a.item_id)",
        [],
        |r| r.get(0),
    )?;
    if stale_answers > 0 {
        problems.push(format!(
            "{stale_answers} current answers disagree with their history"
        ));
    }
    // Status and its op go together.
    let bad_status: i64 = conn.query_row(
        "SELECT count(*) FROM visits WHERE
            (status IN ('completed', 'checked_out') AND complete_op IS NULL)
         OR (status = 'checked_out' AND check_out_op IS NULL)
         OR (status = 'cancelled' AND cancel_op IS NULL)
         OR (status = 'in_progress' AND (complete_op IS NOT NULL OR cancel_op IS NOT NULL))",
        [],
        |r| r.get(0),
    )?;
    if bad_status > 0 {
        problems.push(format!(
            "{bad_status} visits whose status disagrees with their ops"
        ));
    }
    Ok(AuditReport { ops: count, problems })
}

/// The signed part of the outbox is one unbroken chain under this device's key, ending at the
/// recorded head, and every stored hash is the hash of its entry.
fn audit_chain(conn: &Connection, public_key_hex: &str, problems: &mut Vec<String>) -> Result<()> {
    let mut st =
        conn.prepare("SELECT entry, entry_hash, signature FROM outbox WHERE entry IS NOT NULL ORDER BY seq")?;
    let mut entries = Vec::new();
    let mut last_hash = None;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (entry, hash, signature): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if evidence::sha256_hex(entry.as_bytes()) != hash {
            problems.push(format!("stored entry hash {hash} is not the hash of its entry"));
        }
        last_hash = Some(hash);
        entries.push(SignedEntry {
            entry,
            signature_hex: signature,
        });
    }
    let unsigned_after_signed: i64 = conn.query_row(
        "SELECT count(*) FROM outbox WHERE entry IS NULL
           AND seq > (SELECT coalesce(min(seq), 1 << 62) FROM outbox WHERE entry IS NOT NULL)",
        [],
        |r| r.get(0),
    )?;
    if unsigned_after_signed > 0 {
        problems.push(format!(
            "{unsigned_after_signed} unsigned ops after the chain started"
        ));
    }
    for f in evidence::verify_chain(&entries, public_key_hex, None) {
        problems.push(format!(
            "chain: {} at entry {} (seq {:?})",
            f.code.as_str(),
            f.index,
            f.seq
        ));
    }
    let head: String = conn.query_row("SELECT chain_head FROM device WHERE id = 1", [], |r| r.get(0))?;
    if head != last_hash.unwrap_or_else(|| evidence::GENESIS_HASH.to_string()) {
        problems.push("device chain head is not the last entry's hash".into());
    }
    Ok(())
}
