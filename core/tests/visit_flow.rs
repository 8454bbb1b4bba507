#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The visit flow, each rule and each refusal, on an in-memory and on a file database.

mod common;

use common::*;
use fieldproof_core::*;

fn codes(flags: &[Flag]) -> Vec<&'static str> {
    flags.iter().map(|f| f.code.as_str()).collect()
}

/// Asserts the call failed with `code` and that nothing was written.
fn refused<T: std::fmt::Debug>(core: &Core, code: &str, f: impl FnOnce() -> Result<T>) -> Error {
    let before = fingerprint(core);
    let err = f().expect_err("must be refused");
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(
        fingerprint(core),
        before,
        "a refused action wrote something: {err}"
    );
    assert!(core.audit().unwrap().is_clean());
    err
}

both_backends!(day_plan_lists_the_route_with_status, |h| {
    let plan = h.core.day_plan("rep-li", DAY).unwrap();
    let stores: Vec<_> = plan.iter().map(|p| p.store.code.as_str()).collect();
    assert_eq!(stores, ["SH-E-001", "SH-E-002", "SH-E-003"]);
    assert!(plan.iter().all(|p| p.status == PlanStatus::NotStarted));
    assert_eq!(plan[0].store.name, "联华超市（浦东南路店）");

    let v = h
        .core
        .check_in(&CheckInRequest {
            user_id: "rep-li".into(),
            store_id: "st-001".into(),
            plan_id: Some("plan-li-1".into()),
            template_id: None,
            fix: Some(fix_st001()),
        })
        .unwrap();
    let plan = h.core.day_plan("rep-li", DAY).unwrap();
    assert_eq!(plan[0].status, PlanStatus::InProgress);
    assert_eq!(plan[0].visit_id.as_deref(), Some(v.id.as_str()));
    assert!(h.core.day_plan("rep-li", "2026-11-24").unwrap().is_empty());
    refused(&h.core, "invalid_input", || {
        h.core.day_plan("rep-li", "2026-02-30")
    });
    refused(&h.core, "unknown_user", || h.core.day_plan("nobody", DAY));
});

both_backends!(check_in_inside_the_geofence_is_verified, |h| {
    let v = check_in(
        &h.core,
        "rep-li",
        "st-001",
        Some(fix_near(31.2304, 121.52, 120.0, 10.0)),
    )
    .unwrap();
    assert_eq!(v.geofence, GeofenceVerdict::Verified);
    assert!(v.flags.is_empty(), "{:?}", v.flags);
    assert_eq!(v.status, VisitStatus::InProgress);
    assert_eq!(v.template_id, "tpl-store-check");
    assert_eq!(v.check_in_time.wall_ms, T0);
    assert!((v.distance_m.unwrap() - 110.0).abs() < 1.0);
    let ops = h.core.pending_ops(10).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].seq, ops[0].kind.as_str()), (1, "visit.check_in"));
    assert!(ops[0].payload_json.contains("\"geofence\":\"verified\""));
});

both_backends!(outside_geofence_is_flagged_in_flag_mode, |h| {
    // 1 km north of st-001 with 20 m accuracy.
    let v = check_in(
        &h.core,
        "rep-li",
        "st-001",
        Some(fix_near(31.2304, 121.52, 1_000.0, 20.0)),
    )
    .unwrap();
    assert_eq!(v.geofence, GeofenceVerdict::Outside);
    assert_eq!(codes(&v.flags), ["outside_geofence"]);
    let ex = h.core.open_exceptions(10).unwrap();
    assert_eq!(ex.len(), 1);
    assert_eq!(
        (ex[0].flag.code, ex[0].store_id.as_str()),
        (FlagCode::OutsideGeofence, "st-001")
    );
});

both_backends!(block_mode_refuses_outside_and_missing_fixes, |h| {
    // st-003 is in block mode.
    refused(&h.core, "outside_geofence", || {
        check_in(
            &h.core,
            "rep-li",
            "st-003",
            Some(fix_near(31.2280, 121.5290, 500.0, 10.0)),
        )
    });
    refused(&h.core, "fix_required", || {
        check_in(&h.core, "rep-li", "st-003", None)
    });
    let v = check_in(
        &h.core,
        "rep-li",
        "st-003",
        Some(fix_near(31.2280, 121.5290, 50.0, 10.0)),
    )
    .unwrap();
    assert_eq!(v.geofence, GeofenceVerdict::Verified);
});

both_backends!(no_fix_mock_low_accuracy_and_stale_fix_have_codes, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", None).unwrap();
    assert_eq!(
        (v.geofence, codes(&v.flags)),
        (GeofenceVerdict::NoFix, vec!["no_fix"])
    );
    h.core.cancel_visit(&v.id, "store closed").unwrap();

    let mut f = fix_st001();
    f.is_mock = true;
    f.accuracy_m = 250.0;
    f.fix_time_ms = T0 - 10 * 60_000;
    let v = check_in(&h.core, "rep-li", "st-001", Some(f)).unwrap();
    assert_eq!(codes(&v.flags), ["mock_location", "low_accuracy", "stale_fix"]);
    // A 250 m accuracy circle still reaches the store: verified, but flagged low_accuracy.
    assert_eq!(v.geofence, GeofenceVerdict::Verified);
});

both_backends!(bad_fixes_and_unknown_ids_are_refused, |h| {
    for (lat, lon, acc) in [
        (f64::NAN, 121.5, 10.0),
        (95.0, 121.5, 10.0),
        (31.2, 181.0, 10.0),
        (31.2, f64::NEG_INFINITY, 10.0),
        (31.2, 121.5, -5.0),
        (31.2, 121.5, f64::NAN),
    ] {
        let mut f = fix_st001();
        (f.latitude, f.longitude, f.accuracy_m) = (lat, lon, acc);
        refused(&h.core, "invalid_location", || {
            check_in(&h.core, "rep-li", "st-001", Some(f.clone()))
        });
    }
    refused(&h.core, "unknown_user", || {
        check_in(&h.core, "nobody", "st-001", None)
    });
    refused(&h.core, "unknown_store", || {
        check_in(&h.core, "rep-li", "st-999", None)
    });
    refused(&h.core, "unknown_plan", || {
        h.core.check_in(&CheckInRequest {
            user_id: "rep-li".into(),
            store_id: "st-001".into(),
            plan_id: Some("plan-x".into()),
            template_id: None,
            fix: None,
        })
    });
    refused(&h.core, "unknown_template", || {
        h.core.check_in(&CheckInRequest {
            user_id: "rep-li".into(),
            store_id: "st-001".into(),
            plan_id: None,
            template_id: Some("tpl-x".into()),
            fix: None,
        })
    });
    // Plan of another rep, store outside the territory, wrong template kind for the role.
    refused(&h.core, "not_allowed", || {
        h.core.check_in(&CheckInRequest {
            user_id: "rep-zhao".into(),
            store_id: "st-001".into(),
            plan_id: Some("plan-li-1".into()),
            template_id: None,
            fix: None,
        })
    });
    refused(&h.core, "not_allowed", || {
        check_in(&h.core, "rep-li", "st-101", None)
    });
    refused(&h.core, "not_allowed", || {
        h.core.check_in(&CheckInRequest {
            user_id: "rep-li".into(),
            store_id: "st-001".into(),
            plan_id: None,
            template_id: Some("tpl-inspection".into()),
            fix: None,
        })
    });
    refused(&h.core, "unknown_visit", || {
        h.core.answer("v-x", "shelf_ok", &yes_no(true), None)
    });
    refused(&h.core, "unknown_visit", || h.core.complete_visit("v-x"));
    refused(&h.core, "unknown_visit", || h.core.check_out("v-x", None));
    refused(&h.core, "unknown_visit", || h.core.cancel_visit("v-x", "r"));
    refused(&h.core, "unknown_visit", || h.core.visit_detail("v-x"));
    refused(&h.core, "unknown_store", || h.core.store_history("st-x", 10));
});

both_backends!(one_open_visit_per_rep, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    let err = refused(&h.core, "visit_already_open", || {
        check_in(&h.core, "rep-li", "st-002", None)
    });
    assert!(matches!(err, Error::VisitAlreadyOpen { visit_id, .. } if visit_id == v.id));
    // Another rep is not blocked.
    check_in(&h.core, "rep-chen", "st-002", None).unwrap();
    assert_eq!(h.core.open_visit("rep-li").unwrap().unwrap().id, v.id);
    h.core.cancel_visit(&v.id, "manager absent").unwrap();
    assert!(h.core.open_visit("rep-li").unwrap().is_none());
    check_in(&h.core, "rep-li", "st-002", None).unwrap();
});

both_backends!(answers_are_validated_by_kind, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    let id = v.id.as_str();
    refused(&h.core, "wrong_value_kind", || {
        h.core.answer(id, "shelf_ok", &number(1.0), None)
    });
    refused(&h.core, "wrong_value_kind", || {
        h.core.answer(id, "facings", &yes_no(true), None)
    });
    refused(&h.core, "wrong_value_kind", || {
        h.core.answer(id, "own_price", &number(4.0), None)
    });
    refused(&h.core, "invalid_answer", || {
        h.core.answer(id, "facings", &number(f64::NAN), None)
    });
    refused(&h.core, "invalid_answer", || {
        h.core.answer(id, "facings", &number(-1.0), None)
    });
    refused(&h.core, "invalid_answer", || {
        h.core.answer(id, "own_price", &price(-1), None)
    });
    refused(&h.core, "unknown_choice", || {
        h.core.answer(id, "backroom", &choice("lots"), None)
    });
    refused(&h.core, "invalid_answer", || {
        h.core
            .answer(id, "remarks", &AnswerValue::Text { value: "   ".into() }, None)
    });
    refused(&h.core, "invalid_answer", || {
        h.core.answer(id, "shelf_photo", &yes_no(true), None)
    });
    refused(&h.core, "unknown_item", || {
        h.core.answer(id, "nope", &yes_no(true), None)
    });
    // The show-if item is hidden until the planogram is not followed.
    refused(&h.core, "item_hidden", || {
        h.core.answer(id, "shelf_issue", &choice("out_of_stock"), None)
    });
    let out = h.core.answer(id, "shelf_ok", &yes_no(false), None).unwrap();
    assert!(
        out.missing
            .iter()
            .any(|m| m.item_id.as_deref() == Some("shelf_issue"))
    );
    assert!(out.hidden_item_ids.is_empty());
    h.core
        .answer(id, "shelf_issue", &choice("out_of_stock"), None)
        .unwrap();
    // Correcting the controlling answer hides it again, and it no longer counts.
    let out = h.core.answer(id, "shelf_ok", &yes_no(true), None).unwrap();
    assert_eq!(out.hidden_item_ids, ["shelf_issue"]);
    assert!(
        !out.missing
            .iter()
            .any(|m| m.item_id.as_deref() == Some("shelf_issue"))
    );
});

both_backends!(corrections_keep_history_and_same_answer_is_no_op, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    h.core.answer(&v.id, "facings", &number(3.0), None).unwrap();
    h.clock.advance(1_000);
    h.core.answer(&v.id, "facings", &number(5.0), None).unwrap();
    let last = h.core.outbox_summary().unwrap().last_seq;
    h.core.answer(&v.id, "facings", &number(5.0), None).unwrap();
    assert_eq!(
        h.core.outbox_summary().unwrap().last_seq,
        last,
        "same answer again is not a new action"
    );
    let d = h.core.visit_detail(&v.id).unwrap();
    let a = d.answers.iter().find(|a| a.item_id == "facings").unwrap();
    assert_eq!(
        (a.value.clone(), a.revision, a.answered_at_ms),
        (number(5.0), 2, T0 + 1_000)
    );
    let answer_ops = h
        .core
        .pending_ops(100)
        .unwrap()
        .into_iter()
        .filter(|o| o.kind == "visit.answer")
        .count();
    assert_eq!(answer_ops, 2);
});

both_backends!(price_gap_without_note_is_flagged_and_a_note_clears_it, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    h.core.answer(&v.id, "own_price", &price(400), None).unwrap();
    // 340 is exactly 15 % below 400: not more than the threshold.
    let out = h.core.answer(&v.id, "comp_price", &price(340), None).unwrap();
    assert!(out.flags.is_empty());
    let out = h.core.answer(&v.id, "comp_price", &price(300), None).unwrap();
    assert_eq!(codes(&out.flags), ["price_gap_unexplained"]);
    assert_eq!(out.flags[0].item_id.as_deref(), Some("comp_price"));
    assert!(out.flags[0].detail.contains("25.0 %"), "{}", out.flags[0].detail);
    let out = h
        .core
        .answer(&v.id, "comp_price", &price(300), Some("竞品促销，已与店长议价"))
        .unwrap();
    assert!(out.flags.is_empty(), "the negotiation note explains the gap");
    assert!(h.core.open_exceptions(10).unwrap().is_empty());
    // The note may also sit on our own price; raising our price again re-opens the question.
    let out = h.core.answer(&v.id, "comp_price", &price(300), None).unwrap();
    assert_eq!(codes(&out.flags), ["price_gap_unexplained"]);
    let out = h
        .core
        .answer(&v.id, "own_price", &price(400), Some("promo agreed"))
        .unwrap();
    assert!(out.flags.is_empty());
    assert!(h.core.audit().unwrap().is_clean());
});

both_backends!(completion_is_locked_with_the_exact_missing_list, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    let err = refused(&h.core, "completion_locked", || h.core.complete_visit(&v.id));
    let Error::CompletionLocked { missing, .. } = err else {
        panic!()
    };
    let got: Vec<(MissingKind, Option<&str>)> =
        missing.iter().map(|m| (m.kind, m.item_id.as_deref())).collect();
    use MissingKind::*;
    assert_eq!(
        got,
        [
            (Answer, Some("shelf_ok")),
            (Answer, Some("facings")),
            (Photo, Some("shelf_photo")),
            (Answer, Some("own_price")),
            (Answer, Some("backroom")),
            (Report, None)
        ]
    );
    h.core.answer(&v.id, "shelf_ok", &yes_no(false), None).unwrap();
    h.core.answer(&v.id, "facings", &number(3.0), None).unwrap();
    h.core.answer(&v.id, "own_price", &price(400), None).unwrap();
    h.core.answer(&v.id, "backroom", &choice("low"), None).unwrap();
    let err = refused(&h.core, "completion_locked", || h.core.complete_visit(&v.id));
    let Error::CompletionLocked { missing, .. } = err else {
        panic!()
    };
    let got: Vec<&str> = missing
        .iter()
        .map(|m| m.item_id.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(got, ["shelf_issue", "shelf_photo", ""]);
    h.core
        .answer(&v.id, "shelf_issue", &choice("wrong_place"), None)
        .unwrap();
    h.core
        .add_photo(
            &v.id,
            Some("shelf_photo"),
            PhotoKind::ShelfOverview,
            &photo_bytes(),
        )
        .unwrap();
    h.core.save_report(&v.id, &report()).unwrap();
    let done = h.core.complete_visit(&v.id).unwrap();
    assert_eq!(done.status, VisitStatus::Completed);
    // shelf: planogram no (0×2) + facings 3/6 (0.5×1) + photo (1×1) = 1.5/4 = 37.5
    // price: own price answered = 100; stock: low = 50. Total (2×37.5 + 100 + 50) / 4 = 56.25 → 56.3
    assert_eq!(done.score, Some(56.3));
    let d = h.core.visit_detail(&v.id).unwrap();
    let sections: Vec<_> = d.score.sections.iter().map(|s| s.score).collect();
    assert_eq!(sections, [Some(37.5), Some(100.0), Some(50.0)]);
    assert!(d.missing.is_empty());
});

both_backends!(a_completed_visit_cannot_change, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    fill_store_check(&h.core, &v.id);
    h.core.complete_visit(&v.id).unwrap();
    refused(&h.core, "visit_not_editable", || {
        h.core.answer(&v.id, "facings", &number(1.0), None)
    });
    refused(&h.core, "visit_not_editable", || {
        h.core.add_photo(
            &v.id,
            Some("shelf_photo"),
            PhotoKind::ShelfOverview,
            &photo_bytes(),
        )
    });
    refused(&h.core, "visit_not_editable", || {
        h.core.save_report(&v.id, &report())
    });
    refused(&h.core, "visit_not_editable", || h.core.complete_visit(&v.id));
    refused(&h.core, "visit_not_editable", || {
        h.core.cancel_visit(&v.id, "changed my mind")
    });
    // Still open: no second visit until check-out.
    refused(&h.core, "visit_already_open", || {
        check_in(&h.core, "rep-li", "st-002", None)
    });
    h.clock.advance(25 * 60_000);
    let out = h.core.check_out(&v.id, Some(&fix_st001())).unwrap();
    assert_eq!(out.status, VisitStatus::CheckedOut);
    assert_eq!(out.checked_out_at_ms, Some(T0 + 25 * 60_000));
    refused(&h.core, "visit_not_editable", || h.core.check_out(&v.id, None));
    refused(&h.core, "visit_not_editable", || {
        h.core.cancel_visit(&v.id, "late")
    });
    check_in(&h.core, "rep-li", "st-002", None).unwrap();
    let plan = h.core.day_plan("rep-li", DAY).unwrap();
    assert_eq!(
        plan[0].status,
        PlanStatus::NotStarted,
        "an unplanned visit does not tick the plan"
    );
});

both_backends!(check_out_needs_completion_and_flags_leaving_from_elsewhere, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    refused(&h.core, "visit_not_completed", || h.core.check_out(&v.id, None));
    fill_store_check(&h.core, &v.id);
    h.core.complete_visit(&v.id).unwrap();
    let mut bad = fix_st001();
    bad.latitude = f64::NAN;
    refused(&h.core, "invalid_location", || {
        h.core.check_out(&v.id, Some(&bad))
    });
    let out = h
        .core
        .check_out(&v.id, Some(&fix_near(31.2304, 121.52, 3_000.0, 10.0)))
        .unwrap();
    assert_eq!(codes(&out.flags), ["outside_geofence"]);
    assert_eq!(out.flags[0].item_id.as_deref(), Some("check_out"));
});

both_backends!(reports_and_photos_are_validated, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    let mut r = report();
    r.notes = "  ".into();
    refused(&h.core, "invalid_input", || h.core.save_report(&v.id, &r));
    let mut r = report();
    r.follow_up_date = Some("2026-11-31".into());
    refused(&h.core, "invalid_input", || h.core.save_report(&v.id, &r));
    let mut r = report();
    r.next_steps.push(" ".into());
    refused(&h.core, "invalid_input", || h.core.save_report(&v.id, &r));
    refused(&h.core, "image_empty", || {
        h.core.add_photo(&v.id, None, PhotoKind::Other, &[])
    });
    refused(&h.core, "not_jpeg", || {
        h.core
            .add_photo(&v.id, None, PhotoKind::Other, b"\x89PNG\r\n\x1a\n....")
    });
    refused(&h.core, "wrong_value_kind", || {
        h.core
            .add_photo(&v.id, Some("facings"), PhotoKind::Other, &photo_bytes())
    });
    refused(&h.core, "unknown_item", || {
        h.core
            .add_photo(&v.id, Some("nope"), PhotoKind::Other, &photo_bytes())
    });
    let p = h
        .core
        .add_photo(&v.id, None, PhotoKind::CompetitorCloseUp, &photo_bytes())
        .unwrap();
    let bytes = std::fs::read(&p.path).unwrap();
    assert_eq!(
        fieldproof_core::evidence::sha256_hex(&bytes),
        p.sha256,
        "stored file is the stamped image"
    );
    assert_ne!(bytes, photo_bytes());
    h.core.save_report(&v.id, &report()).unwrap();
    let mut r2 = report();
    r2.notes = "revised".into();
    h.core.save_report(&v.id, &r2).unwrap();
    assert_eq!(
        h.core.visit_detail(&v.id).unwrap().report.unwrap().notes,
        "revised"
    );
});

both_backends!(cancel_needs_a_reason_and_closes_the_visit, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    refused(&h.core, "invalid_input", || h.core.cancel_visit(&v.id, " "));
    let c = h.core.cancel_visit(&v.id, "门店装修，暂停营业").unwrap();
    assert_eq!(
        (c.status, c.cancel_reason.as_deref()),
        (VisitStatus::Cancelled, Some("门店装修，暂停营业"))
    );
    refused(&h.core, "visit_not_editable", || {
        h.core.answer(&v.id, "facings", &number(1.0), None)
    });
});

both_backends!(supervisor_inspects_and_reviews_their_team_only, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    refused(&h.core, "visit_not_completed", || {
        h.core.review_visit("sup-wang", &v.id, ReviewVerdict::Accept, "")
    });
    fill_store_check(&h.core, &v.id);
    h.core.complete_visit(&v.id).unwrap();
    refused(&h.core, "not_allowed", || {
        h.core.review_visit("sup-liu", &v.id, ReviewVerdict::Accept, "")
    });
    refused(&h.core, "not_allowed", || {
        h.core.review_visit("rep-chen", &v.id, ReviewVerdict::Accept, "")
    });
    refused(&h.core, "invalid_input", || {
        h.core.review_visit("sup-wang", &v.id, ReviewVerdict::Flag, " ")
    });
    refused(&h.core, "unknown_user", || {
        h.core.review_visit("sup-x", &v.id, ReviewVerdict::Accept, "")
    });
    h.core
        .review_visit(
            "sup-wang",
            &v.id,
            ReviewVerdict::Flag,
            "photo looks like the back office",
        )
        .unwrap();
    let ex = h.core.open_exceptions(10).unwrap();
    assert_eq!(
        ex.iter().map(|e| e.flag.code).collect::<Vec<_>>(),
        [FlagCode::SupervisorFlag]
    );
    h.core
        .review_visit("sup-wang", &v.id, ReviewVerdict::Accept, "checked with the store")
        .unwrap();
    assert!(h.core.open_exceptions(10).unwrap().is_empty());
    assert_eq!(h.core.visit_detail(&v.id).unwrap().reviews.len(), 2);

    // The supervisor's own inspection: the same flow over the inspection template, no report needed.
    let i = check_in(
        &h.core,
        "sup-wang",
        "st-002",
        Some(fix_near(31.2360, 121.5050, 0.0, 8.0)),
    )
    .unwrap();
    assert_eq!(
        (i.kind, i.template_id.as_str()),
        (TemplateKind::Inspection, "tpl-inspection")
    );
    h.core
        .answer(&i.id, "display_score", &choice("fair"), None)
        .unwrap();
    h.core.answer(&i.id, "pop_material", &yes_no(true), None).unwrap();
    let done = h.core.complete_visit(&i.id).unwrap();
    // (2×0.5 + 1×1) / 3 = 66.7
    assert_eq!(done.score, Some(66.7));
    let hist = h.core.store_history("st-002", 10).unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].kind, TemplateKind::Inspection);
});

both_backends!(clock_jump_against_boot_time_is_flagged, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    h.clock.advance(60_000);
    h.core.answer(&v.id, "facings", &number(4.0), None).unwrap();
    assert!(
        h.core.visit(&v.id).unwrap().flags.is_empty(),
        "time passing normally is not a jump"
    );
    // The rep sets the clock back two hours to make a late visit look on time.
    h.clock.set_wall(T0 - 2 * 3_600_000);
    let out = h.core.answer(&v.id, "facings", &number(5.0), None).unwrap();
    assert_eq!(codes(&out.flags), ["clock_jump"]);
    assert!(out.flags[0].detail.contains("-7260 s"), "{}", out.flags[0].detail);
    // The HLC still orders the later answer after the earlier ones.
    let ops = h.core.pending_ops(10).unwrap();
    assert!(ops.windows(2).all(|w| w[0].time.hlc < w[1].time.hlc));
    assert!(ops.last().unwrap().time.wall_ms < ops[0].time.wall_ms);
    // A reboot restarts boot time: not a jump.
    h.clock.reboot(5_000);
    h.clock.set_wall(T0 + 3 * 3_600_000);
    h.core.answer(&v.id, "facings", &number(6.0), None).unwrap();
    assert_eq!(h.core.visit(&v.id).unwrap().flags.len(), 1);
});

both_backends!(outbox_is_contiguous_and_payloads_are_self_contained, |h| {
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    fill_store_check(&h.core, &v.id);
    h.core.complete_visit(&v.id).unwrap();
    h.core.check_out(&v.id, None).unwrap();
    let ops = h.core.pending_ops(1_000).unwrap();
    let seqs: Vec<i64> = ops.iter().map(|o| o.seq).collect();
    assert_eq!(seqs, (1..=ops.len() as i64).collect::<Vec<_>>());
    let kinds: Vec<&str> = ops.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "visit.check_in",
            "visit.answer",
            "visit.answer",
            "visit.answer",
            "visit.answer",
            "visit.photo",
            "visit.report",
            "visit.complete",
            "visit.check_out"
        ]
    );
    for op in &ops {
        let p: serde_json::Value = serde_json::from_str(&op.payload_json).unwrap();
        assert!(
            p.as_object().is_some_and(|o| o.contains_key("visit_id")),
            "{}",
            op.kind
        );
        // The signed entry carries the payload and the event time.
        let e: serde_json::Value = serde_json::from_str(op.entry.as_deref().unwrap()).unwrap();
        assert_eq!(e["payload"], p, "{}", op.kind);
        assert_eq!(e["time"]["hlc"], op.time.hlc);
        assert_eq!(op.entity_id, v.id);
        assert_eq!(op.state, OutboxState::Pending);
    }
    let s = h.core.outbox_summary().unwrap();
    assert_eq!((s.pending, s.last_seq), (ops.len() as i32, ops.len() as i64));
    assert!(h.core.audit().unwrap().is_clean());
});

#[test]
fn file_database_keeps_everything_across_reopen() {
    let h = harness(Backend::File);
    let path = h.db_path().unwrap();
    let device = h.core.device_id().to_string();
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    fill_store_check(&h.core, &v.id);
    let before = h.core.pending_ops(100).unwrap();
    drop(h.core);
    let core = Core::open(&path).unwrap();
    assert_eq!(core.device_id(), device);
    assert_eq!(core.pending_ops(100).unwrap(), before);
    assert_eq!(core.visit(&v.id).unwrap().status, VisitStatus::InProgress);
    core.complete_visit(&v.id).unwrap();
    assert!(core.audit().unwrap().is_clean());
}

#[test]
fn photos_follow_the_database_when_its_folder_moves() {
    let h = harness(Backend::File);
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    let p = h
        .core
        .add_photo(
            &v.id,
            Some("shelf_photo"),
            PhotoKind::ShelfOverview,
            &photo_bytes(),
        )
        .unwrap();
    let old_dir = h.dir.as_ref().unwrap().path().to_path_buf();
    assert!(p.path.starts_with(old_dir.to_str().unwrap()));
    drop(h.core);
    // An iOS restore or update puts the app container somewhere else.
    let moved = tempfile::tempdir().unwrap();
    let new_dir = moved.path().join("container");
    std::fs::rename(&old_dir, &new_dir).unwrap();
    let core = Core::open(new_dir.join("fieldproof.db")).unwrap();
    let photos = core.visit_detail(&v.id).unwrap().photos;
    assert!(
        photos[0].path.starts_with(new_dir.to_str().unwrap()),
        "{}",
        photos[0].path
    );
    assert_eq!(
        fieldproof_core::evidence::sha256_hex(&std::fs::read(&photos[0].path).unwrap()),
        photos[0].sha256
    );
}

#[test]
fn an_in_memory_core_removes_its_temporary_photo_folder() {
    let core = Core::open_in_memory().unwrap();
    let dir = core.photo_dir().to_path_buf();
    assert!(dir.is_dir());
    drop(core);
    assert!(!dir.exists());
}
