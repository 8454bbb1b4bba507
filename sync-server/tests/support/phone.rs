//! A device making signed ops like a phone, for tests that seed visits through the real ingest
//! (`ingest::push`). Included with `#[path]` by the tests that need it: the signed op and the
//! steps of a store check here, each test's visit shapes made of them in its own `impl Phone`.

#![allow(dead_code)]

use fieldproof_core::evidence::{EntryHeader, GENESIS_HASH, Signer, entry_bytes, sha256_hex};
use fieldproof_core::model::EventTime;
use fieldproof_core::sync::wire::{OpStatus, PushOp, PushRequest};
use fieldproof_server::{Store, now_ms};
use serde_json::{Value, json};

/// A device with its hash chain; ops queue in `ops` until [`Phone::push`]. Its boot clock runs
/// with its wall clock (no clock jumps unless a test makes one).
pub struct Phone {
    pub signer: Signer,
    pub user: String,
    pub seq: i64,
    pub prev: String,
    pub ops: Vec<PushOp>,
}

impl Phone {
    /// Enrols device `dev-{name}` for field user `user`.
    pub fn new(store: &Store, name: &str, user: &str) -> Phone {
        let signer = Signer::from_seed(format!("dev-{name}"), Signer::generate_seed().unwrap());
        store
            .enrol_device(user, &signer.device_id, &signer.public_key_hex(), now_ms())
            .unwrap();
        Phone {
            signer,
            user: user.into(),
            seq: 0,
            prev: GENESIS_HASH.to_string(),
            ops: Vec::new(),
        }
    }

    /// Queue one signed op at device wall time `wall_ms` (the payload gets its `time`).
    pub fn op(&mut self, kind: &str, entity: &str, wall_ms: i64, mut payload: Value) {
        self.seq += 1;
        let time = EventTime {
            wall_ms,
            boot_ms: wall_ms - 1_700_000_000_000,
            hlc: wall_ms << 16 | self.seq,
            server_offset_ms: Some(0),
        };
        payload["time"] = serde_json::to_value(time).unwrap();
        let op_id = format!("{}-{}", self.signer.device_id, self.seq);
        let entry = entry_bytes(
            &EntryHeader {
                device_id: &self.signer.device_id,
                seq: self.seq,
                op_id: &op_id,
                kind,
                entity_id: entity,
                time,
                prev_hash: &self.prev,
            },
            &payload,
        );
        self.prev = sha256_hex(entry.as_bytes());
        self.ops.push(PushOp {
            signature_hex: self.signer.sign_hex(entry.as_bytes()),
            entry,
        });
    }

    /// Push what is queued, the server's clock reading `server_now`; every op must apply.
    pub fn push(&mut self, store: &Store, server_now: i64) {
        let r = fieldproof_server::ingest::push(
            store,
            &self.signer.device_id,
            &PushRequest {
                ops: std::mem::take(&mut self.ops),
            },
            server_now,
        )
        .unwrap();
        for res in &r.results {
            assert_eq!(res.status, OpStatus::Applied, "{res:?}");
        }
    }

    /// A store check's check-in from `at` (lat, lon) at `start`, for `plan` when given.
    pub fn check_in(
        &mut self,
        visit: &str,
        store: &str,
        plan: Option<&str>,
        start: i64,
        at: (f64, f64),
        mock: bool,
    ) {
        let user = self.user.clone();
        self.op(
            "visit.check_in",
            visit,
            start,
            json!({"visit_id": visit, "kind": "store_check", "user_id": user, "store_id": store,
                   "template_id": "tpl-store-check", "template_version": 1, "plan_id": plan,
                   "fix": fix(at, start, mock), "geofence": "verified", "distance_m": 5.0, "flags": []}),
        );
    }

    /// A shelf photo's op (`ph-{visit}`) a minute after `start`; its bytes never come.
    pub fn shelf_photo(&mut self, visit: &str, store: &str, start: i64) {
        let user = self.user.clone();
        let sha = sha256_hex(format!("photo-{visit}").as_bytes());
        self.op(
            "visit.photo",
            visit,
            start + 60_000,
            json!({"photo_id": format!("ph-{visit}"), "visit_id": visit, "store_id": store, "user_id": user,
                   "item_id": "shelf_photo", "photo_kind": "shelf", "image_sha256": sha, "byte_len": 123_456,
                   "evidence_code": "FP-7Q2K"}),
        );
    }

    /// The report two minutes after `start` and completion with `score` a minute later.
    pub fn report_and_complete(&mut self, visit: &str, start: i64, score: f64) {
        self.op(
            "visit.report",
            visit,
            start + 2 * 60_000,
            json!({"visit_id": visit, "report": {"notes": "货架整齐", "objections": [], "next_steps": [], "follow_up_date": null}}),
        );
        self.op(
            "visit.complete",
            visit,
            start + 3 * 60_000,
            json!({"visit_id": visit, "score": {"total": score, "sections": []}}),
        );
    }

    /// The check-out at `end` from `at` (lat, lon).
    pub fn check_out(&mut self, visit: &str, end: i64, at: (f64, f64), mock: bool) {
        self.op(
            "visit.check_out",
            visit,
            end,
            json!({"visit_id": visit, "fix": fix(at, end, mock)}),
        );
    }
}

/// A GPS fix at (lat, lon) taken at `at`, 10 m accuracy.
fn fix((lat, lon): (f64, f64), at: i64, mock: bool) -> Value {
    json!({"latitude": lat, "longitude": lon, "accuracy_m": 10.0, "provider": "gps",
           "is_mock": mock, "fix_time_ms": at})
}
