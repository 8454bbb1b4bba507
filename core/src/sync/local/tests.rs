#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The database side of sync, fed wire messages built by hand: outbox transitions from a push
//! answer, pull pages applied whole or not at all, enrolment state.

use serde_json::json;

use super::*;
use crate::sync::wire::{Change, OpResult};
use crate::{CheckInRequest, LocationFix, LocationProvider, MissingKind, PhotoKind, RetakeState, Store};

const REFERENCE_JSON: &str = include_str!("../../../../tests/fixtures/reference.json");

fn core() -> Core {
    let core = Core::open_in_memory().unwrap();
    core.load_reference_json(REFERENCE_JSON).unwrap();
    core
}

fn enrol(core: &Core, user_id: &str) {
    let user = crate::queries::user(&core.lock().conn, user_id).unwrap().unwrap();
    let mut inner = core.lock();
    let tx = inner.conn.transaction().unwrap();
    store_enrolment(&tx, "https://sync.example.test", &user, 1_000).unwrap();
    tx.commit().unwrap();
}

/// A visit at st-001 with two answers: three signed pending ops.
fn three_ops(core: &Core) -> Vec<OutboxOp> {
    let v = core
        .check_in(&CheckInRequest {
            user_id: "rep-li".into(),
            store_id: "st-001".into(),
            plan_id: None,
            template_id: None,
            fix: Some(LocationFix {
                latitude: 31.2304,
                longitude: 121.52,
                accuracy_m: 10.0,
                provider: LocationProvider::Gps,
                is_mock: false,
                fix_time_ms: core.clock.wall_ms(),
            }),
        })
        .unwrap();
    core.answer(
        &v.id,
        "shelf_ok",
        &crate::AnswerValue::YesNo { value: true },
        None,
    )
    .unwrap();
    core.answer(&v.id, "facings", &crate::AnswerValue::Number { value: 4.0 }, None)
        .unwrap();
    let ops = core.pending_ops(10).unwrap();
    assert_eq!(ops.len(), 3);
    ops
}

fn result(op: &OutboxOp, status: OpStatus, reason: Option<&str>, exceptions: &[&str]) -> OpResult {
    OpResult {
        op_id: Some(op.op_id.clone()),
        seq: Some(op.seq),
        status,
        reason: reason.map(str::to_string),
        exceptions: exceptions.iter().map(|s| s.to_string()).collect(),
    }
}

fn state_of(core: &Core, seq: i64) -> (String, Option<String>, Option<String>, Option<String>) {
    core.lock()
        .conn
        .query_row(
            "SELECT state, server_status, server_reason, server_exceptions FROM outbox WHERE seq = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
}

#[test]
fn a_push_answer_acknowledges_and_rejects_in_one_transaction() {
    let core = core();
    let ops = three_ops(&core);
    let answer = PushResponse {
        results: vec![
            result(&ops[0], OpStatus::Applied, None, &["outside_geofence"]),
            result(&ops[1], OpStatus::Duplicate, None, &[]),
            result(
                &ops[2],
                OpStatus::Rejected,
                Some("bad_signature"),
                &["bad_signature"],
            ),
        ],
        server_time_ms: 5,
    };
    let out = core.apply_push_answer(&ops, Some(&answer), &[], &[]).unwrap();
    assert_eq!((out.applied, out.duplicates), (1, 1));
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].seq, ops[2].seq);
    assert_eq!(out.rejected[0].reason, "bad_signature");
    assert_eq!(
        out.exceptions
            .iter()
            .map(|e| (e.seq, e.code.as_str()))
            .collect::<Vec<_>>(),
        [(ops[0].seq, "outside_geofence"), (ops[2].seq, "bad_signature")]
    );

    let summary = core.outbox_summary().unwrap();
    assert_eq!(
        (summary.pending, summary.acknowledged, summary.rejected),
        (0, 2, 1)
    );
    assert_eq!(
        state_of(&core, ops[0].seq),
        (
            "acknowledged".into(),
            Some("applied".into()),
            None,
            Some(r#"["outside_geofence"]"#.into())
        )
    );
    assert_eq!(state_of(&core, ops[1].seq).1.as_deref(), Some("duplicate"));
    let rejected = core.rejected_ops().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (
            rejected[0].op_id.as_str(),
            rejected[0].kind.as_str(),
            rejected[0].reason.as_str()
        ),
        (ops[2].op_id.as_str(), "visit.answer", "bad_signature")
    );
    assert_eq!(rejected[0].exceptions, ["bad_signature"]);
    assert!(
        core.pending_ops(10).unwrap().is_empty(),
        "a rejected op is never resent"
    );
    assert!(core.audit().unwrap().is_clean(), "{:?}", core.audit().unwrap());

    // The same answer again (a replayed batch) moves nothing: only pending ops change.
    core.apply_push_answer(&ops, Some(&answer), &[], &[]).unwrap();
    assert_eq!(core.outbox_summary().unwrap(), summary);
}

#[test]
fn a_push_answer_that_does_not_fit_changes_nothing() {
    let core = core();
    let ops = three_ops(&core);
    let before = core.outbox_summary().unwrap();
    let short = PushResponse {
        results: vec![result(&ops[0], OpStatus::Applied, None, &[])],
        server_time_ms: 5,
    };
    let e = core.apply_push_answer(&ops, Some(&short), &[], &[]).unwrap_err();
    assert_eq!(e.code(), "sync_protocol");
    // Results in the wrong order: the first two would be acknowledged as each other.
    let swapped = PushResponse {
        results: vec![
            result(&ops[1], OpStatus::Applied, None, &[]),
            result(&ops[0], OpStatus::Applied, None, &[]),
            result(&ops[2], OpStatus::Applied, None, &[]),
        ],
        server_time_ms: 5,
    };
    assert_eq!(
        core.apply_push_answer(&ops, Some(&swapped), &[], &[])
            .unwrap_err()
            .code(),
        "sync_protocol"
    );
    assert_eq!(core.outbox_summary().unwrap(), before);
    assert_eq!(core.pending_ops(10).unwrap(), ops);
}

#[test]
fn an_unparsable_entry_rejection_without_op_id_is_accepted() {
    let core = core();
    let ops = three_ops(&core);
    let mut results: Vec<OpResult> = ops
        .iter()
        .map(|o| result(o, OpStatus::Applied, None, &[]))
        .collect();
    results[1] = OpResult {
        op_id: None,
        seq: None,
        status: OpStatus::Rejected,
        reason: Some("malformed_entry".into()),
        exceptions: vec![],
    };
    let out = core
        .apply_push_answer(
            &ops,
            Some(&PushResponse {
                results,
                server_time_ms: 1,
            }),
            &[],
            &[],
        )
        .unwrap();
    assert_eq!(out.applied, 2);
    assert_eq!(core.rejected_ops().unwrap()[0].reason, "malformed_entry");
}

fn change(seq: i64, kind: ChangeKind, id: &str, body: serde_json::Value) -> Change {
    Change {
        seq,
        kind,
        id: id.into(),
        body,
    }
}

fn store_body(id: &str, code: &str, name: &str, lat: f64) -> serde_json::Value {
    json!({"id": id, "code": code, "name": name, "address": "", "latitude": lat, "longitude": 121.5,
           "geofence_radius_m": 100.0, "territory": "shanghai-east"})
}

fn team_visit(visit_id: &str, status: &str, started: i64) -> serde_json::Value {
    json!({"visit_id": visit_id, "rep_id": "rep-li", "store_id": "st-001", "kind": "store_check",
           "status": status, "started_wall_ms": started, "ended_wall_ms": null, "geofence": "inside",
           "exceptions": ["outside_geofence"], "photos": [], "answers": 3, "report_summary": null})
}

#[test]
fn a_pull_page_applies_whole_with_its_cursor() {
    let core = core();
    enrol(&core, "sup-wang");
    let page = PullResponse {
        changes: vec![
            change(
                11,
                ChangeKind::Store,
                "st-201",
                store_body("st-201", "SH-E-201", "新店", 31.0),
            ),
            // A supervisor added after the rep who names her: same page, so it validates.
            change(
                12,
                ChangeKind::User,
                "rep-new",
                json!({"id": "rep-new", "name": "新人", "role": "rep", "territory": "shanghai-east",
                       "supervisor_id": "sup-new"}),
            ),
            change(
                13,
                ChangeKind::User,
                "sup-new",
                json!({"id": "sup-new", "name": "主管", "role": "supervisor"}),
            ),
            change(
                14,
                ChangeKind::TeamVisit,
                "v-1",
                team_visit("v-1", "in_progress", 100),
            ),
            change(
                15,
                ChangeKind::Store,
                "st-201",
                store_body("st-201", "SH-E-201", "新店（改名）", 31.0),
            ),
            change(
                16,
                ChangeKind::TeamVisit,
                "v-1",
                team_visit("v-1", "completed", 100),
            ),
            change(
                17,
                ChangeKind::TeamVisit,
                "v-2",
                team_visit("v-2", "completed", 200),
            ),
            change(
                18,
                ChangeKind::User,
                "sup-wang",
                json!({"id": "sup-wang", "name": "王磊 (new name)", "role": "supervisor"}),
            ),
        ],
        cursor: 18,
        has_more: true,
        server_time_ms: 77,
    };
    let out = core.apply_pull_page(&page).unwrap();
    assert_eq!(out.changes, 8);
    assert_eq!(
        (out.reference.stores, out.reference.users, out.team_visits),
        (1, 3, 2)
    );

    let stores: Vec<Store> = core.stores(Some("shanghai-east")).unwrap();
    let st = stores.iter().find(|s| s.id == "st-201").unwrap();
    assert_eq!(
        st.name, "新店（改名）",
        "the later change of the same record wins"
    );
    let visits = core.team_visits(None, 10).unwrap();
    assert_eq!(
        visits
            .iter()
            .map(|v| (v.visit_id.as_str(), v.status.as_str()))
            .collect::<Vec<_>>(),
        [("v-2", "completed"), ("v-1", "completed")]
    );
    assert_eq!(core.team_visits(Some("rep-zhao"), 10).unwrap(), vec![]);
    let state = core.sync_state().unwrap();
    assert_eq!((state.pull_cursor, state.last_server_time_ms), (18, Some(77)));
    assert_eq!(state.user.unwrap().name, "王磊 (new name)");

    // An older copy of a team visit never overwrites a newer one.
    let stale = PullResponse {
        changes: vec![change(
            15,
            ChangeKind::TeamVisit,
            "v-2",
            team_visit("v-2", "in_progress", 200),
        )],
        cursor: 18,
        has_more: false,
        server_time_ms: 78,
    };
    core.apply_pull_page(&stale).unwrap();
    assert_eq!(core.team_visits(None, 10).unwrap()[0].status, "completed");
}

#[test]
fn a_change_of_a_kind_this_core_does_not_know_is_skipped_and_the_cursor_moves_past_it() {
    let core = core();
    enrol(&core, "rep-li");
    let page: PullResponse = serde_json::from_value(json!({
        "changes": [
            {"seq": 3, "kind": "a_kind_from_a_newer_server", "id": "x-1", "body": {"anything": [1, 2]}},
            {"seq": 4, "kind": "store", "id": "st-201", "body": store_body("st-201", "SH-E-201", "新店", 31.0)},
        ],
        "cursor": 4, "has_more": false, "server_time_ms": 5
    }))
    .unwrap();
    assert_eq!(page.changes[0].kind, ChangeKind::Newer);
    let out = core.apply_pull_page(&page).unwrap();
    assert_eq!(out.reference.stores, 1);
    assert_eq!(core.sync_state().unwrap().pull_cursor, 4);
}

#[test]
fn a_bad_pull_page_changes_nothing() {
    let core = core();
    enrol(&core, "rep-li");
    let before = (core.table_row_counts().unwrap(), core.sync_state().unwrap());
    let bad_store = PullResponse {
        changes: vec![
            change(
                1,
                ChangeKind::Store,
                "st-201",
                store_body("st-201", "SH-E-201", "fine", 31.0),
            ),
            change(2, ChangeKind::TeamVisit, "v-1", team_visit("v-1", "completed", 1)),
            change(
                3,
                ChangeKind::Store,
                "st-202",
                store_body("st-202", "SH-E-202", "bad", 200.0),
            ),
        ],
        cursor: 3,
        has_more: false,
        server_time_ms: 9,
    };
    let e = core.apply_pull_page(&bad_store).unwrap_err();
    assert_eq!(e.code(), "bad_reference_data", "{e}");
    let unparsable = PullResponse {
        changes: vec![
            change(
                1,
                ChangeKind::Store,
                "st-201",
                store_body("st-201", "SH-E-201", "fine", 31.0),
            ),
            change(2, ChangeKind::Product, "p-x", json!({"id": "p-x"})),
        ],
        cursor: 2,
        has_more: false,
        server_time_ms: 9,
    };
    let e = core.apply_pull_page(&unparsable).unwrap_err();
    assert_eq!(e.code(), "bad_reference_data");
    assert!(e.to_string().contains("change 2"), "{e}");
    // A plan for a store the device has never seen.
    let dangling = PullResponse {
        changes: vec![change(
            1,
            ChangeKind::Plan,
            "plan-x",
            json!({"id": "plan-x", "rep_id": "rep-li", "store_id": "st-nowhere", "date": "2026-11-24",
                   "template_id": "tpl-store-check"}),
        )],
        cursor: 1,
        has_more: false,
        server_time_ms: 9,
    };
    assert_eq!(
        core.apply_pull_page(&dangling).unwrap_err().code(),
        "bad_reference_data"
    );
    assert_eq!(
        (core.table_row_counts().unwrap(), core.sync_state().unwrap()),
        before
    );
}

#[test]
fn a_cursor_going_back_is_refused() {
    let core = core();
    enrol(&core, "rep-li");
    let page = |cursor| PullResponse {
        changes: vec![],
        cursor,
        has_more: false,
        server_time_ms: 1,
    };
    core.apply_pull_page(&page(40)).unwrap();
    assert_eq!(
        core.apply_pull_page(&page(39)).unwrap_err().code(),
        "sync_protocol"
    );
    assert_eq!(core.sync_state().unwrap().pull_cursor, 40);
    // An empty page at the same cursor is the normal "nothing new".
    core.apply_pull_page(&page(40)).unwrap();
}

#[test]
fn a_pull_page_needs_an_enrolment() {
    let core = core();
    let page = PullResponse {
        changes: vec![],
        cursor: 1,
        has_more: false,
        server_time_ms: 1,
    };
    assert_eq!(core.apply_pull_page(&page).unwrap_err().code(), "not_enrolled");
}

#[test]
fn enrolment_state_and_re_enrolment() {
    let core = core();
    let s = core.sync_state().unwrap();
    assert!(!s.enrolled);
    assert_eq!((s.user, s.server_url, s.pull_cursor), (None, None, 0));

    enrol(&core, "sup-wang");
    let page = PullResponse {
        changes: vec![change(
            5,
            ChangeKind::TeamVisit,
            "v-1",
            team_visit("v-1", "completed", 1),
        )],
        cursor: 5,
        has_more: false,
        server_time_ms: 1,
    };
    core.apply_pull_page(&page).unwrap();
    let s = core.sync_state().unwrap();
    assert!(s.enrolled);
    assert_eq!(s.user.as_ref().map(|u| u.role), Some(Role::Supervisor));
    assert_eq!(s.server_url.as_deref(), Some("https://sync.example.test"));

    // Same user again: the feed position stays.
    enrol(&core, "sup-wang");
    assert_eq!(core.sync_state().unwrap().pull_cursor, 5);
    assert_eq!(core.team_visits(None, 10).unwrap().len(), 1);
    // Another user: what they may see differs, so the feed starts over and the mirror empties.
    enrol(&core, "rep-li");
    let s = core.sync_state().unwrap();
    assert_eq!((s.pull_cursor, s.user.unwrap().id.as_str()), (0, "rep-li"));
    assert!(core.team_visits(None, 10).unwrap().is_empty());
}

#[test]
fn photo_upload_state_decides_what_is_sent_again() {
    let core = core();
    let ops = three_ops(&core);
    assert!(photos_of_ops(&core.lock().conn, &ops).unwrap().is_empty());
    let jpeg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/photo-1920x1080.jpg"
    ))
    .expect("tests/data/photo-1920x1080.jpg in the repository");
    let shot = core
        .capture_photo(
            &crate::CaptureRequest {
                visit_id: ops[0].entity_id.clone(),
                item_id: Some("shelf_photo".into()),
                kind: crate::PhotoKind::ShelfOverview,
                fix: None,
                utc_offset_minutes: 480,
                retake_request_id: None,
            },
            &jpeg,
        )
        .unwrap();
    let ops = core.pending_ops(10).unwrap();
    let photos = photos_of_ops(&core.lock().conn, &ops).unwrap();
    assert_eq!(photos.len(), 1);
    let p = &photos[0];
    assert_eq!(
        (p.sha256.as_str(), p.size as i64),
        (shot.photo.sha256.as_str(), shot.photo.byte_len)
    );
    assert_eq!(
        p.entry,
        ops[3].entry.clone().unwrap(),
        "the manifest is the op's signed entry"
    );
    assert_eq!(core.sync_state().unwrap().photos_not_uploaded, 1);

    let outcome = |state| PhotoUploadOutcome {
        op_id: p.op_id.clone(),
        sha256: p.sha256.clone(),
        size: p.size,
        state,
        error: Some("HTTP 503".into()),
    };
    // A transient failure: still to send, and after its op is acknowledged it is the backlog.
    core.apply_push_answer(&[], None, &[], &[outcome(UploadState::Pending)])
        .unwrap();
    assert_eq!(photos_of_ops(&core.lock().conn, &ops).unwrap().len(), 1);
    let all_applied = PushResponse {
        results: ops
            .iter()
            .map(|o| result(o, OpStatus::Applied, None, &[]))
            .collect(),
        server_time_ms: 1,
    };
    core.apply_push_answer(&ops, Some(&all_applied), &[], &[])
        .unwrap();
    assert_eq!(photo_backlog(&core.lock().conn).unwrap(), photos);
    // Confirmed: never sent again.
    core.apply_push_answer(&[], None, &[], &[outcome(UploadState::Complete)])
        .unwrap();
    assert!(photo_backlog(&core.lock().conn).unwrap().is_empty());
    let s = core.sync_state().unwrap();
    assert_eq!((s.photos_not_uploaded, s.photos_failed), (0, 0));
    let attempts: i64 = core
        .lock()
        .conn
        .query_row("SELECT attempts FROM photo_uploads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(attempts, 2);
    assert!(core.audit().unwrap().is_clean());
}

fn retake_body(id: &str, store: &str, state: &str, due: &str) -> serde_json::Value {
    json!({"id": id, "photo_id": "p-old", "visit_id": "v-old", "store_id": store, "rep_id": "rep-li",
           "photo_kind": "shelf_overview", "item_id": "shelf_photo", "reason": "价签被挡住",
           "requested_by": "王磊", "requested_at_ms": 1, "due_date": due, "state": state})
}

#[test]
fn a_pulled_retake_locks_the_stores_next_visit_until_its_photo_is_taken() {
    let core = core();
    enrol(&core, "rep-li");
    let page = |seq: i64, changes: Vec<Change>| PullResponse {
        changes,
        cursor: seq,
        has_more: false,
        server_time_ms: 1,
    };
    core.apply_pull_page(&page(
        2,
        vec![
            change(
                1,
                ChangeKind::Retake,
                "r-1",
                retake_body("r-1", "st-001", "open", "2026-11-25"),
            ),
            change(
                2,
                ChangeKind::Retake,
                "r-2",
                retake_body("r-2", "st-002", "open", "2026-11-25"),
            ),
        ],
    ))
    .unwrap();
    let plan = core.day_plan("rep-li", "2026-11-23").unwrap();
    let owed = |store: &str| plan.iter().find(|e| e.store.id == store).unwrap().retakes.len();
    assert_eq!((owed("st-001"), owed("st-002"), owed("st-003")), (1, 1, 0));
    let states = |date: &str| -> Vec<RetakeState> {
        core.retake_requests("rep-li", date)
            .unwrap()
            .iter()
            .map(|r| r.state)
            .collect()
    };
    assert_eq!(states("2026-11-26"), [RetakeState::Overdue, RetakeState::Overdue]);

    // The visit at st-001 owes r-1 only.
    let v = three_ops(&core)[0].entity_id.clone();
    let missing = core.visit_detail(&v).unwrap().missing;
    let retakes: Vec<_> = missing
        .iter()
        .filter(|m| m.kind == MissingKind::RetakePhoto)
        .map(|m| (m.retake_request_id.as_deref(), m.label.as_str()))
        .collect();
    assert_eq!(retakes, [(Some("r-1"), "价签被挡住")]);
    let capture = |request: &str| {
        core.capture_photo(
            &crate::CaptureRequest {
                visit_id: v.clone(),
                item_id: Some("shelf_photo".into()),
                kind: PhotoKind::ShelfOverview,
                fix: None,
                utc_offset_minutes: 480,
                retake_request_id: Some(request.into()),
            },
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/data/photo-1920x1080.jpg"
            ))
            .unwrap(),
        )
    };
    // Another store's request, or one this phone does not have: refused, nothing written.
    assert_eq!(capture("r-2").unwrap_err().code(), "retake_not_for_visit");
    assert_eq!(capture("r-9").unwrap_err().code(), "unknown_retake_request");
    assert_eq!(core.visit_detail(&v).unwrap().photos.len(), 0);
    let taken = capture("r-1").unwrap();
    assert!(
        !core
            .visit_detail(&v)
            .unwrap()
            .missing
            .iter()
            .any(|m| m.kind == MissingKind::RetakePhoto),
        "the photo taken for it clears the lock"
    );
    assert_eq!(capture("r-1").unwrap_err().code(), "retake_not_open");
    let manifest = core.photo_evidence(&taken.photo.id).unwrap().manifest;
    assert!(manifest.contains("\"retake_request_id\":\"r-1\""), "{manifest}");

    // A withdrawn request owes nothing.
    core.apply_pull_page(&page(
        4,
        vec![change(
            4,
            ChangeKind::Retake,
            "r-2",
            retake_body("r-2", "st-002", "cancelled", "2026-11-25"),
        )],
    ))
    .unwrap();
    let r2 = core
        .retake_requests("rep-li", "2026-11-23")
        .unwrap()
        .into_iter()
        .find(|r| r.id == "r-2")
        .unwrap();
    assert_eq!(r2.state, RetakeState::Cancelled);
}

// --- customers and leads down the feed --------------------------------------------------------

fn customer_change(id: &str, owner: Option<(&str, &str)>, state: &str, name: &str) -> serde_json::Value {
    json!({"id": id, "name": name, "company": "某某科技", "phones": ["13800138000"],
           "contacts": [{"name": "李工", "phones": ["13900139000"]}],
           "owner_id": owner.map(|o| o.0), "owner_name": owner.map(|o| o.1), "state": state,
           "stage": "needs", "stage_entered_ms": 1, "created_ms": 1})
}

fn pull(seq: i64, changes: Vec<Change>) -> PullResponse {
    PullResponse {
        changes,
        cursor: seq,
        has_more: false,
        server_time_ms: 1,
    }
}

#[test]
fn pulled_customers_leads_keys_and_settings_are_kept_another_reps_as_status_only() {
    let core = core();
    enrol(&core, "rep-li");
    let key = "ab".repeat(32);
    let cfg = crate::PipelineConfig {
        version: 4,
        release_days: 10,
        ..crate::PipelineConfig::default()
    };
    let out = core
        .apply_pull_page(&pull(
            25,
            vec![
                change(
                    20,
                    ChangeKind::Customer,
                    "c-mine",
                    customer_change("c-mine", Some(("rep-li", "李娜")), "owned", "我的"),
                ),
                change(
                    21,
                    ChangeKind::Customer,
                    "c-zhao",
                    customer_change("c-zhao", Some(("rep-zhao", "赵强")), "owned", "赵的"),
                ),
                change(
                    22,
                    ChangeKind::Lead,
                    "l-1",
                    json!({"id": "l-1", "name": "线索", "state": "assigned", "assigned_rep": "rep-li",
                           "deadline_ms": 99, "created_ms": 1}),
                ),
                change(
                    23,
                    ChangeKind::CustomerKey,
                    &key,
                    json!({"key": key, "customer_id": "c-zhao", "owner_name": "赵强", "state": "owned"}),
                ),
                change(
                    24,
                    ChangeKind::PipelineConfig,
                    "4",
                    serde_json::to_value(&cfg).unwrap(),
                ),
                change(
                    25,
                    ChangeKind::StoreKey,
                    "st-001:k1",
                    json!({"store_id": "st-001", "kid": "k1", "public_key_hex": "cd".repeat(32)}),
                ),
            ],
        ))
        .unwrap();
    assert_eq!(out.changes, 6);
    let mine = crate::customer_flow::customer(&core.lock().conn, "c-mine").unwrap();
    assert_eq!(mine.phones, ["13800138000"]);
    assert_eq!(mine.contacts.len(), 1);
    // Another rep's customer keeps no phone or contact on this phone, whatever was sent.
    let zhao = crate::customer_flow::customer(&core.lock().conn, "c-zhao").unwrap();
    assert!(zhao.phones.is_empty() && zhao.contacts.is_empty());
    assert_eq!(zhao.owner_name.as_deref(), Some("赵强"));
    assert_eq!(core.pipeline_config().unwrap().release_days, 10);
    let lead = crate::customer_flow::lead(&core.lock().conn, "l-1").unwrap();
    assert_eq!(
        (lead.state, lead.deadline_ms),
        (crate::LeadState::Assigned, Some(99))
    );
    let keys = crate::customer_flow::pull::store_keys(&core.lock().conn, "st-001").unwrap();
    assert_eq!(keys.len(), 1);
    let held: i64 = core
        .lock()
        .conn
        .query_row(
            "SELECT count(*) FROM customer_keys WHERE customer_id = 'c-zhao'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held, 1);
    assert_eq!(core.sync_state().unwrap().pull_cursor, 25);

    // A local change waiting in the outbox is not overwritten by the server's earlier copy; once
    // the server acknowledged it, the next copy replaces the local row.
    core.claim_lead("rep-li", "l-1").unwrap();
    core.release_customer("rep-li", "c-mine", "客户搬走了").unwrap();
    core.apply_pull_page(&pull(
        27,
        vec![
            change(26, ChangeKind::Customer, "c-mine", customer_change("c-mine", Some(("rep-li", "李娜")), "owned", "我的")),
            change(
                27,
                ChangeKind::Lead,
                "l-1",
                json!({"id": "l-1", "name": "线索", "state": "assigned", "assigned_rep": "rep-li", "created_ms": 1}),
            ),
        ],
    ))
    .unwrap();
    let c = crate::customer_flow::customer(&core.lock().conn, "c-mine").unwrap();
    assert_eq!((c.state, c.pending_sync), (crate::CustomerState::Pool, true));
    let lead = crate::customer_flow::lead(&core.lock().conn, "l-1").unwrap();
    assert_eq!(lead.state, crate::LeadState::Claimed);

    let ops = core.pending_ops(10).unwrap();
    let applied = PushResponse {
        results: ops
            .iter()
            .map(|o| result(o, OpStatus::Applied, None, &[]))
            .collect(),
        server_time_ms: 1,
    };
    core.apply_push_answer(&ops, Some(&applied), &[], &[]).unwrap();
    // The server's copy made after it applied the release: another rep claimed it since.
    core.apply_pull_page(&pull(
        28,
        vec![change(
            28,
            ChangeKind::Customer,
            "c-mine",
            customer_change("c-mine", Some(("rep-chen", "陈静")), "owned", "我的"),
        )],
    ))
    .unwrap();
    let c = crate::customer_flow::customer(&core.lock().conn, "c-mine").unwrap();
    assert_eq!(c.owner_id.as_deref(), Some("rep-chen"));
    assert!(!c.pending_sync);
    assert!(c.phones.is_empty() && c.contacts.is_empty(), "status only now");
    // An older copy arriving late changes nothing.
    core.apply_pull_page(&pull(
        29,
        vec![change(
            5,
            ChangeKind::Customer,
            "c-mine",
            customer_change("c-mine", None, "pool", "旧"),
        )],
    ))
    .unwrap();
    let c = crate::customer_flow::customer(&core.lock().conn, "c-mine").unwrap();
    assert_eq!(c.owner_id.as_deref(), Some("rep-chen"));

    // A bad record refuses the page, cursor included.
    let e = core
        .apply_pull_page(&pull(
            30,
            vec![change(
                30,
                ChangeKind::CustomerKey,
                "x",
                json!({"key": "short", "customer_id": "c", "state": "owned"}),
            )],
        ))
        .unwrap_err();
    assert_eq!(e.code(), "bad_reference_data");
    assert_eq!(core.sync_state().unwrap().pull_cursor, 29);
}

#[test]
fn customer_photos_go_through_the_photo_upload_queue() {
    let core = core();
    let c = core
        .create_customer(
            "rep-li",
            &crate::NewCustomer {
                name: "王经理".into(),
                company: None,
                phones: vec![],
                contacts: vec![],
                industry: None,
                region: None,
                budget_cents: None,
                store_id: None,
                from_lead_id: None,
            },
        )
        .unwrap();
    let jpeg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/photo-1920x1080.jpg"
    ))
    .expect("tests/data/photo-1920x1080.jpg in the repository");
    let photo = core
        .capture_customer_photo(
            "rep-li",
            &crate::CustomerPhotoRequest {
                customer_id: c.id.clone(),
                requirement_id: "tech_spec_form".into(),
            },
            None,
            480,
            &jpeg,
        )
        .unwrap();
    let ops = core.pending_ops(10).unwrap();
    let photos = photos_of_ops(&core.lock().conn, &ops).unwrap();
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].sha256, photo.sha256);
    assert_eq!(photos[0].entry, ops[1].entry.clone().unwrap());
    assert_eq!(core.sync_state().unwrap().photos_not_uploaded, 1);
    assert_eq!(sync_totals(&core.lock().conn).unwrap().photos, 1);
}
