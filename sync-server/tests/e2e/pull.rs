use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::*;

fn ids(changes: &[Value], kind: &str) -> BTreeSet<String> {
    changes
        .iter()
        .filter(|c| c["kind"] == kind)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn pulls_are_scoped_to_the_user_and_team_visits_reach_only_the_supervisor() {
    let (_dir, s) = server();
    let li = Phone::new();
    s.enrol_as(&li.device, "rep-li");
    let zhao = s.enrolled("rep-zhao");
    let wang = s.enrolled("sup-wang");
    let liu = s.enrolled("sup-liu");

    let rep = li.device.pull_all(s.addr);
    assert_eq!(ids(&rep, "user"), set(&["rep-li", "sup-wang"]));
    assert_eq!(ids(&rep, "store"), set(&["st-001", "st-002", "st-003"]));
    assert_eq!(ids(&rep, "plan"), set(&["plan-li-1", "plan-li-2", "plan-li-3"]));
    assert_eq!(ids(&rep, "product"), set(&["p-comp-500", "p-own-500"]));
    assert_eq!(ids(&rep, "template"), set(&["tpl-inspection", "tpl-store-check"]));
    // Oldest first, strictly increasing, and each page applies on its own: a rep's supervisor
    // comes before the rep.
    let seqs: Vec<i64> = rep.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let pos = |id: &str| rep.iter().position(|c| c["id"] == id).unwrap();
    assert!(pos("sup-wang") < pos("rep-li"));

    let z = zhao.pull_all(s.addr);
    assert_eq!(ids(&z, "store"), set(&["st-101"]));
    assert_eq!(ids(&z, "plan"), set(&["plan-zhao-1"]));

    let sup = wang.pull_all(s.addr);
    assert_eq!(ids(&sup, "user"), set(&["sup-wang", "rep-li", "rep-zhao"]));
    assert_eq!(ids(&sup, "store"), set(&["st-001", "st-002", "st-003", "st-101"]));
    assert_eq!(
        ids(&sup, "plan"),
        set(&["plan-li-1", "plan-li-2", "plan-li-3", "plan-zhao-1"])
    );
    assert!(ids(&sup, "team_visit").is_empty());
    let other_sup = liu.pull_all(s.addr);
    assert_eq!(ids(&other_sup, "user"), set(&["sup-liu", "rep-chen"]));
    assert_eq!(ids(&other_sup, "store"), set(&["st-001", "st-002", "st-003"]));
    assert!(ids(&other_sup, "plan").is_empty());

    // rep-li visits a store; the summary goes to sup-wang only.
    let v = store_check(&li.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    li.upload_photo(s.addr, &v.photo_id, 1);
    let r = li.device.push(s.addr, &li.ops());
    assert_eq!(statuses(&r.json()), vec!["applied"; 9]);

    let page = |d: &Device, cursor: i64| {
        let r = d.call(
            s.addr,
            "GET",
            &format!("/v1/pull?cursor={cursor}&limit=1000"),
            b"",
        );
        assert_eq!(r.status, 200);
        r.json()
    };
    let last = |changes: &[Value]| changes.last().map_or(0, |c| c["seq"].as_i64().unwrap());
    let news = page(&wang.clone(), last(&sup));
    let visits: Vec<&Value> = news["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "team_visit")
        .collect();
    assert!(!visits.is_empty());
    let latest = &visits.last().unwrap()["body"];
    assert_eq!(latest["visit_id"], v.visit_id.as_str());
    assert_eq!(latest["rep_id"], "rep-li");
    assert_eq!(latest["status"], "checked_out");
    assert_eq!(latest["geofence"], "verified");
    assert_eq!(latest["answers"], 4);
    assert_eq!(latest["photos"][0]["photo_id"], v.photo_id.as_str());
    assert_eq!(latest["photos"][0]["verified"], true);
    assert!(
        latest["report_summary"]
            .as_str()
            .unwrap()
            .contains("shelf in order")
    );
    assert_eq!(latest["exceptions"], serde_json::json!([]));
    // No one else sees it.
    for (d, seen) in [(&li.device, &rep), (&zhao, &z), (&liu, &other_sup)] {
        let news = page(d, last(seen));
        assert!(
            news["changes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["kind"] != "team_visit"),
            "{news}"
        );
        assert_eq!(news["has_more"], false);
    }
}

#[test]
fn a_plan_outside_the_reps_territory_brings_its_store() {
    let (dir, s) = server();
    let li = s.enrolled("rep-li");
    let first = li.pull_all(s.addr);
    assert!(!ids(&first, "store").contains("st-101"));
    // Head office plans rep-li into the west.
    let extra = dir.path().join("extra.json");
    std::fs::write(
        &extra,
        r#"{"plans": [{"id": "plan-li-west", "rep_id": "rep-li", "store_id": "st-101", "date": "2026-11-24",
            "template_id": "tpl-store-check", "sequence": 1}]}"#,
    )
    .unwrap();
    s.admin(&["load-reference", extra.to_str().unwrap()]);
    let cursor = first.last().unwrap()["seq"].as_i64().unwrap();
    let r = li.call(s.addr, "GET", &format!("/v1/pull?cursor={cursor}"), b"");
    let news = r.json();
    let kinds: Vec<(&str, &str)> = news["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap(), c["id"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, vec![("store", "st-101"), ("plan", "plan-li-west")]);
}
