use fieldproof_core::evidence::sha256_hex;
use serde_json::{Value, json};

use crate::common::*;

/// rep-li's phone, enrolled, after a store check with a shelf photo: the photo's evidence
/// and bytes.
fn rep_li_with_a_photo(s: &Server) -> (Phone, fieldproof_core::PhotoEvidence, Vec<u8>) {
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    let v = store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let ev = phone.core.photo_evidence(&v.photo_id).unwrap();
    let bytes = std::fs::read(&ev.path).unwrap();
    (phone, ev, bytes)
}

#[test]
fn a_photo_upload_resumes_across_a_server_restart() {
    let (dir, mut s) = server();
    let (phone, ev, bytes) = rep_li_with_a_photo(&s);
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
    let photos = photo_store(dir.path());
    assert!(photos.exists(&format!("photos/{}/{sha}.jpg", &sha[..2])).unwrap());
    // The gallery's preview was made with it, before the upload answered "complete".
    let thumb = photos
        .get(&format!("thumbs/{}/{sha}.jpg", &sha[..2]))
        .unwrap()
        .expect("thumbnail made at upload");
    let t = fieldproof_core::imaging::thumbnail(&thumb, u32::MAX, 90).unwrap();
    assert!(
        t.width.max(t.height) <= 320 && t.width.max(t.height) >= 300,
        "{}x{}",
        t.width,
        t.height
    );
    assert!(
        thumb.len() * 10 < bytes.len(),
        "{} of {} bytes",
        thumb.len(),
        bytes.len()
    );
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.json()["complete"], true);
    let metrics = get(s.addr, "/metrics").text();
    assert!(
        metrics.contains("fieldproof_photos_completed_total 1"),
        "{metrics}"
    );
}

/// A phone that never finishes an upload does not hold the server's disk or bucket forever: the
/// sweep removes the partial bytes and the record of uploads older than its age (and no
/// younger one), and the phone, coming back, is told to start from zero and completes.
#[test]
fn an_abandoned_upload_is_removed_and_the_photo_is_sent_again_from_the_start() {
    let (dir, s) = server();
    let (phone, ev, bytes) = rep_li_with_a_photo(&s);
    let sha = sha256_hex(&bytes);
    let half = bytes.len() / 2;
    let r = phone.device.push(s.addr, &phone.ops());
    assert_eq!(statuses(&r.json()), vec!["applied"; 9]);
    let offer =
        json!({"sha256": sha, "size": bytes.len(), "entry": ev.manifest, "signature_hex": ev.signature_hex});
    assert_eq!(
        phone
            .device
            .call_json(s.addr, "POST", "/v1/photos", &offer)
            .json()["offset"],
        0
    );
    let r = phone.device.call(
        s.addr,
        "PUT",
        &format!("/v1/photos/{sha}?offset=0"),
        &bytes[..half],
    );
    assert_eq!(r.json()["offset"], half, "{}", r.text());
    let photos = photo_store(dir.path());
    assert_eq!(photos.upload_len(&sha).unwrap(), half as u64);

    let sweep = |hours: &str| -> Value {
        serde_json::from_str(&s.admin(&["sweep-uploads", "--older-than-hours", hours])).unwrap()
    };
    // Younger than a day: kept.
    assert_eq!(sweep("24"), json!({"uploads": 0, "bytes": 0}));
    assert_eq!(s.stats()["uploads_in_progress"], 1);
    assert_eq!(photos.upload_len(&sha).unwrap(), half as u64);
    // Any age: removed, bytes and record.
    assert_eq!(sweep("0"), json!({"uploads": 1, "bytes": half}));
    assert_eq!(s.stats()["uploads_in_progress"], 0);
    assert_eq!(photos.upload_len(&sha).unwrap(), 0);
    assert_eq!(sweep("0"), json!({"uploads": 0, "bytes": 0}));
    let r = phone
        .device
        .call(s.addr, "GET", &format!("/v1/photos/{sha}"), b"");
    assert_eq!(r.status, 404, "{}", r.text());

    // The phone comes back: offered again, from zero, and completed.
    assert_eq!(
        phone
            .device
            .call_json(s.addr, "POST", "/v1/photos", &offer)
            .json()["offset"],
        0
    );
    let r = phone
        .device
        .call(s.addr, "PUT", &format!("/v1/photos/{sha}?offset=0"), &bytes);
    assert_eq!(r.json()["complete"], true, "{}", r.text());
    let stats = s.stats();
    assert_eq!(stats["photos_verified"], 1, "{stats}");
    assert_eq!(stats["open_exceptions"], 0, "{stats}");
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
    // The data itself is structured: the photo, and the one earlier photo it looks like.
    let p = &e["params"];
    assert_eq!(p["photo_id"], b.photo_id.as_str());
    assert_eq!(p["matches_total"], 1);
    let m = &p["matches"][0];
    assert_eq!(m["photo_id"], a.photo_id.as_str());
    assert_eq!(m["visit_id"], a.visit_id.as_str());
    assert_eq!(
        (m["user_id"].as_str(), m["device_id"].as_str()),
        (Some("rep-li"), Some(li.device.id()))
    );
    assert!(m["distance"].as_u64().is_some_and(|d| d <= 12), "{p}");
    // The stamped photos differ (other store, rep, time), so it is the pixels that matched.
    let ea = li.core.photo_evidence(&a.photo_id).unwrap();
    let eb = chen.core.photo_evidence(&b.photo_id).unwrap();
    assert_ne!(std::fs::read(ea.path).unwrap(), std::fs::read(eb.path).unwrap());
}

/// Two server processes on one database and one photo folder (replicas): a photo stored
/// through one is in the other's reuse check, although the other loaded its index before that
/// photo existed.
#[test]
fn a_photo_stored_through_one_replica_is_in_the_reuse_check_of_another() {
    let (dir, s1) = server();
    let s2 = Server::start(dir.path());
    let li = Phone::new();
    s1.enrol_as(&li.device, "rep-li");
    let chen = Phone::new();
    s2.enrol_as(&chen.device, "rep-chen");
    let a = store_check(&li.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let b = store_check(&chen.core, "rep-chen", "st-002", None, fix_at(31.2360, 121.5050));
    for (phone, v, s) in [(&li, &a, &s1), (&chen, &b, &s2)] {
        assert_eq!(phone.upload_photo(s.addr, &v.photo_id, 2)["complete"], true);
        let r = phone.device.push(s.addr, &phone.ops());
        assert_eq!(statuses(&r.json()), vec!["applied"; 9]);
    }
    let reuse: Vec<_> = s1
        .exceptions()
        .into_iter()
        .filter(|e| e["code"] == "possible_reuse")
        .collect();
    assert_eq!(reuse.len(), 1, "{reuse:?}");
    let p = &reuse[0]["params"];
    assert_eq!(p["photo_id"], b.photo_id.as_str());
    assert_eq!(p["matches_total"], 1);
    assert_eq!(p["matches"][0]["photo_id"], a.photo_id.as_str());
}

/// The finding of issue 9: 82 photos of one shelf (one source photo, stamped per visit, so 82
/// near-duplicates) made 3,280 open exceptions, one per pair. Now each photo's bytes raise at
/// most one, listing the closest earlier photos of other visits (at most 20) and how many
/// there are. Half the visits' ops arrive before their photos' bytes, half after.
#[test]
fn eighty_two_photos_of_one_scene_make_at_most_eighty_two_exceptions() {
    const PHOTOS: usize = 82;
    const LISTED: usize = 20;
    let (_dir, s) = server();
    let li = Phone::new();
    s.enrol_as(&li.device, "rep-li");
    let visits: Vec<VisitOutcome> = (0..PHOTOS)
        .map(|_| store_check(&li.core, "rep-li", "st-001", None, fix_st001()))
        .collect();
    let ops = li.ops();
    assert_eq!(ops.len(), PHOTOS * 9);
    let (before, after) = ops.split_at(PHOTOS / 2 * 9);
    for batch in before.chunks(300) {
        let r = li.device.push(s.addr, batch);
        assert!(
            statuses(&r.json()).iter().all(|st| st == "applied"),
            "{}",
            r.text()
        );
    }
    for v in &visits {
        assert_eq!(li.upload_photo(s.addr, &v.photo_id, 1)["complete"], true);
    }
    for batch in after.chunks(300) {
        let r = li.device.push(s.addr, batch);
        assert!(
            statuses(&r.json()).iter().all(|st| st == "applied"),
            "{}",
            r.text()
        );
    }

    let reuse: Vec<Value> = s
        .exceptions()
        .into_iter()
        .filter(|e| e["code"] == "possible_reuse")
        .collect();
    assert!(reuse.len() <= PHOTOS, "{} exceptions", reuse.len());
    // The first photo had nothing earlier to look like; every later one has all before it.
    assert_eq!(reuse.len(), PHOTOS - 1);
    let mut totals = Vec::new();
    for e in &reuse {
        let p = &e["params"];
        let sha = p["sha256"].as_str().unwrap();
        assert_eq!(e["photo_sha256"], sha);
        let i = visits
            .iter()
            .position(|v| v.visit_id == e["visit_id"].as_str().unwrap())
            .unwrap();
        assert_eq!(p["photo_id"], visits[i].photo_id.as_str());
        // Uploaded in visit order: photo i looks like the i photos before it.
        assert_eq!(p["matches_total"], i, "{p}");
        let matches = p["matches"].as_array().unwrap();
        assert_eq!(matches.len(), i.min(LISTED), "{p}");
        let earlier: Vec<&str> = visits[..i].iter().map(|v| v.visit_id.as_str()).collect();
        let mut last = 0;
        for m in matches {
            assert!(earlier.contains(&m["visit_id"].as_str().unwrap()), "{m}");
            assert_eq!(m["user_id"], "rep-li");
            assert_eq!(m["device_id"], li.device.id());
            let d = m["distance"].as_u64().unwrap();
            assert!(d >= last && d <= 12, "closest first, within the threshold: {p}");
            last = d;
        }
        totals.push(i);
    }
    totals.sort_unstable();
    assert_eq!(totals, (1..PHOTOS).collect::<Vec<_>>());
}
