//! Acceptance "Security": every refusal is a 4xx with the JSON error body, never a 5xx
//! (`common::http` asserts < 500 on every response).

use fieldproof_core::evidence::sha256_hex;
use fieldproof_core::sync::wire::PushOp;
use serde_json::json;

use crate::common::*;

#[test]
fn forged_replayed_stale_unknown_and_revoked_requests_are_refused() {
    let (_dir, s) = server();
    let dev = s.enrolled("rep-li");
    let pq = "/v1/pull?cursor=0&limit=10";

    // A good request works.
    let r = dev.call(s.addr, "GET", pq, b"");
    assert_eq!(r.status, 200, "{}", r.text());

    // Forged: signed by another key under this device's id.
    let mut forger = Device::random();
    forger.signer = fieldproof_core::evidence::Signer::from_seed(
        dev.id().to_string(),
        fieldproof_core::evidence::Signer::generate_seed().unwrap(),
    );
    let r = forger.call(s.addr, "GET", pq, b"");
    assert_eq!((r.status, r.code().as_str()), (401, "bad_request_signature"));

    // Signed over another path than the one requested.
    let headers = dev.sign_headers("GET", "/v1/pull?cursor=0&limit=1000", b"", now_ms(), &nonce());
    let r = http(s.addr, "GET", pq, &headers, b"");
    assert_eq!((r.status, r.code().as_str()), (401, "bad_request_signature"));

    // Replayed: the same request, nonce and all, a second time.
    let headers = dev.sign_headers("GET", pq, b"", now_ms(), &nonce());
    assert_eq!(http(s.addr, "GET", pq, &headers, b"").status, 200);
    let r = http(s.addr, "GET", pq, &headers, b"");
    assert_eq!((r.status, r.code().as_str()), (401, "replayed_request"));

    // Stale: ten minutes old (and ten minutes ahead).
    for skew in [-600_000, 600_000] {
        let headers = dev.sign_headers("GET", pq, b"", now_ms() + skew, &nonce());
        let r = http(s.addr, "GET", pq, &headers, b"");
        assert_eq!((r.status, r.code().as_str()), (401, "stale_request"));
        assert!(r.json()["server_time_ms"].as_i64().unwrap() > 0);
    }

    // Missing or malformed headers.
    let r = http(s.addr, "GET", pq, &[], b"");
    assert_eq!((r.status, r.code().as_str()), (401, "missing_signature"));
    let mut headers = dev.sign_headers("GET", pq, b"", now_ms(), &nonce());
    headers[2].1 = "NOT-HEX".into();
    let r = http(s.addr, "GET", pq, &headers, b"");
    assert_eq!((r.status, r.code().as_str()), (401, "missing_signature"));
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-fp-nonce")
    );

    // Unknown device.
    let stranger = Device::random();
    let r = stranger.call(s.addr, "GET", pq, b"");
    assert_eq!((r.status, r.code().as_str()), (401, "unknown_device"));

    // Revoked device.
    s.admin(&["revoke", "--device", dev.id()]);
    let r = dev.call(s.addr, "GET", pq, b"");
    assert_eq!((r.status, r.code().as_str()), (403, "device_revoked"));
    let r = dev.push(s.addr, &[]);
    assert_eq!((r.status, r.code().as_str()), (403, "device_revoked"));
    let devices: serde_json::Value = serde_json::from_str(&s.admin(&["devices"])).unwrap();
    assert!(devices[0]["revoked_ms"].is_i64());
}

#[test]
fn replayed_nonces_survive_a_restart() {
    let (dir, mut s) = server();
    let dev = s.enrolled("rep-li");
    let pq = "/v1/pull";
    let headers = dev.sign_headers("GET", pq, b"", now_ms(), &nonce());
    assert_eq!(http(s.addr, "GET", pq, &headers, b"").status, 200);
    s.kill9();
    let s = Server::start(dir.path());
    let r = http(s.addr, "GET", pq, &headers, b"");
    assert_eq!((r.status, r.code().as_str()), (401, "replayed_request"));
}

#[test]
fn a_device_pushing_another_devices_ops_is_refused_whole() {
    let (_dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ops = phone.ops();
    let other = s.enrolled("rep-li");
    let r = other.push(s.addr, &ops);
    assert_eq!((r.status, r.code().as_str()), (403, "device_mismatch"));
    // Mixed in with the device's own (forged) entries, too: nothing of the batch is stored.
    let mut mixed = vec![ops[0].clone()];
    mixed.insert(
        0,
        PushOp {
            entry: "{\"device_id\":\"".to_string() + other.id() + "\"}",
            signature_hex: "00".repeat(64),
        },
    );
    let r = other.push(s.addr, &mixed);
    assert_eq!((r.status, r.code().as_str()), (403, "device_mismatch"));
    assert_eq!(s.stats()["ops"], 0);
    assert_eq!(s.stats()["rejected_ops"], 0);
}

#[test]
fn photo_bytes_that_do_not_match_their_hash_are_refused_and_discarded() {
    let (_dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    let v = store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ev = phone.core.photo_evidence(&v.photo_id).unwrap();
    let mut bytes = std::fs::read(&ev.path).unwrap();
    let sha = sha256_hex(&bytes);
    let offer =
        json!({"sha256": sha, "size": bytes.len(), "entry": ev.manifest, "signature_hex": ev.signature_hex});
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.status, 200, "{}", r.text());
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    let r = phone
        .device
        .call(s.addr, "PUT", &format!("/v1/photos/{sha}?offset=0"), &bytes);
    assert_eq!((r.status, r.code().as_str()), (422, "photo_hash_mismatch"));
    // Discarded: the next attempt starts at 0.
    let r = phone
        .device
        .call(s.addr, "GET", &format!("/v1/photos/{sha}"), b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["offset"], 0);
    assert_eq!(r.json()["complete"], false);
    // The refusal keeps its wire code; the finding has the format's one name.
    assert!(s.exceptions().iter().any(|e| e["code"] == "image_hash_mismatch"));
    assert!(!s.exceptions().iter().any(|e| e["code"] == "photo_hash_mismatch"));

    // A manifest that does not name these bytes is refused before any byte is taken.
    let wrong = json!({"sha256": "ab".repeat(32), "size": 10, "entry": ev.manifest, "signature_hex": ev.signature_hex});
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &wrong);
    assert_eq!((r.status, r.code().as_str()), (422, "manifest_mismatch"));
    // A manifest whose signature does not verify.
    let forged =
        json!({"sha256": sha, "size": bytes.len(), "entry": ev.manifest, "signature_hex": "00".repeat(64)});
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &forged);
    assert_eq!((r.status, r.code().as_str()), (422, "bad_signature"));
    // Too large.
    let huge = json!({"sha256": sha, "size": 33 * 1024 * 1024, "entry": ev.manifest, "signature_hex": ev.signature_hex});
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &huge);
    assert_eq!((r.status, r.code().as_str()), (413, "photo_too_large"));
    // Another device's manifest.
    let other = s.enrolled("rep-li");
    let r = other.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!((r.status, r.code().as_str()), (422, "manifest_mismatch"));
}

#[test]
fn oversized_and_malformed_bodies_get_json_errors() {
    let (_dir, s) = server();
    let dev = s.enrolled("rep-li");

    // Above the push limit (8 MiB).
    let big = vec![b' '; 9 * 1024 * 1024];
    let r = dev.call(s.addr, "POST", "/v1/push", &big);
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"));
    // Above the 64 KiB limit of enrolment.
    let r = http(s.addr, "POST", "/v1/enrol", &[], &vec![b'{'; 100 * 1024]);
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"));

    // Malformed JSON: the message names the field and the position.
    let r = dev.call(
        s.addr,
        "POST",
        "/v1/push",
        br#"{"ops": [{"entry": 5, "signature_hex": "00"}]}"#,
    );
    assert_eq!((r.status, r.code().as_str()), (400, "malformed_json"));
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("ops[0].entry") && msg.contains("line 1 column"),
        "{msg}"
    );
    let r = dev.call(s.addr, "POST", "/v1/push", b"{\"ops\": [");
    assert_eq!((r.status, r.code().as_str()), (400, "malformed_json"));
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1 column")
    );
    let r = http(s.addr, "POST", "/v1/enrol", &[], br#"{"code": "x"}"#);
    assert_eq!((r.status, r.code().as_str()), (400, "malformed_json"));
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("device_id")
    );

    // More ops than a push may carry.
    let ops: Vec<PushOp> = (0..501)
        .map(|_| PushOp {
            entry: "{}".into(),
            signature_hex: String::new(),
        })
        .collect();
    let r = dev.push(s.addr, &ops);
    assert_eq!((r.status, r.code().as_str()), (413, "too_many_ops"));

    // Garbage entries are rejected one by one, not as a batch, and never a 5xx.
    let garbage = [
        "",
        "null",
        "[]",
        "{\"v\":1}",
        "{\"v\":2}",
        "\u{0}\u{1}",
        "{\"device_id\": 7}",
    ];
    let ops: Vec<PushOp> = garbage
        .iter()
        .map(|e| PushOp {
            entry: (*e).to_string(),
            signature_hex: "zz".into(),
        })
        .collect();
    let r = dev.push(s.addr, &ops);
    assert_eq!(r.status, 200, "{}", r.text());
    for res in r.json()["results"].as_array().unwrap() {
        assert_eq!(res["status"], "rejected");
        assert_eq!(res["reason"], "malformed_entry");
    }

    // Bad queries, paths, methods and routes.
    let r = dev.call(s.addr, "GET", "/v1/pull?cursor=abc", b"");
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_query"));
    let r = dev.call(s.addr, "GET", "/v1/pull?limit=0", b"");
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_query"));
    let r = dev.call(s.addr, "GET", "/v1/photos/not-a-hash", b"");
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_input"));
    let r = dev.call(s.addr, "PUT", &format!("/v1/photos/{}", "a".repeat(64)), b"x");
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_query"));
    let r = dev.call(s.addr, "GET", &format!("/v1/photos/{}", "a".repeat(64)), b"");
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    let r = get(s.addr, "/v2/nothing");
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    let r = http(s.addr, "DELETE", "/v1/push", &[], b"");
    assert_eq!((r.status, r.code().as_str()), (405, "method_not_allowed"));
}

#[test]
fn a_rep_never_receives_another_territorys_stores() {
    let (_dir, s) = server();
    let li = s.enrolled("rep-li"); // shanghai-east
    let changes = li.pull_all(s.addr);
    let stores: Vec<&str> = changes
        .iter()
        .filter(|c| c["kind"] == "store")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!stores.is_empty());
    assert!(!stores.contains(&"st-101"), "{stores:?}");
    for c in &changes {
        if c["kind"] == "store" {
            assert_eq!(c["body"]["territory"], "shanghai-east");
        }
    }
    // There is no parameter to ask for more.
    let r = li.call(
        s.addr,
        "GET",
        "/v1/pull?cursor=0&territory=shanghai-west&user=rep-zhao",
        b"",
    );
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("st-101"));
}
