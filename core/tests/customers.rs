#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Customers and leads on the phone, offline: every action's success and each refusal (with
//! nothing written), the stage lock with its missing list lifted by the evidence photo,
//! duplicates found offline by hashed keys, claims and releases, leads, the pipeline's day, the
//! feed's records, and QR check-in (扫码签到) with valid, expired, other store's and
//! photographed codes.

mod common;

use common::*;
use fieldproof_core::customers::{format_store_code, sign_store_code, store_code_step, store_key_public_hex};
use fieldproof_core::*;
use serde_json::{Value, json};

const DAY_MS: i64 = 24 * 3_600_000;
const SEED: [u8; 32] = [42; 32];

fn entry(name: &str, company: Option<&str>, phone: Option<&str>) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        company: company.map(str::to_string),
        phones: phone.map(|p| vec![p.to_string()]).unwrap_or_default(),
        contacts: Vec::new(),
        industry: Some("医疗".into()),
        region: Some("shanghai-east".into()),
        budget_cents: Some(5_000_000),
        store_id: None,
        from_lead_id: None,
    }
}

fn wang() -> NewCustomer {
    entry("王经理", Some("上海某某科技有限公司"), Some("+86 138-0013-8000"))
}

/// Everything the database holds, by table, and the last op: equal before and after a refusal.
fn snapshot(core: &Core) -> (Vec<(String, i64)>, i64) {
    (
        core.table_row_counts().unwrap(),
        core.outbox_summary().unwrap().last_seq,
    )
}

fn refused(core: &Core, code: &str, f: impl FnOnce(&Core) -> Result<()>) -> Error {
    let before = snapshot(core);
    let e = f(core).expect_err("refused");
    assert_eq!(e.code(), code, "{e}");
    assert_eq!(
        snapshot(core),
        before,
        "a refused action wrote something ({code})"
    );
    e
}

fn change(seq: i64, kind: &str, id: &str, body: Value) -> Value {
    json!({"seq": seq, "kind": kind, "id": id, "body": body})
}

fn load(core: &Core, changes: Vec<Value>) {
    core.load_pipeline_records(&Value::Array(changes).to_string())
        .unwrap();
}

fn customer_body(id: &str, owner: Option<(&str, &str)>, state: &str, stage: &str, seq_name: &str) -> Value {
    json!({"id": id, "name": seq_name, "company": "别家公司", "phones": [], "contacts": [],
           "owner_id": owner.map(|o| o.0), "owner_name": owner.map(|o| o.1), "state": state,
           "stage": stage, "stage_entered_ms": T0 - 10 * DAY_MS, "created_ms": T0 - 30 * DAY_MS})
}

fn lead_body(id: &str, state: &str, rep: Option<&str>, deadline: Option<i64>) -> Value {
    json!({"id": id, "name": format!("线索 {id}"), "company": "线索公司", "phones": ["13700137000"],
           "state": state, "assigned_rep": rep, "assigned_ms": rep.map(|_| T0 - 3_600_000),
           "deadline_ms": deadline, "created_ms": T0 - 7_200_000})
}

fn last_op(core: &Core) -> OutboxOp {
    core.pending_ops(1000).unwrap().pop().unwrap()
}

fn payload(op: &OutboxOp) -> Value {
    serde_json::from_str(&op.payload_json).unwrap()
}

#[test]
fn a_customer_is_entered_offline_as_one_signed_op() {
    let h = harness(Backend::File);
    let c = h.core.create_customer("rep-li", &wang()).unwrap();
    assert_eq!(c.owner_id.as_deref(), Some("rep-li"));
    assert_eq!(c.owner_name.as_deref(), Some("李娜"));
    assert_eq!(c.state, CustomerState::Owned);
    assert_eq!(c.stage, "explore");
    assert_eq!(c.release_due_ms, Some(T0 + 7 * DAY_MS));
    assert!(c.pending_sync);
    let op = last_op(&h.core);
    assert_eq!(
        (op.kind.as_str(), op.entity_id.as_str()),
        ("customer.create", c.id.as_str())
    );
    let p = payload(&op);
    assert_eq!(p["company"], "上海某某科技有限公司");
    assert_eq!(p["stage"], "explore");
    assert_eq!(
        h.core
            .customers("rep-li", CustomerList::Mine)
            .unwrap()
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        vec![c.id.clone()]
    );
    assert!(
        h.core
            .customers("rep-chen", CustomerList::Mine)
            .unwrap()
            .is_empty()
    );
    assert!(
        h.core.audit().unwrap().is_clean(),
        "{:?}",
        h.core.audit().unwrap()
    );

    // Bad entries are refused before anything is written.
    refused(&h.core, "invalid_input", |c| {
        c.create_customer("rep-li", &entry("  ", None, None)).map(|_| ())
    });
    refused(&h.core, "invalid_input", |c| {
        c.create_customer("rep-li", &entry("某人", None, Some("n/a")))
            .map(|_| ())
    });
    refused(&h.core, "negative_number", |c| {
        let mut e = entry("某人", None, None);
        e.budget_cents = Some(-1);
        c.create_customer("rep-li", &e).map(|_| ())
    });
    refused(&h.core, "unknown_store", |c| {
        let mut e = entry("某人", None, None);
        e.store_id = Some("st-nowhere".into());
        c.create_customer("rep-li", &e).map(|_| ())
    });
    refused(&h.core, "unknown_user", |c| {
        c.create_customer("nobody", &entry("某人", None, None))
            .map(|_| ())
    });
}

#[test]
fn duplicates_are_found_offline_by_phone_and_company_without_other_reps_numbers() {
    let h = harness(Backend::Memory);
    let mine = h.core.create_customer("rep-li", &wang()).unwrap();

    // The same phone written another way.
    let e = refused(&h.core, "duplicate_customer", |c| {
        c.create_customer("rep-li", &entry("王总", None, Some("0086 138 0013 8000")))
            .map(|_| ())
    });
    let Error::DuplicateCustomer { matched } = e else {
        panic!()
    };
    assert_eq!(matched.customer_id, mine.id);
    assert_eq!(matched.matched_on, MatchOn::Phone);
    assert_eq!(matched.owner_name.as_deref(), Some("李娜"));

    // The same company, legal form and full-width letters aside.
    let e = refused(&h.core, "duplicate_customer", |c| {
        c.create_customer("rep-li", &entry("张工", Some("上海某某科技"), None))
            .map(|_| ())
    });
    let Error::DuplicateCustomer { matched } = e else {
        panic!()
    };
    assert_eq!(matched.matched_on, MatchOn::Company);

    // As the rep types: the match, and nothing written.
    let before = snapshot(&h.core);
    let found = h
        .core
        .check_customer_duplicates(&entry("x", Some("上海某某科技有限公司"), Some("13800138000")))
        .unwrap();
    assert_eq!(found.len(), 1, "one match per customer");
    assert_eq!(found[0].matched_on, MatchOn::Phone, "a phone match comes first");
    assert_eq!(snapshot(&h.core), before);
    assert!(
        h.core
            .check_customer_duplicates(&entry("新客户", Some("另一家"), Some("13900000000")))
            .unwrap()
            .is_empty()
    );

    // Another rep's customer, known by its hashed key only: the refusal names the owner.
    let zhao_keys = customers::dedupe_keys(&entry(
        "赵的客户",
        Some("杭州某某贸易有限公司"),
        Some("13600136000"),
    ));
    load(
        &h.core,
        zhao_keys
            .iter()
            .enumerate()
            .map(|(i, (_, key))| {
                change(
                    10 + i as i64,
                    "customer_key",
                    key,
                    json!({"key": key, "customer_id": "c-zhao", "owner_name": "赵强", "state": "owned"}),
                )
            })
            .collect(),
    );
    let e = refused(&h.core, "duplicate_customer", |c| {
        c.create_customer("rep-li", &entry("钱经理", None, Some("136 0013 6000")))
            .map(|_| ())
    });
    let Error::DuplicateCustomer { matched } = e else {
        panic!()
    };
    assert_eq!(matched.customer_id, "c-zhao");
    assert_eq!(matched.owner_name.as_deref(), Some("赵强"));
    let shown = serde_json::to_string(&matched).unwrap();
    assert!(
        !shown.contains("136"),
        "no other rep's number in the match: {shown}"
    );

    // Two phones that cannot know of each other (both offline) both enter it: the server
    // links the later one.
    let other = harness(Backend::Memory);
    other.core.create_customer("rep-chen", &wang()).unwrap();
}

#[test]
fn only_the_owner_updates_and_follows_up() {
    let h = harness(Backend::Memory);
    let c = h.core.create_customer("rep-li", &wang()).unwrap();
    let update = CustomerUpdate {
        contacts: vec![Contact {
            name: "李工".into(),
            title: Some("技术总监".into()),
            phones: vec!["13900139000".into()],
        }],
        budget_cents: Some(8_000_000),
    };
    let after = h.core.update_customer("rep-li", &c.id, &update).unwrap();
    assert_eq!(after.contacts, update.contacts);
    assert_eq!(after.budget_cents, Some(8_000_000));
    assert_eq!(last_op(&h.core).kind, "customer.update");
    // The new contact's phone finds the customer too.
    assert_eq!(
        h.core
            .check_customer_duplicates(&entry("x", None, Some("139-0013-9000")))
            .unwrap()[0]
            .customer_id,
        c.id
    );
    refused(&h.core, "not_customer_owner", |core| {
        core.update_customer("rep-chen", &c.id, &update).map(|_| ())
    });
    refused(&h.core, "unknown_customer", |core| {
        core.update_customer("rep-li", "c-nowhere", &update).map(|_| ())
    });

    h.clock.advance(2 * DAY_MS);
    let call = FollowUpRequest {
        customer_id: Some(c.id.clone()),
        lead_id: None,
        channel: FollowUpChannel::Call,
        outcome: FollowUpOutcome::Reached,
        note: "约了下周演示".into(),
        next_step: Some("方案演示".into()),
        next_date: Some("2026-11-26".into()),
        visit_id: None,
    };
    let f = h.core.log_follow_up("rep-li", &call).unwrap();
    assert_eq!(f.next_date.as_deref(), Some("2026-11-26"));
    let op = last_op(&h.core);
    assert_eq!(
        (op.kind.as_str(), op.entity_id.as_str()),
        ("customer.follow_up", c.id.as_str())
    );
    assert_eq!(payload(&op)["outcome"], "reached");
    // A real interaction moves the release a week on from now.
    let now = T0 + 2 * DAY_MS;
    let c2 = h.core.customer_detail(&c.id).unwrap().customer;
    assert_eq!(c2.last_interaction_ms, Some(now));
    assert_eq!(c2.release_due_ms, Some(now + 7 * DAY_MS));
    // No answer is not one.
    h.clock.advance(DAY_MS);
    h.core
        .log_follow_up(
            "rep-li",
            &FollowUpRequest {
                outcome: FollowUpOutcome::NoAnswer,
                ..call.clone()
            },
        )
        .unwrap();
    assert_eq!(
        h.core.customer_detail(&c.id).unwrap().customer.release_due_ms,
        Some(now + 7 * DAY_MS)
    );
    assert_eq!(h.core.customer_detail(&c.id).unwrap().follow_ups.len(), 2);

    refused(&h.core, "not_customer_owner", |core| {
        core.log_follow_up("rep-chen", &call).map(|_| ())
    });
    refused(&h.core, "invalid_input", |core| {
        core.log_follow_up(
            "rep-li",
            &FollowUpRequest {
                lead_id: Some("l-1".into()),
                ..call.clone()
            },
        )
        .map(|_| ())
    });
    refused(&h.core, "invalid_input", |core| {
        core.log_follow_up(
            "rep-li",
            &FollowUpRequest {
                customer_id: None,
                ..call.clone()
            },
        )
        .map(|_| ())
    });
    refused(&h.core, "invalid_input", |core| {
        core.log_follow_up(
            "rep-li",
            &FollowUpRequest {
                next_date: Some("26/11/2026".into()),
                ..call.clone()
            },
        )
        .map(|_| ())
    });
    refused(&h.core, "unknown_visit", |core| {
        core.log_follow_up(
            "rep-li",
            &FollowUpRequest {
                visit_id: Some("v-nowhere".into()),
                ..call.clone()
            },
        )
        .map(|_| ())
    });
    assert!(
        h.core.audit().unwrap().is_clean(),
        "{:?}",
        h.core.audit().unwrap()
    );
}

#[test]
fn a_stage_stays_locked_offline_until_its_evidence_photo_is_taken() {
    let h = harness(Backend::File);
    let c = h.core.create_customer("rep-li", &wang()).unwrap();
    for to in ["needs", "demo"] {
        h.clock.advance(60_000);
        let m = h.core.move_customer_stage("rep-li", &c.id, to, None).unwrap();
        assert_eq!(m.to, to);
    }
    let detail = h.core.customer_detail(&c.id).unwrap();
    assert_eq!(detail.customer.stage, "demo");
    assert_eq!(detail.next_stage.as_deref(), Some("negotiation"));
    assert_eq!(detail.missing_for_next.len(), 1);

    // 报价谈判 needs the signed 技术参数确认单: refused with the missing list, nothing written.
    let e = refused(&h.core, "stage_locked", |core| {
        core.move_customer_stage("rep-li", &c.id, "negotiation", None)
            .map(|_| ())
    });
    let Error::StageLocked { missing, to, .. } = e else {
        panic!()
    };
    assert_eq!(to, "negotiation");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].kind, MissingKind::EvidencePhoto);
    assert_eq!(missing[0].item_id.as_deref(), Some("tech_spec_form"));
    assert_eq!(missing[0].label, "签字的技术参数确认单");

    // The moves themselves: no skipping, back and to 流失 only with a reason.
    refused(&h.core, "stage_not_allowed", |core| {
        core.move_customer_stage("rep-li", &c.id, "won", None).map(|_| ())
    });
    refused(&h.core, "stage_not_allowed", |core| {
        core.move_customer_stage("rep-li", &c.id, "needs", None)
            .map(|_| ())
    });
    refused(&h.core, "stage_not_allowed", |core| {
        core.move_customer_stage("rep-li", &c.id, "orbit", None)
            .map(|_| ())
    });
    refused(&h.core, "not_customer_owner", |core| {
        core.move_customer_stage("rep-chen", &c.id, "negotiation", None)
            .map(|_| ())
    });

    // Photos: only for a requirement a stage has, only by the owner.
    let req = CustomerPhotoRequest {
        customer_id: c.id.clone(),
        requirement_id: "tech_spec_form".into(),
    };
    let jpeg = photo_bytes();
    refused(&h.core, "invalid_input", |core| {
        core.capture_customer_photo(
            "rep-li",
            &CustomerPhotoRequest {
                requirement_id: "selfie".into(),
                ..req.clone()
            },
            None,
            480,
            &jpeg,
        )
        .map(|_| ())
    });
    refused(&h.core, "not_customer_owner", |core| {
        core.capture_customer_photo("rep-chen", &req, None, 480, &jpeg)
            .map(|_| ())
    });
    refused(&h.core, "not_jpeg", |core| {
        core.capture_customer_photo("rep-li", &req, None, 480, b"not a photo")
            .map(|_| ())
    });

    h.clock.advance(60_000);
    let photo = h
        .core
        .capture_customer_photo("rep-li", &req, Some(&fix_st001()), 480, &jpeg)
        .unwrap();
    assert_eq!(photo.kind, PhotoKind::Document);
    assert!(std::path::Path::new(&photo.path).exists());
    let op = last_op(&h.core);
    assert_eq!(op.kind, "customer.photo");
    assert_eq!(payload(&op)["requirement_id"], "tech_spec_form");
    // A verifier accepts the photo against its signed manifest.
    let verdict = evidence::verify_photo(
        &std::fs::read(&photo.path).unwrap(),
        &evidence::SignedEntry {
            entry: op.entry.clone().unwrap(),
            signature_hex: op.signature_hex.clone().unwrap(),
        },
        &[evidence::KnownKey {
            device_id: h.core.device_id().into(),
            public_key_hex: h.core.device_public_key(),
            revoked_ms: None,
        }],
        None,
    );
    assert!(verdict.verified, "{verdict:?}");
    assert!(h.core.customer_detail(&c.id).unwrap().missing_for_next.is_empty());

    h.clock.advance(60_000);
    let moved = h
        .core
        .move_customer_stage("rep-li", &c.id, "negotiation", None)
        .unwrap();
    assert_eq!(moved.evidence.len(), 1);
    assert_eq!(moved.evidence[0].requirement_id, "tech_spec_form");
    assert_eq!(moved.evidence[0].photo_id.as_deref(), Some(photo.id.as_str()));
    let op = last_op(&h.core);
    assert_eq!(op.kind, "customer.stage");
    assert_eq!(payload(&op)["evidence"][0]["photo_id"], photo.id);

    // The next lock: 成交 needs the contract; the old photo does not count for it.
    let detail = h.core.customer_detail(&c.id).unwrap();
    assert_eq!(detail.next_stage.as_deref(), Some("won"));
    assert_eq!(detail.missing_for_next[0].item_id.as_deref(), Some("contract"));
    assert_eq!(detail.stage_changes.len(), 3);
    assert_eq!(detail.photos.len(), 1);
    // 流失 from any open stage, with a reason; nothing leaves it.
    let lost = h
        .core
        .move_customer_stage("rep-li", &c.id, "lost", Some("预算取消"))
        .unwrap();
    assert_eq!(lost.reason.as_deref(), Some("预算取消"));
    refused(&h.core, "stage_not_allowed", |core| {
        core.move_customer_stage("rep-li", &c.id, "negotiation", Some("重新谈"))
            .map(|_| ())
    });
    assert!(
        h.core.audit().unwrap().is_clean(),
        "{:?}",
        h.core.audit().unwrap()
    );
}

#[test]
fn claims_and_releases_follow_the_pool_rules() {
    let h = harness(Backend::Memory);
    load(
        &h.core,
        vec![
            change(
                1,
                "customer",
                "c-pool",
                customer_body("c-pool", None, "pool", "needs", "公海客户"),
            ),
            change(
                2,
                "customer",
                "c-zhao",
                customer_body("c-zhao", Some(("rep-zhao", "赵强")), "owned", "demo", "赵的客户"),
            ),
        ],
    );
    assert_eq!(h.core.customers("rep-li", CustomerList::Pool).unwrap().len(), 1);

    let e = refused(&h.core, "customer_owned_by_other", |core| {
        core.claim_customer("rep-li", "c-zhao").map(|_| ())
    });
    let Error::CustomerOwnedByOther { owner_name, .. } = e else {
        panic!()
    };
    assert_eq!(owner_name.as_deref(), Some("赵强"));
    refused(&h.core, "unknown_customer", |core| {
        core.claim_customer("rep-li", "c-nowhere").map(|_| ())
    });

    let c = h.core.claim_customer("rep-li", "c-pool").unwrap();
    assert_eq!(c.owner_id.as_deref(), Some("rep-li"));
    assert_eq!(c.release_due_ms, Some(T0 + 7 * DAY_MS));
    assert_eq!(last_op(&h.core).kind, "customer.claim");
    refused(&h.core, "not_allowed", |core| {
        core.claim_customer("rep-li", "c-pool").map(|_| ())
    });

    refused(&h.core, "reason_required", |core| {
        core.release_customer("rep-li", "c-pool", "  ").map(|_| ())
    });
    refused(&h.core, "not_customer_owner", |core| {
        core.release_customer("rep-chen", "c-pool", "不是我的")
            .map(|_| ())
    });
    h.clock.advance(DAY_MS);
    let c = h
        .core
        .release_customer("rep-li", "c-pool", "客户已换供应商")
        .unwrap();
    assert_eq!((c.state, c.owner_id.clone()), (CustomerState::Pool, None));
    assert_eq!(payload(&last_op(&h.core))["reason"], "客户已换供应商");

    // The reclaim cooldown: 7 days from the release.
    let e = refused(&h.core, "claim_cooldown", |core| {
        core.claim_customer("rep-li", "c-pool").map(|_| ())
    });
    let Error::ClaimCooldown { until_ms, .. } = e else {
        panic!()
    };
    assert_eq!(until_ms, T0 + DAY_MS + 7 * DAY_MS);
    // Another rep may claim it at once.
    let other = h.core.claim_customer("rep-chen", "c-pool").unwrap();
    assert_eq!(other.owner_id.as_deref(), Some("rep-chen"));

    // At most `max_customers_per_rep`.
    let cfg = PipelineConfig {
        version: 2,
        max_customers_per_rep: Some(1),
        ..PipelineConfig::default()
    };
    load(
        &h.core,
        vec![
            change(3, "pipeline_config", "2", serde_json::to_value(&cfg).unwrap()),
            change(
                4,
                "customer",
                "c-pool-2",
                customer_body("c-pool-2", None, "pool", "explore", "公海二"),
            ),
        ],
    );
    h.core.create_customer("rep-li", &wang()).unwrap();
    let e = refused(&h.core, "customer_limit_reached", |core| {
        core.claim_customer("rep-li", "c-pool-2").map(|_| ())
    });
    assert!(matches!(e, Error::CustomerLimit { held: 1, max: 1 }), "{e:?}");
    assert!(
        h.core.audit().unwrap().is_clean(),
        "{:?}",
        h.core.audit().unwrap()
    );
}

#[test]
fn leads_are_claimed_closed_and_converted() {
    let h = harness(Backend::Memory);
    load(
        &h.core,
        vec![
            change(
                1,
                "lead",
                "l-1",
                lead_body("l-1", "assigned", Some("rep-li"), Some(T0 + 3_600_000)),
            ),
            change(
                2,
                "lead",
                "l-2",
                lead_body("l-2", "assigned", Some("rep-li"), Some(T0 + 1_800_000)),
            ),
            change(
                3,
                "lead",
                "l-3",
                lead_body("l-3", "assigned", Some("rep-chen"), Some(T0)),
            ),
            change(4, "lead", "l-4", lead_body("l-4", "pool", None, None)),
        ],
    );
    let mine: Vec<String> = h
        .core
        .leads("rep-li", LeadList::Mine)
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(mine, ["l-2", "l-1"], "soonest deadline first");
    assert_eq!(h.core.leads("rep-li", LeadList::Pool).unwrap().len(), 1);

    let l = h.core.claim_lead("rep-li", "l-1").unwrap();
    assert_eq!((l.state, l.claimed_ms), (LeadState::Claimed, Some(T0)));
    assert_eq!(last_op(&h.core).kind, "lead.claim");
    refused(&h.core, "lead_not_claimable", |core| {
        core.claim_lead("rep-li", "l-1").map(|_| ())
    });
    refused(&h.core, "lead_not_claimable", |core| {
        core.claim_lead("rep-li", "l-3").map(|_| ())
    });
    refused(&h.core, "unknown_lead", |core| {
        core.claim_lead("rep-li", "l-nowhere").map(|_| ())
    });
    let pooled = h.core.claim_lead("rep-li", "l-4").unwrap();
    assert_eq!(pooled.assigned_rep.as_deref(), Some("rep-li"));

    refused(&h.core, "reason_required", |core| {
        core.close_lead("rep-li", "l-2", "").map(|_| ())
    });
    refused(&h.core, "lead_not_claimable", |core| {
        core.close_lead("rep-li", "l-3", "不是我的").map(|_| ())
    });
    let closed = h.core.close_lead("rep-li", "l-2", "号码空号").unwrap();
    assert_eq!(closed.state, LeadState::Lost);
    assert_eq!(last_op(&h.core).kind, "lead.close");

    // A lead converted: the customer names it, the lead points at the customer.
    let mut e = entry("线索转客户", Some("线索公司"), Some("13700137000"));
    e.from_lead_id = Some("l-1".into());
    let c = h.core.create_customer("rep-li", &e).unwrap();
    assert_eq!(c.from_lead_id.as_deref(), Some("l-1"));
    let lead = h
        .core
        .leads("rep-li", LeadList::Mine)
        .unwrap()
        .into_iter()
        .find(|l| l.id == "l-1");
    assert!(lead.is_none(), "a converted lead leaves the list");
    let mut e = entry("别人的线索", None, None);
    e.from_lead_id = Some("l-3".into());
    refused(&h.core, "lead_not_claimable", |core| {
        core.create_customer("rep-li", &e).map(|_| ())
    });
    assert!(
        h.core.audit().unwrap().is_clean(),
        "{:?}",
        h.core.audit().unwrap()
    );
}

#[test]
fn the_pipeline_day_lists_due_follow_ups_stalls_waiting_leads_and_releases() {
    let h = harness(Backend::Memory);
    load(
        &h.core,
        vec![change(
            1,
            "lead",
            "l-1",
            lead_body("l-1", "assigned", Some("rep-li"), Some(T0 + 7_200_000)),
        )],
    );
    let a = h.core.create_customer("rep-li", &wang()).unwrap();
    let b = h
        .core
        .create_customer("rep-li", &entry("周老板", Some("周氏商行"), Some("13500135000")))
        .unwrap();
    let follow = |id: &str, date: &str| FollowUpRequest {
        customer_id: Some(id.into()),
        lead_id: None,
        channel: FollowUpChannel::Visit,
        outcome: FollowUpOutcome::Meeting,
        note: String::new(),
        next_step: Some("送样品".into()),
        next_date: Some(date.into()),
        visit_id: None,
    };
    h.core
        .log_follow_up("rep-li", &follow(&a.id, "2026-11-23"))
        .unwrap();
    h.core
        .log_follow_up("rep-li", &follow(&b.id, "2026-11-28"))
        .unwrap();

    let today = h.core.pipeline_day("rep-li", DAY).unwrap();
    assert_eq!(today.follow_ups_due.len(), 1);
    assert_eq!(
        today.follow_ups_due[0].customer_id.as_deref(),
        Some(a.id.as_str())
    );
    assert_eq!(today.follow_ups_due[0].name, "王经理");
    assert!(!today.follow_ups_due[0].overdue);
    assert!(today.stalled.is_empty() && today.near_release.is_empty());
    assert_eq!(today.leads_waiting.len(), 1);
    assert_eq!(today.leads_waiting[0].deadline_ms, Some(T0 + 7_200_000));
    assert!(
        h.core
            .pipeline_day("rep-chen", DAY)
            .unwrap()
            .follow_ups_due
            .is_empty()
    );

    // Six and a half days on: both stalled (more than 5 days in 意向初探), both within a day
    // of their release; a's follow-up is overdue, b's is due.
    h.clock.advance(6 * DAY_MS + DAY_MS / 2);
    let later = h.core.pipeline_day("rep-li", "2026-11-29").unwrap();
    assert_eq!(later.follow_ups_due.len(), 2);
    assert!(later.follow_ups_due[0].overdue);
    assert_eq!(later.stalled.len(), 2);
    assert_eq!(later.near_release.len(), 2);
    // A stage move ends the stall; a later follow-up replaces the due one.
    h.core
        .move_customer_stage("rep-li", &a.id, "needs", None)
        .unwrap();
    h.core
        .log_follow_up("rep-li", &follow(&a.id, "2026-12-05"))
        .unwrap();
    let after = h.core.pipeline_day("rep-li", "2026-11-29").unwrap();
    assert_eq!(after.stalled.len(), 1);
    assert_eq!(after.follow_ups_due.len(), 1);
    assert_eq!(after.near_release.len(), 1, "the meeting moved a's release on");
    refused(&h.core, "invalid_input", |core| {
        core.pipeline_day("rep-li", "tomorrow").map(|_| ())
    });
}

#[test]
fn feed_records_apply_newest_first_and_keep_local_pending_changes() {
    let h = harness(Backend::Memory);
    load(
        &h.core,
        vec![change(
            5,
            "customer",
            "c-pool",
            customer_body("c-pool", None, "pool", "needs", "新名字"),
        )],
    );
    // An older copy does not overwrite a newer one.
    load(
        &h.core,
        vec![change(
            3,
            "customer",
            "c-pool",
            customer_body("c-pool", None, "pool", "explore", "旧名字"),
        )],
    );
    let c = h.core.customer_detail("c-pool").unwrap().customer;
    assert_eq!((c.name.as_str(), c.stage.as_str()), ("新名字", "needs"));

    // A claim made here and not yet sent is not undone by the server's copy from before it.
    h.core.claim_customer("rep-li", "c-pool").unwrap();
    load(
        &h.core,
        vec![change(
            9,
            "customer",
            "c-pool",
            customer_body("c-pool", None, "pool", "needs", "新名字"),
        )],
    );
    let c = h.core.customer_detail("c-pool").unwrap().customer;
    assert_eq!(c.owner_id.as_deref(), Some("rep-li"));
    assert!(c.pending_sync);

    // Store keys and the pipeline settings.
    let cfg = PipelineConfig {
        version: 3,
        stall_days: 9,
        ..PipelineConfig::default()
    };
    load(
        &h.core,
        vec![change(
            10,
            "pipeline_config",
            "3",
            serde_json::to_value(&cfg).unwrap(),
        )],
    );
    assert_eq!(h.core.pipeline_config().unwrap().stall_days, 9);

    // A bad record refuses the whole load.
    let before = snapshot(&h.core);
    let e = h
        .core
        .load_pipeline_records(
            &json!([
                change(11, "lead", "l-9", lead_body("l-9", "pool", None, None)),
                change(
                    12,
                    "store_key",
                    "st-001:k1",
                    json!({"store_id": "st-001", "kid": "k1",
                        "public_key_hex": "zz"})
                )
            ])
            .to_string(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "bad_reference_data");
    assert_eq!(snapshot(&h.core), before);
}

// --- QR check-in (扫码签到) ------------------------------------------------------------------

fn store_key(store: &str, kid: &str) -> Value {
    json!({"store_id": store, "kid": kid, "public_key_hex": store_key_public_hex(&SEED)})
}

fn code_at(store: &str, kid: &str, at_ms: i64) -> String {
    let step = store_code_step(at_ms);
    format_store_code(store, kid, step, &sign_store_code(&SEED, store, kid, step))
}

fn request(store: &str) -> CheckInRequest {
    CheckInRequest {
        user_id: "rep-li".into(),
        store_id: store.into(),
        plan_id: None,
        template_id: None,
        fix: Some(fix_st001()),
    }
}

#[test]
fn a_scanned_store_code_is_verified_offline_and_recorded_in_the_check_in() {
    let h = harness(Backend::File);
    load(
        &h.core,
        vec![
            change(1, "store_key", "st-001:k1", store_key("st-001", "k1")),
            change(2, "store_key", "st-002:k1", store_key("st-002", "k1")),
        ],
    );
    let now = T0;
    // Another store's code, a code of a key the phone does not know, a forged one, a cut-off
    // scan: each its own error, and no visit opened.
    for (code, want) in [
        (code_at("st-002", "k1", now), "store_code_wrong_store"),
        (code_at("st-001", "k9", now), "store_code_unknown_key"),
        (
            code_at("st-001", "k1", now).replacen(
                &store_code_step(now).to_string(),
                &(store_code_step(now) + 1).to_string(),
                1,
            ),
            "store_code_invalid",
        ),
        ("fpsc1:st-001:k1".to_string(), "store_code_malformed"),
        (
            "https://example.com/not-a-store-code".to_string(),
            "store_code_malformed",
        ),
        // Expired: three steps (90 s) old.
        (code_at("st-001", "k1", now - 90_000), "store_code_expired"),
    ] {
        refused(&h.core, want, |core| {
            core.check_in_scanned(&request("st-001"), &code).map(|_| ())
        });
    }
    assert!(h.core.open_visit("rep-li").unwrap().is_none());

    // A photographed code: valid when shown, stale two minutes later.
    let photographed = code_at("st-001", "k1", now);
    h.clock.advance(120_000);
    refused(&h.core, "store_code_expired", |core| {
        core.check_in_scanned(&request("st-001"), &photographed)
            .map(|_| ())
    });

    // The current code (the one before it still passes: the screen may have just turned).
    let current = code_at("st-001", "k1", h.clock.wall_ms() - 30_000);
    let v = h.core.check_in_scanned(&request("st-001"), &current).unwrap();
    let op = last_op(&h.core);
    assert_eq!(op.kind, "visit.check_in");
    let proof = &payload(&op)["store_code"];
    assert_eq!(proof["text"], current.as_str());
    assert_eq!(proof["kid"], "k1");
    assert_eq!(proof["step"], store_code_step(h.clock.wall_ms() - 30_000));
    assert_eq!(v.store_id, "st-001");
    h.core.cancel_visit(&v.id, "test").unwrap();

    // A check-in without a code is as before: no store_code in its op at all.
    h.core.check_in(&request("st-001")).unwrap();
    let op = last_op(&h.core);
    assert!(payload(&op).get("store_code").is_none());
    assert!(
        h.core.audit().unwrap().is_clean(),
        "{:?}",
        h.core.audit().unwrap()
    );
}

#[test]
fn the_day_plan_shows_follow_ups_due_with_customers_of_each_stop() {
    let h = harness(Backend::Memory);
    let mut at_store = entry("门店客户", Some("一号店老板"), Some("13300133000"));
    at_store.store_id = Some("st-001".into());
    let c = h.core.create_customer("rep-li", &at_store).unwrap();
    let other = h.core.create_customer("rep-li", &wang()).unwrap();
    for id in [&c.id, &other.id] {
        h.core
            .log_follow_up(
                "rep-li",
                &FollowUpRequest {
                    customer_id: Some(id.to_string()),
                    lead_id: None,
                    channel: FollowUpChannel::Call,
                    outcome: FollowUpOutcome::Reached,
                    note: String::new(),
                    next_step: Some("到店拜访时谈补货".into()),
                    next_date: Some(DAY.into()),
                    visit_id: None,
                },
            )
            .unwrap();
    }
    let plan = h.core.day_plan("rep-li", DAY).unwrap();
    let stop = plan.iter().find(|e| e.store.id == "st-001").unwrap();
    assert_eq!(
        stop.follow_ups_due
            .iter()
            .map(|f| f.customer_id.clone())
            .collect::<Vec<_>>(),
        vec![Some(c.id.clone())],
        "only the customer linked to the stop's store"
    );
    assert!(
        plan.iter()
            .filter(|e| e.store.id != "st-001")
            .all(|e| e.follow_ups_due.is_empty())
    );
    // The day before, nothing is due yet.
    let before = h.core.day_plan("rep-li", "2026-11-22").unwrap();
    assert!(before.iter().all(|e| e.follow_ups_due.is_empty()));
}
