#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The per-device hash chain: every action is a signed entry linked to the previous one.
//! Removing, reordering, forking or back-dating an entry shows; an untouched chain verifies.

mod common;

use common::*;
use fieldproof_core::evidence::*;
use fieldproof_core::*;

fn signed(core: &Core) -> Vec<SignedEntry> {
    core.pending_ops(10_000)
        .unwrap()
        .into_iter()
        .map(|o| SignedEntry {
            entry: o.entry.unwrap(),
            signature_hex: o.signature_hex.unwrap(),
        })
        .collect()
}

fn codes(f: &[ChainFinding]) -> Vec<(&'static str, i32)> {
    f.iter().map(|f| (f.code.as_str(), f.index)).collect()
}

fn a_day(core: &Core) {
    let v = check_in(core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    core.answer(&v.id, "shelf_ok", &yes_no(true), None).unwrap();
    core.answer(&v.id, "facings", &number(6.0), None).unwrap();
    core.answer(&v.id, "own_price", &price(400), None).unwrap();
    core.answer(&v.id, "backroom", &choice("high"), None).unwrap();
    core.save_report(&v.id, &report()).unwrap();
}

both_backends!(an_untouched_chain_verifies_and_links_every_action, |h| {
    a_day(&h.core);
    let entries = signed(&h.core);
    assert_eq!(entries.len(), 6);
    let key = h.core.device_public_key();
    assert_eq!(verify_chain(&entries, &key, None), []);
    let first: serde_json::Value = serde_json::from_str(&entries[0].entry).unwrap();
    assert_eq!(first["prev_hash"], GENESIS_HASH);
    assert_eq!(first["device_id"], h.core.device_id());
    for w in entries.windows(2) {
        let next: serde_json::Value = serde_json::from_str(&w[1].entry).unwrap();
        assert_eq!(
            next["prev_hash"].as_str().unwrap(),
            sha256_hex(w[0].entry.as_bytes())
        );
    }
    // The stored entry is canonical: re-encoding it gives the same bytes.
    for e in &entries {
        let v: serde_json::Value = serde_json::from_str(&e.entry).unwrap();
        assert_eq!(canonical_json(&v), e.entry);
    }
    assert!(h.core.audit().unwrap().is_clean());
});

both_backends!(a_removed_entry_is_a_chain_gap, |h| {
    a_day(&h.core);
    let mut entries = signed(&h.core);
    entries.remove(3);
    assert_eq!(
        codes(&verify_chain(&entries, &h.core.device_public_key(), None)),
        [("chain_gap", 3)]
    );
    // Across uploads: the verifier's head says seq 2 was the last it saw; seq 4 comes next.
    let all = signed(&h.core);
    let head = ChainHead {
        seq: 2,
        entry_hash: sha256_hex(all[1].entry.as_bytes()),
        hlc: serde_json::from_str::<serde_json::Value>(&all[1].entry).unwrap()["time"]["hlc"]
            .as_i64()
            .unwrap(),
    };
    assert_eq!(
        codes(&verify_chain(&all[3..], &h.core.device_public_key(), Some(&head))),
        [("chain_gap", 0)]
    );
    assert_eq!(
        verify_chain(&all[2..], &h.core.device_public_key(), Some(&head)),
        []
    );
});

both_backends!(swapped_entries_are_reordered, |h| {
    a_day(&h.core);
    let mut entries = signed(&h.core);
    entries.swap(2, 3);
    let f = verify_chain(&entries, &h.core.device_public_key(), None);
    assert!(codes(&f).contains(&("reordered", 3)), "{f:?}");
});

#[test]
fn a_restored_backup_that_goes_on_writing_is_a_fork() {
    let h = harness(Backend::File);
    a_day(&h.core);
    let db = h.db_path().unwrap();
    drop(h.core);
    // Copy the database (a phone restored from yesterday's backup), then both copies go on.
    let backup = db.with_file_name("backup.db");
    std::fs::copy(&db, &backup).unwrap();
    let original = Core::open(&db).unwrap();
    let restored = Core::open(&backup).unwrap();
    assert_eq!(original.device_public_key(), restored.device_public_key());
    let vo = original.open_visit("rep-li").unwrap().unwrap();
    original.complete_visit(&vo.id).unwrap_err(); // still locked: photo missing
    original.cancel_visit(&vo.id, "closing early").unwrap();
    let vr = restored.open_visit("rep-li").unwrap().unwrap();
    restored.answer(&vr.id, "facings", &number(2.0), None).unwrap();
    let mut entries = signed(&original);
    let forked = signed(&restored).pop().unwrap();
    entries.push(forked);
    let f = verify_chain(&entries, &original.device_public_key(), None);
    assert_eq!(codes(&f), [("chain_fork", 7)]);
}

#[test]
fn an_entry_signed_by_the_device_but_dated_before_its_predecessor_is_backdated() {
    // Someone who extracted a device key writes an entry "earlier" than the one before it.
    let signer = Signer::from_seed("dev-1".into(), [7u8; 32]);
    let key = signer.public_key_hex();
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut entries = Vec::new();
    for (seq, hlc) in [(1, 1_000i64 << 16), (2, 2_000 << 16), (3, 1_500 << 16)] {
        let entry = entry_bytes(
            &EntryHeader {
                device_id: "dev-1",
                seq,
                op_id: &format!("op-{seq}"),
                kind: "visit.answer",
                entity_id: "v",
                time: EventTime {
                    wall_ms: hlc >> 16,
                    boot_ms: 0,
                    hlc,
                    server_offset_ms: None,
                },
                prev_hash: &prev_hash,
            },
            &serde_json::json!({"x": seq}),
        );
        prev_hash = sha256_hex(entry.as_bytes());
        entries.push(SignedEntry {
            signature_hex: signer.sign_hex(entry.as_bytes()),
            entry,
        });
    }
    assert_eq!(codes(&verify_chain(&entries, &key, None)), [("backdated", 2)]);
    assert_eq!(verify_chain(&entries[..2], &key, None), []);
}

both_backends!(another_key_or_a_changed_byte_is_a_bad_signature, |h| {
    a_day(&h.core);
    let entries = signed(&h.core);
    let other = Signer::from_seed("x".into(), [9u8; 32]).public_key_hex();
    let f = verify_chain(&entries, &other, None);
    assert_eq!(f.len(), entries.len());
    assert!(f.iter().all(|f| f.code == VerifyCode::BadSignature));
    let mut tampered = entries.clone();
    tampered[1].entry = tampered[1].entry.replace("\"value\":true", "\"value\":false");
    assert_ne!(tampered[1].entry, entries[1].entry);
    let f = verify_chain(&tampered, &h.core.device_public_key(), None);
    // The changed entry's signature fails and it is skipped (not part of the chain), so the
    // next entry follows seq 1: a gap where the changed entry was.
    assert_eq!(codes(&f), [("bad_signature", 1), ("chain_gap", 2)]);
});
