//! Customers and leads through the real server (issue 15): signed `customer.*` and `lead.*` ops
//! pushed over HTTP, applied exactly once in the push's transaction, and sent back down the
//! feed to who may see them. Runs on SQLite and, under `tests/pg.sh` / `tests/s3.sh`, on
//! PostgreSQL with S3 photos.

use fieldproof_core::evidence::{EntryHeader, entry_bytes, evidence_code, sha256_hex};
use fieldproof_core::model::EventTime;
use fieldproof_core::sync::wire::PushOp;
use serde_json::{Value, json};

use crate::common::*;

const DAY: i64 = 86_400_000;

/// Signed entries of one device, chained, with times chosen by the test.
struct Chain<'a> {
    device: &'a Device,
    seq: i64,
    prev: String,
    ops: Vec<PushOp>,
}

impl<'a> Chain<'a> {
    fn new(device: &'a Device) -> Chain<'a> {
        Chain {
            device,
            seq: 0,
            prev: fieldproof_core::evidence::GENESIS_HASH.to_string(),
            ops: Vec::new(),
        }
    }

    /// Add an op at device time `wall_ms` (offset 0); returns its op id.
    fn op(&mut self, kind: &str, entity: &str, wall_ms: i64, payload: Value) -> String {
        self.seq += 1;
        let time = EventTime {
            wall_ms,
            // Time since boot follows the wall clock: no clock finding unless a test wants one.
            boot_ms: 1_000_000 + (wall_ms - base()).max(0),
            hlc: wall_ms << 16 | self.seq,
            server_offset_ms: Some(0),
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
        self.prev = sha256_hex(entry.as_bytes());
        self.ops.push(PushOp {
            signature_hex: self.device.signer.sign_hex(entry.as_bytes()),
            entry,
        });
        op_id
    }

    /// Push the ops added since the last push; the push answer's body.
    fn push(&mut self, s: &Server) -> Value {
        let ops = std::mem::take(&mut self.ops);
        let r = self.device.push(s.addr, &ops);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }
}

/// Device times start here: far enough back for a week of follow-ups, never ahead of the
/// server's clock (times are capped at it).
fn base() -> i64 {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| now_ms() - 20 * DAY)
}

fn t(days: f64) -> i64 {
    base() + (days * DAY as f64) as i64
}

fn create(user: &str, id: &str, name: &str, company: Option<&str>, phones: &[&str]) -> Value {
    json!({"customer_id": id, "user_id": user, "name": name, "company": company, "phones": phones,
           "contacts": [{"name": "王工", "title": "采购", "phones": ["021-6123 4567"]}],
           "industry": "retail", "region": "shanghai-east", "stage": "explore"})
}

/// The last record of each (kind, id) a pull carried, in feed order (what a phone holds).
fn latest(changes: &[Value], kind: &str) -> std::collections::BTreeMap<String, Value> {
    changes
        .iter()
        .filter(|c| c["kind"] == kind)
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["body"].clone()))
        .collect()
}

fn results(push: &Value) -> Vec<(String, Vec<String>)> {
    push["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let ex = r["exceptions"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|e| e.as_str().unwrap().to_string())
                .collect();
            (r["status"].as_str().unwrap().to_string(), ex)
        })
        .collect()
}

fn all_text(v: &[Value]) -> String {
    serde_json::to_string(v).unwrap()
}

/// Acceptance 4: two reps' phones enter the same customer offline (the phone number and the
/// company written differently). The server keeps one owner; the second entry is a linked
/// duplicate both reps see, with nothing the second rep entered lost; another rep's pull never
/// carries the customer's numbers.
#[test]
fn two_reps_enter_the_same_customer_offline_one_owner_and_a_linked_duplicate() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let chen = s.enrolled("rep-chen");
    let zhao = s.enrolled("rep-zhao");
    let mut a = Chain::new(&li);
    let mut b = Chain::new(&chen);
    // Both offline: rep-chen's entry is made first, rep-li's phone syncs first.
    b.op(
        "customer.create",
        "c-chen-1",
        t(0.0),
        create(
            "rep-chen",
            "c-chen-1",
            "王经理",
            Some("上海某某科技"),
            &["+86 138-0013-8000"],
        ),
    );
    a.op(
        "customer.create",
        "c-li-1",
        t(0.1),
        create(
            "rep-li",
            "c-li-1",
            "王总",
            Some("上海某某科技有限公司"),
            &["13800138000"],
        ),
    );
    assert_eq!(results(&a.push(&s)), [("applied".to_string(), vec![])]);
    assert_eq!(
        results(&b.push(&s)),
        [("applied".to_string(), vec!["customer_duplicate".to_string()])]
    );

    let conn = crate::common::test_db::connect(dir.path());
    /// id, state, owner, duplicate of, phones.
    type CustomerRow = (String, String, Option<String>, Option<String>, String);
    let rows: Vec<CustomerRow> = {
        let mut st = conn
            .prepare("SELECT id, state, owner_id, duplicate_of, phones FROM customers ORDER BY id")
            .unwrap();
        st.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    assert_eq!(rows.len(), 2, "nothing lost: {rows:?}");
    assert_eq!(rows[0].0, "c-chen-1");
    assert_eq!(rows[0].1, "duplicate");
    assert_eq!(rows[0].3.as_deref(), Some("c-li-1"));
    // What rep-chen entered is kept as entered.
    assert!(rows[0].4.contains("+86 138-0013-8000"), "{}", rows[0].4);
    assert_eq!(
        (rows[1].1.as_str(), rows[1].2.as_deref()),
        ("owned", Some("rep-li"))
    );
    let keys: i64 = conn
        .query_row(
            "SELECT count(*) FROM customer_keys WHERE customer_id = 'c-chen-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keys, 0, "a duplicate holds no keys");

    // Both reps see the link; the owner the entry whole, the second rep the original without
    // its numbers.
    let li_feed = li.pull_all(s.addr);
    let li_customers = latest(&li_feed, "customer");
    assert_eq!(li_customers["c-li-1"]["owner_id"], "rep-li");
    assert_eq!(li_customers["c-li-1"]["phones"], json!(["13800138000"]));
    assert_eq!(li_customers["c-chen-1"]["state"], "duplicate");
    assert_eq!(li_customers["c-chen-1"]["duplicate_of"], "c-li-1");
    let chen_feed = chen.pull_all(s.addr);
    let chen_customers = latest(&chen_feed, "customer");
    assert_eq!(chen_customers["c-chen-1"]["state"], "duplicate");
    assert_eq!(chen_customers["c-chen-1"]["duplicate_of"], "c-li-1");
    assert_eq!(chen_customers["c-chen-1"]["phones"], json!(["+86 138-0013-8000"]));
    assert_eq!(chen_customers["c-li-1"]["state"], "owned");
    assert_eq!(chen_customers["c-li-1"]["owner_id"], "rep-li");
    // Another rep's pull never carries the customer's phone numbers, in any change.
    let chen_li_rows: Vec<Value> = chen_feed
        .iter()
        .filter(|c| c["id"] == "c-li-1")
        .cloned()
        .collect();
    assert!(!chen_li_rows.is_empty());
    let text = all_text(&chen_li_rows);
    assert!(!text.contains("13800138000") && !text.contains("6123"), "{text}");
    // The keys reach the territory as hashes only.
    let chen_keys = latest(&chen_feed, "customer_key");
    assert_eq!(chen_keys.len(), 3, "two phones and the company: {chen_keys:?}");
    assert!(chen_keys.values().all(|k| k["customer_id"] == "c-li-1"));
    assert!(!all_text(&chen_keys.values().cloned().collect::<Vec<_>>()).contains("1380013"));
    // rep-chen's supervisor sees the team's entry whole, the other team's customer by status.
    let sup = s.enrolled("sup-liu");
    let sup_feed = sup.pull_all(s.addr);
    let sup_customers = latest(&sup_feed, "customer");
    assert_eq!(sup_customers["c-chen-1"]["phones"], json!(["+86 138-0013-8000"]));
    let sup_li_rows: Vec<Value> = sup_feed.iter().filter(|c| c["id"] == "c-li-1").cloned().collect();
    assert!(!sup_li_rows.is_empty());
    assert!(!all_text(&sup_li_rows).contains("13800138000"));
    // A rep of another territory sees none of it.
    let zhao_feed = zhao.pull_all(s.addr);
    assert!(
        zhao_feed
            .iter()
            .all(|c| !["customer", "customer_key"].contains(&c["kind"].as_str().unwrap())),
        "{zhao_feed:?}"
    );

    // The same rep entering the same customer twice: a linked duplicate too.
    a.op(
        "customer.create",
        "c-li-2",
        t(0.2),
        create("rep-li", "c-li-2", "王总（重复）", None, &["0086 13800138000"]),
    );
    assert_eq!(
        results(&a.push(&s)),
        [("applied".to_string(), vec!["customer_duplicate".to_string()])]
    );
    let dupes: Vec<Value> = s
        .exceptions()
        .into_iter()
        .filter(|e| e["code"] == "customer_duplicate")
        .collect();
    assert_eq!(dupes.len(), 2, "{dupes:?}");
    assert!(dupes.iter().all(|e| e["params"]["duplicate_of"] == "c-li-1"));

    // A contact added later is found too: its number became a key of rep-li's customer.
    a.op(
        "customer.update",
        "c-li-1",
        t(0.3),
        json!({"customer_id": "c-li-1", "user_id": "rep-li", "budget_cents": 5_000_000,
               "contacts": [{"name": "刘工", "phones": ["139 1111 2222"]}]}),
    );
    assert_eq!(results(&a.push(&s)), [("applied".to_string(), vec![])]);
    b.op("customer.create", "c-chen-2", t(0.4), {
        // Only the new contact's number in common.
        let mut p = create("rep-chen", "c-chen-2", "刘工", None, &["13911112222"]);
        p["contacts"] = json!([]);
        p
    });
    assert_eq!(
        results(&b.push(&s)),
        [("applied".to_string(), vec!["customer_duplicate".to_string()])]
    );
}

/// Claims: a pool customer becomes the claimant's; a claim of a customer another rep holds is
/// kept but does not take, raises `customer_claim_conflict` and sends the claimant the record as
/// it is (without numbers); releasing another rep's customer changes nothing.
#[test]
fn claims_conflicts_and_releases() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let chen = s.enrolled("rep-chen");
    let mut a = Chain::new(&li);
    let mut b = Chain::new(&chen);
    a.op(
        "customer.create",
        "c-1",
        t(0.0),
        create("rep-li", "c-1", "赵老板", Some("浦东五金"), &["13900139000"]),
    );
    a.op(
        "customer.release",
        "c-1",
        t(0.5),
        json!({"customer_id": "c-1", "user_id": "rep-li", "reason": "不在我的片区"}),
    );
    assert!(
        results(&a.push(&s))
            .iter()
            .all(|(st, ex)| st == "applied" && ex.is_empty())
    );
    let conn = crate::common::test_db::connect(dir.path());
    let state = |conn: &fieldproof_server::db::Connection| -> (String, Option<String>, Option<i64>) {
        conn.query_row(
            "SELECT state, owner_id, release_due_ms FROM customers WHERE id = 'c-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    assert_eq!(state(&conn), ("pool".to_string(), None, None));
    // An op in another rep's name is not this device's to make: refused, nothing changed.
    let mut forged = Chain::new(&li);
    forged.seq = a.seq;
    forged.prev = a.prev.clone();
    forged.op(
        "customer.claim",
        "c-1",
        t(0.6),
        json!({"customer_id": "c-1", "user_id": "rep-chen"}),
    );
    let r = forged.push(&s);
    assert_eq!(r["results"][0]["status"], "rejected");
    assert_eq!(r["results"][0]["reason"], "wrong_user");
    assert_eq!(state(&conn).0, "pool");
    a.seq = forged.seq;
    a.prev = forged.prev.clone();
    // In the pool the territory sees it whole: anyone may claim it.
    let pooled = latest(&chen.pull_all(s.addr), "customer");
    assert_eq!(pooled["c-1"]["state"], "pool");
    assert_eq!(pooled["c-1"]["phones"], json!(["13900139000"]));

    b.op(
        "customer.claim",
        "c-1",
        t(1.0),
        json!({"customer_id": "c-1", "user_id": "rep-chen"}),
    );
    assert_eq!(results(&b.push(&s)), [("applied".to_string(), vec![])]);
    assert_eq!(
        state(&conn),
        (
            "owned".to_string(),
            Some("rep-chen".to_string()),
            Some(t(1.0) + 7 * DAY)
        )
    );
    // rep-li claims it back offline: kept, does not take.
    a.op(
        "customer.claim",
        "c-1",
        t(1.1),
        json!({"customer_id": "c-1", "user_id": "rep-li"}),
    );
    // And releases what is not theirs any more.
    a.op(
        "customer.release",
        "c-1",
        t(1.2),
        json!({"customer_id": "c-1", "user_id": "rep-li", "reason": "x"}),
    );
    assert_eq!(
        results(&a.push(&s)),
        [
            ("applied".to_string(), vec!["customer_claim_conflict".to_string()]),
            ("applied".to_string(), vec!["customer_op_not_applied".to_string()]),
        ]
    );
    assert_eq!(state(&conn).1.as_deref(), Some("rep-chen"));
    let li_view = latest(&li.pull_all(s.addr), "customer");
    assert_eq!(li_view["c-1"]["owner_id"], "rep-chen");
    assert_eq!(
        li_view["c-1"]["phones"],
        json!([]),
        "status only for the claimant"
    );
    let conflict = s
        .exceptions()
        .into_iter()
        .find(|e| e["code"] == "customer_claim_conflict")
        .unwrap();
    assert_eq!(conflict["params"]["holder_id"], "rep-chen");
    assert_eq!(conflict["params"]["claimant_id"], "rep-li");
    let ops: i64 = conn
        .query_row(
            "SELECT count(*) FROM ops WHERE kind = 'customer.claim'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ops, 2, "both claims are kept");

    // rep-chen gives it up and cannot take it straight back (7-day cooldown); rep-li, whose
    // own release is more than 7 days old by then, can.
    b.op(
        "customer.release",
        "c-1",
        t(2.0),
        json!({"customer_id": "c-1", "user_id": "rep-chen", "reason": "客户无意向"}),
    );
    b.op(
        "customer.claim",
        "c-1",
        t(2.5),
        json!({"customer_id": "c-1", "user_id": "rep-chen"}),
    );
    assert_eq!(
        results(&b.push(&s)),
        [
            ("applied".to_string(), vec![]),
            ("applied".to_string(), vec!["customer_op_not_applied".to_string()]),
        ]
    );
    assert_eq!(state(&conn).0, "pool");
    a.op(
        "customer.claim",
        "c-1",
        t(8.0),
        json!({"customer_id": "c-1", "user_id": "rep-li"}),
    );
    assert_eq!(results(&a.push(&s)), [("applied".to_string(), vec![])]);
    assert_eq!(state(&conn).1.as_deref(), Some("rep-li"));
}

/// 保有量: with head office's limit at one customer per rep, a claim past it (from a phone whose
/// settings are older, or an altered one) is kept but does not take: the customer stays in the
/// pool, `customer_op_not_applied` says why, and the claimant's phone gets the record back.
#[test]
fn a_claim_past_the_customer_limit_is_kept_but_does_not_take() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let chen = s.enrolled("rep-chen");
    let mut cfg = fieldproof_core::customers::PipelineConfig {
        max_customers_per_rep: Some(1),
        ..Default::default()
    };
    let file = dir.path().join("pipeline.json");
    std::fs::write(&file, serde_json::to_string(&cfg).unwrap()).unwrap();
    admin_ok(
        dir.path(),
        &["pipeline", "set", "--name", "pipeline", file.to_str().unwrap()],
    );
    let mut a = Chain::new(&li);
    let mut b = Chain::new(&chen);
    a.op(
        "customer.create",
        "c-1",
        t(0.0),
        create("rep-li", "c-1", "赵老板", Some("浦东五金"), &["13900139000"]),
    );
    // Another customer altogether (not even the contact's number in common).
    let mut other = create("rep-chen", "c-2", "钱老板", Some("张江茶社"), &["13900139002"]);
    other["contacts"] = json!([]);
    b.op("customer.create", "c-2", t(0.0), other);
    b.op(
        "customer.release",
        "c-2",
        t(0.1),
        json!({"customer_id": "c-2", "user_id": "rep-chen", "reason": "不在我的片区"}),
    );
    assert!(
        results(&a.push(&s))
            .iter()
            .all(|(st, ex)| st == "applied" && ex.is_empty())
    );
    let pushed = results(&b.push(&s));
    assert!(
        pushed.iter().all(|(st, ex)| st == "applied" && ex.is_empty()),
        "{pushed:?}"
    );
    a.op(
        "customer.claim",
        "c-2",
        t(1.0),
        json!({"customer_id": "c-2", "user_id": "rep-li"}),
    );
    assert_eq!(
        results(&a.push(&s)),
        [("applied".to_string(), vec!["customer_op_not_applied".to_string()])]
    );
    let conn = crate::common::test_db::connect(dir.path());
    let (state, owner): (String, Option<String>) = conn
        .query_row(
            "SELECT state, owner_id FROM customers WHERE id = 'c-2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((state.as_str(), owner), ("pool", None));
    let why = s
        .exceptions()
        .into_iter()
        .find(|e| e["code"] == "customer_op_not_applied")
        .unwrap();
    assert_eq!(why["params"]["why"], "limit_reached");
    assert_eq!(latest(&li.pull_all(s.addr), "customer")["c-2"]["state"], "pool");
    // With room (the limit raised), the same claim takes.
    cfg.max_customers_per_rep = Some(2);
    std::fs::write(&file, serde_json::to_string(&cfg).unwrap()).unwrap();
    admin_ok(
        dir.path(),
        &["pipeline", "set", "--name", "pipeline", file.to_str().unwrap()],
    );
    a.op(
        "customer.claim",
        "c-2",
        t(1.5),
        json!({"customer_id": "c-2", "user_id": "rep-li"}),
    );
    assert_eq!(results(&a.push(&s)), [("applied".to_string(), vec![])]);
}

/// Stage moves are checked with the core's rules from the stage the server has: a move into
/// 报价谈判 without the signed form's photo is applied and kept with `missing` and a
/// `stage_evidence_missing` exception; with the photo (uploaded and verified like a visit
/// photo) it is clean; a skip is kept without moving the stage.
#[test]
fn stage_moves_check_their_evidence_and_customer_photos_verify() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let mut a = Chain::new(&li);
    for id in ["c-1", "c-2"] {
        // Two customers of their own (no shared contact number).
        let mut p = create("rep-li", id, id, Some(&format!("公司{id}")), &[]);
        p["contacts"] = json!([]);
        a.op("customer.create", id, t(0.0), p);
    }
    let mut at = 0.1;
    for id in ["c-1", "c-2"] {
        for (from, to) in [("explore", "needs"), ("needs", "demo")] {
            at += 0.1;
            a.op(
                "customer.stage",
                id,
                t(at),
                json!({"stage_change_id": format!("{id}-{to}"), "customer_id": id, "user_id": "rep-li",
                       "from": from, "to": to}),
            );
        }
    }
    // c-2's signed form, photographed: a customer.photo manifest for real JPEG bytes.
    let bytes = std::fs::read(test_photo()).unwrap();
    let sha = sha256_hex(&bytes);
    let original = "ab".repeat(32);
    a.op(
        "customer.photo",
        "c-2",
        t(1.0),
        json!({"photo_id": "cp-1", "customer_id": "c-2", "requirement_id": "tech_spec_form",
               "user_id": "rep-li", "photo_kind": "document", "image_sha256": sha,
               "original_sha256": original, "byte_len": bytes.len(),
               "evidence_code": evidence_code(&original, li.id(), "cp-1")}),
    );
    let manifest = a.ops.last().unwrap().clone();
    a.op(
        "customer.stage",
        "c-1",
        t(1.1),
        json!({"stage_change_id": "c-1-negotiation", "customer_id": "c-1", "user_id": "rep-li",
               "from": "demo", "to": "negotiation", "evidence": []}),
    );
    a.op(
        "customer.stage",
        "c-2",
        t(1.2),
        json!({"stage_change_id": "c-2-negotiation", "customer_id": "c-2", "user_id": "rep-li",
               "from": "demo", "to": "negotiation",
               "evidence": [{"requirement_id": "tech_spec_form", "photo_id": "cp-1"}]}),
    );
    // A skip (negotiation → lost needs a reason; demo is gone): kept, the stage stays.
    a.op(
        "customer.stage",
        "c-2",
        t(1.3),
        json!({"stage_change_id": "c-2-lost", "customer_id": "c-2", "user_id": "rep-li",
               "from": "negotiation", "to": "lost"}),
    );
    let r = results(&a.push(&s));
    let n = r.len();
    assert!(
        r[..n - 3].iter().all(|(st, ex)| st == "applied" && ex.is_empty()),
        "{r:?}"
    );
    assert_eq!(r[n - 3].1, ["stage_evidence_missing"]);
    assert!(r[n - 2].1.is_empty(), "{r:?}");
    assert_eq!(r[n - 1].1, ["customer_op_not_applied"]);

    let conn = crate::common::test_db::connect(dir.path());
    let stage = |id: &str| -> String {
        conn.query_row("SELECT stage FROM customers WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(stage("c-1"), "negotiation", "kept: the phone refuses first");
    assert_eq!(stage("c-2"), "negotiation");
    let missing: String = conn
        .query_row(
            "SELECT missing FROM customer_stage_changes WHERE id = 'c-1-negotiation'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(missing, r#"["tech_spec_form"]"#);
    let flagged = s
        .exceptions()
        .into_iter()
        .find(|e| e["code"] == "stage_evidence_missing")
        .unwrap();
    assert_eq!(flagged["params"]["missing"], json!(["tech_spec_form"]));
    assert_eq!(flagged["params"]["customer_id"], "c-1");

    // The photo's bytes through the visit photos' upload path, verified against its manifest.
    let offer = json!({"sha256": sha, "size": bytes.len(), "entry": manifest.entry,
                       "signature_hex": manifest.signature_hex});
    let r = li.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = li.call(s.addr, "PUT", &format!("/v1/photos/{sha}?offset=0"), &bytes);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["complete"].as_bool().unwrap());
    let (verified, problems): (bool, Option<String>) = conn
        .query_row(
            "SELECT verified, problems FROM blobs WHERE sha256 = ?1",
            [&sha],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(verified, "{problems:?}");
    // A customer photo whose evidence code is not its own does not verify.
    let mut other = bytes.clone();
    other.extend_from_slice(b"\0tail");
    let other_sha = sha256_hex(&other);
    a.op(
        "customer.photo",
        "c-2",
        t(1.5),
        json!({"photo_id": "cp-2", "customer_id": "c-2", "requirement_id": "contract",
               "user_id": "rep-li", "photo_kind": "document", "image_sha256": other_sha,
               "original_sha256": original, "byte_len": other.len(), "evidence_code": "AAAA-BBBB"}),
    );
    let bad = a.ops.last().unwrap().clone();
    a.push(&s);
    let offer = json!({"sha256": other_sha, "size": other.len(), "entry": bad.entry,
                       "signature_hex": bad.signature_hex});
    assert_eq!(li.call_json(s.addr, "POST", "/v1/photos", &offer).status, 200);
    let r = li.call(s.addr, "PUT", &format!("/v1/photos/{other_sha}?offset=0"), &other);
    assert_eq!(r.status, 200, "{}", r.text());
    let codes: Vec<String> = s
        .exceptions()
        .into_iter()
        .filter(|e| e["photo_sha256"] == other_sha.as_str())
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect();
    assert!(codes.contains(&"code_mismatch".to_string()), "{codes:?}");
}

/// A real interaction (reached, met) moves a claimed customer's release date; a call nobody
/// answered does not. A lead claimed before its deadline counts as answered in time, one claimed
/// after does not; a lead another rep holds is not taken.
#[test]
fn follow_ups_move_release_due_and_lead_claims_record_the_response_time() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let chen = s.enrolled("rep-chen");
    let mut a = Chain::new(&li);
    a.op(
        "customer.create",
        "c-1",
        t(0.0),
        create("rep-li", "c-1", "钱经理", None, &["13700137000"]),
    );
    a.op(
        "customer.follow_up",
        "c-1",
        t(2.0),
        json!({"follow_up_id": "f-1", "customer_id": "c-1", "user_id": "rep-li", "channel": "call",
               "outcome": "no_answer"}),
    );
    a.push(&s);
    let conn = crate::common::test_db::connect(dir.path());
    let due = |conn: &fieldproof_server::db::Connection| -> (Option<i64>, Option<i64>) {
        conn.query_row(
            "SELECT release_due_ms, last_interaction_ms FROM customers WHERE id = 'c-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(
        due(&conn),
        (Some(t(0.0) + 7 * DAY), None),
        "no answer is no interaction"
    );
    a.op(
        "customer.follow_up",
        "c-1",
        t(3.0),
        json!({"follow_up_id": "f-2", "customer_id": "c-1", "user_id": "rep-li", "channel": "visit",
               "outcome": "meeting", "next_step": "报价", "next_date": "2026-12-20"}),
    );
    a.push(&s);
    assert_eq!(due(&conn), (Some(t(3.0) + 7 * DAY), Some(t(3.0))));
    let fed = latest(&li.pull_all(s.addr), "customer");
    assert_eq!(fed["c-1"]["release_due_ms"], t(3.0) + 7 * DAY);
    let follow_ups: i64 = conn
        .query_row(
            "SELECT count(*) FROM customer_follow_ups WHERE customer_id = 'c-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(follow_ups, 2);

    // Leads as routing leaves them (head office's side: assigned, with a 2-hour deadline).
    for (id, assigned) in [("l-1", t(4.0)), ("l-2", t(5.0)), ("l-3", t(5.0))] {
        conn.execute(
            "INSERT INTO leads (id, name, phones, region, state, assigned_rep, assigned_ms, deadline_ms,
                created_ms, updated_ms)
             VALUES (?1, '线索', '[\"13600136000\"]', 'shanghai-east', 'assigned', 'rep-li', ?2, ?3, ?2, ?2)",
            fieldproof_server::db::params![id, assigned, assigned + 2 * 3_600_000],
        )
        .unwrap();
    }
    a.op(
        "lead.claim",
        "l-1",
        t(4.0) + 90 * 60_000,
        json!({"lead_id": "l-1", "user_id": "rep-li"}),
    );
    a.op(
        "lead.claim",
        "l-2",
        t(5.0) + 3 * 3_600_000,
        json!({"lead_id": "l-2", "user_id": "rep-li"}),
    );
    assert!(
        results(&a.push(&s))
            .iter()
            .all(|(st, ex)| st == "applied" && ex.is_empty())
    );
    let lead = |id: &str| -> (String, Option<i64>, Option<i64>) {
        conn.query_row(
            "SELECT state, claimed_ms, responded_in_time FROM leads WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    assert_eq!(
        lead("l-1"),
        ("claimed".to_string(), Some(t(4.0) + 90 * 60_000), Some(1))
    );
    assert_eq!(
        lead("l-2"),
        ("claimed".to_string(), Some(t(5.0) + 3 * 3_600_000), Some(0))
    );
    let fed = latest(&li.pull_all(s.addr), "lead");
    assert_eq!(fed["l-1"]["state"], "claimed");
    // rep-chen cannot take rep-li's lead.
    let mut b = Chain::new(&chen);
    b.op(
        "lead.claim",
        "l-3",
        t(5.1),
        json!({"lead_id": "l-3", "user_id": "rep-chen"}),
    );
    assert_eq!(
        results(&b.push(&s)),
        [("applied".to_string(), vec!["customer_claim_conflict".to_string()])]
    );
    assert_eq!(lead("l-3").0, "assigned");
    // And rep-li closes it.
    a.op(
        "lead.close",
        "l-3",
        t(5.2),
        json!({"lead_id": "l-3", "user_id": "rep-li", "reason": "空号"}),
    );
    a.push(&s);
    assert_eq!(lead("l-3").0, "lost");
    // A claimed lead entered as a customer is converted and names it.
    let mut converted = create("rep-li", "c-from-l-1", "线索客户", None, &["13600136000"]);
    converted["from_lead_id"] = json!("l-1");
    converted["contacts"] = json!([]);
    a.op("customer.create", "c-from-l-1", t(5.3), converted);
    assert_eq!(results(&a.push(&s)), [("applied".to_string(), vec![])]);
    let (state, customer): (String, Option<String>) = conn
        .query_row("SELECT state, customer_id FROM leads WHERE id = 'l-1'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (state.as_str(), customer.as_deref()),
        ("converted", Some("c-from-l-1"))
    );
    assert_eq!(
        latest(&li.pull_all(s.addr), "lead")["l-1"]["customer_id"],
        "c-from-l-1"
    );
}

/// QR check-in: every store has a key after the reference load, its public half goes down the
/// feed (never the seed), a check-in carrying the store's current code is verified and recorded,
/// and an old, other store's or garbled code is kept with `store_code_invalid`. A rotated key
/// still verifies what was scanned before the rotation.
#[test]
fn store_codes_at_check_in_are_verified_by_the_server() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let keys = latest(&li.pull_all(s.addr), "store_key");
    let st001: Vec<&Value> = keys.values().filter(|k| k["store_id"] == "st-001").collect();
    assert_eq!(st001.len(), 1, "{keys:?}");
    assert_eq!(st001[0]["public_key_hex"].as_str().unwrap().len(), 64);
    assert!(st001[0].get("seed_hex").is_none());
    // Like the stores themselves: rep-zhao (shanghai-west) gets only st-101's key.
    let zhao = s.enrolled("rep-zhao");
    let zhao_keys = latest(&zhao.pull_all(s.addr), "store_key");
    assert_eq!(zhao_keys.len(), 1, "{zhao_keys:?}");
    assert!(zhao_keys.values().all(|k| k["store_id"] == "st-101"));

    let code = s.admin(&["store-keys", "code", "st-001"]).trim().to_string();
    let other = s.admin(&["store-keys", "code", "st-002"]).trim().to_string();
    let proof = |text: &str| {
        let parts: Vec<&str> = text.rsplitn(4, ':').collect();
        json!({"text": text, "kid": parts[2], "step": parts[1].parse::<i64>().unwrap()})
    };
    let now = now_ms();
    let check_in = |chain: &mut Chain<'_>, visit: &str, wall: i64, code: Option<Value>| {
        let mut p = json!({"visit_id": visit, "kind": "store_check", "user_id": "rep-li",
                           "store_id": "st-001", "template_id": "tpl-store-check", "template_version": 1,
                           "fix": {"latitude": 31.2304, "longitude": 121.52, "accuracy_m": 10.0,
                                   "provider": "gps", "is_mock": false, "fix_time_ms": wall}});
        if let Some(c) = code {
            p["store_code"] = c;
        }
        chain.op("visit.check_in", visit, wall, p);
    };
    let mut a = Chain::new(&li);
    // rep-li's customer linked to the store: a verified scan there is a real interaction.
    let mut linked = create("rep-li", "c-shop", "华联店长", None, &[]);
    linked["store_id"] = json!("st-001");
    a.op("customer.create", "c-shop", now - 700_000, linked);
    // A photo of the code, used at a check-in ten minutes earlier than the code's time.
    check_in(&mut a, "v-old", now - 600_000, Some(proof(&code)));
    check_in(&mut a, "v-ok", now - 5_000, Some(proof(&code)));
    check_in(&mut a, "v-other", now - 4_000, Some(proof(&other)));
    check_in(
        &mut a,
        "v-garbled",
        now - 3_000,
        Some(json!({"text": "https://example.com/qr", "kid": "k", "step": 1})),
    );
    check_in(&mut a, "v-none", now - 2_000, None);
    let r = results(&a.push(&s));
    let store_code_findings: Vec<bool> = r
        .iter()
        .map(|(_, ex)| ex.contains(&"store_code_invalid".to_string()))
        .collect();
    assert_eq!(
        store_code_findings,
        [false, true, false, true, true, false],
        "{r:?}"
    );
    let conn = crate::common::test_db::connect(dir.path());
    let (last, due): (Option<i64>, Option<i64>) = conn
        .query_row(
            "SELECT last_interaction_ms, release_due_ms FROM customers WHERE id = 'c-shop'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(last, Some(now - 5_000), "only the verified scan counts");
    assert_eq!(due, Some(now - 5_000 + 7 * DAY));
    let recorded = |conn: &fieldproof_server::db::Connection| -> Vec<(String, bool)> {
        let mut st = conn
            .prepare("SELECT visit_id, verified FROM visit_store_codes ORDER BY visit_id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        recorded(&conn),
        [
            ("v-garbled".to_string(), false),
            ("v-ok".to_string(), true),
            ("v-old".to_string(), false),
            ("v-other".to_string(), false)
        ]
    );
    let mut problems: Vec<String> = s
        .exceptions()
        .into_iter()
        .filter(|e| e["code"] == "store_code_invalid")
        .map(|e| e["params"]["problem"].as_str().unwrap().to_string())
        .collect();
    problems.sort();
    assert_eq!(problems, ["expired", "malformed", "wrong_store"]);

    // Rotation: the old key is retired (down the feed too); a code scanned before the rotation
    // still verifies, the same code scanned after it does not.
    let scanned = now_ms();
    let current = s.admin(&["store-keys", "code", "st-001"]).trim().to_string();
    let new_kid = s.admin(&["store-keys", "rotate", "st-001"]).trim().to_string();
    assert_ne!(new_kid, proof(&current)["kid"].as_str().unwrap());
    let keys = latest(&li.pull_all(s.addr), "store_key");
    let st001: Vec<&Value> = keys.values().filter(|k| k["store_id"] == "st-001").collect();
    assert_eq!(st001.len(), 2);
    assert_eq!(st001.iter().filter(|k| k["retired"] == true).count(), 1);
    check_in(&mut a, "v-before-rotation", scanned, Some(proof(&current)));
    check_in(&mut a, "v-after-rotation", now_ms(), Some(proof(&current)));
    let r = results(&a.push(&s));
    assert!(!r[0].1.contains(&"store_code_invalid".to_string()), "{r:?}");
    assert!(r[1].1.contains(&"store_code_invalid".to_string()), "{r:?}");
    let rows = recorded(&conn);
    assert!(
        rows.contains(&("v-before-rotation".to_string(), true)),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("v-after-rotation".to_string(), false)),
        "{rows:?}"
    );
    // A store the server does not have has no key to rotate.
    let out = admin(dir.path(), &["store-keys", "rotate", "st-missing"]);
    assert!(!out.status.success());
}

/// Replaying a push changes nothing: every op comes back a duplicate, no second customer, key,
/// follow-up, feed row or exception.
#[test]
fn replay_is_exactly_once() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let chen = s.enrolled("rep-chen");
    let mut a = Chain::new(&li);
    a.op(
        "customer.create",
        "c-1",
        t(0.0),
        create("rep-li", "c-1", "孙总", Some("孙氏贸易"), &["13500135000"]),
    );
    let mut b = Chain::new(&chen);
    b.op(
        "customer.create",
        "c-2",
        t(0.1),
        create("rep-chen", "c-2", "孙总", Some("孙氏贸易有限公司"), &[]),
    );
    b.op(
        "customer.claim",
        "c-1",
        t(0.2),
        json!({"customer_id": "c-1", "user_id": "rep-chen"}),
    );
    a.op(
        "customer.follow_up",
        "c-1",
        t(1.0),
        json!({"follow_up_id": "f-1", "customer_id": "c-1", "user_id": "rep-li", "channel": "call",
               "outcome": "reached"}),
    );
    let a_ops = a.ops.clone();
    let b_ops = b.ops.clone();
    a.push(&s);
    b.push(&s);
    let conn = crate::common::test_db::connect(dir.path());
    let counts = |conn: &fieldproof_server::db::Connection| -> Vec<i64> {
        [
            "SELECT count(*) FROM customers",
            "SELECT count(*) FROM customer_keys",
            "SELECT count(*) FROM customer_follow_ups",
            "SELECT count(*) FROM customer_events",
            "SELECT count(*) FROM changes",
            "SELECT count(*) FROM exceptions",
            "SELECT count(*) FROM ops",
        ]
        .iter()
        .map(|q| conn.query_row(q, [], |r| r.get(0)).unwrap())
        .collect()
    };
    let before = counts(&conn);
    // c-1's phone, its contact's phone and its company; the duplicate holds none.
    assert_eq!(&before[..3], [2, 3, 1]);
    for (d, ops) in [(&li, &a_ops), (&chen, &b_ops)] {
        let r = d.push(s.addr, ops);
        assert_eq!(r.status, 200);
        assert!(
            statuses(&r.json()).iter().all(|st| st == "duplicate"),
            "{}",
            r.text()
        );
    }
    assert_eq!(counts(&conn), before);
}

/// A full push of customer work (10 new customers and 190 follow-ups, 200 ops): every op
/// applied once, each customer's release date set by its latest real interaction whatever the
/// order the follow-ups came in, and the feed carrying each customer once for the batch.
#[test]
fn a_full_push_of_follow_ups_applies_every_op_once() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let mut a = Chain::new(&li);
    for i in 0..10 {
        let id = format!("c-{i}");
        let mut p = create("rep-li", &id, &id, None, &[&format!("1380000{i:04}")]);
        p["contacts"] = json!([]);
        a.op("customer.create", &id, t(0.0), p);
    }
    let mut latest_meeting = [0i64; 10];
    for n in 0..190 {
        let i = n % 10;
        // Wall times go up with the chain; the outcome alternates, so only some count.
        let at = t(1.0) + n as i64 * 60_000;
        let outcome = if n % 3 == 0 { "meeting" } else { "no_answer" };
        if outcome == "meeting" {
            latest_meeting[i] = at;
        }
        let id = format!("c-{i}");
        a.op(
            "customer.follow_up",
            &id,
            at,
            json!({"follow_up_id": format!("f-{n}"), "customer_id": id, "user_id": "rep-li",
                   "channel": "call", "outcome": outcome}),
        );
    }
    let before: i64 = {
        let conn = crate::common::test_db::connect(dir.path());
        conn.query_row("SELECT count(*) FROM changes WHERE kind = 'customer'", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let ops = a.ops.clone();
    let r = results(&a.push(&s));
    assert_eq!(r.len(), 200);
    assert!(r.iter().all(|(st, ex)| st == "applied" && ex.is_empty()), "{r:?}");
    let conn = crate::common::test_db::connect(dir.path());
    let follow_ups: i64 = conn
        .query_row("SELECT count(*) FROM customer_follow_ups", [], |r| r.get(0))
        .unwrap();
    assert_eq!(follow_ups, 190);
    for (i, at) in latest_meeting.iter().enumerate() {
        let due: i64 = conn
            .query_row(
                "SELECT release_due_ms FROM customers WHERE id = ?1",
                [format!("c-{i}")],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(due, at + 7 * DAY, "c-{i}");
    }
    // One whole record for the owner and one for the territory per customer, not one per op.
    let after: i64 = conn
        .query_row("SELECT count(*) FROM changes WHERE kind = 'customer'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(after - before, 20);
    let again = li.push(s.addr, &ops);
    assert!(statuses(&again.json()).iter().all(|st| st == "duplicate"));
    let follow_ups: i64 = conn
        .query_row("SELECT count(*) FROM customer_follow_ups", [], |r| r.get(0))
        .unwrap();
    assert_eq!(follow_ups, 190);
}
