#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The sync client against a small scripted stand-in for fieldproof-server (plain HTTP/1.1 on a
//! loopback port, std threads). It checks every request's signature and implements just enough
//! of `docs/sync-protocol.md` to drive the client through enrolment, a push whose answer is
//! lost, a photo upload cut off mid-way, a rejected op, paged pulls and a revoked device.
//! The real server's end-to-end tests live with the server.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::*;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use fieldproof_core::evidence::sha256_hex;
use fieldproof_core::sync::wire;
use fieldproof_core::*;
use serde_json::{Value, json};

const SERVER_TIME: i64 = T0 + 90_000; // the phone's clock is 90 s slow

#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

struct Reply {
    status: u16,
    body: Vec<u8>,
}

fn json_reply(status: u16, v: Value) -> Reply {
    Reply {
        status,
        body: serde_json::to_vec(&v).unwrap(),
    }
}

fn error_reply(status: u16, code: &str) -> Reply {
    json_reply(
        status,
        json!({"error": {"code": code, "message": format!("fake: {code}")}, "server_time_ms": SERVER_TIME}),
    )
}

/// What the fake server remembers, and what the test scripts into it.
#[derive(Default)]
struct State {
    public_key: Option<VerifyingKey>,
    nonces: HashSet<String>,
    requests: Vec<(String, String, usize)>,
    ops: HashMap<String, String>,
    photos: HashMap<String, (u64, Vec<u8>)>,
    photo_bytes_received: u64,
    feed: Vec<Value>,
    // Scripted faults.
    lose_next_push_answer: bool,
    fail_chunk_after_storing: Option<u64>,
    reject_seq: Option<i64>,
    revoked: bool,
    health_failures: u32,
}

type Shared = Arc<Mutex<State>>;

fn unhex(s: &str) -> Option<Vec<u8>> {
    s.len().is_multiple_of(2).then_some(())?;
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn verify(key: &VerifyingKey, text: &[u8], sig_hex: &str) -> bool {
    let Some(sig) = unhex(sig_hex).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
        return false;
    };
    key.verify(text, &Signature::from_bytes(&sig)).is_ok()
}

fn photo_status(sha: &str, size: u64, have: u64, complete: bool) -> Value {
    json!({"sha256": sha, "size": size, "offset": have, "complete": complete, "server_time_ms": SERVER_TIME})
}

fn handle(state: &Shared, req: &Req) -> Option<Reply> {
    let mut s = state.lock().unwrap();
    s.requests
        .push((req.method.clone(), req.path.clone(), req.body.len()));
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    let q: HashMap<&str, &str> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
    if path == "/healthz" {
        if s.health_failures > 0 {
            s.health_failures -= 1;
            return Some(error_reply(503, "unavailable"));
        }
        return Some(json_reply(
            200,
            json!({"status": "ok", "version": "fake", "server_time_ms": SERVER_TIME}),
        ));
    }
    if path == "/v1/enrol" {
        let e: wire::EnrolRequest = serde_json::from_slice(&req.body).unwrap();
        let key_bytes: [u8; 32] = unhex(&e.public_key_hex).unwrap().try_into().unwrap();
        let key = VerifyingKey::from_bytes(&key_bytes).unwrap();
        let proof = wire::enrol_signing_bytes(&e.code, &e.device_id, &e.public_key_hex);
        if e.code != "K7QF-2M9X" || !verify(&key, proof.as_bytes(), &e.signature_hex) {
            return Some(error_reply(422, "invalid_enrol_code"));
        }
        s.public_key = Some(key);
        let user = reference().users.into_iter().find(|u| u.id == "rep-li").unwrap();
        return Some(json_reply(
            200,
            json!({"user": user, "server_time_ms": SERVER_TIME}),
        ));
    }

    // Everything else is signed.
    let h = |n: &str| req.headers.get(n).cloned().unwrap_or_default();
    let time: i64 = h(wire::HEADER_TIME).parse().unwrap_or(0);
    let Some(key) = s.public_key else {
        return Some(error_reply(401, "unknown_device"));
    };
    let text = wire::request_signing_bytes(
        &req.method,
        &req.path,
        time,
        &h(wire::HEADER_NONCE),
        &sha256_hex(&req.body),
    );
    if h(wire::HEADER_NONCE).len() != 32 || !verify(&key, text.as_bytes(), &h(wire::HEADER_SIGNATURE)) {
        return Some(error_reply(401, "bad_request_signature"));
    }
    if (time - SERVER_TIME).abs() > wire::MAX_REQUEST_SKEW_MS {
        return Some(error_reply(401, "stale_request"));
    }
    if !s.nonces.insert(h(wire::HEADER_NONCE)) {
        return Some(error_reply(401, "replayed_request"));
    }
    if s.revoked {
        return Some(error_reply(403, "device_revoked"));
    }

    match (req.method.as_str(), path) {
        ("POST", "/v1/push") => {
            let push: wire::PushRequest = serde_json::from_slice(&req.body).unwrap();
            let mut results = Vec::new();
            for op in push.ops {
                let entry: Value = serde_json::from_str(&op.entry).unwrap();
                let op_id = entry["op_id"].as_str().unwrap().to_string();
                let seq = entry["seq"].as_i64().unwrap();
                let kind = entry["kind"].as_str().unwrap().to_string();
                assert!(
                    verify(&key, op.entry.as_bytes(), &op.signature_hex),
                    "op signature"
                );
                let r = if s.reject_seq == Some(seq) {
                    json!({"op_id": op_id, "seq": seq, "status": "rejected", "reason": "bad_signature"})
                } else if s.ops.get(&op_id) == Some(&op.entry) {
                    json!({"op_id": op_id, "seq": seq, "status": "duplicate"})
                } else {
                    s.ops.insert(op_id.clone(), op.entry.clone());
                    if kind == "visit.photo" {
                        json!({"op_id": op_id, "seq": seq, "status": "applied", "exceptions": ["possible_reuse"]})
                    } else {
                        json!({"op_id": op_id, "seq": seq, "status": "applied"})
                    }
                };
                results.push(r);
            }
            if std::mem::take(&mut s.lose_next_push_answer) {
                // Committed, then the answer is lost: the connection closes with nothing.
                return None;
            }
            Some(json_reply(
                200,
                json!({"results": results, "server_time_ms": SERVER_TIME}),
            ))
        }
        ("POST", "/v1/photos") => {
            let offer: wire::PhotoOffer = serde_json::from_slice(&req.body).unwrap();
            let entry: Value = serde_json::from_str(&offer.entry).unwrap();
            assert_eq!(entry["kind"], "visit.photo");
            assert_eq!(entry["payload"]["image_sha256"], offer.sha256.as_str());
            assert_eq!(entry["payload"]["byte_len"].as_u64(), Some(offer.size));
            assert!(verify(&key, offer.entry.as_bytes(), &offer.signature_hex));
            let (size, bytes) = s
                .photos
                .entry(offer.sha256.clone())
                .or_insert((offer.size, Vec::new()))
                .clone();
            let done = bytes.len() as u64 == size && sha256_hex(&bytes) == offer.sha256;
            Some(json_reply(
                200,
                photo_status(&offer.sha256, size, bytes.len() as u64, done),
            ))
        }
        ("PUT", p) if p.starts_with("/v1/photos/") => {
            let sha = p.trim_start_matches("/v1/photos/").to_string();
            let offset: u64 = q["offset"].parse().unwrap();
            let fail_after = s.fail_chunk_after_storing;
            let Some((size, bytes)) = s.photos.get_mut(&sha) else {
                return Some(error_reply(404, "not_found"));
            };
            let size = *size;
            if offset != bytes.len() as u64 {
                let have = bytes.len() as u64;
                return Some(json_reply(
                    409,
                    json!({"error": {"code": "offset_mismatch", "message": "fake"},
                           "server_time_ms": SERVER_TIME, "status": photo_status(&sha, size, have, false)}),
                ));
            }
            bytes.extend_from_slice(&req.body);
            let have = bytes.len() as u64;
            let done = have == size && sha256_hex(bytes) == sha;
            s.photo_bytes_received += req.body.len() as u64;
            if fail_after.is_some_and(|n| have >= n) {
                s.fail_chunk_after_storing = None;
                return Some(error_reply(502, "bad_gateway"));
            }
            Some(json_reply(200, photo_status(&sha, size, have, done)))
        }
        ("GET", p) if p.starts_with("/v1/photos/") => {
            let sha = p.trim_start_matches("/v1/photos/");
            let (size, bytes) = s.photos.get(sha).cloned()?;
            let done = bytes.len() as u64 == size && sha256_hex(&bytes) == sha;
            Some(json_reply(200, photo_status(sha, size, bytes.len() as u64, done)))
        }
        ("GET", "/v1/pull") => {
            let cursor: i64 = q["cursor"].parse().unwrap();
            let limit: usize = q["limit"].parse().unwrap();
            let after: Vec<Value> = s
                .feed
                .iter()
                .filter(|c| c["seq"].as_i64().unwrap() > cursor)
                .cloned()
                .collect();
            let page: Vec<Value> = after.iter().take(limit).cloned().collect();
            let next = page.last().map_or(cursor, |c| c["seq"].as_i64().unwrap());
            Some(json_reply(
                200,
                json!({"changes": page, "cursor": next, "has_more": after.len() > limit,
                       "server_time_ms": SERVER_TIME}),
            ))
        }
        _ => Some(error_reply(404, "not_found")),
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Req> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Req {
        method,
        path,
        headers,
        body,
    })
}

/// Serves until the test process ends; one thread per connection, `Connection: close`.
fn start(state: Shared) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let state = state.clone();
            std::thread::spawn(move || {
                let Some(req) = read_request(&mut stream) else {
                    return;
                };
                let Some(reply) = handle(&state, &req) else {
                    return; // drop the connection without an answer
                };
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    reply.status,
                    reply.body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&reply.body);
            });
        }
    });
    format!("http://{addr}")
}

fn feed_change(seq: i64, kind: &str, id: &str, body: Value) -> Value {
    json!({"seq": seq, "kind": kind, "id": id, "body": body})
}

fn fast(core: &Core) {
    core.set_sync_options(SyncOptions {
        initial_backoff_ms: 1,
        max_backoff_ms: 5,
        max_attempts: 4,
        connect_timeout_ms: 2_000,
        request_timeout_ms: 5_000,
        push_batch: 4,
        pull_limit: 2,
        photo_chunk_bytes: 64 * 1024,
    })
    .unwrap();
}

/// A finished visit with one photo: check-in, four answers, photo, report, complete, check-out.
fn finished_visit(core: &Core) -> Visit {
    let v = check_in(core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    fill_store_check(core, &v.id);
    core.complete_visit(&v.id).unwrap();
    core.check_out(&v.id, Some(&fix_st001())).unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn enrol_push_with_lost_answer_resumed_photo_rejection_and_paged_pull() {
    let h = harness(Backend::File);
    fast(&h.core);
    let state: Shared = Arc::default();
    let url = start(state.clone());
    let rt = rt();

    // Enrolment: a wrong code is the server's refusal; the right one binds the key.
    let e = rt.block_on(h.core.enrol(&url, "WRONG")).unwrap_err();
    assert_eq!(e.code(), "invalid_enrol_code", "{e}");
    let user = rt.block_on(h.core.enrol(&url, "K7QF-2M9X")).unwrap();
    assert_eq!(user.id, "rep-li");
    let s = h.core.sync_state().unwrap();
    assert!(s.enrolled);
    assert_eq!(s.server_url.as_deref(), Some(url.as_str()));

    let visit = finished_visit(&h.core);
    let ops = h.core.pending_ops(100).unwrap();
    assert_eq!(
        ops.len(),
        9,
        "{:?}",
        ops.iter().map(|o| &o.kind).collect::<Vec<_>>()
    );
    let photo = h.core.visit_detail(&visit.id).unwrap().photos[0].clone();
    assert!(photo.byte_len > 3 * 64 * 1024, "the photo needs several chunks");
    {
        let mut s = state.lock().unwrap();
        s.lose_next_push_answer = true;
        s.fail_chunk_after_storing = Some(2 * 64 * 1024);
        s.reject_seq = Some(ops[2].seq);
        s.health_failures = 2;
        s.feed = vec![
            feed_change(
                3,
                "store",
                "st-201",
                json!({"id": "st-201", "code": "SH-E-201", "name": "新店", "address": "",
                       "latitude": 31.24, "longitude": 121.51, "geofence_radius_m": 120.0,
                       "territory": "shanghai-east"}),
            ),
            feed_change(
                5,
                "plan",
                "plan-li-9",
                json!({"id": "plan-li-9", "rep_id": "rep-li", "store_id": "st-201", "date": "2026-11-24",
                       "template_id": "tpl-store-check", "sequence": 1}),
            ),
            feed_change(
                8,
                "product",
                "p-new",
                json!({"id": "p-new", "sku": "FP-TEA-1L", "name": "清茶 1L", "brand": "Fieldproof Drinks"}),
            ),
        ];
    }

    let report = rt.block_on(h.core.sync()).unwrap();
    // Batch 1 (4 ops, one of them rejected) was committed by the server but its answer lost:
    // the retry came back duplicate. The rejected op never blocks the rest.
    assert_eq!(report.duplicates, 3, "{report:?}");
    assert_eq!(report.pushed, 5, "{report:?}");
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(
        (report.rejected[0].seq, report.rejected[0].reason.as_str()),
        (ops[2].seq, "bad_signature")
    );
    // (A duplicate answer carries no exceptions: what the lost answer said is not repeated.)
    assert_eq!(report.exceptions.len(), 1);
    assert_eq!(report.exceptions[0].code, "possible_reuse");
    assert_eq!(report.exceptions[0].kind, "visit.photo");
    // The photo went once, byte for byte, despite the cut: resumed from the server's offset.
    assert_eq!(report.photos_sent, 1);
    assert_eq!(report.photo_bytes_sent, photo.byte_len);
    let st = state.lock().unwrap();
    assert_eq!(
        st.photo_bytes_received, photo.byte_len as u64,
        "no byte sent twice"
    );
    let (size, bytes) = &st.photos[&photo.sha256];
    assert_eq!(
        (*size, sha256_hex(bytes)),
        (photo.byte_len as u64, photo.sha256.clone())
    );
    // The photo's offer came before the push that carried its op.
    let offer_at = st.requests.iter().position(|r| r.1 == "/v1/photos").unwrap();
    let photo_op = ops.iter().find(|o| o.kind == "visit.photo").unwrap();
    let photo_batch = ops.iter().position(|o| o.seq == photo_op.seq).unwrap() / 4;
    let pushes: Vec<usize> = st
        .requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.1 == "/v1/push")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(pushes.len(), 4, "3 batches + 1 retry");
    assert!(offer_at < pushes[photo_batch + 1], "photo before its batch");
    assert!(offer_at > pushes[photo_batch], "and after the batch before");
    drop(st);

    // Pulled in pages of 2: stores, then plans, then products (reference validation passed:
    // the plan names the store from an earlier page).
    assert_eq!(report.pulled, 3);
    assert_eq!(report.server_time_ms, SERVER_TIME);
    assert!(report.bytes_up > photo.byte_len && report.bytes_down > 0);
    assert_eq!((report.pending, report.photos_not_uploaded), (0, 0));
    let s = h.core.sync_state().unwrap();
    assert_eq!(s.pull_cursor, 8);
    assert_eq!(s.server_offset_ms.map(|o| (o - 90_000).abs() < 1_000), Some(true));
    assert!(h.core.stores(None).unwrap().iter().any(|s| s.id == "st-201"));
    assert_eq!(h.core.day_plan("rep-li", "2026-11-24").unwrap().len(), 1);

    let summary = h.core.outbox_summary().unwrap();
    assert_eq!(
        (summary.pending, summary.acknowledged, summary.rejected),
        (0, 8, 1)
    );
    assert_eq!(h.core.rejected_ops().unwrap(), report.rejected);
    assert!(h.core.audit().unwrap().is_clean());

    // A second sync has nothing to send and nothing to pull.
    let again = rt.block_on(h.core.sync()).unwrap();
    assert_eq!(
        (
            again.pushed,
            again.duplicates,
            again.rejected.len(),
            again.pulled,
            again.photos_sent
        ),
        (0, 0, 0, 0, 0)
    );
    let st = state.lock().unwrap();
    assert_eq!(st.requests.iter().filter(|r| r.1 == "/v1/push").count(), 4);

    // Every signed request had its own nonce (a retry is re-signed, never replayed).
    let signed = st
        .requests
        .iter()
        .filter(|r| r.1 != "/healthz" && r.1 != "/v1/enrol")
        .count();
    assert_eq!(st.nonces.len(), signed);
}

#[test]
fn a_revoked_device_stops_with_a_typed_error_and_keeps_its_ops() {
    let h = harness(Backend::Memory);
    fast(&h.core);
    let state: Shared = Arc::default();
    let url = start(state.clone());
    let rt = rt();
    rt.block_on(h.core.enrol(&url, "K7QF-2M9X")).unwrap();
    check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    state.lock().unwrap().revoked = true;
    let e = rt.block_on(h.core.sync()).unwrap_err();
    assert_eq!(e.code(), "device_revoked", "{e}");
    assert!(matches!(e, Error::ServerRefused { status: 403, .. }));
    assert_eq!(h.core.outbox_summary().unwrap().pending, 1);
    // Only one push try: a refusal is not retried.
    assert_eq!(
        state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.1 == "/v1/push")
            .count(),
        1
    );
}

#[test]
fn a_photo_whose_upload_keeps_failing_does_not_block_its_op() {
    let h = harness(Backend::File);
    fast(&h.core);
    let state: Shared = Arc::default();
    let url = start(state.clone());
    let rt = rt();
    rt.block_on(h.core.enrol(&url, "K7QF-2M9X")).unwrap();
    let visit = finished_visit(&h.core);
    let photo = h.core.visit_detail(&visit.id).unwrap().photos[0].clone();
    // The file is gone (cleared storage): the op is still pushed, the photo stays to send.
    let file = std::path::PathBuf::from(&photo.path);
    let saved = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let report = rt.block_on(h.core.sync()).unwrap();
    assert_eq!(
        (report.pushed, report.pending, report.photos_not_uploaded),
        (9, 0, 1)
    );
    assert_eq!(report.photos_sent, 0);
    assert_eq!(h.core.sync_state().unwrap().photos_not_uploaded, 1);
    // The file is back: the next sync's photo channel sends it though its op is acknowledged.
    std::fs::write(&file, &saved).unwrap();
    let report = rt.block_on(h.core.sync()).unwrap();
    assert_eq!((report.pushed, report.photos_sent), (0, 1));
    assert_eq!(h.core.sync_state().unwrap().photos_not_uploaded, 0);
    assert!(state.lock().unwrap().photos[&photo.sha256].1.len() as i64 == photo.byte_len);
}

/// Ops written before the database signed its ops (schema v1/v2) cannot be sent: they are set
/// aside as rejected (`unsigned_op`), visibly, and the signed ops after them go through.
#[test]
fn unsigned_ops_from_before_v3_are_set_aside_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("old.db");
    rusqlite::Connection::open(&p)
        .unwrap()
        .execute_batch(include_str!("fixtures/schema_v1.sql"))
        .unwrap();
    let core = Core::open(&p).unwrap();
    fast(&core);
    let state: Shared = Arc::default();
    let url = start(state.clone());
    let rt = rt();
    rt.block_on(core.enrol(&url, "K7QF-2M9X")).unwrap();
    core.complete_visit("visit-v1").unwrap();
    let report = rt.block_on(core.sync()).unwrap();
    assert_eq!(report.pushed, 1);
    assert_eq!(
        report
            .rejected
            .iter()
            .map(|r| (r.seq, r.reason.as_str()))
            .collect::<Vec<_>>(),
        [(1, "unsigned_op"), (2, "unsigned_op"), (3, "unsigned_op")]
    );
    assert_eq!(core.rejected_ops().unwrap(), report.rejected);
    let s = core.outbox_summary().unwrap();
    assert_eq!((s.pending, s.rejected, s.acknowledged), (0, 3, 1));
    assert!(core.audit().unwrap().is_clean());
}
