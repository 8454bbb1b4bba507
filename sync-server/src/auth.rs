//! Who is asking: enrolment (a one-time code plus proof of key possession binds a device key to
//! a user) and request signatures (every other `/v1` request is signed by the device key over
//! method, path and query, time, nonce and the body's SHA-256). No passwords, no tokens.

use crate::db::{OptionalExtension, TransactionBehavior, params};
use fieldproof_core::evidence::sha256_hex;
use fieldproof_core::model::User;
use fieldproof_core::sync::wire::{
    self, EnrolRequest, EnrolResponse, HEADER_DEVICE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIME,
};

use crate::error::{ApiError, ApiResult};
// Handed on: the request checks and the web's photo routes name the hex check from here.
pub(crate) use crate::keys::is_lower_hex;
use crate::keys::{enrol_code_hash, strict_public_key, verify_signature};
use crate::store::Store;

/// Nonces are remembered this long: past the ±5 min window a replay is refused as stale anyway.
const NONCE_RETENTION_MS: i64 = 15 * 60 * 1000;
/// Longest enrolment code accepted (`openapi.json` states it).
pub const MAX_ENROL_CODE_LEN: usize = 64;
/// Longest device id accepted, in the enrolment and the `x-fp-device` header.
pub const MAX_DEVICE_ID_LEN: usize = 128;
const NONCE_PRUNE_EVERY_MS: i64 = 60 * 1000;

/// The four signing headers, checked for form only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub device_id: String,
    pub time_ms: i64,
    pub nonce: String,
    pub signature_hex: String,
}

/// A request whose signature verified, from an enrolled, unrevoked device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub device_id: String,
    pub user_id: String,
    pub nonce: String,
    pub time_ms: i64,
}

fn valid_device_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_DEVICE_ID_LEN && s.bytes().all(|b| b.is_ascii_graphic())
}

pub fn parse_headers(headers: &axum::http::HeaderMap) -> ApiResult<SignedHeaders> {
    let get = |name: &str| -> ApiResult<&str> {
        let v = headers
            .get(name)
            .ok_or_else(|| ApiError::MissingSignature(format!("header {name} is missing")))?;
        v.to_str()
            .map_err(|_| ApiError::MissingSignature(format!("header {name} is not ASCII")))
    };
    let device_id = get(HEADER_DEVICE)?;
    if !valid_device_id(device_id) {
        return Err(ApiError::MissingSignature(format!(
            "header {HEADER_DEVICE} must be 1-128 printable ASCII characters"
        )));
    }
    let time_ms = get(HEADER_TIME)?.parse::<i64>().map_err(|_| {
        ApiError::MissingSignature(format!("header {HEADER_TIME} must be Unix time in milliseconds"))
    })?;
    let nonce = get(HEADER_NONCE)?;
    if !is_lower_hex(nonce, 32) {
        return Err(ApiError::MissingSignature(format!(
            "header {HEADER_NONCE} must be 32 lowercase hex characters"
        )));
    }
    let signature_hex = get(HEADER_SIGNATURE)?;
    if !is_lower_hex(signature_hex, 128) {
        return Err(ApiError::MissingSignature(format!(
            "header {HEADER_SIGNATURE} must be 128 lowercase hex characters"
        )));
    }
    Ok(SignedHeaders {
        device_id: device_id.to_string(),
        time_ms,
        nonce: nonce.to_string(),
        signature_hex: signature_hex.to_string(),
    })
}

/// Cheap, so it runs before the body is read.
pub fn check_fresh(time_ms: i64, now_ms: i64) -> ApiResult<()> {
    let skew = time_ms.saturating_sub(now_ms);
    if skew.unsigned_abs() > wire::MAX_REQUEST_SKEW_MS as u64 {
        return Err(ApiError::StaleRequest { skew_ms: skew });
    }
    Ok(())
}

/// Verify a signed request: device known, signature over exactly this request, not revoked,
/// nonce not seen. The nonce is only *checked* here; it is recorded by the write that
/// follows ([`consume_nonce`] or the push transaction), so a request refused later
/// can still be told apart from a replay of an accepted one.
pub fn authenticate(
    store: &Store,
    method: &str,
    path_and_query: &str,
    h: &SignedHeaders,
    body: &[u8],
    now_ms: i64,
) -> ApiResult<Authenticated> {
    check_fresh(h.time_ms, now_ms)?;
    let r = store.reader()?;
    let device: Option<(String, String, Option<i64>)> = r
        .prepare_cached("SELECT public_key_hex, user_id, revoked_ms FROM devices WHERE device_id = ?1")?
        .query_row([&h.device_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    let Some((key_hex, user_id, revoked)) = device else {
        return Err(ApiError::UnknownDevice);
    };
    if strict_public_key(&key_hex).is_none() {
        return Err(ApiError::internal("stored device key is invalid"));
    }
    let signing = wire::request_signing_bytes(method, path_and_query, h.time_ms, &h.nonce, &sha256_hex(body));
    if !verify_signature(signing.as_bytes(), &h.signature_hex, &key_hex) {
        return Err(ApiError::BadRequestSignature);
    }
    if revoked.is_some() {
        return Err(ApiError::DeviceRevoked);
    }
    let seen: Option<i64> = r
        .prepare_cached("SELECT 1 FROM nonces WHERE device_id = ?1 AND nonce = ?2")?
        .query_row([&h.device_id, &h.nonce], |row| row.get(0))
        .optional()?;
    if seen.is_some() {
        return Err(ApiError::ReplayedRequest);
    }
    Ok(Authenticated {
        device_id: h.device_id.clone(),
        user_id,
        nonce: h.nonce.clone(),
        time_ms: h.time_ms,
    })
}

/// `401 unknown_device` early, before the body is read.
pub fn check_device_known(store: &Store, device_id: &str) -> ApiResult<()> {
    let r = store.reader()?;
    let known: Option<i64> = r
        .prepare_cached("SELECT 1 FROM devices WHERE device_id = ?1")?
        .query_row([device_id], |row| row.get(0))
        .optional()?;
    known.map(|_| ()).ok_or(ApiError::UnknownDevice)
}

/// Record a request's nonce in its own transaction (requests other than push).
pub fn consume_nonce(store: &Store, auth: &Authenticated, now_ms: i64) -> ApiResult<()> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    insert_nonce(&tx, auth, now_ms)?;
    tx.commit()?;
    maybe_prune_nonces(&mut w, now_ms);
    Ok(())
}

pub(crate) fn maybe_prune_nonces(w: &mut crate::store::Writer, now_ms: i64) {
    if now_ms - w.last_nonce_prune_ms < NONCE_PRUNE_EVERY_MS {
        return;
    }
    w.last_nonce_prune_ms = now_ms;
    match w.conn.execute(
        "DELETE FROM nonces WHERE time_ms < ?1",
        [now_ms - NONCE_RETENTION_MS],
    ) {
        Ok(n) if n > 0 => tracing::debug!(pruned = n, "old request nonces pruned"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "pruning request nonces failed"),
    }
}

/// `POST /v1/enrol`: bind device id, key and the code's user; burn the code.
pub fn enrol(store: &Store, req: &EnrolRequest, now_ms: i64) -> ApiResult<EnrolResponse> {
    if !valid_device_id(&req.device_id) {
        return Err(ApiError::InvalidInput(
            "device_id must be 1-128 printable ASCII characters".into(),
        ));
    }
    if req.code.trim().is_empty() || req.code.len() > MAX_ENROL_CODE_LEN {
        return Err(ApiError::InvalidInput(format!(
            "code must be 1-{MAX_ENROL_CODE_LEN} characters"
        )));
    }
    if !is_lower_hex(&req.public_key_hex, 64) {
        return Err(ApiError::InvalidInput(
            "public_key_hex must be 64 lowercase hex characters".into(),
        ));
    }
    if !is_lower_hex(&req.signature_hex, 128) {
        return Err(ApiError::InvalidInput(
            "signature_hex must be 128 lowercase hex characters".into(),
        ));
    }
    // A small-order key would let anyone forge its signatures; a non-canonical encoding is
    // two spellings of one key. The evidence format refuses both (`strict_public_key`).
    if strict_public_key(&req.public_key_hex).is_none() {
        return Err(ApiError::InvalidInput(
            "public_key_hex is not an Ed25519 key the evidence format accepts: \
             a small-order point or a non-canonical encoding"
                .into(),
        ));
    }
    let proof = wire::enrol_signing_bytes(&req.code, &req.device_id, &req.public_key_hex);
    if !verify_signature(proof.as_bytes(), &req.signature_hex, &req.public_key_hex) {
        return Err(ApiError::BadEnrolSignature);
    }
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let code: Option<(String, i64, Option<i64>, Option<String>)> = tx
        .query_row(
            "SELECT user_id, expires_ms, used_ms, used_by FROM enrol_codes WHERE code_sha256 = ?1",
            [enrol_code_hash(&req.code)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((user_id, expires_ms, used_ms, used_by)) = code else {
        return Err(ApiError::InvalidEnrolCode);
    };
    let device: Option<(String, String, Option<i64>)> = tx
        .query_row(
            "SELECT public_key_hex, user_id, revoked_ms FROM devices WHERE device_id = ?1",
            [&req.device_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if used_ms.is_some() {
        // The same device retrying after its answer was lost gets the same answer.
        let same = used_by.as_deref() == Some(req.device_id.as_str())
            && device.as_ref().is_some_and(|(k, u, revoked)| {
                k == &req.public_key_hex && u == &user_id && revoked.is_none()
            });
        if !same {
            return Err(ApiError::EnrolCodeUsed);
        }
    } else if now_ms >= expires_ms {
        return Err(ApiError::EnrolCodeExpired);
    }
    match &device {
        Some((k, _, _)) if k != &req.public_key_hex => {
            return Err(ApiError::DeviceAlreadyEnrolled(req.device_id.clone()));
        }
        Some((_, _, Some(_))) => return Err(ApiError::DeviceRevoked),
        Some(_) => {
            tx.execute(
                "UPDATE devices SET user_id = ?1 WHERE device_id = ?2",
                params![user_id, req.device_id],
            )?;
        }
        None => {
            tx.execute(
                "INSERT INTO devices (device_id, public_key_hex, user_id, enrolled_ms) VALUES (?1, ?2, ?3, ?4)",
                params![req.device_id, req.public_key_hex, user_id, now_ms],
            )?;
        }
    }
    let body: Option<String> = tx
        .query_row("SELECT body FROM users WHERE id = ?1", [&user_id], |r| r.get(0))
        .optional()?;
    let user: User = body.and_then(|b| serde_json::from_str(&b).ok()).ok_or_else(|| {
        ApiError::Unprocessable("the code's user is no longer in the reference data".into())
    })?;
    tx.execute(
        "UPDATE enrol_codes SET used_ms = coalesce(used_ms, ?1), used_by = coalesce(used_by, ?2)
         WHERE code_sha256 = ?3",
        params![now_ms, req.device_id, enrol_code_hash(&req.code)],
    )?;
    tx.commit()?;
    drop(w);
    tracing::info!("device enrolled");
    // After the enrolment is committed (and the writer released: issuing takes it again): a CA that cannot be read must not cost the device its
    // enrolment (it asks again with `GET /v1/device/certificate`).
    let certificate_chain_pem = match crate::org_ca::device_chain(store, &req.device_id, now_ms) {
        Ok(chain) => chain,
        Err(e) => {
            tracing::warn!(error = %e, "device enrolled without a certificate");
            String::new()
        }
    };
    Ok(EnrolResponse {
        user,
        server_time_ms: now_ms,
        certificate_chain_pem,
    })
}

pub(crate) fn insert_nonce(tx: &crate::db::Connection, auth: &Authenticated, now_ms: i64) -> ApiResult<()> {
    let n = tx
        .prepare_cached(
            "INSERT INTO nonces (device_id, nonce, time_ms) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )?
        .execute(params![auth.device_id, auth.nonce, auth.time_ms.max(now_ms)])?;
    if n == 0 {
        return Err(ApiError::ReplayedRequest);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn freshness_window_is_five_minutes_each_way() {
        assert!(check_fresh(1_000_000, 1_000_000 + 300_000).is_ok());
        assert!(check_fresh(1_000_000, 1_000_000 + 300_001).is_err());
        assert!(check_fresh(1_000_000 + 300_001, 1_000_000).is_err());
        assert!(check_fresh(i64::MIN, i64::MAX).is_err());
    }
}
