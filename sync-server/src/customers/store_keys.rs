//! Stores' QR check-in keys (扫码签到): an Ed25519 seed per store, issued by the server when the
//! store arrives with reference data and replaced by `admin store-keys rotate STORE_ID`. The
//! public half goes down the feed (`store_key`); the seed never leaves the server.
//!
//! A rotated key is retired, not deleted: a check-in scanned before the rotation still verifies
//! with it (keys are taken as they were at the check-in's time), and phones stop accepting it.

use fieldproof_core::customers::{
    StoreCodeProblem, StoreKey, format_store_code, sign_store_code, store_code_step,
};
use fieldproof_core::customers::{store_key_public_hex, verify_store_code};
use fieldproof_core::hex;
use fieldproof_core::sync::wire::payload::StoreCodeProof;

use crate::db::{Connection, OptionalExtension, params};
use crate::error::{ApiError, ApiResult};

use super::feed::publish_store_key;

fn random_bytes<const N: usize>() -> ApiResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("random: {e}")))?;
    Ok(b)
}

/// Issue a new key for the store and publish it; returns its key id.
fn issue(c: &Connection, store_id: &str, now_ms: i64) -> ApiResult<String> {
    let seed: [u8; 32] = random_bytes()?;
    // Short, random and never reused: codes carry it.
    let kid = format!("k{}", hex::encode(&random_bytes::<4>()?));
    c.prepare_cached(
        "INSERT INTO store_keys (store_id, kid, seed_hex, public_key_hex, created_ms, retired_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
    )?
    .execute(params![
        store_id,
        kid,
        hex::encode(&seed),
        store_key_public_hex(&seed),
        now_ms
    ])?;
    publish_store_key(c, store_id, &kid, now_ms)?;
    Ok(kid)
}

/// Give every listed store without a current key one (reference load, in its transaction).
pub(crate) fn ensure_for_stores<'a>(
    c: &Connection,
    store_ids: impl IntoIterator<Item = &'a str>,
    now_ms: i64,
) -> ApiResult<u32> {
    let with_key: std::collections::HashSet<String> = {
        let mut st = c.prepare_cached("SELECT DISTINCT store_id FROM store_keys WHERE retired_ms IS NULL")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut issued = 0;
    for id in store_ids {
        if !with_key.contains(id) {
            issue(c, id, now_ms)?;
            issued += 1;
        }
    }
    Ok(issued)
}

/// Retire the store's current keys and issue a new one (one transaction, the caller's).
/// Refused for a store the server does not have.
pub(crate) fn rotate(c: &Connection, store_id: &str, now_ms: i64) -> ApiResult<String> {
    let known: Option<i64> = c
        .prepare_cached("SELECT 1 FROM stores WHERE id = ?1")?
        .query_row([store_id], |r| r.get(0))
        .optional()?;
    if known.is_none() {
        return Err(ApiError::NotFound(format!("store {store_id:?}")));
    }
    let current: Vec<String> = {
        let mut st =
            c.prepare_cached("SELECT kid FROM store_keys WHERE store_id = ?1 AND retired_ms IS NULL")?;
        let rows = st.query_map([store_id], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    c.prepare_cached("UPDATE store_keys SET retired_ms = ?1 WHERE store_id = ?2 AND retired_ms IS NULL")?
        .execute(params![now_ms, store_id])?;
    for kid in &current {
        publish_store_key(c, store_id, kid, now_ms)?;
    }
    issue(c, store_id, now_ms)
}

/// The store's keys as they were at `at_ms`: a key retired after that moment still counts.
fn keys_at(c: &Connection, store_id: &str, at_ms: i64) -> ApiResult<Vec<StoreKey>> {
    let mut st = c.prepare_cached(
        "SELECT kid, public_key_hex, retired_ms FROM store_keys WHERE store_id = ?1 ORDER BY created_ms",
    )?;
    let rows = st.query_map([store_id], |r| {
        let retired: Option<i64> = r.get(2)?;
        Ok(StoreKey {
            store_id: store_id.to_string(),
            kid: r.get(0)?,
            public_key_hex: r.get(1)?,
            retired: retired.is_some_and(|t| t <= at_ms),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A check-in's store code verified by the server for `store_id` at `at_ms` (the check-in's
/// device time, corrected by its server offset).
pub(crate) fn verify(
    c: &Connection,
    store_id: &str,
    proof: &StoreCodeProof,
    at_ms: i64,
) -> ApiResult<Result<(String, i64), StoreCodeProblem>> {
    let keys = keys_at(c, store_id, at_ms)?;
    Ok(verify_store_code(&proof.text, store_id, &keys, at_ms).map(|check| (check.kid, check.step)))
}

/// The store's code for the moment `now_ms` (the store's screen; tests), signed by its current
/// key; `None` when the store has no key.
pub fn current_code(c: &Connection, store_id: &str, now_ms: i64) -> ApiResult<Option<String>> {
    let key: Option<(String, String)> = c
        .prepare_cached(
            "SELECT kid, seed_hex FROM store_keys WHERE store_id = ?1 AND retired_ms IS NULL
             ORDER BY created_ms DESC LIMIT 1",
        )?
        .query_row([store_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((kid, seed_hex)) = key else {
        return Ok(None);
    };
    let seed = hex::decode_array::<32>(&seed_hex)
        .ok_or_else(|| ApiError::internal("stored store key is invalid"))?;
    let step = store_code_step(now_ms);
    let sig = sign_store_code(&seed, store_id, &kid, step);
    Ok(Some(format_store_code(store_id, &kid, step, &sig)))
}
