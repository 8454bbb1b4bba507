use fieldproof_core::evidence::sha256_hex;
use serde_json::json;

use crate::common::*;

#[test]
fn a_photo_upload_resumes_across_a_server_restart() {
    let (dir, mut s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    let v = store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ev = phone.core.photo_evidence(&v.photo_id).unwrap();
    let bytes = std::fs::read(&ev.path).unwrap();
    let sha = sha256_hex(&bytes);
    let half = bytes.len() / 2;

    // The op arrives before its bytes: applied, photo expected, not yet verified.
    let r = phone.device.push(s.addr, &phone.ops());
    let body = r.json();
    assert_eq!(statuses(&body), vec!["applied"; 9]);
    let complete = &body["results"][7];
    assert!(
        complete["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "photo_missing"),
        "{body}"
    );
    assert_eq!(s.stats()["photos"], 1);
    assert_eq!(s.stats()["photos_received"], 0);

    let offer =
        json!({"sha256": sha, "size": bytes.len(), "entry": ev.manifest, "signature_hex": ev.signature_hex});
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.json()["offset"], 0);
    let r = phone.device.call(
        s.addr,
        "PUT",
        &format!("/v1/photos/{sha}?offset=0"),
        &bytes[..half],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["offset"], half);
    assert_eq!(r.json()["complete"], false);

    // A chunk at the wrong offset: 409 with where the upload stands.
    let r = phone
        .device
        .call(s.addr, "PUT", &format!("/v1/photos/{sha}?offset=0"), &bytes[..10]);
    assert_eq!((r.status, r.code().as_str()), (409, "offset_mismatch"));
    assert_eq!(r.json()["offset"], half);
    assert_eq!(r.json()["size"], bytes.len());

    // Crash and restart between chunks: the acknowledged half is still there.
    s.kill9();
    let s = Server::start(dir.path());
    let r = phone
        .device
        .call(s.addr, "GET", &format!("/v1/photos/{sha}"), b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["offset"], half);
    // Re-offering does not start over either.
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.json()["offset"], half);

    let r = phone.device.call(
        s.addr,
        "PUT",
        &format!("/v1/photos/{sha}?offset={half}"),
        &bytes[half..],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["complete"], true);
    assert_eq!(r.json()["offset"], bytes.len());

    let stats = s.stats();
    assert_eq!(stats["photos_received"], 1);
    assert_eq!(stats["photos_verified"], 1, "{stats}");
    assert_eq!(
        stats["open_exceptions"], 0,
        "photo_missing resolved when the bytes came: {stats}"
    );
    // Stored content-addressed, and offering it again sends nothing.
    assert!(
        dir.path()
            .join("photos")
            .join(&sha[..2])
            .join(format!("{sha}.jpg"))
            .exists()
    );
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.json()["complete"], true);
    let metrics = get(s.addr, "/metrics").text();
    assert!(
        metrics.contains("fieldproof_photos_completed_total 1"),
        "{metrics}"
    );
}

#[test]
fn the_same_shelf_photo_in_visits_of_two_devices_is_flagged_as_possible_reuse() {
    let (_dir, s) = server();
    let li = Phone::new();
    s.enrol_as(&li.device, "rep-li");
    let chen = Phone::new();
    s.enrol_as(&chen.device, "rep-chen");
    let a = store_check(&li.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    // rep-chen shares the territory; unplanned visit to another store, same source photo.
    let b = store_check(&chen.core, "rep-chen", "st-002", None, fix_at(31.2360, 121.5050));
    for (phone, v) in [(&li, &a), (&chen, &b)] {
        assert_eq!(phone.upload_photo(s.addr, &v.photo_id, 2)["complete"], true);
        let r = phone.device.push(s.addr, &phone.ops());
        assert_eq!(statuses(&r.json()), vec!["applied"; 9]);
    }
    let reuse: Vec<_> = s
        .exceptions()
        .into_iter()
        .filter(|e| e["code"] == "possible_reuse")
        .collect();
    assert_eq!(reuse.len(), 1, "{reuse:?}");
    let e = &reuse[0];
    assert_eq!(e["visit_id"], b.visit_id.as_str());
    assert_eq!(e["device_id"], chen.device.id());
    let detail = e["detail"].as_str().unwrap();
    assert!(
        detail.contains(&a.photo_id) && detail.contains(&b.photo_id),
        "{detail}"
    );
    assert!(detail.contains(&a.visit_id), "{detail}");
    // The stamped photos differ (other store, rep, time), so it is the pixels that matched.
    let ea = li.core.photo_evidence(&a.photo_id).unwrap();
    let eb = chen.core.photo_evidence(&b.photo_id).unwrap();
    assert_ne!(std::fs::read(ea.path).unwrap(), std::fs::read(eb.path).unwrap());
}
