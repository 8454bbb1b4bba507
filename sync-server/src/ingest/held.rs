//! The rows a push batch adds to `ops`, `answer_history`, `answers`, `visits` and `reports`:
//! one of the first three for almost every op, and a visit row with its later changes (report
//! summary, completion) for every visit.
//!
//! On SQLite each row is written as soon as it is decided: a statement is a call into the
//! library, cheaper than holding the row. On PostgreSQL every statement is a round trip to
//! another process, and a batch of 200 ops wrote ~700 of these rows or changes one statement
//! each; there they are held and sent a table at a time, all held rows in one statement (a JSON
//! array read by `json_to_recordset`: one statement text whatever the number of rows, so it
//! stays prepared). A change to a visit still held is made to the held row ([`Held::change_visit`]):
//! the row sent is the row the insert and the updates would have left.
//!
//! Nothing in the batch may see the difference: [`Held::send`] runs before any statement that
//! reads these tables or runs code whose reads are not listed here (`ApplyCtx::db` in
//! `apply`), and before the batch's end. No foreign key ties these tables to others, and the
//! one trigger pair (a visit's `photo_received`, `migrations-postgres/009`) gives the same
//! result whichever of the visit and its photos is written first; so sending a table's rows
//! later, still in order, leaves the same rows.

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
    /// Its place in the device's receive order (`ApplyCtx::next_recv_index`).
    pub(super) recv_index: i64,
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
        entry_hash, signature, received_ms, recv_index)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

const INSERT_OPS_JSON: &str = "INSERT INTO ops (op_id, device_id, seq, kind, entity_id, user_id, wall_ms, hlc, entry,
        entry_hash, signature, received_ms, recv_index)
     SELECT op_id, device_id, seq, kind, entity_id, user_id, wall_ms, hlc, entry, entry_hash, signature, received_ms,
        recv_index
     FROM json_to_recordset(?1::json) AS r(op_id text, device_id text, seq bigint, kind text, entity_id text,
        user_id text, wall_ms bigint, hlc bigint, entry text, entry_hash text, signature text, received_ms bigint,
        recv_index bigint)";

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

/// A visit as its check-in creates it, with the columns later ops of the batch may change.
#[derive(serde::Serialize)]
pub(super) struct VisitRow {
    pub(super) id: String,
    pub(super) device_id: String,
    pub(super) user_id: String,
    pub(super) store_id: String,
    pub(super) kind: String,
    pub(super) template_id: String,
    pub(super) template_version: i64,
    pub(super) plan_id: Option<String>,
    pub(super) status: String,
    pub(super) started_wall_ms: i64,
    pub(super) geofence: String,
    pub(super) distance_m: Option<f64>,
    pub(super) device_geofence: Option<String>,
    pub(super) check_in_op: String,
    pub(super) updated_ms: i64,
    pub(super) completed_wall_ms: Option<i64>,
    pub(super) ended_wall_ms: Option<i64>,
    pub(super) report_summary: Option<String>,
    pub(super) score: Option<f64>,
    pub(super) cancel_reason: Option<String>,
}

/// What a later op of a visit changes in its row.
pub(super) enum VisitChange {
    /// `visit.report`: the summary head office's lists show.
    Report { summary: String },
    /// `visit.complete`, at the device's time, with the score fixed then.
    Complete { at_ms: i64, score: Option<f64> },
    /// `visit.check_out`.
    CheckOut { at_ms: i64 },
    /// `visit.cancel`, with the rep's reason.
    Cancel { at_ms: i64, reason: String },
}

/// A row of `reports`.
#[derive(serde::Serialize)]
pub(super) struct ReportRow {
    pub(super) op_id: String,
    pub(super) visit_id: String,
    pub(super) body: String,
    pub(super) saved_ms: i64,
}

/// A check-in's visit: a new one only (the caller looked it up, under the write lock); the
/// conflict clause is a second guard.
const INSERT_VISIT: &str =
    "INSERT INTO visits (id, device_id, user_id, store_id, kind, template_id, template_version, plan_id,
        status, started_wall_ms, geofence, distance_m, device_geofence, check_in_op, updated_ms)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
     ON CONFLICT (id) DO NOTHING";

const INSERT_VISITS_JSON: &str =
    "INSERT INTO visits (id, device_id, user_id, store_id, kind, template_id, template_version,
        plan_id, status, started_wall_ms, geofence, distance_m, device_geofence, check_in_op, updated_ms,
        completed_wall_ms, ended_wall_ms, report_summary, score, cancel_reason)
     SELECT id, device_id, user_id, store_id, kind, template_id, template_version, plan_id, status,
        started_wall_ms, geofence, distance_m, device_geofence, check_in_op, updated_ms, completed_wall_ms,
        ended_wall_ms, report_summary, score, cancel_reason
     FROM json_to_recordset(?1::json) AS r(id text, device_id text, user_id text, store_id text, kind text,
        template_id text, template_version bigint, plan_id text, status text, started_wall_ms bigint,
        geofence text, distance_m double precision, device_geofence text, check_in_op text, updated_ms bigint,
        completed_wall_ms bigint, ended_wall_ms bigint, report_summary text, score double precision,
        cancel_reason text)
     ON CONFLICT (id) DO NOTHING";

const INSERT_REPORT: &str = "INSERT INTO reports (op_id, visit_id, body, saved_ms) VALUES (?1, ?2, ?3, ?4)";

const INSERT_REPORTS_JSON: &str = "INSERT INTO reports (op_id, visit_id, body, saved_ms)
     SELECT op_id, visit_id, body, saved_ms
     FROM json_to_recordset(?1::json) AS r(op_id text, visit_id text, body text, saved_ms bigint)";

/// Rows decided but not yet sent (PostgreSQL only; always empty on SQLite).
#[derive(Default)]
pub(super) struct Held {
    visits: Vec<VisitRow>,
    reports: Vec<ReportRow>,
    ops: Vec<OpRow>,
    answers: Vec<AnswerRow>,
}

impl Held {
    /// Write (SQLite) or hold (PostgreSQL) a new visit's row.
    pub(super) fn visit(&mut self, tx: &Transaction<'_>, row: VisitRow) -> ApiResult<()> {
        match tx.dialect() {
            Dialect::Sqlite => {
                tx.prepare_cached(INSERT_VISIT)?.execute(params![
                    row.id,
                    row.device_id,
                    row.user_id,
                    row.store_id,
                    row.kind,
                    row.template_id,
                    row.template_version,
                    row.plan_id,
                    row.status,
                    row.started_wall_ms,
                    row.geofence,
                    row.distance_m,
                    row.device_geofence,
                    row.check_in_op,
                    row.updated_ms
                ])?;
            }
            Dialect::Postgres => self.visits.push(VisitRow {
                id: pg_text(row.id),
                device_id: pg_text(row.device_id),
                user_id: pg_text(row.user_id),
                store_id: pg_text(row.store_id),
                kind: pg_text(row.kind),
                template_id: pg_text(row.template_id),
                plan_id: row.plan_id.map(pg_text),
                device_geofence: row.device_geofence.map(pg_text),
                check_in_op: pg_text(row.check_in_op),
                ..row
            }),
        }
        Ok(())
    }

    /// Change a visit: its held row while it is held (not yet sent), else by an `UPDATE`. The
    /// one place that says which columns each change sets, for both.
    pub(super) fn change_visit(
        &mut self,
        tx: &Transaction<'_>,
        visit_id: &str,
        change: VisitChange,
        now_ms: i64,
    ) -> ApiResult<()> {
        if let Some(v) = self.visits.iter_mut().find(|v| v.id == visit_id) {
            match change {
                VisitChange::Report { summary } => v.report_summary = Some(summary),
                VisitChange::Complete { at_ms, score } => {
                    v.status = "completed".into();
                    v.completed_wall_ms = Some(at_ms);
                    v.score = score;
                }
                VisitChange::CheckOut { at_ms } => {
                    v.status = "checked_out".into();
                    v.ended_wall_ms = Some(at_ms);
                }
                VisitChange::Cancel { at_ms, reason } => {
                    v.status = "cancelled".into();
                    v.ended_wall_ms = Some(at_ms);
                    v.cancel_reason = Some(reason);
                }
            }
            v.updated_ms = now_ms;
            return Ok(());
        }
        match change {
            VisitChange::Report { summary } => tx
                .prepare_cached("UPDATE visits SET report_summary = ?1, updated_ms = ?2 WHERE id = ?3")?
                .execute(params![summary, now_ms, visit_id])?,
            VisitChange::Complete { at_ms, score } => tx
                .prepare_cached(
                    "UPDATE visits SET status = 'completed', completed_wall_ms = ?1, score = ?2, updated_ms = ?3
                     WHERE id = ?4",
                )?
                .execute(params![at_ms, score, now_ms, visit_id])?,
            VisitChange::CheckOut { at_ms } => tx
                .prepare_cached(
                    "UPDATE visits SET status = 'checked_out', ended_wall_ms = ?1, updated_ms = ?2 WHERE id = ?3",
                )?
                .execute(params![at_ms, now_ms, visit_id])?,
            VisitChange::Cancel { at_ms, reason } => tx
                .prepare_cached(
                    "UPDATE visits SET status = 'cancelled', ended_wall_ms = ?1, cancel_reason = ?2, updated_ms = ?3
                     WHERE id = ?4",
                )?
                .execute(params![at_ms, reason, now_ms, visit_id])?,
        };
        Ok(())
    }

    /// Write (SQLite) or hold (PostgreSQL) a report's row.
    pub(super) fn report(&mut self, tx: &Transaction<'_>, row: ReportRow) -> ApiResult<()> {
        match tx.dialect() {
            Dialect::Sqlite => {
                tx.prepare_cached(INSERT_REPORT)?.execute(params![
                    row.op_id,
                    row.visit_id,
                    row.body,
                    row.saved_ms
                ])?;
            }
            Dialect::Postgres => self.reports.push(ReportRow {
                op_id: pg_text(row.op_id),
                visit_id: pg_text(row.visit_id),
                body: pg_text(row.body),
                ..row
            }),
        }
        Ok(())
    }

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
                    row.received_ms,
                    row.recv_index
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
                    self.send_answers(tx)?;
                }
                self.answers.push(row);
            }
        }
        Ok(())
    }

    /// Send every held row (nothing to do on SQLite).
    pub(super) fn send(&mut self, tx: &Transaction<'_>) -> ApiResult<()> {
        if !self.visits.is_empty() {
            // Changed after they were held (`visit_mut`), so cleaned now.
            for v in &mut self.visits {
                v.status = pg_text(std::mem::take(&mut v.status));
                v.report_summary = v.report_summary.take().map(pg_text);
                v.cancel_reason = v.cancel_reason.take().map(pg_text);
            }
            tx.prepare_cached(INSERT_VISITS_JSON)?
                .execute([serde_json::to_string(&self.visits)?])?;
            self.visits.clear();
        }
        if !self.reports.is_empty() {
            tx.prepare_cached(INSERT_REPORTS_JSON)?
                .execute([serde_json::to_string(&self.reports)?])?;
            self.reports.clear();
        }
        if !self.ops.is_empty() {
            tx.prepare_cached(INSERT_OPS_JSON)?
                .execute([serde_json::to_string(&self.ops)?])?;
            self.ops.clear();
        }
        self.send_answers(tx)
    }

    /// Send the held answers only (the other tables' rows do not depend on them).
    fn send_answers(&mut self, tx: &Transaction<'_>) -> ApiResult<()> {
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
