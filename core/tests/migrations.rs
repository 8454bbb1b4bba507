#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Schema evolution and damaged files: an old database upgrades to exactly the fresh schema and
//! keeps its data; a newer one is refused; a corrupt one is moved aside, never deleted.

mod common;

use common::*;
use fieldproof_core::db;
use fieldproof_core::*;
use rusqlite::Connection;

const V1_FIXTURE: &str = include_str!("fixtures/schema_v1.sql");

fn fresh_schema() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fresh.db");
    drop(Core::open(&p).unwrap());
    db::schema_dump(&Connection::open(&p).unwrap()).unwrap()
}

#[test]
fn v1_fixture_upgrades_to_the_fresh_schema_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("old.db");
    {
        let c = Connection::open(&p).unwrap();
        c.execute_batch(V1_FIXTURE).unwrap();
        assert_eq!(db::user_version(&c).unwrap(), 1);
        eprintln!(
            "{:?}",
            db::schema_dump(&c)
                .unwrap()
                .iter()
                .map(|s| s.split(':').next().unwrap().to_string())
                .collect::<Vec<_>>()
        );
    }
    let core = Core::open(&p).unwrap();
    assert_eq!(core.device_id(), "0b6f5a6e-8d1c-4c55-9f5e-3a7c1f0e2d11");
    let c = Connection::open(&p).unwrap();
    assert_eq!(db::user_version(&c).unwrap(), db::SCHEMA_VERSION);
    assert_eq!(db::schema_dump(&c).unwrap(), fresh_schema());

    // The v1 visit is still there, still in progress, and the flow continues on it.
    let v = core.visit("visit-v1").unwrap();
    assert_eq!(
        (v.status, v.geofence),
        (VisitStatus::InProgress, GeofenceVerdict::Verified)
    );
    let d = core.visit_detail("visit-v1").unwrap();
    assert_eq!(d.answers[0].revision, 2);
    assert!(d.report.is_none());
    core.complete_visit("visit-v1").unwrap();
    let ops = core.pending_ops(10).unwrap();
    assert_eq!(ops.iter().map(|o| o.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(core.audit().unwrap().is_clean(), "{:?}", core.audit().unwrap());
}

#[test]
fn every_intermediate_version_upgrades_to_the_fresh_schema() {
    for from in 0..db::SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("step.db");
        {
            let c = Connection::open(&p).unwrap();
            db::migrate_to(&c, from).unwrap();
            assert_eq!(db::user_version(&c).unwrap(), from);
        }
        drop(Core::open(&p).unwrap());
        assert_eq!(
            db::schema_dump(&Connection::open(&p).unwrap()).unwrap(),
            fresh_schema(),
            "from v{from}"
        );
    }
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("newer.db");
    drop(Core::open(&p).unwrap());
    let future = db::SCHEMA_VERSION + 7;
    Connection::open(&p)
        .unwrap()
        .pragma_update(None, "user_version", future)
        .unwrap();
    let before = std::fs::read(&p).unwrap();
    let err = Core::open(&p).unwrap_err();
    assert_eq!(err.code(), "database_too_new");
    assert!(matches!(err, Error::DatabaseTooNew { found, .. } if found == future));
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

#[test]
fn a_corrupt_file_is_quarantined_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.db");
    let garbage: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&p, &garbage).unwrap();
    let err = Core::open(&p).unwrap_err();
    assert_eq!(err.code(), "database_corrupt");
    let Error::DatabaseCorrupt { quarantined_to } = err else {
        panic!()
    };
    assert!(!p.exists(), "the damaged file is moved out of the way");
    assert_eq!(
        std::fs::read(&quarantined_to).unwrap(),
        garbage,
        "and kept byte for byte"
    );
    // The app can start over on a new file; the damaged one stays for recovery.
    let core = Core::open(&p).unwrap();
    assert!(core.audit().unwrap().is_clean());
    assert!(quarantined_to.exists());
}

#[test]
fn a_damaged_page_inside_a_real_database_is_quarantined() {
    let h = harness(Backend::File);
    let p = h.db_path().unwrap();
    for _ in 0..30 {
        let v = check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap();
        h.core.cancel_visit(&v.id, "test data").unwrap();
    }
    drop(h.core);
    // Checkpoint the WAL into the main file, then overwrite a page in the middle of it.
    {
        let c = Connection::open(&p).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let mut bytes = std::fs::read(&p).unwrap();
    assert!(bytes.len() > 4096 * 6);
    for b in &mut bytes[4096 * 3..4096 * 5] {
        *b = 0xA5;
    }
    std::fs::write(&p, &bytes).unwrap();
    let err = Core::open(&p).unwrap_err();
    assert_eq!(err.code(), "database_corrupt", "{err}");
    let Error::DatabaseCorrupt { quarantined_to } = err else {
        panic!()
    };
    assert_eq!(std::fs::read(quarantined_to).unwrap(), bytes);
}

/// v4 (sync) on a database with history: ops keep their state and have no server answer yet,
/// the device is not enrolled, and the new tables start empty.
#[test]
fn v3_data_upgrades_to_v4_unsynced_and_not_enrolled() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v3.db");
    {
        let c = Connection::open(&p).unwrap();
        c.execute_batch(V1_FIXTURE).unwrap();
        db::migrate_to(&c, 3).unwrap();
        assert_eq!(db::user_version(&c).unwrap(), 3);
    }
    let core = Core::open(&p).unwrap();
    let c = Connection::open(&p).unwrap();
    assert_eq!(db::user_version(&c).unwrap(), db::SCHEMA_VERSION);
    type Answer = (String, Option<String>, Option<String>, Option<i64>);
    let answers: Vec<Answer> = c
        .prepare("SELECT state, server_status, server_reason, answered_at_ms FROM outbox ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(answers, vec![("pending".to_string(), None, None, None); 3]);
    for table in ["sync_state", "photo_uploads", "team_visits"] {
        let n: i64 = c
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    let state = core.sync_state().unwrap();
    assert!(!state.enrolled);
    assert_eq!(
        (state.pending_ops, state.rejected_ops, state.pull_cursor),
        (3, 0, 0)
    );
    assert!(core.rejected_ops().unwrap().is_empty());
    assert!(core.team_visits(None, 10).unwrap().is_empty());
    assert!(core.audit().unwrap().is_clean(), "{:?}", core.audit().unwrap());
}

/// The sync tables' constraints hold: one enrolment row, known roles, known upload states.
#[test]
fn v4_sync_tables_refuse_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v4.db");
    drop(Core::open(&p).unwrap());
    let c = Connection::open(&p).unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    let insert = |id: i64, role: &str| {
        c.execute(
            "INSERT INTO sync_state (id, server_url, user_id, user_role, user_json, enrolled_at_ms)
             VALUES (?1, 'https://x', 'u', ?2, '{}', 1)",
            rusqlite::params![id, role],
        )
    };
    assert!(insert(2, "rep").is_err(), "a second enrolment row");
    assert!(insert(1, "admin").is_err(), "an unknown role");
    insert(1, "supervisor").unwrap();
    let upload = c.execute(
        "INSERT INTO photo_uploads (op_id, sha256, size, state, updated_at_ms) VALUES ('no-such-op', 'h', 1, 'complete', 1)",
        [],
    );
    assert!(upload.is_err(), "an upload row needs its outbox op");
}
