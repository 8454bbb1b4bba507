//! End to end: the real `fieldproof-server` binary on loopback (its SQLite default, or
//! PostgreSQL and a bucket in the test command's scaled pass), three real cores on file
//! databases (two reps in different territories, their supervisor), a full day each, synced
//! over real HTTP; then the server's own database and photo store are read and compared with
//! what the devices hold.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fieldproof_core::*;
use fieldproof_tests::day::{self, DayClock, Trouble};
use fieldproof_tests::server::ServerProcess;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The fixture with its plans moved to the reps' today (Shanghai time).
fn reference_for_today() -> (ReferenceData, String) {
    let mut r: ReferenceData =
        serde_json::from_str(fieldproof_tests::REFERENCE_JSON).expect("fixture parses");
    let today = clock::civil_date(SystemClock.wall_ms(), 480);
    for p in &mut r.plans {
        p.date = today.clone();
    }
    (r, today)
}

fn load_reference(server: &ServerProcess, dir: &Path, data: &ReferenceData) {
    let file = dir.join("reference.json");
    std::fs::write(&file, serde_json::to_string(data).expect("serializes")).expect("write");
    server
        .admin(&["load-reference", file.to_str().expect("utf-8 path")])
        .expect("reference loads");
}

#[test]
fn two_reps_and_a_supervisor_sync_a_full_day_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("server-data");
    let server = ServerProcess::start(&data).expect("server starts");
    let (reference, today) = reference_for_today();
    load_reference(&server, dir.path(), &reference);
    let rt = runtime();

    // --- three phones, enrolled with one-time codes; the first sync brings their reference data
    let devices = [("rep-li", "li"), ("rep-zhao", "zhao"), ("sup-wang", "wang")];
    let mut cores = BTreeMap::new();
    for (user, name) in devices {
        let clock = DayClock::real_time();
        let db = dir.path().join(format!("{name}.db"));
        let core = day::open_core(&db, &clock).expect("core opens");
        let code = server.enrol_code(user).expect("enrol code");
        let enrolled = rt.block_on(core.enrol(&server.url(), &code)).expect("enrols");
        assert_eq!(enrolled.id, user);
        // Enrolment is idempotent for the device that used the code (its answer may have been
        // lost), and refused for any other device.
        let again = rt
            .block_on(core.enrol(&server.url(), &code))
            .expect("same device again");
        assert_eq!(again.id, user);
        let thief = Core::open_in_memory().expect("core");
        let stolen = rt.block_on(thief.enrol(&server.url(), &code));
        assert!(
            stolen.is_err(),
            "a used enrolment code must be refused to another device"
        );
        let first = rt.block_on(core.sync()).expect("first sync");
        assert!(first.pulled > 0, "{name} pulled nothing");
        cores.insert(name, (core, clock, db));
    }

    // Scoped download: each rep got exactly their territory's stores.
    let store_ids = |name: &str| -> BTreeSet<String> {
        cores[name]
            .0
            .stores(None)
            .expect("stores")
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(
        store_ids("li"),
        BTreeSet::from(["st-001".into(), "st-002".into(), "st-003".into()])
    );
    assert_eq!(store_ids("zhao"), BTreeSet::from(["st-101".into()]));
    assert_eq!(
        store_ids("wang").len(),
        4,
        "supervisor sees the team's territories"
    );
    assert_eq!(cores["li"].0.day_plan("rep-li", &today).expect("plan").len(), 3);

    // --- the day -----------------------------------------------------------------------------
    let store = |name: &str, id: &str| -> Store {
        cores[name]
            .0
            .stores(None)
            .expect("stores")
            .into_iter()
            .find(|s| s.id == id)
            .expect("store in scope")
    };
    let shared_photo = day::distinct_photo(0);
    let (li, li_clock, _) = &cores["li"];
    // Stop 1: clean, two photos.
    let li1 = day::store_check(
        li,
        li_clock,
        "rep-li",
        &store("li", "st-001"),
        Some("plan-li-1"),
        &[shared_photo.clone(), day::distinct_photo(1)],
        Trouble::default(),
    )
    .expect("li stop 1");
    // Stop 2: checked in 600 m away with a mock-location app.
    let li2 = day::store_check(
        li,
        li_clock,
        "rep-li",
        &store("li", "st-002"),
        Some("plan-li-2"),
        &[day::distinct_photo(2)],
        Trouble {
            outside_geofence: true,
            mock_location: true,
            price_gap_unexplained: false,
        },
    )
    .expect("li stop 2");
    // Stop 3: a competitor 25 % cheaper and no note: completion stays locked, visit cancelled.
    let li3 = day::store_check(
        li,
        li_clock,
        "rep-li",
        &store("li", "st-003"),
        Some("plan-li-3"),
        &[day::distinct_photo(3)],
        Trouble {
            price_gap_unexplained: true,
            ..Trouble::default()
        },
    )
    .expect("li stop 3");

    let (zhao, zhao_clock, _) = &cores["zhao"];
    let zhao1 = day::store_check(
        zhao,
        zhao_clock,
        "rep-zhao",
        &store("zhao", "st-101"),
        Some("plan-zhao-1"),
        &[day::distinct_photo(4)],
        Trouble::default(),
    )
    .expect("zhao stop 1");
    // An unplanned second visit "documented" with 李娜's shelf photo from this morning.
    let zhao2 = day::store_check(
        zhao,
        zhao_clock,
        "rep-zhao",
        &store("zhao", "st-101"),
        None,
        std::slice::from_ref(&shared_photo),
        Trouble::default(),
    )
    .expect("zhao stop 2");

    let (wang, wang_clock, _) = &cores["wang"];
    let inspection = day::inspection(
        wang,
        wang_clock,
        "sup-wang",
        &store("wang", "st-001"),
        Some(&day::distinct_photo(5)),
    )
    .expect("inspection");

    // --- sync everyone -----------------------------------------------------------------------
    let mut photos_sent = 0;
    for name in ["li", "zhao", "wang"] {
        let core = &cores[name].0;
        let pending = core.outbox_summary().expect("summary").pending;
        let report = rt.block_on(core.sync()).expect("sync");
        println!(
            "{name}: pushed {} dup {} rejected {} photos {} ({} B) pulled {} exceptions {:?}",
            report.pushed,
            report.duplicates,
            report.rejected.len(),
            report.photos_sent,
            report.photo_bytes_sent,
            report.pulled,
            report
                .exceptions
                .iter()
                .map(|e| e.code.as_str())
                .collect::<Vec<_>>()
        );
        assert_eq!(report.pushed, pending, "{name}: every pending op applied");
        assert_eq!(report.duplicates, 0);
        assert!(report.rejected.is_empty(), "{name}: {:?}", report.rejected);
        assert_eq!(report.pending, 0);
        photos_sent += report.photos_sent;
        let s = core.outbox_summary().expect("summary");
        assert_eq!((s.pending, s.rejected), (0, 0), "{name}: outbox drained");
    }
    assert_eq!(photos_sent, 7);

    // A second sync sends nothing: every op is acknowledged.
    for name in ["li", "zhao"] {
        let r = rt.block_on(cores[name].0.sync()).expect("sync again");
        assert_eq!((r.pushed, r.duplicates, r.photos_sent), (0, 0, 0), "{name}");
    }

    // The supervisor's phone now holds the team's visits with their verified photos, for review
    // with no signal.
    rt.block_on(wang.sync()).expect("supervisor pulls");
    let team = wang.team_visits(None, 100).expect("team visits");
    let team_ids: BTreeSet<&str> = team.iter().map(|v| v.visit_id.as_str()).collect();
    for v in [&li1, &li2, &li3, &zhao1, &zhao2] {
        assert!(team_ids.contains(v.visit_id.as_str()), "{} missing", v.visit_id);
    }
    let li1_team = team.iter().find(|v| v.visit_id == li1.visit_id).expect("li1");
    assert_eq!(li1_team.photos.len(), 2);
    assert!(li1_team.photos.iter().all(|p| p.verified), "{li1_team:?}");
    let li2_team = team.iter().find(|v| v.visit_id == li2.visit_id).expect("li2");
    assert!(li2_team.exceptions.iter().any(|e| e == "outside_geofence"));
    // Reps get no team visits.
    assert!(li.team_visits(None, 100).expect("none").is_empty());

    // --- the server's data, read from its database (SQLite or PostgreSQL) and photo store -----
    let db = server.records().expect("server db");
    let mut all_device_ops = 0;
    for (name, (core, _, device_db)) in &cores {
        let mine = fieldproof_tests::fleet::device_outbox(device_db);
        let theirs = db.device_ops(core.device_id());
        assert_eq!(mine, theirs, "{name}: every op exactly once, byte for byte");
        let seqs: Vec<i64> = theirs.iter().map(|o| o.1).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
        all_device_ops += mine.len();
    }
    let server_ops = db.count("SELECT count(*) FROM ops");
    assert_eq!(server_ops as usize, all_device_ops);
    let rejected = db.count("SELECT count(*) FROM rejected_ops");
    assert_eq!(rejected, 0);

    // Photos: every device photo once, stored bytes hash to their name, all verified.
    let device_photos: BTreeSet<String> = [&li1, &li2, &li3, &zhao1, &zhao2, &inspection]
        .iter()
        .flat_map(|v| v.photos.iter().map(|p| p.sha256.clone()))
        .collect();
    assert_eq!(device_photos.len(), 7);
    let server_photos: Vec<(String, i64, i64)> =
        db.query("SELECT sha256, received, verified FROM photos", &[]);
    assert_eq!(server_photos.len(), 7);
    assert!(
        server_photos.iter().all(|p| p.1 == 1 && p.2 == 1),
        "{server_photos:?}"
    );
    assert_eq!(
        server_photos.iter().map(|p| p.0.clone()).collect::<BTreeSet<_>>(),
        device_photos
    );
    let stored = server.stored_photos().expect("stored photos");
    assert_eq!(stored, device_photos);

    // Exceptions where the data has them, and nowhere else.
    let exceptions: BTreeSet<(String, String)> = db
        .query("SELECT code, coalesce(visit_id, '') FROM exceptions", &[])
        .into_iter()
        .collect();
    println!("server exceptions: {exceptions:?}");
    let has = |code: &str, visit: &str| exceptions.contains(&(code.to_string(), visit.to_string()));
    assert!(has("outside_geofence", &li2.visit_id));
    assert!(has("mock_location", &li2.visit_id));
    assert!(has("price_gap_unexplained", &li3.visit_id));
    assert!(
        has("possible_reuse", &zhao2.visit_id) || has("possible_reuse", &li1.visit_id),
        "the photo 李娜 took and 赵强 submitted again is caught across reps"
    );
    let planted: BTreeSet<&str> = [&li2.visit_id, &li3.visit_id, &zhao2.visit_id, &li1.visit_id]
        .into_iter()
        .map(String::as_str)
        .collect();
    for (code, visit) in &exceptions {
        assert!(
            planted.contains(visit.as_str()),
            "unexpected exception {code} on {visit}"
        );
        assert!(
            ![
                "chain_gap",
                "chain_fork",
                "reordered",
                "backdated",
                "bad_signature",
                "clock_skew"
            ]
            .contains(&code.as_str()),
            "honest devices produced {code}"
        );
    }
    for clean in [&zhao1, &inspection] {
        assert!(
            !exceptions.iter().any(|(_, v)| v == &clean.visit_id),
            "clean visit {} has exceptions",
            clean.visit_id
        );
    }

    // The server agrees with itself after a restart.
    let stats = server.stats().expect("stats");
    assert_eq!(stats["ops"].as_i64(), Some(server_ops));
    assert_eq!(stats["photos_verified"].as_i64(), Some(7));
}
