//! Photo review with retakes, end to end: the real `fieldproof-server` binary on loopback, real
//! cores on file databases syncing over real HTTP, and head office's pages through a signed-in
//! browser session (form posts with the CSRF token).
//!
//! Head office asks for a retake on a visit's page → the rep's core pulls it → the store's next
//! visit cannot complete without the photo (a typed lock naming the retake) → the photo is taken
//! for the request and synced → the visit page shows the request done with both photos side by
//! side. Then the supervisor's phone reviews a photo as a signed op, and the refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use fieldproof_core::*;
use fieldproof_tests::day::{self, DayClock, Trouble};
use fieldproof_tests::server::ServerProcess;
use fieldproof_tests::web::Browser;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The fixture with its plans on the reps' today (Shanghai time), and rep-li's first stop again
/// in two days (the retake's due day).
fn reference(dir: &Path) -> (std::path::PathBuf, String, String) {
    let mut r: ReferenceData = serde_json::from_str(fieldproof_tests::REFERENCE_JSON).expect("fixture");
    let now = SystemClock.wall_ms();
    let today = clock::civil_date(now, 480);
    let later = clock::civil_date(now + 2 * 86_400_000, 480);
    for p in &mut r.plans {
        p.date = today.clone();
    }
    let mut again = r.plans[0].clone();
    again.id = "plan-li-1-again".into();
    again.date = later.clone();
    r.plans.push(again);
    let file = dir.join("reference.json");
    std::fs::write(&file, serde_json::to_string(&r).expect("json")).expect("write");
    (file, today, later)
}

fn enrolled(
    server: &ServerProcess,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    user: &str,
) -> (Core, DayClock) {
    let clock = DayClock::real_time();
    let core = day::open_core(&dir.join(format!("{user}.db")), &clock).expect("core");
    let code = server.enrol_code(user).expect("code");
    rt.block_on(core.enrol(&server.url(), &code)).expect("enrols");
    rt.block_on(core.sync()).expect("first sync");
    (core, clock)
}

#[test]
fn a_retake_asked_on_the_web_locks_the_next_visit_until_the_photo_is_synced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(&dir.path().join("data")).expect("server starts");
    let (file, today, later) = reference(dir.path());
    server
        .admin(&["load-reference", file.to_str().expect("utf-8")])
        .expect("reference");
    server
        .admin(&[
            "create-user",
            "--id",
            "hq",
            "--name",
            "总部运营",
            "--role",
            "head_office",
            "--password",
            "a-long-password",
        ])
        .expect("web user");
    let rt = runtime();
    let (li, li_clock) = enrolled(&server, &rt, dir.path(), "rep-li");
    let (wang, _) = enrolled(&server, &rt, dir.path(), "sup-wang");
    let (zhao, zhao_clock) = enrolled(&server, &rt, dir.path(), "rep-zhao");

    // --- a day's visit with a shelf photo, synced
    let st001 = li
        .stores(None)
        .unwrap()
        .into_iter()
        .find(|s| s.id == "st-001")
        .unwrap();
    let first = day::store_check(
        &li,
        &li_clock,
        "rep-li",
        &st001,
        Some("plan-li-1"),
        &[day::distinct_photo(1)],
        Trouble::default(),
    )
    .expect("first visit");
    let old_photo = first.photos[0].clone();
    let report = rt.block_on(li.sync()).expect("sync");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);

    // --- head office asks for a retake on the visit's page
    let web = Browser::sign_in(server.addr(), "hq", "a-long-password").expect("signs in");
    let page = web.get(&format!("/app/visits/{}", first.visit_id)).unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("action=\"/app/photo-reviews\""),
        "no review form"
    );
    assert!(page.body.contains(&format!("value=\"{}\"", old_photo.id)));
    let back = format!("/app/visits/{}", first.visit_id);
    // Refusals first: each a page in the reader's language, nothing recorded.
    let bad = web
        .post(
            "/app/photo-reviews",
            &[
                ("photo_id", &old_photo.id),
                ("verdict", "maybe"),
                ("reason", "x"),
                ("back", &back),
            ],
        )
        .unwrap();
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("不是有效的审核结论"), "{}", bad.body);
    let no_reason = web
        .post(
            "/app/photo-reviews",
            &[
                ("photo_id", &old_photo.id),
                ("verdict", "retake"),
                ("reason", " "),
                ("back", &back),
            ],
        )
        .unwrap();
    assert_eq!(no_reason.status, 400);
    assert!(no_reason.body.contains("须填写原因"), "{}", no_reason.body);
    let unknown = web
        .post(
            "/app/photo-reviews",
            &[
                ("photo_id", "no-such-photo"),
                ("verdict", "approve"),
                ("back", &back),
            ],
        )
        .unwrap();
    assert_eq!(unknown.status, 404);
    let forged = Browser {
        csrf: "0".repeat(32),
        ..Browser::sign_in(server.addr(), "hq", "a-long-password").unwrap()
    };
    let csrf = forged
        .post(
            "/app/photo-reviews",
            &[
                ("photo_id", &old_photo.id),
                ("verdict", "approve"),
                ("back", &back),
            ],
        )
        .unwrap();
    assert_eq!(csrf.status, 403);
    assert_eq!(
        server
            .records()
            .unwrap()
            .count("SELECT count(*) FROM photo_reviews"),
        0,
        "a refused decision writes nothing"
    );

    let asked = web
        .post(
            "/app/photo-reviews",
            &[
                ("photo_id", &old_photo.id),
                ("verdict", "retake"),
                ("reason", "货架没拍全，请重拍整组货架"),
                ("back", &back),
            ],
        )
        .unwrap();
    assert_eq!(asked.status, 303, "{}", asked.body);
    assert_eq!(asked.header("location"), Some(back.as_str()));
    let twice = web
        .post(
            "/app/photo-reviews",
            &[
                ("photo_id", &old_photo.id),
                ("verdict", "retake"),
                ("reason", "again"),
                ("back", &back),
            ],
        )
        .unwrap();
    assert_eq!(twice.status, 409, "one open retake per photo");
    let page = web.get(&back).unwrap();
    assert!(page.body.contains("总部运营"), "the decision says who");
    assert!(page.body.contains("货架没拍全"), "and why");
    assert!(
        page.body.contains("data-state=\"open\""),
        "the request shows open"
    );

    // --- the rep's phone pulls it: on the day plan, and in the list with its due day
    rt.block_on(li.sync()).expect("sync");
    let owed = li.retake_requests("rep-li", &today).unwrap();
    assert_eq!(owed.len(), 1);
    let request = owed[0].clone();
    assert_eq!(
        (
            request.state,
            request.photo_id.as_str(),
            request.store_id.as_str()
        ),
        (RetakeState::Open, old_photo.id.as_str(), "st-001")
    );
    assert_eq!(request.requested_by, "总部运营");
    assert_eq!(
        request.due_date, later,
        "due on the rep's next planned visit of the store"
    );
    let plan = li.day_plan("rep-li", &today).unwrap();
    let stop = plan.iter().find(|e| e.store.id == "st-001").unwrap();
    assert_eq!(stop.retakes.len(), 1);
    assert!(
        plan.iter()
            .filter(|e| e.store.id != "st-001")
            .all(|e| e.retakes.is_empty())
    );
    // Past its due day it reads overdue.
    let after_due = clock::civil_date(SystemClock.wall_ms() + 3 * 86_400_000, 480);
    assert_eq!(
        li.retake_requests("rep-li", &after_due).unwrap()[0].state,
        RetakeState::Overdue
    );

    // --- the store's next visit cannot complete without the retake photo
    let second = day::store_check(
        &li,
        &li_clock,
        "rep-li",
        &st001,
        None,
        &[day::distinct_photo(2)],
        Trouble::default(),
    );
    let missing = match second {
        Err(Error::CompletionLocked { missing, .. }) => missing,
        other => panic!("the visit must be locked by the retake, got {other:?}"),
    };
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0].kind, MissingKind::RetakePhoto);
    assert_eq!(missing[0].retake_request_id.as_deref(), Some(request.id.as_str()));
    assert_eq!(missing[0].label, "货架没拍全，请重拍整组货架");
    let visit = li.open_visit("rep-li").unwrap().expect("the visit stays open");
    // A photo for a request this phone does not have is refused.
    let wrong = li.capture_photo(
        &CaptureRequest {
            visit_id: visit.id.clone(),
            item_id: None,
            kind: PhotoKind::ShelfOverview,
            fix: None,
            utc_offset_minutes: 480,
            retake_request_id: Some("no-such-request".into()),
        },
        &day::distinct_photo(3),
    );
    assert_eq!(wrong.unwrap_err().code(), "unknown_retake_request");
    let retaken = li
        .capture_photo(
            &CaptureRequest {
                visit_id: visit.id.clone(),
                item_id: Some("shelf_photo".into()),
                kind: PhotoKind::ShelfOverview,
                fix: Some(day::fix_near(&st001, 10.0, false, li_clock.wall_ms())),
                utc_offset_minutes: 480,
                retake_request_id: Some(request.id.clone()),
            },
            &day::distinct_photo(4),
        )
        .expect("the retake photo");
    assert_eq!(
        li.retake_requests("rep-li", &today).unwrap()[0].state,
        RetakeState::Done,
        "done on the phone as soon as it is taken"
    );
    li.complete_visit(&visit.id)
        .expect("completes once the retake is taken");
    li.check_out(
        &visit.id,
        Some(&day::fix_near(&st001, 10.0, false, li_clock.wall_ms())),
    )
    .unwrap();
    let report = rt.block_on(li.sync()).expect("sync");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    rt.block_on(li.sync()).expect("pull the request's new state");
    let done = &li.retake_requests("rep-li", &today).unwrap()[0];
    assert_eq!(
        (done.state, done.new_photo_id.as_deref()),
        (RetakeState::Done, Some(retaken.photo.id.as_str()))
    );

    // --- the web shows it done, with the old and the new photo side by side
    let page = web.get(&back).unwrap();
    assert!(page.body.contains("data-state=\"done\""), "{}", page.body);
    let block = &page.body[page
        .body
        .find(&format!("data-retake=\"{}\"", request.id))
        .unwrap()..];
    let pair = &block[block.find("msg-photos pair").unwrap()..];
    let pair = &pair[..pair.find("</div>").unwrap()];
    assert!(
        pair.contains(&format!("/app/thumbs/{}", old_photo.sha256)),
        "{pair}"
    );
    assert!(
        pair.contains(&format!("/app/thumbs/{}", retaken.photo.sha256)),
        "{pair}"
    );
    let list = web.get("/app/retakes?state=done").unwrap();
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&format!("data-retake=\"{}\"", request.id)));
    let waiting = web.get("/app/retakes").unwrap();
    assert!(!waiting.body.contains(&format!("data-retake=\"{}\"", request.id)));
    let (state, fulfilled): (String, Option<String>) = server.records().unwrap().one(
        "SELECT state, fulfilled_photo_id FROM retake_requests WHERE id = $1",
        &[(&request.id).into()],
    );
    assert_eq!(
        (state.as_str(), fulfilled.as_deref()),
        ("done", Some(retaken.photo.id.as_str()))
    );

    // --- the supervisor's phone reviews a team photo: a signed op the server applies
    rt.block_on(wang.sync())
        .expect("supervisor pulls the team's visits");
    let seen = wang.team_visits(Some("rep-li"), 10).unwrap();
    assert!(
        seen.iter()
            .any(|v| v.photos.iter().any(|p| p.photo_id == retaken.photo.id))
    );
    let review = wang
        .review_photo(
            "sup-wang",
            &retaken.photo.id,
            PhotoReviewVerdict::Reject,
            Some("反光看不清价签"),
        )
        .expect("reviews");
    // Refused on the phone before anything is written.
    assert_eq!(
        wang.review_photo("sup-wang", "no-such-photo", PhotoReviewVerdict::Approve, None)
            .unwrap_err()
            .code(),
        "unknown_photo"
    );
    assert_eq!(
        wang.review_photo("sup-wang", &old_photo.id, PhotoReviewVerdict::Retake, None)
            .unwrap_err()
            .code(),
        "reason_required"
    );
    let report = rt.block_on(wang.sync()).expect("sync");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let (verdict, by, reason): (String, String, String) = server.records().unwrap().one(
        "SELECT verdict, field_user_id, reason FROM photo_reviews WHERE photo_id = $1",
        &[(&retaken.photo.id).into()],
    );
    assert_eq!(
        (verdict.as_str(), by.as_str(), reason.as_str()),
        ("reject", "sup-wang", "反光看不清价签")
    );
    assert_eq!(review.verdict, PhotoReviewVerdict::Reject);
    let new_visit_page = web.get(&format!("/app/visits/{}", visit.id)).unwrap();
    assert!(
        new_visit_page.body.contains("王磊"),
        "the phone's decision names the supervisor"
    );
    assert!(new_visit_page.body.contains("反光看不清价签"));

    // A retake from the phone reaches the rep like one from the web.
    let from_phone = wang
        .review_photo(
            "sup-wang",
            &old_photo.id,
            PhotoReviewVerdict::Retake,
            Some("再拍一次"),
        )
        .unwrap();
    rt.block_on(wang.sync()).unwrap();
    rt.block_on(li.sync()).unwrap();
    let again = li.retake_requests("rep-li", &today).unwrap();
    assert!(
        again
            .iter()
            .any(|r| r.id == from_phone.id && r.state == RetakeState::Open && r.requested_by == "王磊"),
        "{again:?}"
    );

    // --- the server refuses another team's photo from a supervisor's phone: sup-wang's phone
    // made to believe rep-chen (sup-liu's) is on its team signs a review the server refuses.
    let st101 = zhao.stores(None).unwrap().into_iter().next().unwrap();
    let zhao_visit = day::store_check(
        &zhao,
        &zhao_clock,
        "rep-zhao",
        &st101,
        Some("plan-zhao-1"),
        &[day::distinct_photo(5)],
        Trouble::default(),
    )
    .unwrap();
    rt.block_on(zhao.sync()).unwrap();
    let (chen_core, chen_clock) = enrolled(&server, &rt, dir.path(), "rep-chen");
    let chen_store = chen_core
        .stores(None)
        .unwrap()
        .into_iter()
        .find(|s| s.id == "st-002")
        .unwrap();
    let chen_visit = day::store_check(
        &chen_core,
        &chen_clock,
        "rep-chen",
        &chen_store,
        None,
        &[day::distinct_photo(6)],
        Trouble::default(),
    )
    .unwrap();
    rt.block_on(chen_core.sync()).unwrap();
    rt.block_on(wang.sync()).unwrap();
    {
        let c = rusqlite::Connection::open(dir.path().join("sup-wang.db")).unwrap();
        c.execute(
            "INSERT OR REPLACE INTO users (id, name, role, territory, supervisor_id)
             VALUES ('rep-chen', '陈静', 'rep', 'shanghai-east', 'sup-wang')",
            [],
        )
        .unwrap();
        let body = serde_json::json!({
            "visit_id": chen_visit.visit_id, "rep_id": "rep-chen", "store_id": "st-002",
            "kind": "store_check", "status": "checked_out", "started_wall_ms": 1, "ended_wall_ms": null,
            "geofence": "verified", "exceptions": [], "answers": 0, "report_summary": null,
            "photos": [{"photo_id": chen_visit.photos[0].id, "sha256": chen_visit.photos[0].sha256,
                        "evidence_code": "X", "photo_kind": "shelf_overview", "verified": true}],
        });
        c.execute(
            "INSERT INTO team_visits (visit_id, rep_id, store_id, status, started_wall_ms, exception_count, body, feed_seq)
             VALUES (?1, 'rep-chen', 'st-002', 'checked_out', 1, 0, ?2, 1)",
            rusqlite::params![chen_visit.visit_id, body.to_string()],
        )
        .unwrap();
    }
    wang.review_photo(
        "sup-wang",
        &chen_visit.photos[0].id,
        PhotoReviewVerdict::Approve,
        None,
    )
    .expect("the phone believes it");
    let refused = rt.block_on(wang.sync()).unwrap();
    assert_eq!(refused.rejected.len(), 1, "{refused:?}");
    assert_eq!(refused.rejected[0].kind, "visit.photo_review");
    assert_eq!(refused.rejected[0].reason, "photo_not_in_team");
    assert_eq!(
        server
            .records()
            .unwrap()
            .one::<(i64,)>(
                "SELECT count(*) FROM photo_reviews WHERE photo_id = $1",
                &[(&chen_visit.photos[0].id).into()],
            )
            .0,
        0
    );
    // The chain stays whole after the refusal: the next op applies with no gap.
    wang.review_photo(
        "sup-wang",
        &zhao_visit.photos[0].id,
        PhotoReviewVerdict::Approve,
        None,
    )
    .unwrap();
    let next = rt.block_on(wang.sync()).unwrap();
    assert!(next.rejected.is_empty() && next.exceptions.is_empty(), "{next:?}");
}
