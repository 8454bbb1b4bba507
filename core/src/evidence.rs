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

/// Canonical JSON (docs/evidence-format.md, "Canonical form"): object keys sorted by their
/// UTF-8 bytes, no insignificant whitespace, strings escaped as serde_json escapes them (`"`,
/// `\`, control characters; other characters as raw UTF-8), integers in plain decimal, other
/// numbers as [`write_float`] spells them. Written independently of serde_json's map order,
/// which a crate feature could change, and of its float formatter, which changed between
/// releases (ryu's `1e16`, then zmij's `1e+16`).
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
        Value::Number(n) if n.is_f64() => write_float(n.as_f64().unwrap_or(f64::NAN), out),
        other => out.push_str(&other.to_string()),
    }
}

/// A non-integer number in its one spelling: the shortest digits that read back as the same
/// f64, the one with the even last digit when two are equally close (`d.ddd × 10^E`), written
/// plainly with at least one digit after the point when E is in -5..=15 (`12.5`, `100.0`,
/// `0.00001`), else as `d.ddde+E` / `d.ddde-E` (`1e+16`, `1.2345e-7`: the exponent always
/// signed, no leading zeros). The digits are serde_json's (shortest round-trip, as every such
/// formatter finds them); the layout is written here, so a serde_json release that lays them
/// out otherwise cannot change what is canonical. Today both agree (checked over every kind of
/// f64 in `core/tests/evidence_vectors.rs`).
fn write_float(x: f64, out: &mut String) {
    use std::fmt::Write as _;
    if !x.is_finite() {
        // JSON has no spelling for these; serde_json's Value never holds one.
        out.push_str("null");
        return;
    }
    let text = Value::from(x).to_string();
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text.as_str(), 0),
    };
    let mantissa = mantissa.trim_start_matches('-');
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    let digits = significant.trim_end_matches('0');
    if x.is_sign_negative() {
        out.push('-');
    }
    if digits.is_empty() {
        out.push_str("0.0");
        return;
    }
    // The decimal exponent of the first significant digit.
    let e = exp + int.len() as i32 - (all.len() - significant.len()) as i32 - 1;
    let n = digits.len() as i32;
    if (-5..=15).contains(&e) {
        if e < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-e - 1) as usize));
            out.push_str(digits);
        } else if e + 1 >= n {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', (e + 1 - n) as usize));
            out.push_str(".0");
        } else {
            let (whole, fraction) = digits.split_at((e + 1) as usize);
            let _ = write!(out, "{whole}.{fraction}");
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            let _ = write!(out, ".{rest}");
        }
        let _ = write!(out, "e{}{}", if e < 0 { '-' } else { '+' }, e.unsigned_abs());
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

/// A signed chain entry, as read back: everything the device signed. The core writes it with
/// [`entry_bytes`]; the payload stays JSON until its kind is known
/// (`sync::wire::payload::OpPayload::decode`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// [`ENTRY_VERSION`].
    pub v: i64,
    pub device_id: String,
    pub seq: i64,
    pub op_id: String,
    /// `visit.check_in`, … (`OpPayload::kind`).
    pub kind: String,
    pub entity_id: String,
    pub time: EventTime,
    pub prev_hash: String,
    pub payload: Value,
}

/// Longest entry accepted, in bytes. A photo manifest is ~1 KB and the largest report a few
/// KB; anything near this is not an entry a phone wrote.
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;
/// Highest sequence number (2^53: far beyond any device, and exact in every JSON reader).
pub const MAX_SEQ: i64 = 1 << 53;
/// Year 2200 in Unix ms; also the bound on boot time and on the server offset.
pub const MAX_WALL_MS: i64 = 7_258_118_400_000;
/// Longest id (device, op, entity), in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// Why an entry is `malformed_entry` (docs/evidence-format.md, "Malformed entries"). The case
/// is kept beside the finding (a rejected op's reason detail); the finding is one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MalformedCase {
    /// Longer than [`MAX_ENTRY_BYTES`].
    TooLarge,
    /// Not a UTF-8 JSON object.
    NotJson,
    /// Valid JSON, but not its canonical form (whitespace, key order, escapes, number
    /// spelling, duplicate keys, an integer outside the signed 64-bit range).
    NotCanonical,
    /// A field of the envelope missing or of the wrong type.
    MissingField,
    /// `v` is not a version this verifier knows.
    UnsupportedVersion,
    /// A number or id outside its bounds (seq, times, id lengths, `prev_hash` not a SHA-256).
    OutOfRange,
    /// The payload does not read as its kind's (an unknown kind, a missing field, another
    /// entity than the entry's). Only a reader that knows the kinds' schemas (the server) finds
    /// this; a verifier that does not treats the payload as opaque.
    BadPayload,
}

impl MalformedCase {
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedCase::TooLarge => "too_large",
            MalformedCase::NotJson => "not_json",
            MalformedCase::NotCanonical => "not_canonical",
            MalformedCase::MissingField => "missing_field",
            MalformedCase::UnsupportedVersion => "unsupported_version",
            MalformedCase::OutOfRange => "out_of_range",
            MalformedCase::BadPayload => "bad_payload",
        }
    }
}

/// A `malformed_entry` finding: its case and, for logs and the rejected op's row, what exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub case: MalformedCase,
    pub detail: String,
}

impl Malformed {
    pub fn new(case: MalformedCase, detail: impl Into<String>) -> Malformed {
        Malformed {
            case,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.case.as_str(), self.detail)
    }
}

/// `entry` is in canonical form: parsing and re-encoding it ([`canonical_json`]) gives the same
/// bytes, and every integer is within the signed 64-bit range. A device writes only canonical
/// entries, so anything else was written by something else; the server rejects it on receipt.
pub fn is_canonical(entry: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(entry) else {
        return false;
    };
    integers_in_range(&v) && canonical_json(&v) == entry
}

fn integers_in_range(v: &Value) -> bool {
    match v {
        Value::Number(n) => !(n.is_u64() && n.as_i64().is_none()),
        Value::Array(items) => items.iter().all(integers_in_range),
        Value::Object(map) => map.values().all(integers_in_range),
        _ => true,
    }
}

/// Read an entry's envelope, with every check the format makes of it (docs/evidence-format.md,
/// "Malformed entries"): size, JSON object, canonical form, fields and their bounds. The payload
/// is not read here: its schema is the kind's (`sync::wire::payload`).
pub fn read_entry(entry: &str) -> Result<Entry, Malformed> {
    use MalformedCase as C;
    if entry.len() > MAX_ENTRY_BYTES {
        return Err(Malformed::new(
            C::TooLarge,
            format!("{} bytes, at most {MAX_ENTRY_BYTES}", entry.len()),
        ));
    }
    let value: Value = serde_json::from_str(entry).map_err(|e| Malformed::new(C::NotJson, e.to_string()))?;
    if !value.is_object() {
        return Err(Malformed::new(C::NotJson, "not a JSON object"));
    }
    if !integers_in_range(&value) || canonical_json(&value) != entry {
        return Err(Malformed::new(
            C::NotCanonical,
            "the bytes are not the entry's canonical form",
        ));
    }
    if value
        .get("v")
        .and_then(Value::as_i64)
        .is_some_and(|v| v != ENTRY_VERSION)
    {
        return Err(Malformed::new(
            C::UnsupportedVersion,
            format!("entry version {} is not supported", value["v"]),
        ));
    }
    let fields: Entry =
        serde_json::from_value(value).map_err(|e| Malformed::new(C::MissingField, e.to_string()))?;
    let bounded = |s: &str| !s.is_empty() && s.len() <= MAX_ID_BYTES;
    if !(1..=MAX_SEQ).contains(&fields.seq) {
        return Err(Malformed::new(
            C::OutOfRange,
            format!("seq {} is not in 1..=2^53", fields.seq),
        ));
    }
    if !bounded(&fields.op_id) || !bounded(&fields.entity_id) || !bounded(&fields.device_id) {
        return Err(Malformed::new(
            C::OutOfRange,
            "op_id, entity_id and device_id must be 1-128 bytes",
        ));
    }
    if !crate::hex::is_lower_hex(&fields.prev_hash, 64) {
        return Err(Malformed::new(C::OutOfRange, "prev_hash is not a SHA-256"));
    }
    // Bounds far beyond any real device keep clock arithmetic clear of overflow whatever a
    // forged entry says.
    let t = &fields.time;
    if !(0..=MAX_WALL_MS).contains(&t.wall_ms)
        || !(0..=MAX_WALL_MS).contains(&t.boot_ms)
        || t.hlc < 0
        || t.server_offset_ms
            .is_some_and(|o| o.unsigned_abs() > MAX_WALL_MS as u64)
    {
        return Err(Malformed::new(C::OutOfRange, "time fields are out of range"));
    }
    Ok(fields)
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
    /// Revoked from this server time on (Unix ms), if revoked: entries the server received from
    /// then on are `revoked_key`; those it received before stay valid ("key revoked later").
    pub revoked_ms: Option<i64>,
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

/// The findings of evidence verification: the one list the core, the server, its pages, the
/// evidence bundles and docs/evidence-format.md use. Stable codes ([`VerifyCode::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// Every finding, in the order docs/evidence-format.md lists them.
    pub const ALL: [VerifyCode; 11] = [
        VerifyCode::MalformedEntry,
        VerifyCode::UnknownKey,
        VerifyCode::RevokedKey,
        VerifyCode::BadSignature,
        VerifyCode::NotAPhoto,
        VerifyCode::ImageHashMismatch,
        VerifyCode::CodeMismatch,
        VerifyCode::ChainGap,
        VerifyCode::ChainFork,
        VerifyCode::Reordered,
        VerifyCode::Backdated,
    ];

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

    /// The finding a code names; `None` for a code this version does not know.
    pub fn parse(code: &str) -> Option<VerifyCode> {
        VerifyCode::ALL.into_iter().find(|c| c.as_str() == code)
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
    /// The device's key was revoked after the server received this photo's manifest: the
    /// photo stays verified, and says so ("verified, key revoked later").
    pub key_revoked_later: bool,
}

/// What a key's revocation means for one entry, by when the server received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    NotRevoked,
    /// Received before the revocation took effect: still valid.
    RevokedLater,
    /// Received at or after it, or at an unknown time: `revoked_key`.
    Revoked,
}

/// Revocation has a time: an entry received before it stays valid. An entry whose receipt
/// time is unknown counts as received after (nothing shows it came before).
pub fn revocation(revoked_ms: Option<i64>, received_ms: Option<i64>) -> Revocation {
    match (revoked_ms, received_ms) {
        (None, _) => Revocation::NotRevoked,
        (Some(r), Some(t)) if t < r => Revocation::RevokedLater,
        (Some(_), _) => Revocation::Revoked,
    }
}

/// An Ed25519 public key as the format accepts it: the canonical encoding of a point that is
/// not of small order. `ed25519-dalek` decompresses a non-canonical encoding (y ≥ p) without
/// complaint, so it is compared with the point's own encoding here.
pub fn strict_public_key(public_key_hex: &str) -> Option<VerifyingKey> {
    let bytes = crate::hex::decode_array::<32>(public_key_hex)?;
    let key = VerifyingKey::from_bytes(&bytes).ok()?;
    if key.to_edwards().compress().to_bytes() != bytes || key.is_weak() {
        return None;
    }
    Some(key)
}

/// Ed25519 as the format requires (docs/evidence-format.md, "Signature and hash"): the key as
/// [`strict_public_key`] takes it, `S` below the group order, `R` not of small order and equal,
/// byte for byte, to the recomputed one (`verify_strict`, cofactorless).
pub fn verify_signature(bytes: &[u8], signature_hex: &str, public_key_hex: &str) -> bool {
    let (Some(key), Some(sig)) = (
        strict_public_key(public_key_hex),
        crate::hex::decode_array::<64>(signature_hex),
    ) else {
        return false;
    };
    key.verify_strict(bytes, &Signature::from_bytes(&sig)).is_ok()
}

/// Verify a photo file against its manifest (the entry of its `visit.photo` or `customer.photo`
/// op) and signature: key known and not revoked when the server received the manifest
/// (`received_ms`, `None` if unknown), signature over the exact manifest bytes, image hash,
/// evidence code.
pub fn verify_photo(
    image: &[u8],
    signed: &SignedEntry,
    keys: &[KnownKey],
    received_ms: Option<i64>,
) -> PhotoVerdict {
    let image_sha256 = sha256_hex(image);
    let mut verdict = PhotoVerdict {
        verified: false,
        problems: Vec::new(),
        device_id: None,
        evidence_code: None,
        image_sha256: image_sha256.clone(),
        key_revoked_later: false,
    };
    let entry = match read_entry(&signed.entry) {
        Ok(entry) => entry,
        Err(_) => {
            verdict.problems.push(VerifyCode::MalformedEntry);
            return verdict;
        }
    };
    verdict.device_id = Some(entry.device_id.clone());
    match keys.iter().find(|k| k.device_id == entry.device_id) {
        None => verdict.problems.push(VerifyCode::UnknownKey),
        Some(k) => {
            match revocation(k.revoked_ms, received_ms) {
                Revocation::NotRevoked => {}
                Revocation::RevokedLater => verdict.key_revoked_later = true,
                Revocation::Revoked => verdict.problems.push(VerifyCode::RevokedKey),
            }
            if !verify_signature(signed.entry.as_bytes(), &signed.signature_hex, &k.public_key_hex) {
                verdict.problems.push(VerifyCode::BadSignature);
            }
        }
    }
    // A customer's stage-evidence photo has the same evidence fields as a visit's.
    if !matches!(entry.kind.as_str(), "visit.photo" | "customer.photo") {
        verdict.problems.push(VerifyCode::NotAPhoto);
        return verdict;
    }
    let p = &entry.payload;
    if p["image_sha256"].as_str() != Some(image_sha256.as_str()) {
        verdict.problems.push(VerifyCode::ImageHashMismatch);
    }
    let code = p["evidence_code"].as_str().map(str::to_string);
    let expected = match (p["original_sha256"].as_str(), p["photo_id"].as_str()) {
        (Some(o), Some(id)) => Some(evidence_code(o, &entry.device_id, id)),
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

/// Verify a run of one device's entries in the order the server received them: each entry's
/// form and signature, then the links (docs/evidence-format.md, "Verifying a chain"). `after`
/// is where the verifier's copy of the chain ends, if it has one; without it the first entry
/// that reads and verifies is the anchor (and must be the genesis entry if it is seq 1).
///
/// - `malformed_entry`, `bad_signature`: the entry is not part of the chain; it is reported
///   and skipped (it neither links nor moves the head), as the server rejects it;
/// - `chain_gap`: a sequence number was skipped (an entry removed);
/// - `chain_fork`: the entry does not link to the previous one's hash, or two entries share a
///   sequence number (a rewritten history);
/// - `reordered`: a sequence number lower than its predecessor's;
/// - `backdated`: a hybrid-logical-clock time not above its predecessor's, which an honest
///   device never produces.
///
/// "Its predecessor" is the entry with the highest sequence number received so far (so after a
/// gap, the entry before the gap), which makes one out-of-place entry one finding.
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
        let Ok(entry) = read_entry(&signed.entry) else {
            push(&mut findings, None, VerifyCode::MalformedEntry);
            continue;
        };
        let seq = entry.seq;
        if !verify_signature(signed.entry.as_bytes(), &signed.signature_hex, public_key_hex) {
            push(&mut findings, Some(seq), VerifyCode::BadSignature);
            continue;
        }
        let (prev_hash, hlc) = (entry.prev_hash, entry.time.hlc);
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
                if seq > p.seq && hlc <= p.hlc {
                    push(&mut findings, Some(seq), VerifyCode::Backdated);
                }
            }
        }
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
            revoked_ms: None,
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
        let v = verify_photo(image, &signed("customer.photo"), &keys, None);
        assert!(v.verified, "{:?}", v.problems);
        assert!(verify_photo(image, &signed("visit.photo"), &keys, None).verified);
        assert_eq!(
            verify_photo(image, &signed("customer.stage"), &keys, None).problems,
            [VerifyCode::NotAPhoto]
        );
        assert_eq!(
            verify_photo(b"other bytes", &signed("customer.photo"), &keys, None).problems,
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
