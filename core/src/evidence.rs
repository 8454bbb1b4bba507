//! Signed evidence: the device key, the canonical signed entry every action becomes, the
//! per-device hash chain, evidence codes, and verification — the one function the server uses on
//! upload and a supervisor's phone uses offline. `docs/evidence-format.md` specifies the bytes.
//!
//! Every outbox op is a chain entry: canonical JSON holding the op (device, seq, kind, time,
//! payload) and the SHA-256 of the previous entry. The device signs the entry bytes with its
//! Ed25519 key. A photo's manifest is the entry of its `visit.photo` op.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::EventTime;

/// Format version written into every entry as `"v"`.
pub const ENTRY_VERSION: i64 = 1;
/// `prev_hash` of a device's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

use crate::hex::decode as unhex;
/// Lower-case hex ([`crate::hex`]: the one spelling of hashes, keys and signatures).
pub(crate) use crate::hex::encode as hex;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The device's signing identity. The secret never leaves the device database (no Debug, no
/// accessor). Public so that tests and tools can build entries the way a device does.
#[derive(Clone)]
pub struct Signer {
    pub device_id: String,
    key: SigningKey,
}

impl Signer {
    pub fn from_seed(device_id: String, seed: [u8; 32]) -> Signer {
        Signer {
            device_id,
            key: SigningKey::from_bytes(&seed),
        }
    }

    pub fn generate_seed() -> std::io::Result<[u8; 32]> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(seed)
    }

    pub fn public_key_hex(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    pub fn sign_hex(&self, bytes: &[u8]) -> String {
        hex(&self.sign_bytes(bytes))
    }

    /// The raw 64-byte Ed25519 signature (the C2PA manifest's COSE signature uses it as is).
    pub fn sign_bytes(&self, bytes: &[u8]) -> [u8; 64] {
        self.key.sign(bytes).to_bytes()
    }
}

/// Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
/// strings escaped as serde_json escapes them (`"`, `\`, control characters; other characters
/// as raw UTF-8), integers in plain decimal, other numbers in shortest round-trip form.
/// Written independently of serde_json's map order, which a crate feature could change.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Everything that goes into one chain entry besides the payload.
pub struct EntryHeader<'a> {
    pub device_id: &'a str,
    pub seq: i64,
    pub op_id: &'a str,
    pub kind: &'a str,
    pub entity_id: &'a str,
    pub time: EventTime,
    pub prev_hash: &'a str,
}

/// The signed bytes of an entry.
pub fn entry_bytes(h: &EntryHeader<'_>, payload: &Value) -> String {
    let entry = serde_json::json!({
        "v": ENTRY_VERSION,
        "device_id": h.device_id,
        "seq": h.seq,
        "op_id": h.op_id,
        "kind": h.kind,
        "entity_id": h.entity_id,
        "time": {
            "wall_ms": h.time.wall_ms,
            "boot_ms": h.time.boot_ms,
            "hlc": h.time.hlc,
            "server_offset_ms": h.time.server_offset_ms,
        },
        "prev_hash": h.prev_hash,
        "payload": payload,
    });
    canonical_json(&entry)
}

/// The short code burned into a photo (防伪码): 8 Crockford base32 characters, `XXXX-XXXX`,
/// from SHA-256 over the original image's hash, the device and the photo id. It is known before
/// the image is stamped, and the signed manifest binds it, so a code on a print-out can be
/// looked up and checked against the evidence.
pub fn evidence_code(original_sha256: &str, device_id: &str, photo_id: &str) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let digest = Sha256::digest(format!(
        "fieldproof-evidence-code-v1\n{original_sha256}\n{device_id}\n{photo_id}"
    ));
    let mut bits: u64 = 0;
    for b in &digest[..5] {
        bits = (bits << 8) | u64::from(*b);
    }
    let chars: Vec<u8> = (0..8)
        .rev()
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize])
        .collect();
    let s = String::from_utf8_lossy(&chars).into_owned();
    format!("{}-{}", &s[..4], &s[4..])
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// A device public key as the verifier knows it (from enrolment, or the device itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownKey {
    pub device_id: String,
    /// Ed25519 public key, 64 lowercase hex characters.
    pub public_key_hex: String,
    pub revoked: bool,
}

/// One signed entry as stored and uploaded: the exact bytes and the signature over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEntry {
    pub entry: String,
    /// Ed25519 signature, 128 lowercase hex characters.
    pub signature_hex: String,
}

/// Where a verifier already is in a device's chain (the server's stored head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub entry_hash: String,
    pub hlc: i64,
}

/// Stable verification reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyCode {
    BadSignature,
    ImageHashMismatch,
    CodeMismatch,
    UnknownKey,
    RevokedKey,
    MalformedEntry,
    NotAPhoto,
    ChainGap,
    ChainFork,
    Reordered,
    Backdated,
}

impl VerifyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyCode::BadSignature => "bad_signature",
            VerifyCode::ImageHashMismatch => "image_hash_mismatch",
            VerifyCode::CodeMismatch => "code_mismatch",
            VerifyCode::UnknownKey => "unknown_key",
            VerifyCode::RevokedKey => "revoked_key",
            VerifyCode::MalformedEntry => "malformed_entry",
            VerifyCode::NotAPhoto => "not_a_photo",
            VerifyCode::ChainGap => "chain_gap",
            VerifyCode::ChainFork => "chain_fork",
            VerifyCode::Reordered => "reordered",
            VerifyCode::Backdated => "backdated",
        }
    }
}

/// The verdict on one photo. `verified` only when `problems` is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoVerdict {
    pub verified: bool,
    pub problems: Vec<VerifyCode>,
    pub device_id: Option<String>,
    pub evidence_code: Option<String>,
    pub image_sha256: String,
}

fn verify_signature(bytes: &[u8], signature_hex: &str, public_key_hex: &str) -> bool {
    let (Some(sig), Some(key)) = (unhex(signature_hex), unhex(public_key_hex)) else {
        return false;
    };
    let (Ok(sig), Ok(key)) = (
        <[u8; 64]>::try_from(sig.as_slice()),
        <[u8; 32]>::try_from(key.as_slice()),
    ) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&key) else {
        return false;
    };
    // verify_strict: no small-order keys, no malleable signatures.
    key.verify_strict(bytes, &Signature::from_bytes(&sig)).is_ok()
}

/// Verify a photo file against its manifest (the entry of its `visit.photo` or `customer.photo`
/// op) and signature:
/// key known and not revoked, signature over the exact manifest bytes, image hash, evidence code.
pub fn verify_photo(image: &[u8], signed: &SignedEntry, keys: &[KnownKey]) -> PhotoVerdict {
    let image_sha256 = sha256_hex(image);
    let mut verdict = PhotoVerdict {
        verified: false,
        problems: Vec::new(),
        device_id: None,
        evidence_code: None,
        image_sha256: image_sha256.clone(),
    };
    let Ok(entry) = serde_json::from_str::<Value>(&signed.entry) else {
        verdict.problems.push(VerifyCode::MalformedEntry);
        return verdict;
    };
    let device_id = entry["device_id"].as_str().map(str::to_string);
    verdict.device_id = device_id.clone();
    match device_id.and_then(|d| keys.iter().find(|k| k.device_id == d)) {
        None => verdict.problems.push(VerifyCode::UnknownKey),
        Some(k) => {
            if k.revoked {
                verdict.problems.push(VerifyCode::RevokedKey);
            }
            if !verify_signature(signed.entry.as_bytes(), &signed.signature_hex, &k.public_key_hex) {
                verdict.problems.push(VerifyCode::BadSignature);
            }
        }
    }
    // A customer's stage-evidence photo has the same evidence fields as a visit's.
    if !matches!(entry["kind"].as_str(), Some("visit.photo" | "customer.photo")) {
        verdict.problems.push(VerifyCode::NotAPhoto);
        return verdict;
    }
    let p = &entry["payload"];
    if p["image_sha256"].as_str() != Some(image_sha256.as_str()) {
        verdict.problems.push(VerifyCode::ImageHashMismatch);
    }
    let code = p["evidence_code"].as_str().map(str::to_string);
    let expected = match (
        p["original_sha256"].as_str(),
        entry["device_id"].as_str(),
        p["photo_id"].as_str(),
    ) {
        (Some(o), Some(d), Some(id)) => Some(evidence_code(o, d, id)),
        _ => None,
    };
    if code.is_none() || code != expected {
        verdict.problems.push(VerifyCode::CodeMismatch);
    }
    verdict.evidence_code = code;
    verdict.verified = verdict.problems.is_empty();
    verdict
}

/// A finding on a chain, at the position (in the given order) where it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFinding {
    pub index: i32,
    pub seq: Option<i64>,
    pub code: VerifyCode,
}

/// Verify a run of one device's entries in the order received (normally its upload order):
/// each signature, then the links. `after` is where the verifier's copy of the chain ends, if it
/// has one; without it the first entry is taken as it is (or must be the genesis entry, seq 1).
///
/// - `chain_gap`: a sequence number was skipped (an entry removed);
/// - `chain_fork`: the entry does not link to the previous one's hash, or two entries share a
///   sequence number (a rewritten history);
/// - `reordered`: a sequence number lower than its predecessor's;
/// - `backdated`: a hybrid-logical-clock time earlier than its predecessor's, which an honest
///   device never produces.
pub fn verify_chain(
    entries: &[SignedEntry],
    public_key_hex: &str,
    after: Option<&ChainHead>,
) -> Vec<ChainFinding> {
    let mut findings = Vec::new();
    let mut prev: Option<ChainHead> = after.cloned();
    let mut seen: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for (i, signed) in entries.iter().enumerate() {
        let index = i32::try_from(i).unwrap_or(i32::MAX);
        let push =
            |findings: &mut Vec<ChainFinding>, seq, code| findings.push(ChainFinding { index, seq, code });
        if !verify_signature(signed.entry.as_bytes(), &signed.signature_hex, public_key_hex) {
            push(&mut findings, None, VerifyCode::BadSignature);
        }
        let parsed = serde_json::from_str::<Value>(&signed.entry).ok();
        let fields = parsed.as_ref().and_then(|e| {
            Some((
                e["seq"].as_i64()?,
                e["prev_hash"].as_str()?.to_string(),
                e["time"]["hlc"].as_i64()?,
            ))
        });
        let Some((seq, prev_hash, hlc)) = fields else {
            push(&mut findings, None, VerifyCode::MalformedEntry);
            continue;
        };
        let hash = sha256_hex(signed.entry.as_bytes());
        if let Some(other) = seen.insert(seq, hash.clone())
            && other != hash
        {
            push(&mut findings, Some(seq), VerifyCode::ChainFork);
        }
        match &prev {
            None => {
                if seq == 1 && prev_hash != GENESIS_HASH {
                    push(&mut findings, Some(seq), VerifyCode::ChainFork);
                }
            }
            Some(p) => {
                if seq < p.seq {
                    push(&mut findings, Some(seq), VerifyCode::Reordered);
                } else if seq == p.seq {
                    if hash != p.entry_hash
                        && !findings
                            .iter()
                            .any(|f| f.index == index && f.code == VerifyCode::ChainFork)
                    {
                        push(&mut findings, Some(seq), VerifyCode::ChainFork);
                    }
                } else if seq > p.seq + 1 {
                    push(&mut findings, Some(seq), VerifyCode::ChainGap);
                } else if prev_hash != p.entry_hash {
                    push(&mut findings, Some(seq), VerifyCode::ChainFork);
                }
                if seq > p.seq && hlc < p.hlc {
                    push(&mut findings, Some(seq), VerifyCode::Backdated);
                }
            }
        }
        // Follow the highest position reached, so one out-of-place entry is one finding.
        if prev.as_ref().is_none_or(|p| seq > p.seq) {
            prev = Some(ChainHead {
                seq,
                entry_hash: hash,
                hlc,
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": 1, "a": {"z": [true, null, "é\"\n"], "y": -2}, "c": 1.5});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"y":-2,"z":[true,null,"é\"\n"]},"b":1,"c":1.5}"#
        );
    }

    #[test]
    fn evidence_codes_are_short_stable_and_unambiguous() {
        let c = evidence_code("ab", "dev", "photo");
        assert_eq!(c.len(), 9);
        assert_eq!(c, evidence_code("ab", "dev", "photo"));
        assert_ne!(c, evidence_code("ab", "dev", "photo2"));
        assert!(
            c.chars()
                .all(|ch| ch == '-' || "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(ch))
        );
    }

    #[test]
    fn a_customer_photo_verifies_like_a_visit_photo_and_nothing_else_does() {
        let signer = Signer::from_seed("dev".into(), [7; 32]);
        let image = b"jpeg bytes";
        let keys = [KnownKey {
            device_id: "dev".into(),
            public_key_hex: signer.public_key_hex(),
            revoked: false,
        }];
        let signed = |kind: &str| {
            let payload = serde_json::json!({
                "photo_id": "p-1", "customer_id": "c-1", "requirement_id": "contract",
                "image_sha256": sha256_hex(image), "original_sha256": "ab",
                "evidence_code": evidence_code("ab", "dev", "p-1"),
            });
            let header = EntryHeader {
                device_id: "dev",
                seq: 1,
                op_id: "o-1",
                kind,
                entity_id: "c-1",
                time: crate::model::EventTime {
                    wall_ms: 1,
                    boot_ms: 1,
                    hlc: 1,
                    server_offset_ms: None,
                },
                prev_hash: GENESIS_HASH,
            };
            let entry = entry_bytes(&header, &payload);
            SignedEntry {
                signature_hex: signer.sign_hex(entry.as_bytes()),
                entry,
            }
        };
        let v = verify_photo(image, &signed("customer.photo"), &keys);
        assert!(v.verified, "{:?}", v.problems);
        assert!(verify_photo(image, &signed("visit.photo"), &keys).verified);
        assert_eq!(
            verify_photo(image, &signed("customer.stage"), &keys).problems,
            [VerifyCode::NotAPhoto]
        );
        assert_eq!(
            verify_photo(b"other bytes", &signed("customer.photo"), &keys).problems,
            [VerifyCode::ImageHashMismatch]
        );
    }

    #[test]
    fn signatures_and_keys_are_read_in_lower_case_only() {
        let key = Signer::from_seed("dev".into(), [7; 32]);
        let entry = b"entry bytes";
        let sig = key.sign_hex(entry);
        let public = key.public_key_hex();
        assert!(verify_signature(entry, &sig, &public));
        assert!(!verify_signature(entry, &sig.to_uppercase(), &public));
        assert!(!verify_signature(entry, &sig, &public.to_uppercase()));
    }
}
