use std::collections::BTreeMap;

use fieldproof_core::evidence::{EntryHeader, entry_bytes};
use fieldproof_core::model::EventTime;
use fieldproof_core::sync::wire::PushOp;
use serde_json::{Value, json};

use crate::common::*;

#[test]
fn a_replayed_batch_is_all_duplicates_and_changes_nothing() {
    let (_dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    let v = store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    phone.upload_photo(s.addr, &v.photo_id, 1);
    let ops = phone.ops();
    assert_eq!(ops.len(), 9);

    let r = phone.device.push(s.addr, &ops);
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(statuses(&body), vec!["applied"; 9], "{body}");
    for res in body["results"].as_array().unwrap() {
        assert!(res.get("exceptions").is_none(), "an honest visit raised {res}");
    }
    let before = s.stats();
    assert_eq!(before["ops"], 9);
    assert_eq!(before["visits"], 1);
    assert_eq!(before["photos_verified"], 1);

    let r = phone.device.push(s.addr, &ops);
    assert_eq!(r.status, 200);
    assert_eq!(statuses(&r.json()), vec!["duplicate"; 9]);
    let after = s.stats();
    assert_eq!(before, after, "a replayed batch changed the server");

    // Half of it again, with the rest: duplicates then nothing new.
    let r = phone.device.push(s.addr, &ops[4..]);
    assert_eq!(statuses(&r.json()), vec!["duplicate"; 5]);
}

/// A forged entry of the same device, signed with its key, reusing a stored op id and seq.
fn forged_same_position(phone: &Phone, original: &PushOp) -> PushOp {
    let e: Value = serde_json::from_str(&original.entry).unwrap();
    let mut payload = e["payload"].clone();
    payload["value"] = json!({"kind": "yes_no", "value": false});
    let entry = entry_bytes(
        &EntryHeader {
            device_id: e["device_id"].as_str().unwrap(),
            seq: e["seq"].as_i64().unwrap(),
            op_id: e["op_id"].as_str().unwrap(),
            kind: e["kind"].as_str().unwrap(),
            entity_id: e["entity_id"].as_str().unwrap(),
            time: serde_json::from_value::<EventTime>(e["time"].clone()).unwrap(),
            prev_hash: e["prev_hash"].as_str().unwrap(),
        },
        &payload,
    );
    PushOp {
        signature_hex: phone.device.signer.sign_hex(entry.as_bytes()),
        entry,
    }
}

#[test]
fn a_different_entry_under_a_stored_op_id_is_a_conflicting_duplicate() {
    let (_dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ops = phone.ops();
    let r = phone.device.push(s.addr, &ops[..3]);
    assert_eq!(statuses(&r.json()), vec!["applied"; 3]);

    // ops[1] is the first answer (shelf_ok = yes); the forgery says no.
    let forged = forged_same_position(&phone, &ops[1]);
    let r = phone.device.push(s.addr, &[forged]);
    let res = &r.json()["results"][0];
    assert_eq!(res["status"], "rejected");
    assert_eq!(res["reason"], "conflicting_duplicate");
    assert_eq!(res["exceptions"], json!(["chain_fork"]));
    assert_eq!(s.stats()["ops"], 3, "the stored op stays");
    assert!(s.exceptions().iter().any(|e| e["code"] == "chain_fork"));

    // A bad signature is rejected by itself; the ops behind it are applied.
    let mut tampered = ops[3].clone();
    tampered.signature_hex = phone.device.signer.sign_hex(b"something else");
    let r = phone.device.push(s.addr, &[tampered, ops[4].clone()]);
    let body = r.json();
    assert_eq!(body["results"][0]["status"], "rejected");
    assert_eq!(body["results"][0]["reason"], "bad_signature");
    assert_eq!(body["results"][1]["status"], "applied");
    // The server's copy of the chain now misses seq 4.
    assert!(
        body["results"][1]["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "chain_gap"),
        "{body}"
    );
}

#[test]
fn a_missing_entry_shows_as_a_chain_gap_and_the_op_is_still_stored() {
    let (_dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ops = phone.ops();
    let r = phone.device.push(s.addr, &ops[..3]);
    assert_eq!(statuses(&r.json()), vec!["applied"; 3]);
    // seq 4 never arrives.
    let r = phone.device.push(s.addr, &ops[4..]);
    let body = r.json();
    assert_eq!(statuses(&body), vec!["applied"; 5], "{body}");
    assert_eq!(body["results"][0]["seq"], 5);
    assert_eq!(body["results"][0]["exceptions"], json!(["chain_gap"]));
    assert!(body["results"][1].get("exceptions").is_none(), "{body}");
    assert_eq!(s.stats()["ops"], 8);
    let gap = s
        .exceptions()
        .into_iter()
        .find(|e| e["code"] == "chain_gap")
        .expect("chain_gap recorded");
    assert_eq!(gap["device_id"], phone.device.id());
    assert_eq!(gap["user_id"], "rep-li");
    assert_eq!(gap["store_id"], "st-001");
    assert_eq!(gap["params"], json!({"seq": 5, "previous_seq": 3}));
    // The late entry arrives after all: stored, flagged as reordered.
    let r = phone.device.push(s.addr, &ops[3..4]);
    let body = r.json();
    assert_eq!(body["results"][0]["status"], "applied");
    assert_eq!(body["results"][0]["exceptions"], json!(["reordered"]));
}

#[test]
fn a_check_in_outside_the_geofence_is_flagged_by_the_server() {
    let (_dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    // ~7.7 km north of st-001; the template's geofence mode is `flag`, so the core checks in.
    let far = fix_at(31.30, 121.52);
    store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), far);
    let r = phone.device.push(s.addr, &phone.ops());
    let body = r.json();
    assert_eq!(body["results"][0]["status"], "applied");
    let codes = body["results"][0]["exceptions"].as_array().unwrap();
    assert!(codes.iter().any(|c| c == "outside_geofence"), "{body}");
    // The check-out is outside too.
    let last = body["results"].as_array().unwrap().last().unwrap();
    assert!(
        last["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "outside_geofence")
    );
    let ex = s.exceptions();
    let e = ex
        .iter()
        .find(|e| e["code"] == "outside_geofence" && e["detail"].as_str().unwrap().contains("radius"))
        .unwrap();
    assert_eq!(e["store_id"], "st-001");
    assert!(e["resolved_ms"].is_null());
    // Which action was far away is part of the exception: the check-in and the check-out each.
    let mut actions: Vec<&str> = ex
        .iter()
        .filter(|e| e["code"] == "outside_geofence")
        .map(|e| {
            let p = &e["params"];
            assert_eq!(p["store_id"], "st-001");
            assert!(
                p["distance_m"].as_f64().unwrap() > p["radius_m"].as_f64().unwrap(),
                "{p}"
            );
            p["action"].as_str().unwrap()
        })
        .collect();
    actions.sort_unstable();
    assert_eq!(actions, ["check_in", "check_out"]);
}

#[test]
fn ops_acting_for_another_user_are_rejected() {
    let (_dir, s) = server();
    let phone = Phone::new();
    // Enrolled as rep-li, but the visit is rep-zhao's.
    s.enrol_as(&phone.device, "rep-li");
    let fix = fix_at(31.1960, 121.3970);
    store_check(&phone.core, "rep-zhao", "st-101", Some("plan-zhao-1"), fix);
    let r = phone.device.push(s.addr, &phone.ops());
    let body = r.json();
    for res in body["results"].as_array().unwrap() {
        assert_eq!(res["status"], "rejected", "{body}");
        assert_eq!(res["reason"], "wrong_user", "{body}");
    }
    assert_eq!(s.stats()["ops"], 0);
    assert_eq!(s.stats()["rejected_ops"], 9);
    // Rejections are final but do not break the chain: rep-li's next visit is clean.
    store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ops = phone.ops();
    let r = phone.device.push(s.addr, &ops[9..]);
    let body = r.json();
    assert_eq!(statuses(&body), vec!["applied"; 9]);
    assert!(body["results"][0].get("exceptions").is_none(), "{body}");
}

/// Entries the device really signed but that no honest core writes: extreme numbers, wrong
/// types, missing fields, unknown kinds. Each is rejected or stored on its own; none is a 5xx
/// (`common::http` asserts that on every response) and the server keeps serving.
#[test]
fn hostile_signed_entries_never_break_the_server() {
    let (_dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ops = phone.ops();
    let originals: Vec<Value> = ops
        .iter()
        .map(|o| serde_json::from_str(&o.entry).unwrap())
        .collect();
    let wild = [
        json!(null),
        json!(-1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(1e300),
        json!(""),
        json!("x".repeat(300)),
        json!([]),
        json!({}),
        json!({"kind": "yes_no", "value": "no"}),
    ];
    // A small deterministic generator: the same mutations on every run.
    let mut state: u64 = std::env::var("FP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Value::Object(m) = v {
            for (k, child) in m {
                let p = format!("{prefix}/{k}");
                out.push(p.clone());
                paths(child, &p, out);
            }
        }
    }
    // FP_FUZZ_ROUNDS=500 for a longer run; a few rounds by default keep the suite quick.
    let rounds: u64 = std::env::var("FP_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    for round in 0..rounds {
        let mut batch = Vec::new();
        for _ in 0..40 {
            let mut e = originals[(next() % originals.len() as u64) as usize].clone();
            for _ in 0..=(next() % 3) {
                let mut ps = Vec::new();
                paths(&e, "", &mut ps);
                if ps.is_empty() {
                    break;
                }
                let p = ps[(next() % ps.len() as u64) as usize].clone();
                let w = wild[(next() % wild.len() as u64) as usize].clone();
                if next() % 5 == 0 {
                    // Remove the field instead.
                    let (parent, key) = p.rsplit_once('/').unwrap();
                    if let Some(Value::Object(m)) = e.pointer_mut(parent) {
                        m.remove(key);
                    }
                } else if let Some(slot) = e.pointer_mut(&p) {
                    *slot = w;
                }
            }
            // Keep it this device's, so the batch is not refused as a whole.
            e["device_id"] = json!(phone.device.id());
            if round % 2 == 0 {
                e["seq"] = json!(1000 + next() % 1000);
            }
            let entry = fieldproof_core::evidence::canonical_json(&e);
            batch.push(PushOp {
                signature_hex: phone.device.signer.sign_hex(entry.as_bytes()),
                entry,
            });
        }
        let r = phone.device.push(s.addr, &batch);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["results"].as_array().unwrap().len(), 40);
    }
    // Still serving, and the honest ops still go in (as duplicates or applied).
    let r = phone.device.push(s.addr, &ops);
    assert_eq!(r.status, 200);
    assert_eq!(get(s.addr, "/healthz").status, 200);
}

/// Signed entries of one device, chained, with times chosen by the test.
struct Chain<'a> {
    device: &'a Device,
    seq: i64,
    prev: String,
    ops: Vec<PushOp>,
}

impl<'a> Chain<'a> {
    /// The device's chain from its start.
    fn new(device: &'a Device) -> Chain<'a> {
        Chain {
            device,
            seq: 0,
            prev: fieldproof_core::evidence::GENESIS_HASH.to_string(),
            ops: Vec::new(),
        }
    }

    fn op(&mut self, kind: &str, entity: &str, wall_ms: i64, boot_ms: i64, offset_ms: i64, payload: Value) {
        self.seq += 1;
        let time = EventTime {
            wall_ms,
            boot_ms,
            hlc: wall_ms << 16 | self.seq,
            server_offset_ms: Some(offset_ms),
        };
        let op_id = format!("{}-op-{}", self.device.id(), self.seq);
        let entry = entry_bytes(
            &EntryHeader {
                device_id: self.device.id(),
                seq: self.seq,
                op_id: &op_id,
                kind,
                entity_id: entity,
                time,
                prev_hash: &self.prev,
            },
            &payload,
        );
        self.prev = fieldproof_core::evidence::sha256_hex(entry.as_bytes());
        self.ops.push(PushOp {
            signature_hex: self.device.signer.sign_hex(entry.as_bytes()),
            entry,
        });
    }
}

/// Every location, clock, price and reference finding a push can raise is stored as its code
/// with the values it is about (`Server::exceptions` checks each renders in Chinese): which
/// action (check-in, check-out, photo), distances, accuracy, age, drift, prices.
#[test]
fn findings_are_stored_with_their_parameters() {
    let (_dir, s) = server();
    let device = s.enrolled("rep-li");
    let mut chain = Chain::new(&device);
    let t0 = now_ms() - 3_600_000;
    // ~7.7 km north of st-001, 250 m accuracy, simulated, 10 minutes old.
    let far = |t: i64| {
        json!({"latitude": 31.30, "longitude": 121.52, "accuracy_m": 250.0, "provider": "gps",
               "is_mock": true, "fix_time_ms": t - 600_000})
    };
    chain.op(
        "visit.check_in",
        "v-1",
        t0,
        1_000_000,
        0,
        json!({"visit_id": "v-1", "kind": "store_check", "user_id": "rep-li", "store_id": "st-001",
               "template_id": "tpl-store-check", "template_version": 1, "fix": far(t0),
               "flags": [{"code": "clock_jump", "detail": "device clock moved +3600 s against time since boot"}]}),
    );
    chain.op(
        "visit.answer",
        "v-1",
        t0 + 60_000,
        1_060_000,
        0,
        json!({"visit_id": "v-1", "item_id": "own_price", "value": {"kind": "price", "cents": 1500},
               "revision": 1}),
    );
    chain.op(
        "visit.answer",
        "v-1",
        t0 + 120_000,
        1_120_000,
        0,
        json!({"visit_id": "v-1", "item_id": "comp_price", "value": {"kind": "price", "cents": 990},
               "revision": 1, "raised": [{"code": "price_gap_unexplained", "item_id": "comp_price",
               "detail": "competitor 9.90 is 34.0 % below own price 15.00"}]}),
    );
    // Bytes that are no photo, signed for as one.
    let not_a_photo = b"these bytes are not a JPEG".to_vec();
    let sha = fieldproof_core::evidence::sha256_hex(&not_a_photo);
    chain.op(
        "visit.photo",
        "v-1",
        t0 + 180_000,
        1_180_000,
        0,
        json!({"photo_id": "ph-1", "visit_id": "v-1", "store_id": "st-001", "user_id": "rep-li",
               "photo_kind": "shelf_overview", "image_sha256": sha, "byte_len": not_a_photo.len(),
               "evidence_code": "AAAA-BBBB", "location": {"is_mock": true}}),
    );
    chain.op(
        "visit.complete",
        "v-1",
        t0 + 240_000,
        1_240_000,
        0,
        json!({"visit_id": "v-1"}),
    );
    chain.op(
        "visit.check_out",
        "v-1",
        t0 + 300_000,
        1_300_000,
        0,
        json!({"visit_id": "v-1", "fix": far(t0 + 300_000)}),
    );
    // The wall clock jumps two hours while one second passes since boot; the phone's last known
    // offset from the server is 20 minutes; the store is not in the reference data.
    let t1 = t0 + 300_000 + 2 * 3_600_000;
    chain.op(
        "visit.check_in",
        "v-2",
        t1,
        1_301_000,
        -1_200_000,
        json!({"visit_id": "v-2", "kind": "store_check", "user_id": "rep-li", "store_id": "st-gone",
               "template_id": "tpl-store-check", "template_version": 1, "fix": null}),
    );
    chain.op(
        "visit.answer",
        "v-ghost",
        t1 + 1000,
        1_302_000,
        0,
        json!({"visit_id": "v-ghost", "item_id": "own_price", "value": {"kind": "price", "cents": 1}, "revision": 1}),
    );
    chain.op(
        "visit.check_in",
        "v-3",
        t1 + 2000,
        1_303_000,
        0,
        json!({"visit_id": "v-3", "kind": "store_check", "user_id": "rep-li", "store_id": "st-002",
               "template_id": "tpl-store-check", "template_version": 1, "fix": null}),
    );
    let r = device.push(s.addr, &chain.ops);
    let body = r.json();
    assert_eq!(statuses(&body), vec!["applied"; chain.ops.len()], "{body}");

    let photo_op = &chain.ops[3];
    let offer = json!({"sha256": sha, "size": not_a_photo.len(), "entry": photo_op.entry,
                       "signature_hex": photo_op.signature_hex});
    let r = device.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = device.call(s.addr, "PUT", &format!("/v1/photos/{sha}?offset=0"), &not_a_photo);
    assert_eq!(r.status, 200, "{}", r.text());

    let ex = s.exceptions();
    let params = |code: &str, key: &str, value: &str| -> Value {
        ex.iter()
            .find(|e| e["code"] == code && e["params"][key] == value)
            .unwrap_or_else(|| panic!("no {code} with {key} = {value}: {ex:#?}"))["params"]
            .clone()
    };
    for action in ["check_in", "check_out", "photo"] {
        params("mock_location", "action", action);
    }
    assert_eq!(params("mock_location", "action", "photo")["photo_id"], "ph-1");
    for action in ["check_in", "check_out"] {
        let p = params("outside_geofence", "action", action);
        assert_eq!(p["store_id"], "st-001");
        assert_eq!(p["radius_m"], 150.0);
        assert!(p["distance_m"].as_f64().unwrap() > 7000.0, "{p}");
    }
    let p = params("low_accuracy", "action", "check_in");
    assert_eq!(
        (p["accuracy_m"].as_f64(), p["limit_m"].as_f64()),
        (Some(250.0), Some(100.0))
    );
    let p = params("stale_fix", "action", "check_in");
    assert_eq!(
        (p["age_s"].as_i64(), p["limit_s"].as_i64()),
        (Some(600), Some(300))
    );
    let p = params("clock_jump", "observer", "device");
    assert_eq!(p["drift_s"], 3600);
    let p = params("clock_jump", "observer", "server");
    assert!(p["drift_s"].as_i64().unwrap() > 7000, "{p}");
    let p = params("clock_skew", "kind", "offset");
    assert_eq!(p["seconds"], 1200);
    // The ops after the jump carry no offset but are an hour ahead of the server's clock.
    assert!(params("clock_skew", "kind", "ahead")["seconds"].as_i64().unwrap() > 3000);
    let p = params("price_gap_unexplained", "item_id", "comp_price");
    assert_eq!(
        p,
        json!({"item_id": "comp_price", "own_item_id": "own_price", "competitor_cents": 990,
               "own_cents": 1500, "gap_pct": 34.0, "threshold_pct": 15.0})
    );
    assert_eq!(params("photo_missing", "photo_id", "ph-1")["sha256"], sha);
    params("unknown_store", "store_id", "st-gone");
    params("unknown_visit", "op_kind", "visit.answer");
    params("no_fix", "action", "check_in");
    // The photo's own findings name the photo and its bytes.
    for code in ["code_mismatch", "photo_unreadable"] {
        assert_eq!(params(code, "photo_id", "ph-1")["sha256"], sha);
    }
}

/// A batch holds or skips some of its writes (PostgreSQL sends a new visit's row once, with
/// the report and completion already in it; the batch's visits are read once at its start):
/// the same ops pushed as one batch and one op per push leave the same visits, answers,
/// exceptions (with their days), photos and supervisor's records. Covers a visit done within
/// the batch, a cancelled one, an answer that overtook its check-in, a photo whose bytes never
/// came, a second check-in of a stored visit, and visits only partly in one push.
#[test]
fn one_batch_or_one_op_per_push_leaves_the_same_records() {
    let (_whole_dir, whole) = server();
    let (_single_dir, single) = server();
    let device = Device::random();
    for s in [&whole, &single] {
        s.enrol_as(&device, "rep-li");
    }
    let mut chain = Chain::new(&device);
    let t0 = now_ms() - 3_600_000;
    // Op n (from 1) is made at t0 + n minutes; a fix is taken by st-001 when its op is made.
    let at = |chain: &Chain| t0 + (chain.seq + 1) * 60_000;
    let fix = |t: i64| {
        json!({"latitude": 31.2304, "longitude": 121.52, "accuracy_m": 10.0, "provider": "gps",
               "is_mock": false, "fix_time_ms": t})
    };
    let check_in = |visit: &str, t: i64| {
        json!({"visit_id": visit, "kind": "store_check", "user_id": "rep-li", "store_id": "st-001",
               "template_id": "tpl-store-check", "template_version": 1, "fix": fix(t)})
    };
    let answer = |visit: &str, item: &str, cents: i64| json!({"visit_id": visit, "item_id": item, "value": {"kind": "price", "cents": cents}, "revision": 1});
    let op = |chain: &mut Chain, kind: &str, visit: &str, payload: Value| {
        let t = at(chain);
        chain.op(kind, visit, t, t - t0 + 1_000_000, 0, payload);
    };
    // v-1: the whole visit, a price changed twice, then a second check-in op for it.
    let t = at(&chain);
    op(&mut chain, "visit.check_in", "v-1", check_in("v-1", t));
    op(
        &mut chain,
        "visit.answer",
        "v-1",
        answer("v-1", "own_price", 1500),
    );
    op(
        &mut chain,
        "visit.answer",
        "v-1",
        answer("v-1", "own_price", 1450),
    );
    op(
        &mut chain,
        "visit.answer",
        "v-1",
        answer("v-1", "comp_price", 1400),
    );
    op(
        &mut chain,
        "visit.report",
        "v-1",
        json!({"visit_id": "v-1", "report": {"notes": "货架整齐", "next_steps": ["reorder"]}}),
    );
    op(
        &mut chain,
        "visit.complete",
        "v-1",
        json!({"visit_id": "v-1", "score": {"total": 87.5}}),
    );
    let t = at(&chain);
    op(
        &mut chain,
        "visit.check_out",
        "v-1",
        json!({"visit_id": "v-1", "fix": fix(t)}),
    );
    let t = at(&chain);
    op(&mut chain, "visit.check_in", "v-1", check_in("v-1", t));
    // v-2: checked in, reported on and cancelled.
    let t = at(&chain);
    op(&mut chain, "visit.check_in", "v-2", check_in("v-2", t));
    op(
        &mut chain,
        "visit.report",
        "v-2",
        json!({"visit_id": "v-2", "report": {"notes": "店主不在"}}),
    );
    op(
        &mut chain,
        "visit.cancel",
        "v-2",
        json!({"visit_id": "v-2", "reason": "门店关门"}),
    );
    // v-3: an answer signed before its check-in (the phone's clock order is the chain's).
    op(&mut chain, "visit.answer", "v-3", answer("v-3", "own_price", 990));
    let t = at(&chain);
    op(&mut chain, "visit.check_in", "v-3", check_in("v-3", t));
    op(
        &mut chain,
        "visit.complete",
        "v-3",
        json!({"visit_id": "v-3", "score": null}),
    );
    // v-4: a photo whose bytes never come, then completed.
    let t = at(&chain);
    op(&mut chain, "visit.check_in", "v-4", check_in("v-4", t));
    op(
        &mut chain,
        "visit.photo",
        "v-4",
        json!({"photo_id": "ph-4", "visit_id": "v-4", "store_id": "st-001", "user_id": "rep-li",
               "photo_kind": "shelf_overview", "image_sha256": "ab".repeat(32), "byte_len": 1000,
               "evidence_code": "AAAA-BBBB"}),
    );
    op(&mut chain, "visit.complete", "v-4", json!({"visit_id": "v-4"}));
    let ops = chain.ops.clone();

    // One batch, except the last three ops (v-4's photo and completion come in a second push:
    // its visit is then stored, not held); and one op per push.
    let (first, rest) = ops.split_at(ops.len() - 2);
    for part in [first, rest] {
        let r = device.push(whole.addr, part);
        assert_eq!(statuses(&r.json()), vec!["applied"; part.len()], "{}", r.text());
    }
    for one in &ops {
        let r = device.push(single.addr, std::slice::from_ref(one));
        assert_eq!(statuses(&r.json()), vec!["applied"], "{}", r.text());
    }

    let wang = Device::random();
    let mut seen = Vec::new();
    for s in [&whole, &single] {
        s.enrol_as(&wang, "sup-wang");
        // The supervisor's latest record of each visit.
        let mut team: BTreeMap<String, Value> = BTreeMap::new();
        for c in wang.pull_all(s.addr) {
            if c["kind"] == "team_visit" {
                team.insert(c["id"].as_str().unwrap().to_string(), c["body"].clone());
            }
        }
        let mut exceptions: Vec<String> = s
            .exceptions()
            .iter()
            .map(|e| {
                format!(
                    "{} {} {} {} {}",
                    e["code"], e["visit_id"], e["subject"], e["visit_day"], e["status"]
                )
            })
            .collect();
        exceptions.sort();
        let csv = |kind: &str| {
            let out = s.data_dir.join(format!("{kind}.csv"));
            s.admin(&["export-csv", "--kind", kind, "--out", out.to_str().unwrap()]);
            std::fs::read_to_string(&out).unwrap()
        };
        let mut stats = s.stats();
        stats.as_object_mut().unwrap().remove("changes");
        seen.push((
            team,
            exceptions,
            csv("visits"),
            csv("answers"),
            csv("photos"),
            stats,
        ));
    }
    let (team, exceptions, visits, answers, _, stats) = &seen[0];
    assert_eq!(
        team.keys().collect::<Vec<_>>(),
        vec!["v-1", "v-2", "v-3", "v-4"],
        "{team:#?}"
    );
    assert_eq!(team["v-1"]["status"], "checked_out");
    assert_eq!(team["v-1"]["answers"], 2);
    assert_eq!(
        team["v-1"]["report_summary"]
            .as_str()
            .map(|s| s.contains("货架整齐")),
        Some(true)
    );
    assert_eq!(team["v-2"]["status"], "cancelled");
    assert_eq!(
        team["v-2"]["report_summary"]
            .as_str()
            .map(|s| s.contains("店主不在")),
        Some(true)
    );
    assert_eq!(team["v-3"]["answers"], 1);
    assert_eq!(team["v-4"]["exceptions"], json!(["photo_missing"]));
    assert!(visits.contains("87.5"), "{visits}");
    assert!(answers.contains(",14.5,"), "the later price: {answers}");
    assert!(
        exceptions.iter().any(|e| e.contains("unknown_visit")),
        "{exceptions:?}"
    );
    assert_eq!(stats["visits"], 4);
    assert_eq!(stats["ops"], ops.len());
    assert_eq!(
        seen[0], seen[1],
        "one batch (left) and one op per push (right) differ"
    );
}
