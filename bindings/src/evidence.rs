//! Evidence verification, for anyone holding evidence (a supervisor's phone, a verifier app).
//! No core object needed: the evidence and the keys are the input.

use fieldproof_core::evidence::{ChainFinding, ChainHead, KnownKey, PhotoVerdict, SignedEntry};

use crate::blocking::blocking;
use crate::{PhotoBytes, Result};

/// Verify a photo file against its signed manifest with the verifier's device keys and when the
/// server received the manifest (`received_ms`, `None` if unknown: a revoked key then counts).
/// Reason codes: `malformed_entry`, `unknown_key`, `revoked_key`, `bad_signature`,
/// `not_a_photo`, `image_hash_mismatch`, `code_mismatch`; `key_revoked_later` marks a photo
/// received before its key's revocation (still verified).
/// Async (hashing a photo takes a while on a phone); fails only with `internal`.
#[uniffi::export(async_runtime = "tokio")]
pub async fn verify_photo_evidence(
    image: PhotoBytes,
    manifest: SignedEntry,
    keys: Vec<KnownKey>,
    received_ms: Option<i64>,
) -> Result<PhotoVerdict> {
    blocking(move || {
        Ok(fieldproof_core::evidence::verify_photo(
            image.as_slice(),
            &manifest,
            &keys,
            received_ms,
        ))
    })
    .await
}

/// Verify a run of one device's chain entries in the order received. Findings: `bad_signature`,
/// `chain_gap`, `chain_fork`, `reordered`, `backdated`, `malformed_entry`. Async (one signature
/// check per entry: a long chain takes a while on a phone); fails only with `internal`.
#[uniffi::export(async_runtime = "tokio")]
pub async fn verify_evidence_chain(
    entries: Vec<SignedEntry>,
    public_key_hex: String,
    after: Option<ChainHead>,
) -> Result<Vec<ChainFinding>> {
    blocking(move || {
        Ok(fieldproof_core::evidence::verify_chain(
            &entries,
            &public_key_hex,
            after.as_ref(),
        ))
    })
    .await
}
