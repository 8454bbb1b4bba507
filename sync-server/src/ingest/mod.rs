//! Push: a device's outbox ops, each its signed chain entry.
//!
//! Work is split around the write lock so that one device's batch does not stall the others:
//!
//! 1. without the lock: parse every entry, check every signature and the chain links against the
//!    device's stored head (`evidence::verify_chain`, the same function phones use);
//! 2. under the lock, in one transaction: re-read the head (if another request moved it, redo
//!    the chain check), read the stored ops the batch's could repeat and the visits its ops
//!    name (one statement each: `apply::stored_ops`, `known`), then per op in order: duplicate
//!    / conflicting duplicate / wrong user / apply (op row, projection, exceptions), then visit
//!    summaries for supervisors (all the batch's visits at once), the new head (with the
//!    device's receive count: each entry received, applied or rejected, takes the next index)
//!    and the request nonce. Commit. The answer is sent only after the commit. On PostgreSQL the visit, report,
//!    op and answer rows go a table at a time (`held`): a round trip per statement was most of
//!    a push's time (~24 statements per 200-op push now, from ~1,000).
//!
//! Nothing authentic is refused for being suspicious: a chain gap, a fix outside the geofence, a
//! skewed clock are stored with the op as exceptions. Only what is not evidence at all
//! (unreadable, wrongly signed, someone else's, or contradicting what is stored) is rejected.
//!
//! Parsing (`parse`: bytes to typed entries and chain findings, no storage) and applying
//! (`apply`: typed entries to storage, under the lock) are separate modules; this one runs the
//! two phases around the lock.

mod apply;
mod held;
mod known;
mod parse;

use std::collections::{BTreeSet, HashMap};

use crate::db::{TransactionBehavior, params};
use fieldproof_core::sync::wire::{MAX_PUSH_OPS, OpStatus, PushRequest, PushResponse};

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::store::{Store, Writer, publish_team_visits};

/// An op whose wall time, corrected by the device's known server offset, is this far from the
/// server's clock was made on a device whose clock was wrong.
pub const MAX_CLOCK_SKEW_MS: i64 = 10 * 60 * 1000;

/// Tallies for metrics, added only once the transaction committed.
#[derive(Default)]
struct Tally {
    applied: u64,
    duplicate: u64,
    rejected: HashMap<String, u64>,
    exceptions: Vec<String>,
}

/// Apply a batch of the device's ops exactly as `POST /v1/push` does, minus HTTP and
/// request signing: the device must be enrolled and not revoked. `now_ms` is the server
/// clock (clock-skew checks, timestamps).
pub fn push(store: &Store, device_id: &str, req: &PushRequest, now_ms: i64) -> ApiResult<PushResponse> {
    push_inner(store, device_id, None, req, now_ms)
}

/// `POST /v1/push` after the request signature verified: the nonce is recorded in the
/// batch's own transaction (one commit per request).
pub(crate) fn push_signed(
    store: &Store,
    auth: &Authenticated,
    req: &PushRequest,
    now_ms: i64,
) -> ApiResult<PushResponse> {
    let result = push_inner(store, &auth.device_id, Some(auth), req, now_ms);
    if let Err(e) = &result
        && !matches!(
            e,
            ApiError::ReplayedRequest | ApiError::Busy | ApiError::Internal(_)
        )
    {
        // Refused before the transaction: the nonce is spent all the same. (If that fails
        // too, the refusal is still the better answer.)
        let _ = crate::auth::consume_nonce(store, auth, now_ms);
    }
    result
}

/// The customers the batch's customer ops name (a follow-up's may be a lead's id: not found).
fn customer_ids<'a>(cands: &'a [parse::Candidate<'_>]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = cands
        .iter()
        .filter_map(|c| c.parsed.as_ref().ok())
        .filter(|p| p.action.visit_id().is_none() && !p.fields.kind.starts_with("lead."))
        .map(|p| p.fields.entity_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn push_inner(
    store: &Store,
    device_id: &str,
    auth: Option<&Authenticated>,
    req: &PushRequest,
    now_ms: i64,
) -> ApiResult<PushResponse> {
    if req.ops.len() > MAX_PUSH_OPS {
        return Err(ApiError::TooManyOps {
            count: req.ops.len(),
            max: MAX_PUSH_OPS,
        });
    }
    // 1. Without the lock.
    let mut cands = parse::parse_batch(device_id, req)?;
    let snapshot = {
        let r = store.reader()?;
        apply::device_state(&r, device_id)?.ok_or(ApiError::UnknownDevice)?
    };
    if snapshot.revoked {
        return Err(ApiError::DeviceRevoked);
    }
    parse::check_chain(&mut cands, &snapshot.public_key_hex, &snapshot.head, false);

    // 2. Under the lock, one transaction.
    let mut tally = Tally::default();
    let mut w = store.writer();
    let results = {
        let Writer { conn, templates, .. } = &mut *w;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(a) = auth {
            crate::auth::insert_nonce(&tx, a, now_ms)?;
        }
        let device = apply::device_state(&tx, device_id)?.ok_or(ApiError::UnknownDevice)?;
        if device.revoked {
            return Err(ApiError::DeviceRevoked);
        }
        if device.head != snapshot.head {
            // Another push of this device committed meanwhile: links are checked against
            // the head as it is now (signatures are already known).
            parse::check_chain(&mut cands, &device.public_key_hex, &device.head, true);
        }
        let stored = apply::stored_ops(&tx, device_id, &cands)?;
        let mut ctx = apply::ApplyCtx {
            tx: &tx,
            templates,
            blobs: &*store.blobs,
            device_id,
            device_user: &device.user_id,
            now_ms,
            calendar: store.calendar(),
            touched: BTreeSet::new(),
            visits: known::BatchVisits::read(&tx, &cands)?,
            ran_elsewhere: false,
            stores: HashMap::new(),
            exceptions: Vec::new(),
            stored,
            held: Default::default(),
            customers: crate::customers::apply::Batch::read(&tx, &customer_ids(&cands))?,
            recv_count: device.recv_count,
        };
        let mut head = device.head.clone();
        let mut head_time = (device.head_wall_ms, device.head_boot_ms);
        let mut results = Vec::with_capacity(cands.len());
        for c in &cands {
            let result = ctx.one(c, &mut head, &mut head_time)?;
            match result.status {
                OpStatus::Applied => tally.applied += 1,
                OpStatus::Duplicate => tally.duplicate += 1,
                OpStatus::Rejected => {
                    *tally
                        .rejected
                        .entry(result.reason.clone().unwrap_or_default())
                        .or_default() += 1;
                }
            }
            results.push(result);
        }
        ctx.send_held()?;
        publish_team_visits(&tx, &ctx.touched, now_ms)?;
        ctx.customers.publish(&tx, now_ms)?;
        tally.exceptions = std::mem::take(&mut ctx.exceptions);
        // The receive order's count goes with the head: no statement of its own.
        tx.prepare_cached(
            "UPDATE devices SET head_seq = ?1, head_hash = ?2, head_hlc = ?3, head_wall_ms = ?4,
                head_boot_ms = ?5, last_seen_ms = ?6, recv_count = ?7 WHERE device_id = ?8",
        )?
        .execute(params![
            head.seq,
            head.entry_hash,
            head.hlc,
            head_time.0,
            head_time.1,
            now_ms,
            ctx.recv_count,
            device_id
        ])?;
        tx.commit()?;
        results
    };
    if auth.is_some() {
        crate::auth::maybe_prune_nonces(&mut w, now_ms);
    }
    drop(w);
    store
        .metrics
        .record_push(tally.applied, tally.duplicate, &tally.rejected, &tally.exceptions);
    tracing::debug!(
        applied = tally.applied,
        duplicate = tally.duplicate,
        rejected = tally.rejected.values().sum::<u64>(),
        "push applied"
    );
    Ok(PushResponse {
        results,
        server_time_ms: now_ms,
    })
}
