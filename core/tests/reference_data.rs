#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Malformed reference data: the whole load is refused, the bad record is named, nothing is written.

mod common;

use common::*;
use fieldproof_core::*;

fn refused(data: &ReferenceData, record: &str, reason: &str) {
    let h = harness(Backend::Memory);
    let before = (
        h.core.stores(None).unwrap(),
        h.core.day_plan("rep-li", DAY).unwrap(),
    );
    let err = h.core.load_reference_data(data).expect_err("must be refused");
    assert_eq!(err.code(), "bad_reference_data");
    let Error::BadReferenceData {
        record: r,
        reason: why,
    } = &err
    else {
        panic!("{err}")
    };
    assert!(r.contains(record), "record {r:?} should name {record:?}");
    assert!(why.contains(reason), "reason {why:?} should say {reason:?}");
    assert_eq!(
        (
            h.core.stores(None).unwrap(),
            h.core.day_plan("rep-li", DAY).unwrap()
        ),
        before
    );
}

/// A load with one good new store in front, so "nothing written" also covers the good records.
fn with_new_store() -> ReferenceData {
    let mut d = reference();
    let mut s = d.stores[0].clone();
    s.id = "st-new".into();
    s.code = "SH-E-NEW".into();
    d.stores.insert(0, s);
    d
}

#[test]
fn a_good_load_reports_its_counts_and_is_repeatable() {
    let h = harness(Backend::Memory);
    let s = h.core.load_reference_json(REFERENCE_JSON).unwrap();
    assert_eq!(
        (s.users, s.stores, s.products, s.templates, s.plans),
        (5, 4, 2, 2, 4)
    );
    assert_eq!(h.core.stores(Some("shanghai-east")).unwrap().len(), 3);
}

#[test]
fn bad_stores_are_named() {
    let mut d = with_new_store();
    d.stores[2].latitude = 200.0;
    refused(
        &d,
        "stores[2] (code \"SH-E-002\")",
        "latitude 200 is out of range",
    );
    let mut d = with_new_store();
    d.stores[1].longitude = f64::NAN;
    refused(&d, "stores[1]", "longitude NaN");
    let mut d = with_new_store();
    d.stores[3].code = "SH-E-NEW".into();
    refused(&d, "stores[3]", "duplicate code");
    let mut d = with_new_store();
    d.stores[1].code = "".into();
    refused(&d, "stores[1]", "code is empty");
    let mut d = with_new_store();
    d.stores[1].geofence_radius_m = 0.0;
    refused(&d, "stores[1]", "geofence_radius_m");
}

#[test]
fn bad_users_products_plans_and_templates_are_named() {
    let mut d = with_new_store();
    d.users[0].territory = None;
    refused(&d, "users[0]", "needs a territory");
    let mut d = with_new_store();
    d.users[1].supervisor_id = Some("rep-li".into());
    refused(&d, "users[1]", "is a rep");
    let mut d = with_new_store();
    d.products[1].sku = d.products[0].sku.clone();
    refused(&d, "products[1]", "duplicate sku");
    let mut d = with_new_store();
    d.plans[2].store_id = "st-nowhere".into();
    refused(
        &d,
        "plans[2] (id \"plan-li-3\")",
        "store_id \"st-nowhere\" is unknown",
    );
    let mut d = with_new_store();
    d.plans[0].date = "2026-13-01".into();
    refused(&d, "plans[0]", "date");
    let mut d = with_new_store();
    d.plans[0].rep_id = "sup-wang".into();
    refused(&d, "plans[0]", "is a supervisor");
    let mut d = with_new_store();
    d.plans[0].window_start = Some("11:00".into());
    d.plans[0].window_end = Some("09:30".into());
    refused(&d, "plans[0]", "window: the window's start is not before its end");
    let mut d = with_new_store();
    d.plans[0].window_start = Some("9h".into());
    d.plans[0].window_end = Some("10:00".into());
    refused(&d, "plans[0]", "window: \"9h\" is not a time HH:MM");
    let mut d = with_new_store();
    d.plans[0].window_end = Some("10:00".into());
    refused(&d, "plans[0]", "window: a window needs both a start and an end");
    let mut d = with_new_store();
    d.plans[0].template_id = "tpl-inspection".into();
    refused(&d, "plans[0]", "inspection template");
    let mut d = with_new_store();
    d.templates[0].sections[0].items[1]
        .show_if
        .as_mut()
        .unwrap()
        .item_id = "backroom".into();
    refused(
        &d,
        "templates[0] (id \"tpl-store-check\" v1) sections[0]",
        "not an earlier item",
    );
    let mut d = with_new_store();
    d.templates[0].sections[0].items[1]
        .show_if
        .as_mut()
        .unwrap()
        .equals = AnswerValue::Number { value: 1.0 };
    refused(&d, "items[1] (id \"shelf_issue\")", "show_if value is number");
    let mut d = with_new_store();
    d.templates[0].sections[0].items[1].choices.clear();
    refused(&d, "items[1]", "needs choices");
    let mut d = with_new_store();
    d.templates[0].rules.price_gap_threshold = 1.5;
    refused(&d, "templates[0]", "price_gap_threshold");
    let mut d = with_new_store();
    d.templates[0].sections[1].items[1].compare_to_item_id = Some("facings".into());
    refused(&d, "items[1] (id \"comp_price\")", "not a price item");
    let mut d = with_new_store();
    d.templates[0].sections[2].items[0].id = "facings".into();
    refused(&d, "items[0] (id \"facings\")", "duplicate item id");
}

#[test]
fn a_published_template_version_is_immutable() {
    let mut d = with_new_store();
    d.templates[0].sections[0].items[0].weight = 5.0;
    refused(&d, "templates[0]", "publish a new version");
    // A new version is fine, and new visits use it.
    let h = harness(Backend::Memory);
    let mut d = reference();
    d.templates[0].version = 2;
    d.templates[0].sections[0].items[0].label = "陈列符合标准？".into();
    h.core.load_reference_data(&d).unwrap();
    let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    assert_eq!(v.template_version, 2);
}

#[test]
fn malformed_json_and_wrong_types_are_refused() {
    let h = harness(Backend::Memory);
    for (json, needle) in [
        ("{\"stores\": [", "EOF"),
        ("{\"stores\": [{\"id\": \"x\"}]}", "missing field"),
        (
            "{\"stores\": [{\"id\":\"x\",\"code\":\"X\",\"name\":\"n\",\"latitude\":\"north\",\"longitude\":1,\
              \"geofence_radius_m\":10,\"territory\":\"t\"}]}",
            "invalid type",
        ),
        ("[]", "not a JSON object"),
    ] {
        let err = h.core.load_reference_json(json).expect_err(json);
        assert_eq!(err.code(), "bad_reference_data");
        assert!(err.to_string().contains(needle), "{err}");
    }
    assert_eq!(h.core.stores(None).unwrap().len(), 4);
}

#[test]
fn a_plan_window_reaches_the_day_plan_and_old_plans_have_none() {
    let h = harness(Backend::Memory);
    // Reference data from before windows existed loads: no window on any stop.
    h.core.load_reference_json(REFERENCE_JSON).unwrap();
    let day = h.core.day_plan("rep-li", DAY).unwrap();
    assert!(!day.is_empty());
    assert!(
        day.iter()
            .all(|e| e.window_start.is_none() && e.window_end.is_none())
    );
    let mut d = reference();
    let id = day[0].plan_id.clone();
    let p = d.plans.iter_mut().find(|p| p.id == id).unwrap();
    p.window_start = Some("09:00".into());
    p.window_end = Some("10:30".into());
    // The window survives the JSON the server sends.
    let json = serde_json::to_string(&d).unwrap();
    let back: ReferenceData = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d);
    h.core.load_reference_data(&d).unwrap();
    let day = h.core.day_plan("rep-li", DAY).unwrap();
    let e = day.iter().find(|e| e.plan_id == id).unwrap();
    assert_eq!(
        (e.window_start.as_deref(), e.window_end.as_deref()),
        (Some("09:00"), Some("10:30"))
    );
    assert!(
        day.iter()
            .filter(|e| e.plan_id != id)
            .all(|e| e.window_start.is_none())
    );
}
