//! The push's applying phase: typed entries to storage, in the batch's transaction under the
//! write lock. Per op: duplicate / conflicting duplicate / wrong user / apply (op row,
//! projection, exceptions).

use std::collections::{BTreeSet, HashMap};

use crate::db::{Connection, OptionalExtension, params};
use fieldproof_core::clock::{CLOCK_JUMP_TOLERANCE_MS, clock_drift_ms};
use fieldproof_core::evidence::{self, ChainHead, KnownKey, SignedEntry, VerifyCode};
use fieldproof_core::model::{FlagCode, GeofenceMode, LocationFix, Store as StoreRecord, TemplateRules};
use fieldproof_core::rules;
use fieldproof_core::sync::wire::payload::{
    AnswerPayload, CheckInPayload, CheckOutPayload, DeviceFlag, Entry, OpPayload as Action, PhotoManifest,
    ReportBody,
};
use fieldproof_core::sync::wire::{OpResult, OpStatus};

use crate::codes::{self, Action as Acted, ExceptionParams as P};
use crate::entry::{ParsedOp, problems_text};
use crate::error::{ApiError, ApiResult};
use crate::store::{NewException, raise, resolve, settle_visit_day, visit_day};

use super::MAX_CLOCK_SKEW_MS;
use super::held::{AnswerRow, Held, OpRow, ReportRow, VisitChange, VisitRow};
use super::known::{BatchVisits, KnownVisit};
use super::parse::Candidate;

/// Longest entry kept in `rejected_ops`: the longest the format reads
/// (`evidence::MAX_ENTRY_BYTES`), so every entry rejected for what it says is kept whole; only
/// a `too_large` one (the push body limit bounds it) is cut there.
const MAX_REJECTED_ENTRY: usize = evidence::MAX_ENTRY_BYTES;
/// Longest signature kept as received with a rejected entry. A signature is 128 hex
/// characters; twice that still shows what a faulty client sent, and nothing longer is a
/// signature (it is not kept: NULL).
const MAX_REJECTED_SIGNATURE: usize = 256;

/// What the batch found out about a device before taking the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DeviceState {
    pub(super) public_key_hex: String,
    pub(super) user_id: String,
    pub(super) revoked: bool,
    pub(super) head: ChainHead,
    /// The last receive index given to an entry of this device (`devices.recv_count`).
    pub(super) recv_count: i64,
    pub(super) head_wall_ms: Option<i64>,
    pub(super) head_boot_ms: Option<i64>,
}

pub(super) fn device_state(c: &Connection, device_id: &str) -> ApiResult<Option<DeviceState>> {
    Ok(c.prepare_cached(
        "SELECT public_key_hex, user_id, revoked_ms, head_seq, head_hash, head_hlc, head_wall_ms, head_boot_ms,
            recv_count
         FROM devices WHERE device_id = ?1",
    )?
    .query_row([device_id], |r| {
        Ok(DeviceState {
            public_key_hex: r.get(0)?,
            user_id: r.get(1)?,
            revoked: r.get::<_, Option<i64>>(2)?.is_some(),
            head: ChainHead {
                seq: r.get(3)?,
                entry_hash: r.get(4)?,
                hlc: r.get(5)?,
            },
            head_wall_ms: r.get(6)?,
            head_boot_ms: r.get(7)?,
            recv_count: r.get(8)?,
        })
    })
    .optional()?)
}

/// The stored ops a batch's ops could repeat, read once per batch instead of once per op: by
/// op id (any device's), and this device's by position in its chain. The batch adds its own
/// ops as it applies them, so each op is checked against exactly what one statement per op
/// would have found.
#[derive(Default)]
pub(super) struct StoredOps {
    /// op id → (entry hash, device).
    by_op: HashMap<String, (String, String)>,
    /// This device's seq → op id.
    by_seq: HashMap<i64, String>,
}

pub(super) fn stored_ops(c: &Connection, device_id: &str, cands: &[Candidate<'_>]) -> ApiResult<StoredOps> {
    let parsed = || cands.iter().filter_map(|c| c.parsed.as_ref().ok());
    let op_ids: Vec<&str> = parsed().map(|p| p.fields.op_id.as_str()).collect();
    let seqs: Vec<i64> = parsed().map(|p| p.fields.seq).collect();
    let mut stored = StoredOps::default();
    if op_ids.is_empty() {
        return Ok(stored);
    }
    // The lists go as one JSON array each: one statement text whatever the batch's size.
    let d = c.dialect();
    let sql = format!(
        "SELECT op_id, entry_hash, device_id, seq FROM ops WHERE op_id IN {}
         UNION ALL SELECT op_id, entry_hash, device_id, seq FROM ops WHERE device_id = ?2 AND seq IN {}",
        d.text_list("?1"),
        d.integer_list("?3")
    );
    let mut st = c.prepare_cached(&sql)?;
    let mut rows = st.query(params![
        serde_json::to_string(&op_ids)?,
        device_id,
        serde_json::to_string(&seqs)?
    ])?;
    while let Some(r) = rows.next()? {
        let (op_id, hash, dev, seq): (String, String, String, i64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        if dev == device_id {
            stored.by_seq.insert(seq, op_id.clone());
        }
        stored.by_op.insert(op_id, (hash, dev));
    }
    Ok(stored)
}

fn rejected(op: Option<&ParsedOp>, reason: &str, exceptions: Vec<String>) -> OpResult {
    OpResult {
        op_id: op.map(|p| p.fields.op_id.clone()),
        seq: op.map(|p| p.fields.seq),
        status: OpStatus::Rejected,
        reason: Some(reason.to_string()),
        exceptions,
    }
}

pub(super) struct ApplyCtx<'t, 'c> {
    pub(super) tx: &'t crate::db::Transaction<'c>,
    pub(super) templates:
        &'t mut HashMap<(String, u32), std::sync::Arc<fieldproof_core::model::CheckTemplate>>,
    pub(super) blobs: &'t dyn crate::blobs::BlobStore,
    pub(super) device_id: &'t str,
    pub(super) device_user: &'t str,
    pub(super) now_ms: i64,
    /// The days exceptions count on.
    pub(super) calendar: crate::calendar::Calendar,
    /// Visits whose summary changed: one `team_visit` change each at the end of the batch.
    pub(super) touched: BTreeSet<String>,
    /// The batch's visits as the server has them (read once at its start, kept up to date).
    pub(super) visits: BatchVisits,
    /// The batch ran code whose writes are not tracked here (`db`): exceptions may have been
    /// raised, so no shortcut of `visits` that depends on them is taken.
    pub(super) ran_elsewhere: bool,
    /// Store records read in this batch (`None`: not in the reference data).
    pub(super) stores: HashMap<String, Option<std::sync::Arc<StoreRecord>>>,
    pub(super) exceptions: Vec<String>,
    /// The ops stored before the batch and by it so far (duplicate checks).
    pub(super) stored: StoredOps,
    /// Rows of `ops` and the answer tables not yet sent (PostgreSQL).
    pub(super) held: Held,
    /// The batch's customers and leads (`crate::customers::apply`).
    pub(super) customers: crate::customers::apply::Batch,
    /// The last receive index given (`devices.recv_count`, written with the new head).
    pub(super) recv_count: i64,
}

/// Where an exception points, for one op.
struct Scope<'a> {
    user_id: Option<&'a str>,
    /// The op's entity: a visit, or for customer and lead ops their customer or lead (then
    /// `on_visit` is false and the exception names no visit).
    visit_id: &'a str,
    on_visit: bool,
    store_id: Option<String>,
    op_id: &'a str,
    /// The rejected entry's row when the op was rejected: its exceptions point there, not at
    /// the op id, which a valid op may take later.
    rejected_op: Option<i64>,
    /// The op's device wall time: when what its exceptions are about happened.
    event_ms: i64,
}

impl<'t, 'c> ApplyCtx<'t, 'c> {
    /// The transaction, once every held row is sent: for statements that read `ops` or the
    /// answer tables, or run code elsewhere (exceptions and their alerts, photo reviews,
    /// retakes), which might. Statements on other tables use `self.tx` directly.
    fn db(&mut self) -> ApiResult<&'t crate::db::Transaction<'c>> {
        self.ran_elsewhere = true;
        self.held.send(self.tx)?;
        Ok(self.tx)
    }

    /// Send every held row (the batch's end, before anything reads them).
    pub(super) fn send_held(&mut self) -> ApiResult<()> {
        self.held.send(self.tx)
    }

    /// A visit's user, store and template never change once it exists: from what the batch
    /// read at its start, else looked up (and kept).
    fn visit(&mut self, visit_id: &str) -> ApiResult<Option<KnownVisit>> {
        if let Some(known) = self.visits.get(visit_id) {
            return Ok(known.cloned());
        }
        let v: Option<KnownVisit> = self
            .tx
            .prepare_cached(
                "SELECT user_id, store_id, template_id, template_version FROM visits WHERE id = ?1",
            )?
            .query_row([visit_id], |r| {
                Ok(KnownVisit {
                    user_id: r.get(0)?,
                    store_id: r.get(1)?,
                    template_id: r.get(2)?,
                    template_version: r.get(3)?,
                })
            })
            .optional()?;
        if let Some(v) = &v {
            self.visits.stored(visit_id, v.clone());
        }
        Ok(v)
    }

    fn raise(
        &mut self,
        scope: &Scope<'_>,
        code: &str,
        subject: &str,
        photo: Option<&str>,
        detail: String,
        // Always given, except for a finding the core may add later whose values this server
        // cannot name (it then reads with its code's generic sentence).
        params: impl Into<Option<P>>,
    ) -> ApiResult<()> {
        let params = params.into().map(|p| p.to_json());
        let tx = self.db()?;
        let visit = scope.on_visit.then_some(scope.visit_id);
        let e = NewException {
            event_ms: scope.event_ms,
            visit_day: visit_day(tx, self.calendar, visit, scope.event_ms)?,
            code,
            device_id: Some(self.device_id),
            user_id: scope.user_id,
            visit_id: visit,
            store_id: scope.store_id.as_deref(),
            op_id: scope.rejected_op.is_none().then_some(scope.op_id),
            rejected_op: scope.rejected_op,
            photo_sha256: photo,
            subject,
            detail,
            params,
        };
        if raise(tx, self.calendar, &e, self.now_ms)? {
            self.exceptions.push(code.to_string());
        }
        Ok(())
    }

    /// The next index in the device's receive order: every entry received, applied or
    /// rejected, takes one (a duplicate of a stored one is not received again).
    fn next_recv_index(&mut self) -> i64 {
        self.recv_count += 1;
        self.recv_count
    }

    /// Keep a rejected entry whole, with its signature, reason and the reason's detail, so the
    /// verdict can be checked again; returns its row (`rejected_ops.id`).
    fn store_rejected(&mut self, c: &Candidate<'_>, reason: &str, detail: Option<&str>) -> ApiResult<i64> {
        let parsed = c.parsed.as_ref().ok();
        let mut entry = c.signed.entry.as_str();
        if entry.len() > MAX_REJECTED_ENTRY {
            let mut end = MAX_REJECTED_ENTRY;
            while !entry.is_char_boundary(end) {
                end -= 1;
            }
            entry = &entry[..end];
        }
        let signature = Some(c.signed.signature_hex.as_str()).filter(|s| s.len() <= MAX_REJECTED_SIGNATURE);
        let recv_index = self.next_recv_index();
        let id: i64 = self
            .tx
            .prepare_cached(
                "INSERT INTO rejected_ops (device_id, op_id, seq, kind, entity_id, reason, entry, received_ms,
                    recv_index, signature, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
            )?
            .query_row(
                params![
                    self.device_id,
                    parsed.map(|p| &p.fields.op_id),
                    parsed.map(|p| p.fields.seq),
                    parsed.map(|p| &p.fields.kind),
                    parsed.map(|p| &p.fields.entity_id),
                    reason,
                    entry,
                    self.now_ms,
                    recv_index,
                    signature,
                    detail
                ],
                |r| r.get(0),
            )?;
        Ok(id)
    }

    fn reject(&mut self, c: &Candidate<'_>, reason: &str, detail: Option<&str>) -> ApiResult<OpResult> {
        self.store_rejected(c, reason, detail)?;
        Ok(rejected(c.parsed.as_ref().ok(), reason, vec![]))
    }

    /// Decide and apply one op.
    pub(super) fn one(
        &mut self,
        c: &Candidate<'_>,
        head: &mut ChainHead,
        head_time: &mut (Option<i64>, Option<i64>),
    ) -> ApiResult<OpResult> {
        let op = match &c.parsed {
            Ok(op) => op,
            Err(why) => {
                tracing::debug!(why = %why, "malformed entry");
                // The case first ("not_canonical: …"): what a reader of the row sorts by.
                return self.reject(c, VerifyCode::MalformedEntry.as_str(), Some(&why.to_string()));
            }
        };
        let f = &op.fields;
        let visit_id = f.entity_id.as_str();
        // Customer and lead ops are about no visit.
        let on_visit = op.action.visit_id().is_some();
        if c.bad_signature {
            let code = VerifyCode::BadSignature.as_str();
            let detail = format!("op seq {} does not verify with the device key", f.seq);
            let row = self.store_rejected(c, code, Some(&detail))?;
            let scope = Scope {
                user_id: op.action.named_user(),
                visit_id,
                on_visit,
                store_id: None,
                op_id: &f.op_id,
                rejected_op: Some(row),
                event_ms: f.time.wall_ms,
            };
            self.raise(
                &scope,
                code,
                &f.op_id,
                None,
                detail,
                P::BadSignature(codes::BadSignature { seq: f.seq }),
            )?;
            return Ok(rejected(Some(op), code, vec![code.into()]));
        }

        // Idempotency: by op id, and by position in the device's chain.
        let same_op: Option<(String, String)> = self.stored.by_op.get(&f.op_id).cloned();
        let same_seq: Option<String> = self
            .stored
            .by_seq
            .get(&f.seq)
            .filter(|other| **other != f.op_id)
            .cloned();
        let conflict = match (same_op, same_seq) {
            (Some((hash, dev)), None) if hash == c.entry_hash && dev == self.device_id => {
                return Ok(OpResult {
                    op_id: Some(f.op_id.clone()),
                    seq: Some(f.seq),
                    status: OpStatus::Duplicate,
                    reason: None,
                    exceptions: vec![],
                });
            }
            (Some(_), _) => Some((
                "another entry with this op id is already stored".to_string(),
                codes::Fork::OpIdReused,
                None,
            )),
            (None, Some(other)) => Some((
                format!("op {other} is already stored at seq {}", f.seq),
                codes::Fork::SeqTaken,
                Some(other),
            )),
            (None, None) => None,
        };
        if let Some((detail, fork, other_op_id)) = conflict {
            let row = self.store_rejected(c, "conflicting_duplicate", Some(&detail))?;
            let scope = Scope {
                user_id: Some(self.device_user),
                visit_id,
                on_visit,
                store_id: None,
                op_id: &f.op_id,
                rejected_op: Some(row),
                event_ms: f.time.wall_ms,
            };
            let params = P::Chain(codes::Chain {
                seq: f.seq,
                previous_seq: None,
                fork: Some(fork),
                other_op_id,
            });
            let code = VerifyCode::ChainFork.as_str();
            self.raise(&scope, code, &f.op_id, None, detail, params)?;
            return Ok(rejected(Some(op), "conflicting_duplicate", vec![code.into()]));
        }

        // The acting user must be the device's user.
        let visit = if on_visit { self.visit(visit_id)? } else { None };
        let acting = match (op.action.named_user(), &visit) {
            (Some(u), _) => Some(u.to_string()),
            (None, Some(v)) => Some(v.user_id.clone()),
            (None, None) => {
                // The check-in may have been refused for this reason already.
                let refused: Option<i64> = self
                    .tx
                    .prepare_cached(
                        "SELECT 1 FROM rejected_ops WHERE device_id = ?1 AND entity_id = ?2
                           AND kind = 'visit.check_in' AND reason = 'wrong_user' LIMIT 1",
                    )?
                    .query_row(params![self.device_id, visit_id], |r| r.get(0))
                    .optional()?;
                refused.map(|_| String::new())
            }
        };
        let advance = |head: &mut ChainHead, head_time: &mut (Option<i64>, Option<i64>)| {
            if f.seq > head.seq {
                *head = ChainHead {
                    seq: f.seq,
                    entry_hash: c.entry_hash.clone(),
                    hlc: f.time.hlc,
                };
                *head_time = (Some(f.time.wall_ms), Some(f.time.boot_ms));
            }
        };
        if acting.as_deref().is_some_and(|u| u != self.device_user) {
            // Authentic, so it still links the chain: the next op must not show a gap.
            advance(head, head_time);
            return self.reject(c, "wrong_user", None);
        }

        // A supervisor's photo review follows the web's rules (`crate::retakes`); a refused
        // one is authentic too, so it links the chain like `wrong_user`.
        if let Action::PhotoReview(p) = &op.action {
            let reviewer = crate::retakes::Reviewer::Field {
                user_id: self.device_user,
                op_id: &f.op_id,
            };
            match crate::retakes::review_in(
                self.db()?,
                self.calendar,
                reviewer,
                &p.photo_id,
                Some(&p.visit_id),
                p.verdict.as_str(),
                p.reason.as_deref(),
                &p.review_id,
                self.now_ms,
            ) {
                Ok(_) => {}
                Err(crate::retakes::ReviewError::Storage(e)) => return Err(ApiError::Internal(e)),
                Err(e) => {
                    advance(head, head_time);
                    return self.reject(c, e.code(), None);
                }
            }
        }

        // Apply.
        let store_id = match (&op.action, &visit) {
            (Action::CheckIn(p), _) => Some(p.store_id.clone()),
            (Action::Photo(p), _) => Some(p.store_id.clone()),
            (_, Some(v)) => Some(v.store_id.clone()),
            _ => None,
        };
        let scope = Scope {
            user_id: Some(self.device_user),
            visit_id,
            on_visit,
            store_id,
            op_id: &f.op_id,
            rejected_op: None,
            event_ms: f.time.wall_ms,
        };
        let mut codes: Vec<String> = Vec::new();
        let recv_index = self.next_recv_index();
        self.held.op(
            self.tx,
            OpRow {
                op_id: f.op_id.clone(),
                device_id: self.device_id.to_string(),
                seq: f.seq,
                kind: f.kind.clone(),
                entity_id: f.entity_id.clone(),
                user_id: self.device_user.to_string(),
                wall_ms: f.time.wall_ms,
                hlc: f.time.hlc,
                entry: c.signed.entry.clone(),
                entry_hash: c.entry_hash.clone(),
                signature: c.signed.signature_hex.clone(),
                received_ms: self.now_ms,
                recv_index,
            },
        )?;
        self.stored.by_op.insert(
            f.op_id.clone(),
            (c.entry_hash.clone(), self.device_id.to_string()),
        );
        self.stored.by_seq.insert(f.seq, f.op_id.clone());

        for code in &c.chain {
            let detail = match *code {
                "chain_gap" => format!("seq {} follows seq {}: entries are missing", f.seq, head.seq),
                "reordered" => format!("seq {} arrived after seq {}", f.seq, head.seq),
                "backdated" => format!("seq {} has an earlier clock than the entry before it", f.seq),
                _ => format!("seq {} does not link to the previous entry's hash", f.seq),
            };
            let params = P::Chain(codes::Chain {
                seq: f.seq,
                previous_seq: Some(head.seq),
                fork: (*code == "chain_fork").then_some(codes::Fork::BrokenLink),
                other_op_id: None,
            });
            self.raise(&scope, code, &f.op_id, None, detail, params)?;
            push_code(&mut codes, code);
        }

        // The device's clock: moved against its boot clock since the previous entry (the device
        // flags this too, but not on every kind of op), or off from the server's.
        if f.seq > head.seq
            && let (Some(w), Some(b)) = *head_time
            && let Some(drift) = clock_drift_ms(w, b, f.time.wall_ms, f.time.boot_ms)
            && drift.abs() > CLOCK_JUMP_TOLERANCE_MS
        {
            self.raise(
                &scope,
                "clock_jump",
                "",
                None,
                format!("device clock moved {:+} s against time since boot", drift / 1000),
                P::ClockJump(codes::ClockJump {
                    observer: codes::Observer::Server,
                    drift_s: Some(drift / 1000),
                    seq: f.seq,
                }),
            )?;
            push_code(&mut codes, "clock_jump");
        }
        // `server_offset_ms` is what the device last learnt from the server (server minus
        // device): large means its clock was wrong when the op was made. Without one, an op
        // time ahead of the server's own clock can only come from a clock set forward.
        let offset = f.time.server_offset_ms.unwrap_or(0);
        let ahead = f.time.wall_ms.saturating_add(offset).saturating_sub(self.now_ms);
        let skew = if offset.abs() > MAX_CLOCK_SKEW_MS {
            Some((
                format!(
                    "device clock was {:+} s off server time when the op was made",
                    -offset / 1000
                ),
                codes::SkewKind::Offset,
                -offset / 1000,
            ))
        } else if ahead > MAX_CLOCK_SKEW_MS {
            Some((
                format!("op time is {} s ahead of server time", ahead / 1000),
                codes::SkewKind::Ahead,
                ahead / 1000,
            ))
        } else {
            None
        };
        if let Some((detail, kind, seconds)) = skew {
            let params = P::ClockSkew(codes::ClockSkew {
                kind,
                seconds,
                seq: f.seq,
            });
            self.raise(&scope, "clock_skew", "", None, detail, params)?;
            push_code(&mut codes, "clock_skew");
        }

        match &op.action {
            Action::CheckIn(p) => self.check_in(p, f, &scope, &mut codes)?,
            Action::Answer(p) => self.answer(p, f, &scope, &mut codes)?,
            Action::Photo(p) => self.photo(p, f, c, &scope, &mut codes)?,
            Action::Report(p) => {
                self.held.report(
                    self.tx,
                    ReportRow {
                        op_id: f.op_id.clone(),
                        visit_id: visit_id.to_string(),
                        body: serde_json::to_string(&p.report)?,
                        saved_ms: f.time.wall_ms,
                    },
                )?;
                let summary = report_summary(&p.report);
                self.held
                    .change_visit(self.tx, visit_id, VisitChange::Report { summary }, self.now_ms)?;
            }
            Action::Complete(p) => {
                let change = VisitChange::Complete {
                    at_ms: f.time.wall_ms,
                    score: p.score.as_ref().and_then(|s| s.total),
                };
                self.held.change_visit(self.tx, visit_id, change, self.now_ms)?;
                // The client uploads a photo before pushing its op, so a completed visit's
                // photo without bytes by now is missing (resolved if the bytes come later).
                // (Not asked of a visit known to have no such photo.)
                let missing: Vec<(String, String)> = if !self.visits.may_await_photos(visit_id) {
                    Vec::new()
                } else {
                    let mut st = self.tx.prepare_cached(
                        "SELECT photo_id, sha256 FROM photos WHERE visit_id = ?1 AND received = 0",
                    )?;
                    let rows = st.query_map([visit_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    rows.collect::<Result<_, _>>()?
                };
                for (photo_id, sha) in missing {
                    self.raise(
                        &scope,
                        "photo_missing",
                        &photo_id,
                        Some(&sha),
                        format!("visit completed but the bytes of photo {photo_id} have not arrived"),
                        P::Photo(codes::PhotoRef {
                            photo_id: photo_id.clone(),
                            sha256: sha.clone(),
                        }),
                    )?;
                    push_code(&mut codes, "photo_missing");
                }
            }
            Action::CheckOut(p) => self.check_out(p, f, &scope, &mut codes)?,
            Action::Cancel(p) => {
                let change = VisitChange::Cancel {
                    at_ms: f.time.wall_ms,
                    reason: p.reason.clone(),
                };
                self.held.change_visit(self.tx, visit_id, change, self.now_ms)?;
            }
            // Recorded before the op row, above.
            Action::PhotoReview(_) => {}
            Action::CustomerCreate(_)
            | Action::CustomerUpdate(_)
            | Action::FollowUp(_)
            | Action::StageChange(_)
            | Action::CustomerPhoto(_)
            | Action::CustomerClaim(_)
            | Action::CustomerRelease(_)
            | Action::LeadClaim(_)
            | Action::LeadClose(_) => self.customer_op(op, &scope, &mut codes)?,
            Action::Review(p) => {
                let r = &p.review;
                self.tx
                    .prepare_cached(
                        "INSERT INTO reviews (id, visit_id, reviewer_id, verdict, comment, reviewed_ms, op_id)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![
                        r.id,
                        r.visit_id,
                        r.reviewer_id,
                        r.verdict.as_str(),
                        r.comment,
                        r.reviewed_at_ms,
                        f.op_id
                    ])?;
            }
        }
        if !on_visit {
            // Customer and lead ops: published at the batch's end (`customers::apply`).
        } else if visit.is_some() || matches!(op.action, Action::CheckIn(_)) {
            if !matches!(op.action, Action::Review(_)) {
                self.touched.insert(visit_id.to_string());
            }
        } else if !matches!(op.action, Action::Review(_)) {
            self.raise(
                &scope,
                "unknown_visit",
                visit_id,
                None,
                format!("{} for a visit whose check-in the server does not have", f.kind),
                P::UnknownVisit(codes::UnknownVisit {
                    op_kind: f.kind.clone(),
                    seq: f.seq,
                }),
            )?;
            push_code(&mut codes, "unknown_visit");
        }
        advance(head, head_time);
        Ok(OpResult {
            op_id: Some(f.op_id.clone()),
            seq: Some(f.seq),
            status: OpStatus::Applied,
            reason: None,
            exceptions: codes,
        })
    }

    /// A customer or lead op (`crate::customers::apply`), its findings raised on the op.
    fn customer_op(&mut self, op: &ParsedOp, scope: &Scope<'_>, codes: &mut Vec<String>) -> ApiResult<()> {
        let f = &op.fields;
        let info = crate::customers::apply::OpInfo {
            op_id: &f.op_id,
            kind: &f.kind,
            user_id: self.device_user,
            device_id: self.device_id,
            at_ms: event_time(f, self.now_ms),
            now_ms: self.now_ms,
        };
        let findings = self.customers.apply(self.tx, &info, &op.action)?;
        for finding in findings {
            self.raise(
                scope,
                finding.code,
                &finding.subject,
                None,
                finding.detail,
                finding.params,
            )?;
            push_code(codes, finding.code);
        }
        Ok(())
    }

    /// The check-in's scanned store code (扫码签到), verified against the store's keys as they
    /// were at the check-in's time and recorded in `visit_store_codes`; a code that does not
    /// verify is kept, with a `store_code_invalid` exception.
    fn store_code(
        &mut self,
        p: &CheckInPayload,
        f: &Entry,
        scope: &Scope<'_>,
        codes: &mut Vec<String>,
    ) -> ApiResult<()> {
        let Some(proof) = &p.store_code else {
            return Ok(());
        };
        let at_ms = event_time(f, self.now_ms);
        let verdict = crate::customers::store_keys::verify(self.tx, &p.store_id, proof, at_ms)?;
        let (kid, step, verified) = match &verdict {
            Ok((kid, step)) => (kid.clone(), *step, true),
            Err(_) => (proof.kid.clone(), proof.step, false),
        };
        if verified {
            // The scan proves the rep stood at the store: a real interaction with their
            // customers linked to it.
            self.customers
                .verified_visit(self.tx, &p.user_id, &p.store_id, at_ms)?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO visit_store_codes (visit_id, store_id, kid, step, verified)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            )?
            .execute(params![p.visit_id, p.store_id, kid, step, verified])?;
        if let Err(problem) = verdict {
            use fieldproof_core::customers::StoreCodeProblem as Pr;
            let fault = match problem {
                Pr::Malformed => codes::StoreCodeFault::Malformed,
                Pr::WrongStore => codes::StoreCodeFault::WrongStore,
                Pr::UnknownKey => codes::StoreCodeFault::UnknownKey,
                Pr::BadSignature => codes::StoreCodeFault::BadSignature,
                Pr::Expired => codes::StoreCodeFault::Expired,
            };
            self.raise(
                scope,
                "store_code_invalid",
                "check_in",
                None,
                format!("store code at check-in: {problem}"),
                P::StoreCodeInvalid(codes::StoreCodeInvalid {
                    store_id: p.store_id.clone(),
                    problem: fault,
                    step: Some(proof.step),
                }),
            )?;
            push_code(codes, "store_code_invalid");
        }
        Ok(())
    }

    /// A store's record, read once per batch (a push does not change reference data, and a
    /// rep's batch is mostly visits to a few stores).
    fn store_record(&mut self, store_id: &str) -> ApiResult<Option<std::sync::Arc<StoreRecord>>> {
        if let Some(s) = self.stores.get(store_id) {
            return Ok(s.clone());
        }
        let body: Option<String> = self
            .tx
            .prepare_cached("SELECT body FROM stores WHERE id = ?1")?
            .query_row([store_id], |r| r.get(0))
            .optional()?;
        let record = body
            .and_then(|b| serde_json::from_str::<StoreRecord>(&b).ok())
            .map(std::sync::Arc::new);
        self.stores.insert(store_id.to_string(), record.clone());
        Ok(record)
    }

    fn template_rules(&mut self, id: &str, version: u32) -> ApiResult<(TemplateRules, Option<GeofenceMode>)> {
        Ok(match self.template(id, version)? {
            Some(t) => (t.rules.clone(), t.rules.geofence_mode),
            None => (TemplateRules::default(), None),
        })
    }

    /// A visit's template, cached per batch; None when the server does not have it.
    fn template(
        &mut self,
        id: &str,
        version: u32,
    ) -> ApiResult<Option<std::sync::Arc<fieldproof_core::model::CheckTemplate>>> {
        let key = (id.to_string(), version);
        let t = match self.templates.get(&key) {
            Some(t) => Some(t.clone()),
            None => {
                let body: Option<String> = self
                    .tx
                    .prepare_cached("SELECT body FROM templates WHERE id = ?1 AND version = ?2")?
                    .query_row(params![id, version], |r| r.get(0))
                    .optional()?;
                let parsed =
                    body.and_then(|b| serde_json::from_str::<fieldproof_core::model::CheckTemplate>(&b).ok());
                parsed.map(|t| {
                    let t = std::sync::Arc::new(t);
                    self.templates.insert(key, t.clone());
                    t
                })
            }
        };
        Ok(t)
    }

    fn check_in(
        &mut self,
        p: &CheckInPayload,
        f: &Entry,
        scope: &Scope<'_>,
        codes: &mut Vec<String>,
    ) -> ApiResult<()> {
        let store = self.store_record(&p.store_id)?;
        let (verdict, distance) = match &store {
            Some(store) => {
                let (rules_, template_mode) = self.template_rules(&p.template_id, p.template_version)?;
                let mode = store
                    .geofence_mode
                    .or(template_mode)
                    .unwrap_or(GeofenceMode::Flag);
                // Recomputed from the server's store record, at the device's check-in time.
                let outcome = rules::check_location(store, &rules_, mode, p.fix.as_ref(), f.time.wall_ms);
                for flag in &outcome.flags {
                    let code = flag.code.as_str();
                    let params = check_in_params(flag.code, store, &rules_, p.fix.as_ref(), &outcome, f);
                    self.raise(scope, code, "check_in", None, flag.detail.clone(), params)?;
                    push_code(codes, code);
                }
                (outcome.verdict.as_str(), outcome.distance_m)
            }
            None => {
                self.raise(
                    scope,
                    "unknown_store",
                    &p.store_id,
                    None,
                    format!("store {:?} is not in the server's reference data", p.store_id),
                    P::UnknownStore(codes::UnknownStore {
                        store_id: p.store_id.clone(),
                    }),
                )?;
                push_code(codes, "unknown_store");
                ("not_checked", None)
            }
        };
        // Looked up under the write lock: nothing else can store it before the batch commits.
        if self.visit(&p.visit_id)?.is_none() {
            self.held.visit(
                self.tx,
                VisitRow {
                    id: p.visit_id.clone(),
                    device_id: self.device_id.to_string(),
                    user_id: p.user_id.clone(),
                    store_id: p.store_id.clone(),
                    kind: p.kind.as_str().to_string(),
                    template_id: p.template_id.clone(),
                    template_version: i64::from(p.template_version),
                    plan_id: p.plan_id.clone(),
                    status: "in_progress".into(),
                    started_wall_ms: f.time.wall_ms,
                    geofence: verdict.to_string(),
                    distance_m: distance,
                    device_geofence: p.geofence.as_ref().map(|g| g.as_str().to_string()),
                    check_in_op: f.op_id.clone(),
                    updated_ms: self.now_ms,
                    completed_wall_ms: None,
                    ended_wall_ms: None,
                    report_summary: None,
                    score: None,
                    cancel_reason: None,
                },
            )?;
            // Exceptions raised before the check-in arrived (ops that overtook it) count on its
            // day from now on; not asked when the visit had none and the batch raised none.
            if self.ran_elsewhere || self.visits.had_exceptions(&p.visit_id) {
                settle_visit_day(self.tx, self.calendar, &p.visit_id, f.time.wall_ms)?;
            }
            // Just stored with these: later ops of the batch need not read them back.
            self.visits.stored(
                &p.visit_id,
                KnownVisit {
                    user_id: p.user_id.clone(),
                    store_id: p.store_id.clone(),
                    template_id: p.template_id.clone(),
                    template_version: p.template_version,
                },
            );
        }
        self.store_code(p, f, scope, codes)?;
        self.device_flags(&p.flags, f.seq, scope, codes)
    }

    /// Flags only the device can know (its boot clock, a price gap it computed) come from the
    /// signed payload; location flags are recomputed instead.
    fn device_flags(
        &mut self,
        flags: &[DeviceFlag],
        seq: i64,
        scope: &Scope<'_>,
        codes: &mut Vec<String>,
    ) -> ApiResult<()> {
        for flag in flags {
            let (code, subject, params) = match flag.code.known() {
                Some(FlagCode::ClockJump) => (
                    "clock_jump",
                    "",
                    P::ClockJump(codes::ClockJump {
                        observer: codes::Observer::Device,
                        drift_s: device_drift_s(&flag.detail),
                        seq,
                    }),
                ),
                Some(FlagCode::PriceGapUnexplained) => {
                    let item = flag.item_id.as_deref().unwrap_or("");
                    (
                        "price_gap_unexplained",
                        item,
                        P::PriceGap(self.price_gap(scope, item)?),
                    )
                }
                _ => continue,
            };
            let detail = if flag.detail.is_empty() {
                format!("{code} flagged by the device")
            } else {
                flag.detail.clone()
            };
            self.raise(scope, code, subject, None, detail, params)?;
            push_code(codes, code);
        }
        Ok(())
    }

    /// The parameters of a price gap the device flagged on `item_id` (the competitor's price
    /// item): the prices are the visit's answers as the server holds them now, the threshold the
    /// visit's template's. What the server lacks stays absent.
    fn price_gap(&mut self, scope: &Scope<'_>, item_id: &str) -> ApiResult<codes::PriceGap> {
        // It reads the visit's answers.
        let tx = self.db()?;
        let template = match self.visit(scope.visit_id)? {
            Some(v) => self.template(&v.template_id, v.template_version)?,
            None => None,
        };
        let own_item_id = template
            .as_ref()
            .and_then(|t| t.item(item_id))
            .and_then(|i| i.compare_to_item_id.clone());
        let price = |item: &str| -> ApiResult<Option<i64>> {
            let value: Option<String> = tx
                .prepare_cached("SELECT value FROM answers WHERE visit_id = ?1 AND item_id = ?2")?
                .query_row([scope.visit_id, item], |r| r.get(0))
                .optional()?;
            Ok(value.and_then(|v| match serde_json::from_str(&v) {
                Ok(fieldproof_core::model::AnswerValue::Price { cents }) => Some(cents),
                _ => None,
            }))
        };
        let competitor_cents = price(item_id)?;
        let own_cents = match &own_item_id {
            Some(own) => price(own)?,
            None => None,
        };
        let gap_pct = match (competitor_cents, own_cents) {
            (Some(theirs), Some(ours)) if ours > 0 => {
                Some(((ours - theirs) as f64 / ours as f64 * 1000.0).round() / 10.0)
            }
            _ => None,
        };
        Ok(codes::PriceGap {
            item_id: item_id.to_string(),
            own_item_id,
            competitor_cents,
            own_cents,
            gap_pct,
            threshold_pct: template.map(|t| (t.rules.price_gap_threshold * 1000.0).round() / 10.0),
        })
    }

    fn answer(
        &mut self,
        p: &AnswerPayload,
        f: &Entry,
        scope: &Scope<'_>,
        codes: &mut Vec<String>,
    ) -> ApiResult<()> {
        self.held.answer(
            self.tx,
            AnswerRow {
                op_id: f.op_id.clone(),
                visit_id: p.visit_id.clone(),
                item_id: p.item_id.clone(),
                value: serde_json::to_string(&p.value)?,
                note: p.note.clone(),
                revision: i64::from(p.revision),
                answered_ms: f.time.wall_ms,
                hlc: f.time.hlc,
            },
        )?;
        // The visit's answer count is brought up to date once per batch (publish_team_visits).
        self.device_flags(&p.raised, f.seq, scope, codes)?;
        for item in &p.cleared {
            resolve(
                self.db()?,
                "price_gap_unexplained",
                &p.visit_id,
                item,
                self.device_user,
                &format!("negotiation note added on the device (op {})", f.op_id),
                self.now_ms,
            )?;
        }
        Ok(())
    }

    fn photo(
        &mut self,
        p: &PhotoManifest,
        f: &Entry,
        c: &Candidate<'_>,
        scope: &Scope<'_>,
        codes: &mut Vec<String>,
    ) -> ApiResult<()> {
        // Bytes that arrived before the op: take the verdict made then if it was made on this
        // very manifest, else verify this manifest against the stored file now.
        let blob: Option<(String, bool, Option<String>)> = self
            .tx
            .prepare_cached("SELECT manifest_hash, verified, problems FROM blobs WHERE sha256 = ?1")?
            .query_row([&p.image_sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (received, verified, problems) = match blob {
            None => (false, false, None),
            Some((hash, verified, problems)) if hash == c.entry_hash => (true, verified, problems),
            Some(_) => {
                let verdict = self.verify_stored(&p.image_sha256, c)?;
                (true, verdict.0, verdict.1)
            }
        };
        self.tx
            .prepare_cached(
                "INSERT INTO photos (photo_id, op_id, visit_id, device_id, user_id, store_id, item_id, photo_kind,
                    sha256, byte_len, evidence_code, received, verified, problems)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (photo_id) DO NOTHING",
            )?
            .execute(params![
                p.photo_id,
                f.op_id,
                p.visit_id,
                self.device_id,
                p.user_id,
                p.store_id,
                p.item_id,
                p.photo_kind.as_str(),
                p.image_sha256,
                p.byte_len,
                p.evidence_code,
                received,
                verified,
                problems
            ])?;
        self.visits.photo_added(&p.visit_id);
        if let Some(request) = &p.retake_request_id {
            crate::retakes::link_photo(
                self.db()?,
                request,
                &p.photo_id,
                self.device_user,
                &p.store_id,
                received,
                self.now_ms,
            )?;
        }
        if p.location.as_ref().is_some_and(|l| l.is_mock) {
            self.raise(
                scope,
                "mock_location",
                &p.photo_id,
                Some(&p.image_sha256),
                "the location service reported a mock location when the photo was taken".into(),
                P::MockLocation(codes::MockLocation {
                    action: Acted::Photo,
                    photo_id: Some(p.photo_id.clone()),
                    sha256: Some(p.image_sha256.clone()),
                }),
            )?;
            push_code(codes, "mock_location");
        }
        Ok(())
    }

    fn verify_stored(&self, sha256: &str, c: &Candidate<'_>) -> ApiResult<(bool, Option<String>)> {
        // A store that fails is an outage (the push is retried), not a missing file.
        let Some(bytes) = crate::blobs::read_photo(self.blobs, sha256)? else {
            return Ok((false, Some("file_missing".into())));
        };
        let key: String = self
            .tx
            .prepare_cached("SELECT public_key_hex FROM devices WHERE device_id = ?1")?
            .query_row([self.device_id], |r| r.get(0))?;
        let verdict = evidence::verify_photo(
            &bytes,
            &SignedEntry {
                entry: c.signed.entry.clone(),
                signature_hex: c.signed.signature_hex.clone(),
            },
            &[KnownKey {
                device_id: self.device_id.to_string(),
                public_key_hex: key,
                revoked_ms: None,
            }],
            None,
        );
        Ok((verdict.verified, problems_text(&verdict.problems)))
    }

    fn check_out(
        &mut self,
        p: &CheckOutPayload,
        f: &Entry,
        scope: &Scope<'_>,
        codes: &mut Vec<String>,
    ) -> ApiResult<()> {
        let change = VisitChange::CheckOut {
            at_ms: f.time.wall_ms,
        };
        self.held
            .change_visit(self.tx, &p.visit_id, change, self.now_ms)?;
        let Some(fix) = &p.fix else { return Ok(()) };
        if fix.is_mock {
            self.raise(
                scope,
                "mock_location",
                "check_out",
                None,
                "mock location at check-out".into(),
                P::MockLocation(codes::MockLocation {
                    action: Acted::CheckOut,
                    photo_id: None,
                    sha256: None,
                }),
            )?;
            push_code(codes, "mock_location");
        }
        let template = self
            .visit(&p.visit_id)?
            .map(|v| (v.template_id, v.template_version));
        let (Some(store_id), Some((tid, tver))) = (scope.store_id.as_deref(), template) else {
            return Ok(());
        };
        let Some(store) = self.store_record(store_id)? else {
            return Ok(());
        };
        let (_, template_mode) = self.template_rules(&tid, tver)?;
        let mode = store
            .geofence_mode
            .or(template_mode)
            .unwrap_or(GeofenceMode::Flag);
        let d =
            rules::distance_m(store.latitude, store.longitude, fix.latitude, fix.longitude) - fix.accuracy_m;
        if mode != GeofenceMode::Off && d > store.geofence_radius_m {
            self.raise(
                scope,
                "outside_geofence",
                "check_out",
                None,
                format!(
                    "checked out {:.0} m from the store, radius {:.0} m",
                    d, store.geofence_radius_m
                ),
                P::OutsideGeofence(codes::OutsideGeofence {
                    action: Acted::CheckOut,
                    distance_m: d,
                    radius_m: store.geofence_radius_m,
                    store_id: store.id.clone(),
                }),
            )?;
            push_code(codes, "outside_geofence");
        }
        Ok(())
    }
}

/// The parameters of a check-in location finding, from the values the rule was given (the
/// core's flag carries only an English line).
fn check_in_params(
    code: FlagCode,
    store: &StoreRecord,
    rules_: &TemplateRules,
    fix: Option<&LocationFix>,
    outcome: &rules::GeofenceOutcome,
    f: &Entry,
) -> Option<P> {
    let action = Acted::CheckIn;
    Some(match (code, fix) {
        (FlagCode::NoFix, _) => P::NoFix(codes::NoFix { action }),
        (FlagCode::MockLocation, _) => P::MockLocation(codes::MockLocation {
            action,
            photo_id: None,
            sha256: None,
        }),
        (FlagCode::LowAccuracy, Some(fix)) => P::LowAccuracy(codes::LowAccuracy {
            action,
            accuracy_m: fix.accuracy_m,
            limit_m: rules_.max_accuracy_m,
        }),
        (FlagCode::StaleFix, Some(fix)) => P::StaleFix(codes::StaleFix {
            action,
            age_s: (f.time.wall_ms - fix.fix_time_ms) / 1000,
            limit_s: rules::MAX_FIX_AGE_MS / 1000,
        }),
        (FlagCode::OutsideGeofence, _) => P::OutsideGeofence(codes::OutsideGeofence {
            action,
            distance_m: outcome.distance_m?,
            radius_m: store.geofence_radius_m,
            store_id: store.id.clone(),
        }),
        _ => return None,
    })
}

/// The seconds of a clock jump the device flagged, from the core's line ("device clock moved
/// +3600 s against time since boot"); None when the line says otherwise.
fn device_drift_s(detail: &str) -> Option<i64> {
    let rest = detail.strip_prefix("device clock moved ")?;
    let (n, tail) = rest.split_once(' ')?;
    tail.starts_with("s ").then_some(())?;
    n.trim_start_matches('+').parse().ok()
}

/// When an op happened: the device's wall time corrected by the server offset it last learnt,
/// never later than the server's own clock (a clock set forward does not buy time).
fn event_time(f: &Entry, now_ms: i64) -> i64 {
    f.time
        .wall_ms
        .saturating_add(f.time.server_offset_ms.unwrap_or(0))
        .min(now_ms)
}

fn push_code(codes: &mut Vec<String>, code: &str) {
    if !codes.iter().any(|c| c == code) {
        codes.push(code.to_string());
    }
}

/// What a supervisor sees of the report in the visit list: the start of the notes and counts.
fn report_summary(r: &ReportBody) -> String {
    const MAX_CHARS: usize = 160;
    let mut notes: String = r.notes.chars().take(MAX_CHARS).collect();
    if r.notes.chars().count() > MAX_CHARS {
        notes.push('…');
    }
    format!(
        "{notes} ({} objection(s), {} next step(s))",
        r.objections.len(),
        r.next_steps.len()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn device_clock_jump_seconds_are_read_from_the_cores_line() {
        assert_eq!(
            device_drift_s("device clock moved +3600 s against time since boot"),
            Some(3600)
        );
        assert_eq!(
            device_drift_s("device clock moved -90 s against time since boot"),
            Some(-90)
        );
        assert_eq!(device_drift_s("clock_jump flagged by the device"), None);
        assert_eq!(device_drift_s("device clock moved x s"), None);
    }
}
