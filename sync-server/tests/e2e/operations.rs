//! Operating the server (docs/OPERATIONS.md): `migrate`, `/readyz`, and `admin backup` taken
//! while real phones push to the real server, restored and served again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fieldproof_server::db::SCHEMA_VERSION;

use crate::common::*;

fn migrate(data_dir: &Path) -> Output {
    Command::new(BIN)
        .arg("migrate")
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run migrate")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn user_version(db: &Path) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn migrate_reports_versions_and_refuses_a_newer_database() {
    let dir = tempfile::tempdir().unwrap();
    // No database: refused, nothing created.
    let out = migrate(dir.path());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no Fieldproof database"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("fieldproof.db").exists());

    // An empty SQLite file (schema version 0) is migrated to this release's version.
    let db = dir.path().join("fieldproof.db");
    rusqlite::Connection::open(&db).unwrap();
    let out = migrate(dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("database schema version 0 -> {SCHEMA_VERSION}: migrated")
    );
    assert_eq!(user_version(&db), SCHEMA_VERSION);

    // Again: nothing to do.
    let out = migrate(dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("database schema version {SCHEMA_VERSION}: already current, nothing to do")
    );

    // A database a newer release migrated: migrate and serve both refuse, and change nothing.
    let newer = SCHEMA_VERSION + 1;
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = migrate(dir.path());
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "schema version {newer}, newer than this fieldproof-server knows ({SCHEMA_VERSION})"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    let serve = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!serve.status.success());
    assert!(
        text(&serve.stderr).contains("newer than this fieldproof-server knows"),
        "{}",
        text(&serve.stderr)
    );
    assert_eq!(user_version(&db), newer);
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn readyz_answers_ready_and_names_the_part_that_failed() {
    // The photo store is broken through its folder: photos in the data folder whatever the
    // suite runs on (the bucket's case is the next test); the database is the suite's.
    let (dir, s) = server_on(Backend::FolderPhotos);
    let ready = |expect: u16| {
        let r = http_in_outage(s.addr, "GET", "/readyz", &[], b"");
        assert_eq!(r.status, expect, "{}", r.text());
        assert_eq!(r.header("cache-control"), Some("no-store"));
        r.json()
    };
    assert_eq!(
        ready(200),
        serde_json::json!({"status": "ready", "database": "ok", "photos": "ok"})
    );

    // The photo store cannot take a file (its uploads folder is gone, a file in its place).
    let uploads = dir.path().join("uploads");
    std::fs::remove_dir_all(&uploads).unwrap();
    std::fs::write(&uploads, b"not a folder").unwrap();
    let body = ready(503);
    assert_eq!(
        body,
        serde_json::json!({"status": "not_ready", "database": "ok", "photos": "failed"})
    );
    // Liveness is not readiness: the process is up.
    assert_eq!(get(s.addr, "/healthz").status, 200);
    std::fs::remove_file(&uploads).unwrap();
    std::fs::create_dir(&uploads).unwrap();
    assert_eq!(ready(200)["status"], "ready");

    // The database cannot answer the check's query (its table is gone).
    let conn = test_db::connect(dir.path());
    conn.execute_batch("ALTER TABLE devices RENAME TO devices_away")
        .unwrap();
    let r = http_in_outage(s.addr, "GET", "/readyz", &[], b"");
    assert_eq!(r.status, 503);
    assert_eq!(
        r.json(),
        serde_json::json!({"status": "not_ready", "database": "failed", "photos": "ok"})
    );
    // The reason is in the log, not in the answer.
    assert!(!r.text().contains("devices"), "{}", r.text());
    assert!(s.log().contains("readiness check failed"), "{}", s.log());
    conn.execute_batch("ALTER TABLE devices_away RENAME TO devices")
        .unwrap();
    assert_eq!(ready(200)["status"], "ready");

    let m = get(s.addr, "/metrics").text();
    assert!(
        m.contains("fieldproof_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"5xx\"} 2"),
        "{m}"
    );
}

/// The `s3s-fs` binary `tests/s3.sh` names (`FIELDPROOF_TEST_S3FS`), else the installed one.
fn s3s_fs_binary() -> Option<PathBuf> {
    let named = std::env::var_os("FIELDPROOF_TEST_S3FS").filter(|b| !b.is_empty());
    let installed = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin/s3s-fs"));
    named.map(PathBuf::from).or(installed).filter(|b| b.is_file())
}

/// `s3s-fs` on `port` over `root`, answering once it listens.
fn start_bucket(bin: &Path, root: &Path, port: u16) -> Child {
    let child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", "readykey", "--secret-key", "readysecret"])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start s3s-fs");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(10), "s3s-fs did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Photos in a bucket: its endpoint stopped, `/readyz` is 503 naming the photos; back, ready.
#[test]
fn readyz_names_the_photos_when_the_bucket_stops() {
    let Some(bin) = s3s_fs_binary() else {
        eprintln!("skipped: no s3s-fs binary (FIELDPROOF_TEST_S3FS; tests/s3.sh names it)");
        return;
    };
    let bucket_root = tempfile::tempdir().unwrap();
    std::fs::create_dir(bucket_root.path().join("ready")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut bucket = start_bucket(&bin, bucket_root.path(), port);
    let dir = tempfile::tempdir().unwrap();
    admin_ok_on(dir.path(), &["init"], Backend::FolderPhotos);
    let endpoint = format!("http://127.0.0.1:{port}");
    let s = Server::start_env(
        dir.path(),
        &["--photos", "s3://ready/p"],
        None,
        &[
            ("FIELDPROOF_S3_ENDPOINT", &endpoint),
            ("FIELDPROOF_S3_ALLOW_HTTP", "true"),
            ("FIELDPROOF_S3_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "readykey"),
            ("AWS_SECRET_ACCESS_KEY", "readysecret"),
        ],
    );
    let ready = || {
        let r = http_in_outage(s.addr, "GET", "/readyz", &[], b"");
        (r.status, r.json())
    };
    assert_eq!(
        ready(),
        (
            200,
            serde_json::json!({"status": "ready", "database": "ok", "photos": "ok"})
        )
    );
    bucket.kill().unwrap();
    bucket.wait().unwrap();
    assert_eq!(
        ready(),
        (
            503,
            serde_json::json!({"status": "not_ready", "database": "ok", "photos": "failed"})
        )
    );
    assert_eq!(get(s.addr, "/healthz").status, 200);
    let mut bucket = start_bucket(&bin, bucket_root.path(), port);
    assert_eq!(ready().0, 200);
    drop(s);
    bucket.kill().unwrap();
    bucket.wait().unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn stat(v: &serde_json::Value, k: &str) -> i64 {
    v[k].as_i64().unwrap_or_else(|| panic!("no {k} in {v}"))
}

/// What one phone has done: its signed ops in order (all pushed) and its photos' ids.
struct Pushing {
    phone: Phone,
    user: &'static str,
    ops: Vec<fieldproof_core::sync::wire::PushOp>,
    photos: Vec<String>,
}

#[test]
fn backup_taken_while_phones_push_restores_and_serves() {
    // `admin backup` copies the data folder's SQLite database: on SQLite whatever the suite
    // runs on (PostgreSQL is backed up with its own tools, docs/OPERATIONS.md).
    let (dir, s) = server_on(Backend::DataDir);
    let addr = s.addr;
    let mut phones = Vec::new();
    for user in ["rep-li", "rep-chen"] {
        let phone = Phone::new();
        s.enrol_as(&phone.device, user);
        phones.push(Pushing {
            phone,
            user,
            ops: Vec::new(),
            photos: Vec::new(),
        });
    }

    // Phones keep doing store checks (photo upload, then the visit's 9 ops) until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let visits = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, visits) = (stop.clone(), visits.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let p = &mut phones[i % 2];
                i += 1;
                let v = store_check(&p.phone.core, p.user, "st-001", None, fix_st001());
                let done = p.phone.upload_photo(addr, &v.photo_id, 2);
                assert_eq!(done["complete"], true);
                p.photos.push(v.photo_id);
                let all = p.phone.ops();
                let new = all[p.ops.len()..].to_vec();
                let r = p.phone.device.push(addr, &new);
                assert_eq!(statuses(&r.json()), vec!["applied"; new.len()]);
                p.ops = all;
                visits.fetch_add(1, Ordering::SeqCst);
            }
            phones
        })
    };
    let wait_for = |n: usize| {
        let start = Instant::now();
        while visits.load(Ordering::SeqCst) < n {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "phones stopped pushing"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };

    wait_for(2);
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("fieldproof-backup.db");
    let during_from = visits.load(Ordering::SeqCst);
    let out = s.admin(&["backup", "--to", file.to_str().unwrap()]);
    assert!(
        out.contains("wrote") && out.contains(&format!("schema version {SCHEMA_VERSION}")),
        "{out}"
    );
    // The documented order: database first, then the photo files (a photo is stored before the
    // database records it, so every photo the backup knows is in this copy).
    let restored = tempfile::tempdir().unwrap();
    copy_dir(&dir.path().join("photos"), &restored.path().join("photos"));
    // An existing backup file is never overwritten.
    let before = std::fs::read(&file).unwrap();
    let again = admin_on(
        dir.path(),
        &["backup", "--to", file.to_str().unwrap()],
        Backend::DataDir,
    );
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // The phones kept pushing across the backup.
    wait_for(during_from + 3);
    stop.store(true, Ordering::SeqCst);
    let phones = writer.join().unwrap();
    let live = s.stats();
    assert_eq!(stat(&live, "rejected_ops"), 0);

    // One self-contained file: no -wal beside it.
    assert!(!backups.path().join("fieldproof-backup.db-wal").exists());
    // Restore: the file becomes the data directory's database; serve it.
    std::fs::copy(&file, restored.path().join("fieldproof.db")).unwrap();
    let r = Server::start_on(restored.path(), Backend::DataDir);
    let ready = get(r.addr, "/readyz");
    assert_eq!(ready.status, 200, "{}", ready.text());
    let snapshot = r.stats();
    assert!(
        stat(&snapshot, "ops") > 0 && stat(&snapshot, "ops") < stat(&live, "ops"),
        "the backup is a snapshot taken mid-run: {snapshot} vs {live}"
    );
    assert_eq!(stat(&snapshot, "devices"), 2);

    // Every photo the backup knows is in the copied folder, whole.
    let known: Vec<String> = {
        let c = rusqlite::Connection::open(restored.path().join("fieldproof.db")).unwrap();
        let mut st = c.prepare("SELECT sha256 FROM blobs").unwrap();
        st.query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(!known.is_empty());
    for sha in &known {
        let bytes = std::fs::read(
            restored
                .path()
                .join("photos")
                .join(&sha[..2])
                .join(format!("{sha}.jpg")),
        )
        .unwrap();
        assert_eq!(&fieldproof_core::evidence::sha256_hex(&bytes), sha);
    }

    // Consistent: each phone's chain in the backup is a prefix of what it pushed. Pushing
    // everything again answers duplicate for that prefix and applies the rest; the photos the
    // backup missed upload again.
    for p in &phones {
        let r2 = p.phone.device.push(r.addr, &p.ops);
        let st = statuses(&r2.json());
        let dup = st.iter().take_while(|s| *s == "duplicate").count();
        assert!(st[dup..].iter().all(|s| s == "applied"), "{st:?}");
        for photo_id in &p.photos {
            assert_eq!(p.phone.upload_photo(r.addr, photo_id, 1)["complete"], true);
        }
    }
    let after = r.stats();
    for k in ["ops", "visits", "answers", "photos", "photo_blobs", "devices"] {
        assert_eq!(stat(&after, k), stat(&live, k), "{k}: {after} vs {live}");
    }
    assert_eq!(stat(&after, "rejected_ops"), 0);
}

/// A managed PostgreSQL's failover or restart ends every session: the server must replace its
/// connections instead of failing every request after. (SQLite has no connection to lose.)
#[test]
fn dropped_database_connections_are_replaced() {
    if test_db::postgres_server().is_none() {
        eprintln!(
            "SKIPPED dropped-connection test: PostgreSQL only (run it as `bash tests/pg.sh -- cargo test --workspace --exclude fieldproof-tests --exclude uniffi-bindgen --test e2e -- dropped_database`)"
        );
        return;
    }
    let (dir, s) = server_on(Backend::Suite);
    s.admin(&[
        "create-user",
        "--id",
        "ops",
        "--name",
        "Ops",
        "--role",
        "admin",
        "--password",
        "reconnect-me-please",
    ]);
    // A sign-in through the form, 5xx allowed (the requests meeting the break).
    let sign_in_status = || {
        let form = http_in_outage(s.addr, "GET", "/app/login", &[], b"");
        let Some(token) = cookie_value(&form, "fp_login_csrf") else {
            return (form.status, form.text());
        };
        let body = format!("csrf={token}&next=%2Fapp&user=ops&password=reconnect-me-please");
        let r = http_in_outage(
            s.addr,
            "POST",
            "/app/login",
            &[
                h("Cookie", &format!("fp_login_csrf={token}")),
                h("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        );
        (r.status, r.text())
    };
    let signs_in = || {
        let (status, page) = sign_in_status();
        // Meeting the break is an outage page in the reader's language, never a bug page.
        assert!(
            status == 303 || (status == 503 && page.contains("Try again in a moment")),
            "{status}: {page}"
        );
        status == 303
    };
    assert!(signs_in());
    assert_eq!(get(s.addr, "/readyz").status, 200);

    // End every session of the server's database but this one, as a failover does.
    let conn = test_db::connect(dir.path());
    let ended: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(ended >= 2, "the server's writer and a reader: {ended}");

    // The requests that meet the broken connections fail: one for the readers, one for the
    // writer (a sign-in uses both), perhaps one more for a reader a background task had out
    // while the idle ones were closed. Then the server works on new ones, with no restart
    // (without the reconnect every request fails from here on).
    let failures = (0..6).take_while(|_| !signs_in()).count();
    assert!(
        failures <= 3,
        "{failures} sign-ins failed after the sessions ended"
    );
    for _ in 0..5 {
        assert!(signs_in());
        assert_eq!(get(s.addr, "/readyz").status, 200);
    }
    assert!(
        s.log().contains("the database connection was lost"),
        "the writer's reconnect is logged"
    );
}
