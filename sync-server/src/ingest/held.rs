//! The rows a push batch adds to `ops`, `answer_history` and `answers`, the three written for
//! almost every op.
//!
//! On SQLite each row is written as soon as it is decided: a statement is a call into the
//! library, cheaper than holding the row. On PostgreSQL every statement is a round trip to
//! another process, and a batch of 200 ops wrote ~600 of these rows one statement each; there
//! they are held and sent a table at a time, all held rows in one statement (a JSON array read
//! by `json_to_recordset`: one statement text whatever the number of rows, so it stays
//! prepared).
//!
//! Nothing in the batch may see the difference: [`Held::send`] runs before any statement that
//! reads these tables or runs code whose reads are not listed here (`ApplyCtx::db` in
//! `apply`), and before the batch's end. No trigger or foreign key ties these tables to
//! others, so sending a table's rows later, still in order, leaves the same rows.

use crate::db::{Dialect, Transaction, params};
use crate::error::ApiResult;

/// A row of `ops`.
#[derive(serde::Serialize)]
pub(super) struct OpRow {
    pub(super) op_id: String,
    pub(super) device_id: String,
    pub(super) seq: i64,
    pub(super) kind: String,
    pub(super) entity_id: String,
    pub(super) user_id: String,
    pub(super) wall_ms: i64,
    pub(super) hlc: i64,
    pub(super) entry: String,
    pub(super) entry_hash: String,
    pub(super) signature: String,
    pub(super) received_ms: i64,
}

/// An answer: a row of `answer_history`, and the `answers` row it replaces when its logical
/// clock is later.
#[derive(serde::Serialize)]
pub(super) struct AnswerRow {
    pub(super) op_id: String,
    pub(super) visit_id: String,
    pub(super) item_id: String,
    /// The answer value as JSON text.
    pub(super) value: String,
    pub(super) note: Option<String>,
    pub(super) revision: i64,
    pub(super) answered_ms: i64,
    pub(super) hlc: i64,
}

const INSERT_OP: &str =
    "INSERT INTO ops (op_id, device_id, seq, kind, entity_id, user_id, wall_ms, hlc, entry,
        entry_hash, signature, received_ms)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

const INSERT_OPS_JSON: &str = "INSERT INTO ops (op_id, device_id, seq, kind, entity_id, user_id, wall_ms, hlc, entry,
        entry_hash, signature, received_ms)
     SELECT op_id, device_id, seq, kind, entity_id, user_id, wall_ms, hlc, entry, entry_hash, signature, received_ms
     FROM json_to_recordset(?1::json) AS r(op_id text, device_id text, seq bigint, kind text, entity_id text,
        user_id text, wall_ms bigint, hlc bigint, entry text, entry_hash text, signature text, received_ms bigint)";

const INSERT_HISTORY: &str =
    "INSERT INTO answer_history (op_id, visit_id, item_id, value, note, revision, answered_ms)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const INSERT_HISTORY_JSON: &str =
    "INSERT INTO answer_history (op_id, visit_id, item_id, value, note, revision, answered_ms)
     SELECT op_id, visit_id, item_id, value, note, revision, answered_ms
     FROM json_to_recordset(?1::json) AS r(op_id text, visit_id text, item_id text, value text, note text,
        revision bigint, answered_ms bigint)";

/// Latest by the device's logical clock, whatever order the ops arrived in.
const UPSERT_ANSWER: &str =
    "INSERT INTO answers (visit_id, item_id, value, note, revision, answered_ms, hlc, op_id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
     ON CONFLICT (visit_id, item_id) DO UPDATE SET value = excluded.value, note = excluded.note,
       revision = excluded.revision, answered_ms = excluded.answered_ms, hlc = excluded.hlc,
       op_id = excluded.op_id
     WHERE excluded.hlc > answers.hlc";

/// The same for held rows; they never hold one (visit, item) twice (an upsert cannot change a
/// row twice in one statement), see [`Held::answer`].
const UPSERT_ANSWERS_JSON: &str = "INSERT INTO answers (visit_id, item_id, value, note, revision, answered_ms, hlc, op_id)
     SELECT visit_id, item_id, value, note, revision, answered_ms, hlc, op_id
     FROM json_to_recordset(?1::json) AS r(visit_id text, item_id text, value text, note text, revision bigint,
        answered_ms bigint, hlc bigint, op_id text)
     ON CONFLICT (visit_id, item_id) DO UPDATE SET value = excluded.value, note = excluded.note,
       revision = excluded.revision, answered_ms = excluded.answered_ms, hlc = excluded.hlc,
       op_id = excluded.op_id
     WHERE excluded.hlc > answers.hlc";

/// Rows decided but not yet sent (PostgreSQL only; always empty on SQLite).
#[derive(Default)]
pub(super) struct Held {
    ops: Vec<OpRow>,
    answers: Vec<AnswerRow>,
}

impl Held {
    /// Write (SQLite) or hold (PostgreSQL) an op's row.
    pub(super) fn op(&mut self, tx: &Transaction<'_>, row: OpRow) -> ApiResult<()> {
        match tx.dialect() {
            Dialect::Sqlite => {
                tx.prepare_cached(INSERT_OP)?.execute(params![
                    row.op_id,
                    row.device_id,
                    row.seq,
                    row.kind,
                    row.entity_id,
                    row.user_id,
                    row.wall_ms,
                    row.hlc,
                    row.entry,
                    row.entry_hash,
                    row.signature,
                    row.received_ms
                ])?;
            }
            Dialect::Postgres => self.ops.push(OpRow {
                op_id: pg_text(row.op_id),
                device_id: pg_text(row.device_id),
                kind: pg_text(row.kind),
                entity_id: pg_text(row.entity_id),
                user_id: pg_text(row.user_id),
                entry: pg_text(row.entry),
                ..row
            }),
        }
        Ok(())
    }

    /// Write (SQLite) or hold (PostgreSQL) an answer's history row and its upsert.
    pub(super) fn answer(&mut self, tx: &Transaction<'_>, row: AnswerRow) -> ApiResult<()> {
        match tx.dialect() {
            Dialect::Sqlite => {
                tx.prepare_cached(INSERT_HISTORY)?.execute(params![
                    row.op_id,
                    row.visit_id,
                    row.item_id,
                    row.value,
                    row.note,
                    row.revision,
                    row.answered_ms
                ])?;
                tx.prepare_cached(UPSERT_ANSWER)?.execute(params![
                    row.visit_id,
                    row.item_id,
                    row.value,
                    row.note,
                    row.revision,
                    row.answered_ms,
                    row.hlc,
                    row.op_id
                ])?;
            }
            Dialect::Postgres => {
                let row = AnswerRow {
                    op_id: pg_text(row.op_id),
                    visit_id: pg_text(row.visit_id),
                    item_id: pg_text(row.item_id),
                    value: pg_text(row.value),
                    note: row.note.map(pg_text),
                    ..row
                };
                // A second answer to one item in the batch: the first is sent before it, so the
                // upserts run in order as they would one by one.
                if self
                    .answers
                    .iter()
                    .any(|a| a.visit_id == row.visit_id && a.item_id == row.item_id)
                {
                    self.send(tx)?;
                }
                self.answers.push(row);
            }
        }
        Ok(())
    }

    /// Send every held row (nothing to do on SQLite).
    pub(super) fn send(&mut self, tx: &Transaction<'_>) -> ApiResult<()> {
        if !self.ops.is_empty() {
            tx.prepare_cached(INSERT_OPS_JSON)?
                .execute([serde_json::to_string(&self.ops)?])?;
            self.ops.clear();
        }
        if !self.answers.is_empty() {
            let rows = serde_json::to_string(&self.answers)?;
            tx.prepare_cached(INSERT_HISTORY_JSON)?.execute([&rows])?;
            tx.prepare_cached(UPSERT_ANSWERS_JSON)?.execute([&rows])?;
            self.answers.clear();
        }
        Ok(())
    }
}

/// PostgreSQL text cannot hold U+0000 (and JSON's `\u0000` cannot become text): kept with
/// U+FFFD in its place, as every other text parameter is (`db::pg`). Only hostile input has it.
fn pg_text(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s
    }
}
