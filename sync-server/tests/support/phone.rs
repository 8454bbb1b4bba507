//! A device making signed ops like a phone, for tests that seed visits through the real ingest
//! (`Store::push`). Included with `#[path]` by the tests that need it; each adds the visit
//! shapes it needs in its own `impl Phone` block.

#![allow(dead_code)]

use fieldproof_core::evidence::{EntryHeader, GENESIS_HASH, Signer, entry_bytes, sha256_hex};
use fieldproof_core::model::EventTime;
use fieldproof_core::sync::wire::{OpStatus, PushOp, PushRequest};
use fieldproof_server::{Store, now_ms};
use serde_json::Value;

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
        let r = store
            .push(
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
}
