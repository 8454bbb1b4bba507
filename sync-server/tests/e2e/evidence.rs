//! The evidence rules on receipt and on the page (issue 16): canonical form enforced, rejected
//! entries kept with their signature and reason, the receive order, and revocation with a time.

use fieldproof_core::evidence::{self, verify_signature};
use fieldproof_core::sync::wire::PushOp;
use serde_json::Value;

use crate::common::*;

const PW: &str = "a long enough password";

/// A `rejected_ops` row: id, reason, entry, signature, detail, receive index.
type RejectedRow = (i64, String, String, Option<String>, Option<String>, i64);

pub fn head_office(s: &Server) -> Session {
    s.admin(&[
        "create-user",
        "--id",
        "ho-zhang",
        "--name",
        "张总",
        "--role",
        "head_office",
        "--password",
        PW,
    ]);
    Session::new(s.addr, "ho-zhang", PW)
}

/// The same entry with whitespace between its tokens (`to_string_pretty`), signed validly by
/// the device: what a device never writes.
pub fn non_canonical(phone: &Phone, op: &PushOp) -> PushOp {
    let entry = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&op.entry).unwrap()).unwrap();
    assert_ne!(entry, op.entry);
    PushOp {
        signature_hex: phone.device.signer.sign_hex(entry.as_bytes()),
        entry,
    }
}

#[test]
fn a_non_canonical_entry_is_refused_and_a_rejected_entry_is_kept_whole_and_recheckable() {
    let (dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ops = phone.ops();
    assert_eq!(ops.len(), 9);
    let key = phone.device.signer.public_key_hex();

    // Validly signed, but not in canonical form: malformed_entry, nothing else changes.
    let spaced = non_canonical(&phone, &ops[0]);
    assert!(verify_signature(
        spaced.entry.as_bytes(),
        &spaced.signature_hex,
        &key
    ));
    let r = phone.device.push(s.addr, std::slice::from_ref(&spaced));
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(statuses(&body), ["rejected"]);
    assert_eq!(body["results"][0]["reason"], "malformed_entry");
    assert_eq!(s.stats()["visits"], 0);
    assert_eq!(s.stats()["ops"], 0);

    // A wrongly signed op: rejected, and its exception points at the rejected row.
    let mut forged = ops[1].clone();
    forged.signature_hex = phone.device.signer.sign_hex(b"something else");
    let r = phone.device.push(s.addr, std::slice::from_ref(&forged));
    assert_eq!(r.json()["results"][0]["reason"], "bad_signature");

    // The canonical entries still link from the head before the refused ones: no gap, no fork.
    let r = phone.device.push(s.addr, &ops);
    let body = r.json();
    assert_eq!(statuses(&body), vec!["applied"; 9], "{body}");
    let codes: Vec<String> = s
        .exceptions()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !codes
            .iter()
            .any(|c| c.starts_with("chain_") || c == "reordered" || c == "backdated"),
        "{codes:?}"
    );

    let conn = crate::common::test_db::connect(dir.path());
    let rows: Vec<RejectedRow> = conn
        .prepare("SELECT id, reason, entry, signature, detail, recv_index FROM rejected_ops ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2);
    let (_, reason, entry, signature, detail, recv) = &rows[0];
    assert_eq!((reason.as_str(), *recv), ("malformed_entry", 1));
    assert!(
        detail.as_deref().unwrap().starts_with("not_canonical"),
        "{detail:?}"
    );
    // Kept whole, with its signature: anyone can check it again.
    assert_eq!(entry, &spaced.entry);
    assert!(verify_signature(
        entry.as_bytes(),
        signature.as_deref().unwrap(),
        &key
    ));
    let (bad_row, reason, entry, signature, _, recv) = &rows[1];
    assert_eq!((reason.as_str(), *recv), ("bad_signature", 2));
    assert_eq!(entry, &forged.entry);
    assert_eq!(signature.as_deref(), Some(forged.signature_hex.as_str()));
    assert!(!verify_signature(
        entry.as_bytes(),
        signature.as_deref().unwrap(),
        &key
    ));

    // The receive order: the two refused entries, then the nine applied ones, one index each.
    let recv: Vec<i64> = conn
        .prepare("SELECT recv_index FROM ops ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(recv, (3..=11).collect::<Vec<i64>>());
    let count: i64 = conn
        .query_row(
            "SELECT recv_count FROM devices WHERE device_id = ?1",
            [phone.device.id()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 11);

    // The forged op's id was later applied validly: its exception still points at the
    // rejected row, not at that op.
    let forged_op_id = evidence::read_entry(&forged.entry).unwrap().op_id;
    let applied: i64 = conn
        .query_row(
            "SELECT count(*) FROM ops WHERE op_id = ?1",
            [&forged_op_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(applied, 1);
    let bad = s
        .exceptions()
        .into_iter()
        .find(|e| e["code"] == "bad_signature")
        .unwrap();
    assert_eq!(bad["rejected_op"], *bad_row);
    assert!(bad["op_id"].is_null(), "{bad}");

    // Pushing the same batch again adds nothing to the receive order (duplicates).
    let r = phone.device.push(s.addr, &ops);
    assert_eq!(statuses(&r.json()), vec!["duplicate"; 9]);
    let again: i64 = conn
        .query_row(
            "SELECT recv_count FROM devices WHERE device_id = ?1",
            [phone.device.id()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(again, 11);
}

/// A rep's phone with one store check pushed and its photo uploaded: (phone, visit id).
fn phone_with_a_received_photo(s: &Server, user: &str, store: &str, plan: &str) -> (Phone, String) {
    let phone = Phone::new();
    s.enrol_as(&phone.device, user);
    let v = store_check(&phone.core, user, store, Some(plan), fix_st001());
    phone.upload_photo(s.addr, &v.photo_id, 2);
    let r = phone.device.push(s.addr, &phone.ops());
    assert_eq!(statuses(&r.json()), vec!["applied"; 9]);
    (phone, v.visit_id)
}

pub fn badge_of(session: &Session, visit_id: &str) -> String {
    let page = session.get(&format!("/app/visits/{visit_id}")).text();
    let at = page.find("data-badge=\"").expect("a photo badge");
    let rest = &page[at + "data-badge=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[test]
fn a_revoked_devices_photos_show_by_when_they_arrived() {
    let (_dir, s) = server();
    let ho = head_office(&s);
    let (lost, lost_visit) = phone_with_a_received_photo(&s, "rep-li", "st-001", "plan-li-1");
    let (stolen, stolen_visit) = phone_with_a_received_photo(&s, "rep-li", "st-001", "plan-li-1");
    assert_eq!(badge_of(&ho, &lost_visit), "verified");
    assert_eq!(badge_of(&ho, &stolen_visit), "verified");

    // Revoked from now: its photos arrived before, so they stay verified and say so.
    s.admin(&["revoke", "--device", lost.device.id()]);
    assert_eq!(badge_of(&ho, &lost_visit), "verified_revoked_later");
    let page = ho.get(&format!("/app/visits/{lost_visit}")).text();
    // (The session reads English; the Chinese badge is `web::components`' test.)
    assert!(page.contains(">verified, key revoked later<"), "{page}");

    // Revoked from a minute before its photo arrived (the field calendar's local time): the
    // photo is revoked_key.
    let cal = fieldproof_server::calendar::Calendar::CHINA;
    let from = cal.datetime(now_ms() - 60_000);
    s.admin(&["revoke", "--device", stolen.device.id(), "--from", &from]);
    assert_eq!(badge_of(&ho, &stolen_visit), "revoked_key");
    let page = ho.get(&format!("/app/visits/{stolen_visit}")).text();
    assert!(
        page.contains(">key revoked<") && page.contains("Signed by a revoked device"),
        "{page}"
    );
    // The other phone is untouched by it.
    assert_eq!(badge_of(&ho, &lost_visit), "verified_revoked_later");

    // A time in the future, or not a time, is refused and changes nothing.
    for bad in ["2999-01-01 10:00", "yesterday"] {
        let out = admin(
            &s.data_dir,
            &["revoke", "--device", lost.device.id(), "--from", bad],
        );
        assert!(!out.status.success(), "{bad}");
    }
    assert_eq!(badge_of(&ho, &lost_visit), "verified_revoked_later");
    // The stored verdict stays the cryptographic one.
    assert_eq!(s.stats()["photos_verified"], 2);
}
