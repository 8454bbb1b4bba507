//! The push's parsing phase: a batch's bytes to typed entries (`crate::entry`), the device each
//! claims, and the signature and chain findings against a head. No storage: it runs before the
//! write lock, and again (chain only) under it when another push moved the head.

use fieldproof_core::evidence::{self, ChainHead, SignedEntry, VerifyCode};
use fieldproof_core::sync::wire::PushRequest;
use serde_json::Value;

use crate::entry::{ParsedOp, parse_entry};
use crate::error::{ApiError, ApiResult};

/// One op of the batch on its way through.
pub(super) struct Candidate<'a> {
    pub(super) signed: &'a fieldproof_core::sync::wire::PushOp,
    pub(super) parsed: Result<ParsedOp, evidence::Malformed>,
    pub(super) entry_hash: String,
    pub(super) bad_signature: bool,
    /// Chain findings (`chain_gap`, ...) for this op, from `verify_chain`.
    pub(super) chain: Vec<&'static str>,
}

/// Parse every op of the batch. Refused as a whole (`device_mismatch`) when an entry claims
/// another device; an unreadable entry is kept, to be rejected in its place.
pub(super) fn parse_batch<'a>(device_id: &str, req: &'a PushRequest) -> ApiResult<Vec<Candidate<'a>>> {
    let cands: Vec<Candidate<'_>> = req
        .ops
        .iter()
        .map(|op| Candidate {
            signed: op,
            parsed: parse_entry(&op.entry),
            entry_hash: entry_hash(&op.entry),
            bad_signature: false,
            chain: Vec::new(),
        })
        .collect();
    for (index, c) in cands.iter().enumerate() {
        let claimed = match &c.parsed {
            Ok(p) => Some(p.fields.device_id.clone()),
            // An unreadable payload still says whose entry it claims to be.
            Err(_) => serde_json::from_str::<Value>(&c.signed.entry)
                .ok()
                .and_then(|v| v.get("device_id").and_then(Value::as_str).map(str::to_string)),
        };
        if let Some(claimed) = claimed
            && claimed != device_id
        {
            return Err(ApiError::DeviceMismatch {
                index,
                entry_device: claimed,
            });
        }
    }
    Ok(cands)
}

/// Signatures and links of the batch's readable entries against `head`. An entry with a bad
/// signature is not the device's: `verify_chain` reports it and leaves it out of the links (the
/// format's rule), so one pass finds both. Under the lock (`signatures_known`) the entries
/// already found bad are left out and only the links are taken again.
pub(super) fn check_chain(
    cands: &mut [Candidate<'_>],
    public_key_hex: &str,
    head: &ChainHead,
    signatures_known: bool,
) {
    for c in cands.iter_mut() {
        c.chain.clear();
    }
    let idx: Vec<usize> = (0..cands.len())
        .filter(|&i| cands[i].parsed.is_ok() && !cands[i].bad_signature)
        .collect();
    let entries: Vec<SignedEntry> = idx
        .iter()
        .map(|&i| SignedEntry {
            entry: cands[i].signed.entry.clone(),
            signature_hex: cands[i].signed.signature_hex.clone(),
        })
        .collect();
    for f in evidence::verify_chain(&entries, public_key_hex, Some(head)) {
        let c = &mut cands[idx[f.index as usize]];
        match f.code {
            VerifyCode::BadSignature if !signatures_known => c.bad_signature = true,
            VerifyCode::ChainGap | VerifyCode::ChainFork | VerifyCode::Reordered | VerifyCode::Backdated
                if !c.chain.contains(&f.code.as_str()) =>
            {
                c.chain.push(f.code.as_str());
            }
            _ => {}
        }
    }
}

fn entry_hash(entry: &str) -> String {
    evidence::sha256_hex(entry.as_bytes())
}
