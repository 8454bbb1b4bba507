#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `docs/evidence-vectors.json`: the test vectors of docs/evidence-format.md, built here with the
//! core's own functions from fixed seeds and fixed times, so the committed file is exactly what
//! this code writes. Every case's expected result is written by hand below (not computed by the
//! function under test); [`every_vector_gives_its_expected_result`] runs the committed file's
//! cases through the core's verification. `tests/python/test_evidence_vectors.py` runs the same
//! file through an independent implementation written from the document.
//!
//! Regenerate after a deliberate change:
//! `FIELDPROOF_WRITE_VECTORS=1 cargo test -p fieldproof-core --test evidence_vectors`

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use fieldproof_core::evidence::*;
use fieldproof_core::hex;
use fieldproof_core::model::EventTime;
use fieldproof_core::sync::wire::payload::OpPayload;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/evidence-vectors.json");
const REGENERATE: &str = "FIELDPROOF_WRITE_VECTORS=1 cargo test -p fieldproof-core --test evidence_vectors";
/// A 32x24 gradient written for these vectors (ImageMagick), 342 bytes.
const PHOTO: &[u8] = include_bytes!("fixtures/evidence-vector-photo.jpg");

/// 2026-12-01 08:00 Beijing time, in Unix ms: the first entry's wall clock.
const BASE_MS: i64 = 1_796_083_200_000;
/// Ed25519's group order L, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

struct Key {
    name: &'static str,
    device_id: &'static str,
    seed: [u8; 32],
    signer: Signer,
}

impl Key {
    fn new(name: &'static str, device_id: &'static str) -> Key {
        let seed: [u8; 32] = Sha256::digest(format!("fieldproof evidence vectors: {name}")).into();
        Key {
            name,
            device_id,
            seed,
            signer: Signer::from_seed(device_id.to_string(), seed),
        }
    }

    fn public(&self) -> String {
        self.signer.public_key_hex()
    }

    fn sign(&self, bytes: &[u8]) -> String {
        self.signer.sign_hex(bytes)
    }

    /// The secret scalar a (RFC 8032 §5.1.5), for the hand-made signatures below.
    fn scalar(&self) -> Scalar {
        let h = Sha512::digest(self.seed);
        let mut a = [0u8; 32];
        a.copy_from_slice(&h[..32]);
        a[0] &= 248;
        a[31] &= 127;
        a[31] |= 64;
        Scalar::from_bytes_mod_order(a)
    }
}

fn rep_phone() -> Key {
    Key::new("rep_phone", "0b6f5a6e-3c1d-4e2a-9f10-5d2c8b7a4e01")
}

fn other_phone() -> Key {
    Key::new("other_phone", "7c0e9d41-8a2b-4f6c-b3d5-1e9f0a2c6d02")
}

/// The time of the device's `n`-th action: one a minute, hlc = wall ms << 16.
fn time(n: i64) -> EventTime {
    let wall_ms = BASE_MS + n * 60_000;
    EventTime {
        wall_ms,
        boot_ms: 3_600_000 + n * 60_000,
        hlc: wall_ms << 16,
        server_offset_ms: Some(-1_250),
    }
}

const VISIT: &str = "019ad6a0-0000-7000-8000-00000000a001";

fn op_id(seq: i64, salt: u32) -> String {
    format!("019ad6a0-{seq:04x}-7000-8{salt:03x}-0000000000{seq:02x}")
}

/// A realistic payload for the `seq`-th action of a visit (the server's schema reads it).
fn action(seq: i64, t: EventTime) -> (&'static str, Value) {
    let t = serde_json::to_value(t).unwrap();
    match seq % 4 {
        1 => (
            "visit.check_in",
            json!({"visit_id": VISIT, "kind": "store_check", "user_id": "rep-li", "store_id": "st-001",
                   "template_id": "tpl-store-check", "template_version": 3, "plan_id": null, "fix": null,
                   "geofence": "verified", "distance_m": 12.5, "flags": [], "time": t}),
        ),
        2 => (
            "visit.answer",
            json!({"visit_id": VISIT, "item_id": "facings", "value": {"kind": "number", "value": 6.0},
                   "note": "货架第二层\n\"新品\" 缺货", "revision": 1, "raised": [], "cleared": [], "time": t}),
        ),
        3 => (
            "visit.answer",
            json!({"visit_id": VISIT, "item_id": "own_price", "value": {"kind": "price", "cents": 1299},
                   "note": null, "revision": 1, "raised": [], "cleared": [], "time": t}),
        ),
        _ => (
            "visit.check_out",
            json!({"visit_id": VISIT, "fix": null, "distance_m": 0.00001, "time": t}),
        ),
    }
}

/// One entry as a device writes it; `n` picks its time and payload.
struct Spec {
    seq: i64,
    n: i64,
    prev_hash: String,
    hlc: Option<i64>,
    salt: u32,
}

fn write(key: &Key, s: &Spec) -> String {
    let mut t = time(s.n);
    if let Some(h) = s.hlc {
        t.hlc = h;
    }
    let (kind, payload) = action(s.n, t);
    entry_bytes(
        &EntryHeader {
            device_id: key.device_id,
            seq: s.seq,
            op_id: &op_id(s.seq, s.salt),
            kind,
            entity_id: VISIT,
            time: t,
            prev_hash: &s.prev_hash,
        },
        &payload,
    )
}

/// An honest device's first `n` entries.
fn honest(key: &Key, n: i64) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for seq in 1..=n {
        let prev_hash = out
            .last()
            .map_or(GENESIS_HASH.to_string(), |e| sha256_hex(e.as_bytes()));
        out.push(write(
            key,
            &Spec {
                seq,
                n: seq,
                prev_hash,
                hlc: None,
                salt: 0,
            },
        ));
    }
    out
}

fn hlc_of(entry: &str) -> i64 {
    read_entry(entry).unwrap().time.hlc
}

fn signed(key: &Key, entry: &str) -> Value {
    json!({"entry": entry, "signature": key.sign(entry.as_bytes())})
}

fn finding(index: i64, seq: Option<i64>, code: VerifyCode) -> Value {
    json!({"index": index, "seq": seq, "code": code.as_str()})
}

fn add_le(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = (s & 0xff) as u8;
        carry = s >> 8;
    }
    out
}

fn hex32(s: &str) -> [u8; 32] {
    hex::decode_array::<32>(s).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The sections of the file
// ---------------------------------------------------------------------------------------------

fn keys_section() -> Value {
    let keys: Vec<Value> = [rep_phone(), other_phone()]
        .iter()
        .map(|k| {
            json!({"name": k.name, "device_id": k.device_id, "seed": hex::encode(&k.seed),
                   "public_key": k.public(),
                   "why": "seed = SHA-256 of the UTF-8 text \"fieldproof evidence vectors: \" + name; the public key is RFC 8032's from that seed"})
        })
        .collect();
    Value::Array(keys)
}

/// Floats as serde_json (ryu) writes them: the edge cases of the rule and a spread of others.
fn floats_section() -> Value {
    let mut values: Vec<f64> = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.5,
        1.5,
        6.0,
        12.5,
        -273.15,
        123.456,
        1e15,
        9.999999999999998e15,
        1e16,
        1.5e16,
        123456789012345680.0,
        1e21,
        1e22,
        1e-5,
        1.2345e-5,
        1e-6,
        1.2345e-7,
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        0.30000000000000004,
        9007199254740993.0,
        2.5e-5,
        100.0,
        1e100,
        -1e-100,
        4.35,
        0.000123,
        33.333333333333336,
        // Two 17-digit spellings equally close (…336.2 and …336.3): the even last digit.
        f64::from_bits(0x4314_6467_c74c_4fc1),
        -f64::from_bits(0x4314_6467_c74c_4fc1),
    ];
    // A fixed spread over every binary exponent (xorshift, fixed seed).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..400 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = f64::from_bits(x);
        if f.is_finite() {
            values.push(f);
        }
    }
    Value::Array(
        values
            .into_iter()
            .map(|f| json!({"bits": format!("{:016x}", f.to_bits()), "text": serde_json::to_string(&f).unwrap()}))
            .collect(),
    )
}

/// The text of a valid entry around a payload (the payload sorts between `op_id` and
/// `prev_hash`): valid exactly when `payload` is canonical.
fn with_payload(payload: &str) -> String {
    let key = rep_phone();
    let t = time(2);
    let base = entry_bytes(
        &EntryHeader {
            device_id: key.device_id,
            seq: 2,
            op_id: &op_id(2, 0),
            kind: "visit.answer",
            entity_id: VISIT,
            time: t,
            prev_hash: GENESIS_HASH,
        },
        &json!("PAYLOAD"),
    );
    base.replacen("\"PAYLOAD\"", payload, 1)
}

fn canonical_section() -> Value {
    let ok = Value::Null;
    let c = |case: MalformedCase| json!(case.as_str());
    use MalformedCase as M;
    let cases: Vec<(&str, &str, String, Value)> = vec![
        (
            "plain_entry",
            "an entry as a device writes it",
            honest(&rep_phone(), 2)[1].clone(),
            ok.clone(),
        ),
        (
            "floats",
            "non-integers: shortest digits, plain with a fraction when the exponent is in -5..=15, else d.ddde+E / d.ddde-E",
            with_payload(
                r#"{"a":12.5,"b":-0.0,"c":1e+16,"d":1000000000000000.0,"e":0.00001,"f":1e-6,"g":1.2345e-7,"h":5e-324,"i":1.7976931348623157e+308,"j":1e+21,"k":100.0}"#,
            ),
            ok.clone(),
        ),
        (
            "integers",
            "integers in plain decimal over the whole signed 64-bit range",
            with_payload(r#"{"max":9223372036854775807,"min":-9223372036854775808,"zero":0}"#),
            ok.clone(),
        ),
        (
            "unicode_and_escapes",
            "non-ASCII and DEL raw; only \" \\ and control characters escaped, \\b \\f \\n \\r \\t short, others \\u00XX lowercase",
            with_payload(
                "{\"s\":\"上海徐汇店 é 😀 / \u{7f} \\\" \\\\ \\b\\f\\n\\r\\t \\u0000\\u001f\\u000b\"}",
            ),
            ok.clone(),
        ),
        (
            "keys_sorted_by_utf8_bytes",
            "keys sorted by their UTF-8 bytes at every level: B (42) < _ (5F) < a (61) < é (C3 A9) < 中 (E4 B8 AD) < ｡ (EF BD A1) < 😀 (F0 9F 98 80)",
            with_payload(
                "{\"B\":1,\"_\":{\"a\":null,\"x\":[{\"a\":2,\"b\":1}]},\"a\":true,\"é\":false,\"中\":[],\"\u{ff61}\":0,\"😀\":0}",
            ),
            ok.clone(),
        ),
        (
            "whitespace",
            "a space after a colon",
            with_payload(r#"{"a": 1}"#),
            c(M::NotCanonical),
        ),
        (
            "trailing_newline",
            "a newline after the entry",
            format!("{}\n", with_payload("{}")),
            c(M::NotCanonical),
        ),
        (
            "key_order",
            "keys not in byte order",
            with_payload(r#"{"b":1,"a":2}"#),
            c(M::NotCanonical),
        ),
        (
            "key_order_utf8_not_utf16",
            "keys in UTF-16 order (JavaScript's sort): 😀 (D83D DE00) before ｡ (FF61); by UTF-8 bytes ｡ comes first",
            with_payload("{\"😀\":1,\"\u{ff61}\":2}"),
            c(M::NotCanonical),
        ),
        (
            "escaped_non_ascii",
            "é written as \\u00e9",
            with_payload(r#"{"s":"\u00e9"}"#),
            c(M::NotCanonical),
        ),
        (
            "escaped_slash",
            "/ written as \\/",
            with_payload(r#"{"s":"a\/b"}"#),
            c(M::NotCanonical),
        ),
        (
            "uppercase_u_escape",
            "a control character as \\u001F",
            with_payload(r#"{"s":"\u001F"}"#),
            c(M::NotCanonical),
        ),
        (
            "long_escape_for_newline",
            "\\n written as \\u000a",
            with_payload(r#"{"s":"\u000a"}"#),
            c(M::NotCanonical),
        ),
        (
            "escaped_del",
            "DEL written as \\u007f",
            with_payload(r#"{"s":"\u007f"}"#),
            c(M::NotCanonical),
        ),
        (
            "float_capital_e",
            "100 written 1E2",
            with_payload(r#"{"a":1E2}"#),
            c(M::NotCanonical),
        ),
        (
            "float_trailing_zero",
            "1.5 written 1.50",
            with_payload(r#"{"a":1.50}"#),
            c(M::NotCanonical),
        ),
        (
            "float_unsigned_exponent",
            "1e+21 written 1e21 (the exponent's sign is always written)",
            with_payload(r#"{"a":1e21}"#),
            c(M::NotCanonical),
        ),
        (
            "float_integer_spelling",
            "100.0 written 100 reads as the integer 100: another number",
            with_payload(r#"{"a":1e2}"#),
            c(M::NotCanonical),
        ),
        (
            "float_plain_large",
            "1e16 written in full",
            with_payload(r#"{"a":10000000000000000.0}"#),
            c(M::NotCanonical),
        ),
        (
            "float_exponent_small",
            "12.5 written 1.25e1",
            with_payload(r#"{"a":1.25e1}"#),
            c(M::NotCanonical),
        ),
        (
            "float_exponent_leading_zero",
            "1e-7 written 1e-07",
            with_payload(r#"{"a":1e-07}"#),
            c(M::NotCanonical),
        ),
        (
            "float_for_integer_value",
            "2e0 reads as the float 2.0, which is written 2.0",
            with_payload(r#"{"a":2e0}"#),
            c(M::NotCanonical),
        ),
        (
            "float_not_shortest",
            "0.1 written with 17 digits",
            with_payload(r#"{"a":0.10000000000000001}"#),
            c(M::NotCanonical),
        ),
        (
            "integer_above_i64",
            "9223372036854775808 is beyond the signed 64-bit range",
            with_payload(r#"{"a":9223372036854775808}"#),
            c(M::NotCanonical),
        ),
        (
            "integer_below_i64",
            "-9223372036854775809",
            with_payload(r#"{"a":-9223372036854775809}"#),
            c(M::NotCanonical),
        ),
        (
            "integer_beyond_u64",
            "18446744073709551616",
            with_payload(r#"{"a":18446744073709551616}"#),
            c(M::NotCanonical),
        ),
        (
            "minus_zero_integer",
            "-0 is the integer 0, written 0",
            with_payload(r#"{"a":-0}"#),
            c(M::NotCanonical),
        ),
        (
            "minus_zero_float_padded",
            "-0.0 is canonical, -0.00 is not",
            with_payload(r#"{"a":-0.00}"#),
            c(M::NotCanonical),
        ),
        (
            "duplicate_key",
            "the same key twice",
            with_payload(r#"{"a":1,"a":1}"#),
            c(M::NotCanonical),
        ),
        (
            "duplicate_envelope_key",
            "seq given twice (the second, equal, copy)",
            with_payload("{}").replacen("\"seq\":2,", "\"seq\":2,\"seq\":2,", 1),
            c(M::NotCanonical),
        ),
        (
            "not_json_trailing",
            "text after the object",
            format!("{}x", with_payload("{}")),
            c(M::NotJson),
        ),
        (
            "not_json_array",
            "an array, not an object",
            "[1,2]".into(),
            c(M::NotJson),
        ),
        (
            "not_json_nan",
            "NaN is not JSON",
            with_payload(r#"{"a":NaN}"#),
            c(M::NotJson),
        ),
        (
            "not_json_huge_number",
            "1e400 is beyond f64",
            with_payload(r#"{"a":1e400}"#),
            c(M::NotJson),
        ),
        (
            "not_json_lone_surrogate",
            "a \\u escape of half a surrogate pair",
            with_payload(r#"{"s":"\ud800"}"#),
            c(M::NotJson),
        ),
        (
            "not_json_raw_control",
            "a raw tab inside a string",
            with_payload("{\"s\":\"a\tb\"}"),
            c(M::NotJson),
        ),
        (
            "nesting_127",
            "127 levels of arrays and objects in all (the entry object is level 1)",
            with_payload(&nested(126)),
            ok.clone(),
        ),
        (
            "nesting_128",
            "128 levels: deeper than the format allows",
            with_payload(&nested(127)),
            c(M::NotJson),
        ),
        (
            "missing_field",
            "no \"kind\"",
            with_payload("{}").replacen("\"kind\":\"visit.answer\",", "", 1),
            c(M::MissingField),
        ),
        (
            "missing_payload",
            "no \"payload\"",
            with_payload("{}").replacen("\"payload\":{},", "", 1),
            c(M::MissingField),
        ),
        (
            "wrong_type_seq",
            "seq as a string",
            with_payload("{}").replacen("\"seq\":2", "\"seq\":\"2\"", 1),
            c(M::MissingField),
        ),
        (
            "wrong_type_seq_float",
            "seq as 2.0",
            with_payload("{}").replacen("\"seq\":2", "\"seq\":2.0", 1),
            c(M::MissingField),
        ),
        (
            "wrong_type_version",
            "v as a string",
            with_payload("{}").replacen("\"v\":1", "\"v\":\"1\"", 1),
            c(M::MissingField),
        ),
        (
            "server_offset_null",
            "server_offset_ms null (a device that never synced)",
            with_payload("{}").replacen("\"server_offset_ms\":-1250", "\"server_offset_ms\":null", 1),
            ok.clone(),
        ),
        (
            "server_offset_absent",
            "server_offset_ms left out",
            with_payload("{}").replacen(",\"server_offset_ms\":-1250", "", 1),
            ok.clone(),
        ),
        (
            "payload_null",
            "the payload may be any JSON value as far as the envelope goes",
            with_payload("null"),
            ok.clone(),
        ),
        (
            "unknown_envelope_field",
            "an extra signed field is kept and ignored",
            with_payload("{}").replacen("\"v\":1", "\"v\":1,\"x\":1", 1),
            ok.clone(),
        ),
        (
            "unsupported_version",
            "v = 2",
            with_payload("{}").replacen("\"v\":1", "\"v\":2", 1),
            c(M::UnsupportedVersion),
        ),
        (
            "seq_zero",
            "seq 0",
            with_payload("{}").replacen("\"seq\":2", "\"seq\":0", 1),
            c(M::OutOfRange),
        ),
        (
            "seq_above_2_53",
            "seq 2^53 + 1",
            with_payload("{}").replacen("\"seq\":2", "\"seq\":9007199254740993", 1),
            c(M::OutOfRange),
        ),
        (
            "seq_2_53",
            "seq 2^53 is the largest",
            with_payload("{}").replacen("\"seq\":2", "\"seq\":9007199254740992", 1),
            ok.clone(),
        ),
        (
            "prev_hash_uppercase",
            "prev_hash in capitals",
            with_payload("{}").replacen(
                &format!("\"prev_hash\":\"{GENESIS_HASH}\""),
                &format!("\"prev_hash\":\"{}\"", "AB".repeat(32)),
                1,
            ),
            c(M::OutOfRange),
        ),
        (
            "prev_hash_short",
            "prev_hash of 62 characters",
            with_payload("{}").replacen(GENESIS_HASH, &GENESIS_HASH[2..], 1),
            c(M::OutOfRange),
        ),
        (
            "empty_op_id",
            "op_id empty",
            with_payload("{}").replacen(&op_id(2, 0), "", 1),
            c(M::OutOfRange),
        ),
        (
            "device_id_129_bytes",
            "ids are 1-128 bytes",
            with_payload("{}").replacen(
                &format!("\"device_id\":\"{}\"", rep_phone().device_id),
                &format!("\"device_id\":\"{}\"", "d".repeat(129)),
                1,
            ),
            c(M::OutOfRange),
        ),
        (
            "entity_id_128_bytes",
            "128 bytes is the longest id (here 42 three-byte characters and 2)",
            with_payload("{}").replacen(VISIT, &format!("{}ab", "店".repeat(42)), 1),
            ok.clone(),
        ),
        (
            "wall_ms_negative",
            "wall_ms before 1970",
            with_payload("{}").replacen(&format!("\"wall_ms\":{}", time(2).wall_ms), "\"wall_ms\":-1", 1),
            c(M::OutOfRange),
        ),
        (
            "wall_ms_after_2200",
            "wall_ms beyond 7258118400000",
            with_payload("{}").replacen(
                &format!("\"wall_ms\":{}", time(2).wall_ms),
                "\"wall_ms\":7258118400001",
                1,
            ),
            c(M::OutOfRange),
        ),
        (
            "hlc_negative",
            "hlc below 0",
            with_payload("{}").replacen(&format!("\"hlc\":{}", time(2).hlc), "\"hlc\":-1", 1),
            c(M::OutOfRange),
        ),
        (
            "server_offset_beyond",
            "|server_offset_ms| above 7258118400000",
            with_payload("{}").replacen(
                "\"server_offset_ms\":-1250",
                "\"server_offset_ms\":-7258118400001",
                1,
            ),
            c(M::OutOfRange),
        ),
        (
            "checks_in_order",
            "a non-canonical entry with v = 2 is not_canonical: the checks run in the documented order",
            with_payload("{}").replacen("\"v\":1", "\"v\":2 ", 1),
            c(M::NotCanonical),
        ),
    ];
    let mut out: Vec<Value> = cases
        .into_iter()
        .map(|(name, why, entry, expect)| json!({"name": name, "why": why, "entry": entry, "malformed": expect}))
        .collect();
    // Too large: written as parts, to keep the file small.
    let filler = MAX_ENTRY_BYTES - with_payload("\"\"").len();
    let parts = |extra: usize| {
        let whole = with_payload("\"FILL\"");
        let (before, after) = whole.split_once("FILL").unwrap();
        json!({"before": before, "repeat": "a", "times": filler + extra, "after": after})
    };
    out.push(
        json!({"name": "largest", "why": "exactly 262144 bytes", "entry_parts": parts(0), "malformed": null}),
    );
    out.push(json!({"name": "too_large", "why": "262145 bytes", "entry_parts": parts(1), "malformed": MalformedCase::TooLarge.as_str()}));
    Value::Array(out)
}

fn nested(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

fn expand(case: &Value) -> String {
    if let Some(e) = case["entry"].as_str() {
        return e.to_string();
    }
    let p = &case["entry_parts"];
    format!(
        "{}{}{}",
        p["before"].as_str().unwrap(),
        p["repeat"]
            .as_str()
            .unwrap()
            .repeat(p["times"].as_u64().unwrap() as usize),
        p["after"].as_str().unwrap()
    )
}

fn entries_section() -> Value {
    let key = rep_phone();
    let entries = honest(&key, 4);
    Value::Array(
        entries
            .iter()
            .map(|e| {
                let f = read_entry(e).unwrap();
                json!({"name": format!("seq_{}_{}", f.seq, f.kind.replace('.', "_")),
                       "why": "an honest device's entry: its bytes, signature over them, and SHA-256 of them",
                       "key": key.name, "entry": e, "signature": key.sign(e.as_bytes()),
                       "entry_hash": sha256_hex(e.as_bytes())})
            })
            .collect(),
    )
}

fn evidence_codes_section() -> Value {
    let cases = [
        (
            "photo",
            "a photo's code: the ids exactly as written in the manifest",
            sha256_hex(PHOTO),
            rep_phone().device_id.to_string(),
            "019ad6a0-0005-7000-8000-00000000f001".to_string(),
        ),
        (
            "ids_as_written",
            "ids are not normalised: an upper-case UUID gives another code",
            sha256_hex(PHOTO),
            rep_phone().device_id.to_uppercase(),
            "019AD6A0-0005-7000-8000-00000000F001".to_string(),
        ),
        (
            "non_ascii_id",
            "any id is its UTF-8 bytes",
            "0".repeat(64),
            "设备-1".to_string(),
            "照片-1".to_string(),
        ),
    ];
    Value::Array(
        cases
            .into_iter()
            .map(|(name, why, original, device, photo)| {
                let input = format!("fieldproof-evidence-code-v1\n{original}\n{device}\n{photo}");
                let digest = Sha256::digest(input.as_bytes());
                json!({"name": name, "why": why, "original_sha256": original, "device_id": device, "photo_id": photo,
                       "input_hex": hex::encode(input.as_bytes()), "sha256": hex::encode(&digest),
                       "first_40_bits": digest[..5].iter().map(|b| format!("{b:08b}")).collect::<String>(),
                       "code": evidence_code(&original, &device, &photo)})
            })
            .collect(),
    )
}

/// Encodings of the eight points of small order (canonical), from which the forgeries below are
/// made.
const SMALL_ORDER: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
];

fn k_of(r: &[u8; 32], a: &[u8; 32], m: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(m);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

fn signatures_section() -> (Value, Value) {
    let key = rep_phone();
    let public = key.public();
    let a_bytes = hex32(&public);
    let message = honest(&key, 1).remove(0);
    let m = message.as_bytes();
    let good = key.sign(m);
    let good_bytes = hex::decode_array::<64>(&good).unwrap();
    let (r, s) = (&good_bytes[..32], &good_bytes[32..]);
    let sig = |r: &[u8], s: &[u8]| format!("{}{}", hex::encode(r), hex::encode(s));
    let mut s_arr = [0u8; 32];
    s_arr.copy_from_slice(s);

    // R = identity with S = k·a: [S]B − [k]A is the identity, so R matches byte for byte and a
    // cofactorless check without the small-order test accepts it.
    let identity = hex32(SMALL_ORDER[0]);
    let k = k_of(&identity, &a_bytes, m);
    let s_small_r = (k * key.scalar()).to_bytes();
    assert_eq!(
        (ED25519_BASEPOINT_POINT * Scalar::from_bytes_mod_order(s_small_r) - key.signer_point() * k)
            .compress()
            .to_bytes(),
        identity
    );
    // The same with R written non-canonically (y = p + 1).
    let r_noncanon = hex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    let k2 = k_of(&r_noncanon, &a_bytes, m);
    let s_noncanon_r = (k2 * key.scalar()).to_bytes();

    // A forgery under a key of order 8, S = 0: [0]B − [k]A = R holds for one message in eight.
    let weak = hex32(SMALL_ORDER[4]);
    let weak_point = CompressedEdwardsY(weak).decompress().unwrap();
    let (forged_message, forged_r) = (0..64)
        .find_map(|i| {
            let msg = format!("forged message {i}");
            SMALL_ORDER.iter().find_map(|r| {
                let r = hex32(r);
                let k = k_of(&r, &weak, msg.as_bytes());
                ((-(weak_point * k)).compress().to_bytes() == r).then_some((msg.clone(), r))
            })
        })
        .unwrap();

    let mut high_s = s_arr;
    high_s[31] |= 0x80;
    let cases = vec![
        (
            "valid",
            "an honest signature over entry bytes",
            public.clone(),
            hex::encode(m),
            good.clone(),
            true,
        ),
        (
            "other_message",
            "the same signature over a message one byte longer",
            public.clone(),
            hex::encode(format!("{message} ").as_bytes()),
            good.clone(),
            false,
        ),
        (
            "s_plus_l",
            "S + L (the equation still holds mod L): S must be below L",
            public.clone(),
            hex::encode(m),
            sig(r, &add_le(&s_arr, &L)),
            false,
        ),
        (
            "s_high_bit",
            "S with its top bit set",
            public.clone(),
            hex::encode(m),
            sig(r, &high_s),
            false,
        ),
        (
            "small_order_r",
            "R = the identity (small order), S = k·a: the cofactorless equation holds, R is rejected",
            public.clone(),
            hex::encode(m),
            sig(&identity, &s_small_r),
            false,
        ),
        (
            "non_canonical_r",
            "R = the identity written as y = p + 1: not byte-equal to the recomputed R",
            public.clone(),
            hex::encode(m),
            sig(&r_noncanon, &s_noncanon_r),
            false,
        ),
        (
            "small_order_key_identity",
            "A = the identity, R = the identity, S = 0: verifies for every message without the small-order test",
            SMALL_ORDER[0].to_string(),
            hex::encode(m),
            sig(&identity, &[0; 32]),
            false,
        ),
        (
            "small_order_key_order_8",
            "A of order 8, S = 0, R = −[k]A: a forgery a verifier without the small-order test accepts",
            SMALL_ORDER[4].to_string(),
            hex::encode(forged_message.as_bytes()),
            sig(&forged_r, &[0; 32]),
            false,
        ),
        (
            "other_device_key",
            "a valid signature checked with another device's key",
            other_phone().public(),
            hex::encode(m),
            good.clone(),
            false,
        ),
    ];
    let signatures = Value::Array(
        cases
            .into_iter()
            .map(|(name, why, pk, msg, sig, valid)| {
                json!({"name": name, "why": why, "public_key": pk, "message_hex": msg, "signature": sig, "valid": valid})
            })
            .collect(),
    );

    // Public keys: canonical encodings of points of large order are accepted; everything of small
    // order, and every non-canonical encoding, is not.
    let mut keys: Vec<Value> =
        vec![json!({"name": "rep_phone", "why": "an honest key", "public_key": public, "valid": true})];
    for (i, so) in SMALL_ORDER.iter().enumerate() {
        keys.push(json!({"name": format!("small_order_{i}"), "why": "a point of small order (order 1, 2, 4 or 8)", "public_key": so, "valid": false}));
    }
    keys.push(json!({"name": "x_zero_sign_bit", "why": "the identity (x = 0) with the sign bit set", "public_key": "0100000000000000000000000000000000000000000000000000000000000080", "valid": false}));
    keys.push(json!({"name": "not_on_curve", "why": "y = 2 is on no point of the curve", "public_key": "0200000000000000000000000000000000000000000000000000000000000000", "valid": false}));
    // y ≥ p: the encodings p + k of y = k for the k < 19 that are points of large order.
    let p_plus = |k: u8| {
        let mut b = hex32("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        b[0] += k;
        b
    };
    let mut found = 0;
    for k in 0..19u8 {
        let b = p_plus(k);
        let Some(pt) = CompressedEdwardsY(b).decompress() else {
            continue;
        };
        let small = pt.is_small_order();
        keys.push(json!({"name": format!("y_is_p_plus_{k}"),
                         "why": format!("y = p + {k} ≥ p: a non-canonical encoding of a point of {} order", if small {"small"} else {"large"}),
                         "public_key": hex::encode(&b), "valid": false}));
        if !small {
            found += 1;
        }
    }
    assert!(
        found > 0,
        "a non-canonical encoding of a large-order point exists"
    );
    (signatures, Value::Array(keys))
}

trait SignerPoint {
    fn signer_point(&self) -> curve25519_dalek::edwards::EdwardsPoint;
}

impl SignerPoint for Key {
    fn signer_point(&self) -> curve25519_dalek::edwards::EdwardsPoint {
        CompressedEdwardsY(hex32(&self.public())).decompress().unwrap()
    }
}

fn photo_manifest(key: &Key, kind: &str, image: &[u8], code: Option<&str>) -> String {
    let photo_id = "019ad6a0-0005-7000-8000-00000000f001";
    let original = sha256_hex(b"the camera's JPEG before stamping (stands in for it here)");
    let t = time(5);
    let code = code.map_or_else(
        || evidence_code(&original, key.device_id, photo_id),
        str::to_string,
    );
    let payload = json!({
        "photo_id": photo_id, "visit_id": VISIT, "store_id": "st-001", "store_code": "SH-0001",
        "user_id": "rep-li", "item_id": "shelf_photo", "photo_kind": "shelf_overview",
        "image_sha256": sha256_hex(image), "original_sha256": original, "byte_len": image.len(),
        "width": 32, "height": 24, "source_width": 32, "source_height": 24, "orientation": 1,
        "phash": "c3a5e1f00f1e5a3c", "evidence_code": code, "utc_offset_minutes": 480,
        "location": {"lat_e7": 311_884_561, "lon_e7": 1_214_368_923, "accuracy_cm": 1_200,
                     "provider": "gps", "is_mock": false, "fix_time_ms": t.wall_ms - 4_000},
        "possible_reuse_of": [],
    });
    entry_bytes(
        &EntryHeader {
            device_id: key.device_id,
            seq: 5,
            op_id: &op_id(5, 0),
            kind,
            entity_id: VISIT,
            time: t,
            prev_hash: &sha256_hex(b"seq 4"),
        },
        &payload,
    )
}

fn photos_section() -> Value {
    let key = rep_phone();
    let other = other_phone();
    let manifest = photo_manifest(&key, "visit.photo", PHOTO, None);
    let sig = key.sign(manifest.as_bytes());
    let mut flipped = PHOTO.to_vec();
    flipped[200] ^= 0x01;
    let known = |revoked_ms: Option<i64>| json!([{"device_id": key.device_id, "public_key": key.public(), "revoked_ms": revoked_ms}]);
    let received = BASE_MS + 6 * 60_000;
    let revoked = BASE_MS + 24 * 3_600_000;
    let edited = manifest.replacen("\"store_id\":\"st-001\"", "\"store_id\":\"st-002\"", 1);
    let wrong_code = photo_manifest(&key, "visit.photo", PHOTO, Some("0000-0000"));
    let not_photo = honest(&key, 1).remove(0);
    let customer = photo_manifest(&key, "customer.photo", PHOTO, None);
    let spaced = manifest.replacen("\"v\":1", "\"v\": 1", 1);
    let code = evidence_code(
        &sha256_hex(b"the camera's JPEG before stamping (stands in for it here)"),
        key.device_id,
        "019ad6a0-0005-7000-8000-00000000f001",
    );
    let none: &[VerifyCode] = &[];
    use VerifyCode as V;
    #[allow(clippy::type_complexity)]
    let cases: Vec<(
        &str,
        &str,
        &[u8],
        String,
        String,
        Value,
        Option<i64>,
        &[VerifyCode],
        bool,
    )> = vec![
        (
            "verified",
            "the photo, its manifest and signature, a known key",
            PHOTO,
            manifest.clone(),
            sig.clone(),
            known(None),
            Some(received),
            none,
            false,
        ),
        (
            "verified_receipt_unknown",
            "without revocation the receipt time does not matter",
            PHOTO,
            manifest.clone(),
            sig.clone(),
            known(None),
            None,
            none,
            false,
        ),
        (
            "image_byte_flipped",
            "one bit of the file changed",
            &flipped,
            manifest.clone(),
            sig.clone(),
            known(None),
            Some(received),
            &[V::ImageHashMismatch],
            false,
        ),
        (
            "manifest_edited",
            "the store changed after signing",
            PHOTO,
            edited.clone(),
            sig.clone(),
            known(None),
            Some(received),
            &[V::BadSignature],
            false,
        ),
        (
            "code_mismatch",
            "a signed manifest whose code is not the one its inputs give",
            PHOTO,
            wrong_code.clone(),
            key.sign(wrong_code.as_bytes()),
            known(None),
            Some(received),
            &[V::CodeMismatch],
            false,
        ),
        (
            "unknown_key",
            "the device is not in the key list",
            PHOTO,
            manifest.clone(),
            sig.clone(),
            json!([{"device_id": other.device_id, "public_key": other.public(), "revoked_ms": null}]),
            Some(received),
            &[V::UnknownKey],
            false,
        ),
        (
            "another_devices_key",
            "signed by another device's key, naming this device",
            PHOTO,
            manifest.clone(),
            other.sign(manifest.as_bytes()),
            known(None),
            Some(received),
            &[V::BadSignature],
            false,
        ),
        (
            "revoked_later",
            "received a day before the key was revoked: verified, key revoked later",
            PHOTO,
            manifest.clone(),
            sig.clone(),
            known(Some(revoked)),
            Some(received),
            none,
            true,
        ),
        (
            "revoked_later_and_changed",
            "the note stays with the other findings: the key was revoked after receipt",
            &flipped,
            manifest.clone(),
            sig.clone(),
            known(Some(revoked)),
            Some(received),
            &[V::ImageHashMismatch],
            true,
        ),
        (
            "revoked_at_receipt",
            "received at the very ms of the revocation",
            PHOTO,
            manifest.clone(),
            sig.clone(),
            known(Some(received)),
            Some(received),
            &[V::RevokedKey],
            false,
        ),
        (
            "revoked_before",
            "received after the revocation",
            PHOTO,
            manifest.clone(),
            sig.clone(),
            known(Some(received - 1)),
            Some(received),
            &[V::RevokedKey],
            false,
        ),
        (
            "revoked_receipt_unknown",
            "a revoked key and no receipt time: counts as after",
            PHOTO,
            manifest.clone(),
            sig.clone(),
            known(Some(revoked)),
            None,
            &[V::RevokedKey],
            false,
        ),
        (
            "revoked_and_edited",
            "all findings are reported",
            PHOTO,
            edited,
            sig.clone(),
            known(Some(received - 1)),
            Some(received),
            &[V::RevokedKey, V::BadSignature],
            false,
        ),
        (
            "not_a_photo",
            "a check-in entry given as a manifest",
            PHOTO,
            not_photo.clone(),
            key.sign(not_photo.as_bytes()),
            known(None),
            Some(received),
            &[V::NotAPhoto],
            false,
        ),
        (
            "customer_photo",
            "a customer's stage-evidence photo verifies the same way",
            PHOTO,
            customer.clone(),
            key.sign(customer.as_bytes()),
            known(None),
            Some(received),
            none,
            false,
        ),
        (
            "malformed_manifest",
            "a validly signed manifest with a space in it",
            PHOTO,
            spaced.clone(),
            key.sign(spaced.as_bytes()),
            known(None),
            Some(received),
            &[V::MalformedEntry],
            false,
        ),
    ];
    let cases: Vec<Value> = cases
        .into_iter()
        .map(|(name, why, image, entry, signature, keys, received_ms, findings, later)| {
            json!({"name": name, "why": why, "image_hex": hex::encode(image), "entry": entry, "signature": signature,
                   "keys": keys, "received_ms": received_ms,
                   "expect": {"verified": findings.is_empty(), "findings": findings.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                              "key_revoked_later": later}})
        })
        .collect();
    json!({"evidence_code": code, "cases": cases})
}

fn chains_section() -> Value {
    use VerifyCode as V;
    let key = rep_phone();
    let other = other_phone();
    let h = honest(&key, 6);
    let hash = |i: usize| sha256_hex(h[i].as_bytes());
    let s = |e: &String| signed(&key, e);
    let head = |i: usize| json!({"seq": i as i64 + 1, "entry_hash": hash(i), "hlc": hlc_of(&h[i])});
    // Seq 3 written again with other content (a rewritten history on the same device).
    let fork3 = write(
        &key,
        &Spec {
            seq: 3,
            n: 7,
            prev_hash: hash(1),
            hlc: None,
            salt: 1,
        },
    );
    // Seq 3 that names a previous hash that is not seq 2's.
    let unlinked3 = write(
        &key,
        &Spec {
            seq: 3,
            n: 3,
            prev_hash: sha256_hex(b"another seq 2"),
            hlc: None,
            salt: 0,
        },
    );
    let back = |hlc: i64| {
        write(
            &key,
            &Spec {
                seq: 3,
                n: 3,
                prev_hash: hash(1),
                hlc: Some(hlc),
                salt: 0,
            },
        )
    };
    let equal_hlc = back(hlc_of(&h[1]));
    let lower_hlc = back(hlc_of(&h[1]) - (60_000 << 16));
    let wrong_genesis = write(
        &key,
        &Spec {
            seq: 1,
            n: 1,
            prev_hash: sha256_hex(b"not genesis"),
            hlc: None,
            salt: 0,
        },
    );
    let spaced = h[2].replacen("\"v\":1", "\"v\": 1", 1);
    let bad = |e: &String| json!({"entry": e, "signature": other.sign(e.as_bytes())});

    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, &str, Value, Vec<Value>, Vec<Value>)> = vec![
        (
            "from_genesis",
            "an honest device's first six entries",
            Value::Null,
            h.iter().map(s).collect(),
            vec![],
        ),
        (
            "from_context_head",
            "entries 4-6 after the verifier's head at seq 3",
            head(2),
            h[3..].iter().map(s).collect(),
            vec![],
        ),
        (
            "anchor_without_head",
            "no head: the first entry that reads and verifies (seq 3) is the anchor",
            Value::Null,
            h[2..].iter().map(s).collect(),
            vec![],
        ),
        (
            "gap",
            "seq 3 removed",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), s(&h[3]), s(&h[4])],
            vec![finding(2, Some(4), V::ChainGap)],
        ),
        (
            "gap_after_head",
            "head at seq 2; seq 4 comes next",
            head(1),
            vec![s(&h[3])],
            vec![finding(0, Some(4), V::ChainGap)],
        ),
        (
            "fork_same_seq",
            "a second, different seq 3 after the first",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), s(&h[2]), s(&fork3)],
            vec![finding(3, Some(3), V::ChainFork)],
        ),
        (
            "fork_at_head",
            "head at seq 3; another seq 3 arrives",
            head(2),
            vec![s(&fork3)],
            vec![finding(0, Some(3), V::ChainFork)],
        ),
        (
            "fork_unlinked",
            "seq 3 does not name seq 2's hash; seq 4 links to the original seq 3, not to it",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), s(&unlinked3), s(&h[3])],
            vec![
                finding(2, Some(3), V::ChainFork),
                finding(3, Some(4), V::ChainFork),
            ],
        ),
        (
            "reordered",
            "seq 4 received before seq 3",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), s(&h[3]), s(&h[2]), s(&h[4])],
            vec![
                finding(2, Some(4), V::ChainGap),
                finding(3, Some(3), V::Reordered),
            ],
        ),
        (
            "reordered_fork",
            "a different seq 2 received after seq 3",
            Value::Null,
            vec![
                s(&h[0]),
                s(&h[1]),
                s(&h[2]),
                s(&write(
                    &key,
                    &Spec {
                        seq: 2,
                        n: 6,
                        prev_hash: hash(0),
                        hlc: None,
                        salt: 2,
                    },
                )),
            ],
            vec![
                finding(3, Some(2), V::ChainFork),
                finding(3, Some(2), V::Reordered),
            ],
        ),
        (
            "backdated_equal_hlc",
            "seq 3's hlc equals seq 2's: not strictly increasing",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), s(&equal_hlc)],
            vec![finding(2, Some(3), V::Backdated)],
        ),
        (
            "backdated_lower_hlc",
            "seq 3's hlc a minute before seq 2's",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), s(&lower_hlc)],
            vec![finding(2, Some(3), V::Backdated)],
        ),
        (
            "backdated_after_head",
            "the head's hlc counts too",
            head(1),
            vec![s(&lower_hlc)],
            vec![finding(0, Some(3), V::Backdated)],
        ),
        (
            "bad_signature_skipped",
            "seq 3 signed by another key is skipped; the genuine seq 3 then links to seq 2",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), bad(&h[2]), s(&h[2]), s(&h[3])],
            vec![finding(2, Some(3), V::BadSignature)],
        ),
        (
            "bad_signature_does_not_move_head",
            "seq 3 with a bad signature, then seq 4: a gap after seq 2",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), bad(&h[2]), s(&h[3])],
            vec![
                finding(2, Some(3), V::BadSignature),
                finding(3, Some(4), V::ChainGap),
            ],
        ),
        (
            "bad_signature_first",
            "without a head, a bad first entry is not the anchor",
            Value::Null,
            vec![bad(&h[2]), s(&h[3]), s(&h[4])],
            vec![finding(0, Some(3), V::BadSignature)],
        ),
        (
            "malformed_entry",
            "a validly signed seq 3 with a space; seq 4 then shows a gap after seq 2",
            Value::Null,
            vec![s(&h[0]), s(&h[1]), s(&spaced), s(&h[3])],
            vec![
                finding(2, None, V::MalformedEntry),
                finding(3, Some(4), V::ChainGap),
            ],
        ),
        (
            "wrong_genesis",
            "seq 1 whose prev_hash is not 64 zeros",
            Value::Null,
            vec![s(&wrong_genesis)],
            vec![finding(0, Some(1), V::ChainFork)],
        ),
        (
            "wrong_genesis_then_link",
            "seq 2 links to the bad seq 1 as received",
            Value::Null,
            vec![
                s(&wrong_genesis),
                s(&write(
                    &key,
                    &Spec {
                        seq: 2,
                        n: 2,
                        prev_hash: sha256_hex(wrong_genesis.as_bytes()),
                        hlc: None,
                        salt: 0,
                    },
                )),
            ],
            vec![finding(0, Some(1), V::ChainFork)],
        ),
        (
            "another_devices_chain",
            "another device's entries checked with this device's key",
            Value::Null,
            honest(&other, 2).iter().map(|e| signed(&other, e)).collect(),
            vec![
                finding(0, Some(1), V::BadSignature),
                finding(1, Some(2), V::BadSignature),
            ],
        ),
    ];
    Value::Array(
        cases
            .into_iter()
            .map(|(name, why, head, entries, expect)| {
                json!({"name": name, "why": why, "public_key": key.public(), "head": head, "entries": entries, "expect": expect})
            })
            .collect(),
    )
}

fn build() -> Value {
    let (signatures, public_keys) = signatures_section();
    json!({
        "about": "Test vectors of docs/evidence-format.md (version 1). Written by core/tests/evidence_vectors.rs; do not edit by hand.",
        "regenerate": REGENERATE,
        "constants": {
            "genesis_hash": GENESIS_HASH, "max_entry_bytes": MAX_ENTRY_BYTES, "max_seq": MAX_SEQ,
            "max_wall_ms": MAX_WALL_MS, "max_id_bytes": MAX_ID_BYTES, "entry_version": ENTRY_VERSION,
            "crockford_alphabet": "0123456789ABCDEFGHJKMNPQRSTVWXYZ",
        },
        "finding_codes": VerifyCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "malformed_cases": MALFORMED_CASES.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "keys": keys_section(),
        "floats": floats_section(),
        "canonical": canonical_section(),
        "entries": entries_section(),
        "evidence_codes": evidence_codes_section(),
        "public_keys": public_keys,
        "signatures": signatures,
        "photos": photos_section(),
        "chains": chains_section(),
    })
}

const MALFORMED_CASES: [MalformedCase; 7] = [
    MalformedCase::TooLarge,
    MalformedCase::NotJson,
    MalformedCase::NotCanonical,
    MalformedCase::MissingField,
    MalformedCase::UnsupportedVersion,
    MalformedCase::OutOfRange,
    MalformedCase::BadPayload,
];

/// The file with its keys sorted at every level, whatever order serde_json's maps keep: a
/// dependency turning on its `preserve_order` feature (c2pa does, through the core's
/// `content-credentials` feature) must not change the file.
fn render(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    format!("{}\n", serde_json::to_string_pretty(&sorted(v)).unwrap())
}

fn committed() -> Value {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn the_committed_vectors_are_what_the_core_writes() {
    let fresh = render(&build());
    if std::env::var_os("FIELDPROOF_WRITE_VECTORS").is_some() {
        std::fs::write(VECTORS, &fresh).unwrap();
        return;
    }
    let old = std::fs::read_to_string(VECTORS).unwrap_or_default();
    assert!(
        old == fresh,
        "docs/evidence-vectors.json is not what the core writes now; if the change is deliberate, \
         regenerate it: {REGENERATE}"
    );
}

fn known_keys(v: &Value) -> Vec<KnownKey> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|k| KnownKey {
            device_id: k["device_id"].as_str().unwrap().into(),
            public_key_hex: k["public_key"].as_str().unwrap().into(),
            revoked_ms: k["revoked_ms"].as_i64(),
        })
        .collect()
}

fn signed_entry(v: &Value) -> SignedEntry {
    SignedEntry {
        entry: v["entry"].as_str().unwrap().into(),
        signature_hex: v["signature"].as_str().unwrap().into(),
    }
}

fn order(code: &str) -> usize {
    VerifyCode::ALL.iter().position(|c| c.as_str() == code).unwrap()
}

/// Findings by entry, and within one entry in the order of the list of codes (the order
/// within one entry carries no meaning).
fn sorted(mut f: Vec<(i64, Option<i64>, String)>) -> Vec<(i64, Option<i64>, String)> {
    f.sort_by_key(|(i, _, c)| (*i, order(c)));
    f
}

#[test]
fn every_vector_gives_its_expected_result() {
    let v = committed();
    assert!(v.is_object(), "docs/evidence-vectors.json missing; {REGENERATE}");
    let mut checked = 0;

    assert_eq!(
        v["finding_codes"].as_array().unwrap().len(),
        VerifyCode::ALL.len()
    );
    for k in v["keys"].as_array().unwrap() {
        let seed = hex::decode_array::<32>(k["seed"].as_str().unwrap()).unwrap();
        let signer = Signer::from_seed(k["device_id"].as_str().unwrap().into(), seed);
        assert_eq!(signer.public_key_hex(), k["public_key"].as_str().unwrap());
        checked += 1;
    }
    for f in v["floats"].as_array().unwrap() {
        let x = f64::from_bits(u64::from_str_radix(f["bits"].as_str().unwrap(), 16).unwrap());
        let text = f["text"].as_str().unwrap();
        assert_eq!(serde_json::to_string(&x).unwrap(), text);
        assert_eq!(documented_float(x), text);
        assert!(is_canonical(&format!("[{text}]")), "{text} reads back as itself");
        checked += 1;
    }
    for c in v["canonical"].as_array().unwrap() {
        let entry = expand(c);
        let got = read_entry(&entry).err().map(|m| m.case.as_str());
        assert_eq!(got, c["malformed"].as_str(), "canonical case {}", c["name"]);
        match got {
            None => assert!(is_canonical(&entry), "{}", c["name"]),
            Some("not_canonical") => assert!(!is_canonical(&entry), "{}", c["name"]),
            _ => {}
        }
        checked += 1;
    }
    for e in v["entries"].as_array().unwrap() {
        let entry = e["entry"].as_str().unwrap();
        let key = v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == e["key"])
            .unwrap();
        assert!(verify_signature(
            entry.as_bytes(),
            e["signature"].as_str().unwrap(),
            key["public_key"].as_str().unwrap()
        ));
        assert_eq!(sha256_hex(entry.as_bytes()), e["entry_hash"].as_str().unwrap());
        let fields = read_entry(entry).unwrap();
        // The server's schema reads the payload too.
        OpPayload::decode(&fields.kind, fields.payload).unwrap();
        checked += 1;
    }
    for c in v["evidence_codes"].as_array().unwrap() {
        let s = |k: &str| c[k].as_str().unwrap();
        assert_eq!(
            evidence_code(s("original_sha256"), s("device_id"), s("photo_id")),
            s("code"),
            "{}",
            c["name"]
        );
        let input = hex::decode(s("input_hex")).unwrap();
        assert_eq!(sha256_hex(&input), s("sha256"));
        checked += 1;
    }
    for k in v["public_keys"].as_array().unwrap() {
        assert_eq!(
            strict_public_key(k["public_key"].as_str().unwrap()).is_some(),
            k["valid"].as_bool().unwrap(),
            "key {}",
            k["name"]
        );
        checked += 1;
    }
    for s in v["signatures"].as_array().unwrap() {
        let msg = hex::decode(s["message_hex"].as_str().unwrap()).unwrap();
        assert_eq!(
            verify_signature(
                &msg,
                s["signature"].as_str().unwrap(),
                s["public_key"].as_str().unwrap()
            ),
            s["valid"].as_bool().unwrap(),
            "signature {}",
            s["name"]
        );
        checked += 1;
    }
    for c in v["photos"]["cases"].as_array().unwrap() {
        let image = hex::decode(c["image_hex"].as_str().unwrap()).unwrap();
        let verdict = verify_photo(
            &image,
            &signed_entry(c),
            &known_keys(&c["keys"]),
            c["received_ms"].as_i64(),
        );
        let e = &c["expect"];
        let mut got: Vec<&str> = verdict.problems.iter().map(|p| p.as_str()).collect();
        got.sort_by_key(|c| order(c));
        let want: Vec<&str> = e["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(got, want, "photo {}", c["name"]);
        assert_eq!(
            verdict.verified,
            e["verified"].as_bool().unwrap(),
            "photo {}",
            c["name"]
        );
        assert_eq!(
            verdict.key_revoked_later,
            e["key_revoked_later"].as_bool().unwrap(),
            "photo {}",
            c["name"]
        );
        checked += 1;
    }
    for c in v["chains"].as_array().unwrap() {
        let entries: Vec<SignedEntry> = c["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(signed_entry)
            .collect();
        let head = c["head"].as_object().map(|h| ChainHead {
            seq: h["seq"].as_i64().unwrap(),
            entry_hash: h["entry_hash"].as_str().unwrap().into(),
            hlc: h["hlc"].as_i64().unwrap(),
        });
        let got = sorted(
            verify_chain(&entries, c["public_key"].as_str().unwrap(), head.as_ref())
                .into_iter()
                .map(|f| (i64::from(f.index), f.seq, f.code.as_str().to_string()))
                .collect(),
        );
        let want = sorted(
            c["expect"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["index"].as_i64().unwrap(),
                        f["seq"].as_i64(),
                        f["code"].as_str().unwrap().to_string(),
                    )
                })
                .collect(),
        );
        assert_eq!(got, want, "chain {}", c["name"]);
        checked += 1;
    }
    assert!(checked > 300, "{checked} cases");
}

/// The core's canonical spelling of one float (`evidence::canonical_json`).
fn documented_float(x: f64) -> String {
    let text = canonical_json(&json!([x]));
    text[1..text.len() - 1].to_string()
}

#[test]
fn the_documented_float_rule_is_what_serde_json_writes() {
    for f in committed()["floats"].as_array().unwrap() {
        let x = f64::from_bits(u64::from_str_radix(f["bits"].as_str().unwrap(), 16).unwrap());
        assert_eq!(documented_float(x), f["text"].as_str().unwrap(), "{x:e}");
    }
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Every finite f64: serde_json writes what the document says, and the core reads that
        /// text back as canonical (serde_json parses it to the same f64).
        #[test]
        fn any_float(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite());
            let text = serde_json::to_string(&x).unwrap();
            prop_assert_eq!(documented_float(x), text.clone());
            prop_assert!(is_canonical(&format!("[{text}]")), "{} does not read back as itself", text);
        }

        /// Decimal numbers as a person types them (few digits, any exponent).
        #[test]
        fn short_decimals(m in -99_999i64..99_999, e in -330i32..310) {
            let x: f64 = format!("{m}e{e}").parse().unwrap();
            prop_assume!(x.is_finite());
            let text = serde_json::to_string(&x).unwrap();
            prop_assert_eq!(documented_float(x), text.clone());
            prop_assert!(is_canonical(&format!("[{text}]")), "{} does not read back as itself", text);
        }
    }
}
