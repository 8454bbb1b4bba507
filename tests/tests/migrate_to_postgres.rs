//! `admin migrate-to-postgres` on the demo's data (issue 14, acceptance 4): the real demo leaves
//! a SQLite data folder with real photos; the real server binary moves it into a fresh
//! PostgreSQL database (and its photos into the test bucket, or a folder when the suite keeps
//! photos on disk). Then, independently of the command's own comparison: every table of the
//! server's migrations holds the same rows on both sides (values compared by kind, rows sorted
//! the same way), and a real server started on the new database and photo store serves every
//! photo with the bytes the source held, its thumbnail, and head office's page of every visit.
//! Running it again onto the now non-empty database is refused and changes nothing; a wrong
//! address is refused with a clear error and changes nothing.
//!
//! Needs `FIELDPROOF_TEST_POSTGRES` (the test command's scaled pass sets it, `tests/pg.sh`);
//! says it was skipped without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use fieldproof_core::evidence::sha256_hex;
use fieldproof_tests::server::{ServerProcess, check_photos_answer, server_binary};
use fieldproof_tests::storage::{self, ServerDb, Value};
use fieldproof_tests::web::Browser;

const DEMO: &str = env!("CARGO_BIN_EXE_fieldproof-demo");

/// Every variable that would point a process at the test suite's back ends (or another
/// database and photo store than its command line says).
const BACK_END_VARS: [&str; 5] = [
    "FIELDPROOF_TEST_POSTGRES",
    "FIELDPROOF_TEST_S3",
    "FIELDPROOF_DATABASE",
    "FIELDPROOF_PHOTOS",
    "FIELDPROOF_DATA_DIR",
];

/// The tables the server's SQLite migrations create (`CREATE TABLE [IF NOT EXISTS] name`).
fn migration_tables() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sync-server/migrations");
    let mut tables = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("the migrations folder") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
            .filter(|w| !w.is_empty())
            .collect();
        for (i, w) in words.iter().enumerate() {
            if w.eq_ignore_ascii_case("create")
                && words.get(i + 1).is_some_and(|t| t.eq_ignore_ascii_case("table"))
            {
                let mut name = words.get(i + 2).copied().unwrap_or_default();
                if name.eq_ignore_ascii_case("if") {
                    name = words.get(i + 5).copied().unwrap_or_default();
                }
                tables.insert(name.trim_matches('"').to_string());
            }
        }
    }
    assert!(tables.len() >= 20, "tables from {}: {tables:?}", dir.display());
    tables
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Every row of every table in `tables`, columns in `columns[table]`'s order, rows sorted by
/// value (the same order whichever database they came from).
fn snapshot(db: &ServerDb, columns: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<Vec<Value>>> {
    columns
        .iter()
        .map(|(table, cols)| {
            let list = cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
            let mut rows = db
                .rows(&format!("SELECT {list} FROM {}", quote(table)), &[])
                .unwrap_or_else(|e| panic!("{e}"));
            rows.sort_by(|a, b| {
                a.iter()
                    .zip(b)
                    .map(|(x, y)| x.order(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            (table.clone(), rows)
        })
        .collect()
}

/// Both sides hold the same rows, table by table and value by value; the number of rows.
fn assert_same_rows(
    sqlite: &BTreeMap<String, Vec<Vec<Value>>>,
    postgres: &BTreeMap<String, Vec<Vec<Value>>>,
    columns: &BTreeMap<String, Vec<String>>,
) -> usize {
    let mut total = 0;
    for (table, rows) in sqlite {
        let theirs = &postgres[table];
        assert_eq!(rows.len(), theirs.len(), "{table}: rows in SQLite, in PostgreSQL");
        for (n, (a, b)) in rows.iter().zip(theirs).enumerate() {
            for (i, col) in columns[table].iter().enumerate() {
                assert!(
                    a[i].same(&b[i]),
                    "{table} row {n} column {col}: SQLite {:?}, PostgreSQL {:?}",
                    a[i],
                    b[i]
                );
            }
        }
        total += rows.len();
    }
    total
}

/// `fieldproof-server admin --data-dir SOURCE migrate-to-postgres ARGS…`, with only `env`
/// pointing anywhere.
fn migrate(source: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(server_binary().unwrap());
    cmd.args(["admin", "--data-dir"])
        .arg(source)
        .arg("migrate-to-postgres")
        .args(args);
    for var in BACK_END_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v))).output().unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// A refusal: the command fails with one clear line naming `says`, and no crash.
fn assert_refused(out: &Output, says: &str) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "accepted: {}", text(&out.stdout));
    assert!(stderr.starts_with("fieldproof-server admin: "), "{stderr}");
    assert!(stderr.contains(says), "expected {says:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn the_demos_data_moves_to_postgres_row_for_row_and_its_photos_stay_readable() {
    let Some(postgres) = storage::test_postgres() else {
        println!(
            "SKIPPED migrate-to-postgres test: FIELDPROOF_TEST_POSTGRES is not set \
             (bash tests/server-scaled.sh, or bash tests/pg.sh -- cargo test --test migrate_to_postgres)"
        );
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();

    // --- the demo's data: SQLite and a photo folder, whatever the test command's switches ---
    let demo_dir = dir.path().join("demo");
    let mut demo = Command::new(DEMO);
    demo.args(["--dir", demo_dir.to_str().unwrap(), "--no-serve"]);
    for var in BACK_END_VARS {
        demo.env_remove(var);
    }
    let out = demo.output().unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let password = stdout
        .rsplit("password ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the demo prints head office's password")
        .to_string();
    let source = demo_dir.join("server");
    assert!(source.join("fieldproof.db").is_file(), "{stdout}");
    println!("demo ran in {:.1} s", started.elapsed().as_secs_f64());

    // --- the move: a fresh database, and a fresh bucket prefix (or a new data folder) -------
    let url = storage::fresh_database("migrate").unwrap().expect("a database");
    let new_data = dir.path().join("new-data");
    std::fs::create_dir_all(&new_data).unwrap();
    let (photos_to, s3) = match (storage::fresh_bucket_prefix("migrate"), storage::s3_env()) {
        (Some(prefix), Some(s3)) => (prefix, s3),
        _ => (new_data.to_str().unwrap().to_string(), Vec::new()),
    };
    let moved = migrate(&source, &["--to", &url, "--to-photos", &photos_to], &s3);
    assert!(
        moved.status.success(),
        "{}{}",
        text(&moved.stdout),
        text(&moved.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&moved.stdout).expect("a JSON report");
    println!(
        "moved to PostgreSQL and {photos_to} in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // --- every table, row for row -----------------------------------------------------------
    let sqlite = ServerDb::sqlite(&source.join("fieldproof.db")).unwrap();
    let pg = ServerDb::postgres(&url).unwrap();
    let tables = migration_tables();
    let sqlite_tables = sqlite.tables().unwrap();
    let pg_tables = pg.tables().unwrap();
    assert_eq!(sqlite_tables, tables, "SQLite's tables are the migrations'");
    // PostgreSQL keeps the schema version in a table; SQLite in the file's header.
    let extra: BTreeSet<&String> = pg_tables.difference(&tables).collect();
    assert!(
        tables.is_subset(&pg_tables) && extra.iter().all(|t| *t == "schema_version"),
        "PostgreSQL's tables: {pg_tables:?}"
    );
    let (version,): (i64,) = sqlite.one("PRAGMA user_version", &[]);
    assert_eq!(
        pg.one::<(i64,)>("SELECT version FROM schema_version", &[]).0,
        version,
        "the schema version"
    );
    assert_eq!(report["schema_version"].as_i64(), Some(version));
    // The columns PostgreSQL has (SQLite's, and `rowid` where PostgreSQL spells SQLite's
    // implicit row id as a column: the order some reads rely on, so it must come over too).
    let columns: BTreeMap<String, Vec<String>> = tables
        .iter()
        .map(|t| {
            let mine = sqlite.columns(t).unwrap();
            let theirs = pg.columns(t).unwrap();
            let mut expected = mine.clone();
            if theirs.contains("rowid") {
                expected.insert("rowid".into());
            }
            assert_eq!(expected, theirs, "{t}: columns");
            (t.clone(), theirs.into_iter().collect())
        })
        .collect();
    let before = snapshot(&sqlite, &columns);
    let after = snapshot(&pg, &columns);
    let rows = assert_same_rows(&before, &after, &columns);
    // Not an empty comparison: the demo's day is there.
    for table in [
        "ops",
        "visits",
        "photos",
        "blobs",
        "exceptions",
        "users",
        "devices",
        "web_users",
    ] {
        assert!(!before[table].is_empty(), "the demo left no {table}");
    }
    let reported: BTreeMap<String, usize> = report["tables"]
        .as_array()
        .expect("tables in the report")
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_string(),
                t["rows"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let counted: BTreeMap<String, usize> = before.iter().map(|(t, r)| (t.clone(), r.len())).collect();
    assert_eq!(reported, counted, "the command's report");
    println!("{} tables, {rows} rows equal on both sides", tables.len());

    // --- the photos through a real server on the new database and photo store ---------------
    let photos: BTreeSet<String> = sqlite
        .query::<(String,)>("SELECT sha256 FROM blobs", &[])
        .into_iter()
        .map(|(s,)| s)
        .collect();
    assert_eq!(report["photos_copied"].as_u64(), Some(photos.len() as u64));
    // The source's bytes hash to their names (the server's own check, on the demo's folder).
    let mut check = Command::new(server_binary().unwrap());
    check
        .args(["admin", "--data-dir"])
        .arg(&source)
        .arg("check-photos");
    for var in BACK_END_VARS {
        check.env_remove(var);
    }
    let checked = check.output().unwrap();
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert_eq!(
        check_photos_answer(&text(&checked.stdout)).unwrap(),
        photos,
        "the demo's photo folder"
    );
    let mut env: Vec<(&str, &str)> = vec![("FIELDPROOF_DATABASE", &url)];
    if !s3.is_empty() {
        env.push(("FIELDPROOF_PHOTOS", &photos_to));
        env.extend(s3.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    let mut server = ServerProcess::start_with(&new_data, "127.0.0.1:0", &env).unwrap();
    assert_eq!(server.stored_photos().unwrap(), photos, "the new photo store");
    let web =
        Browser::sign_in(server.addr(), "demo", &password).expect("head office signs in on the new store");
    for sha in &photos {
        let full = web.get(&format!("/app/photos/{sha}")).unwrap();
        assert_eq!(full.status, 200, "photo {sha}: {}", full.body);
        assert_eq!(
            &sha256_hex(&full.bytes),
            sha,
            "photo {sha}: the bytes the source held"
        );
        let thumb = web.get(&format!("/app/thumbs/{sha}")).unwrap();
        assert_eq!(thumb.status, 200, "thumbnail {sha}: {}", thumb.body);
        assert!(
            thumb
                .header("content-type")
                .is_some_and(|t| t.starts_with("image/")),
            "thumbnail {sha}: {:?}",
            thumb.headers
        );
        assert!(
            !thumb.bytes.is_empty() && thumb.bytes.len() < full.bytes.len(),
            "thumbnail {sha}: {} bytes of a {}-byte photo",
            thumb.bytes.len(),
            full.bytes.len()
        );
    }
    // Head office's page of every visit, with its store's name.
    let visits: Vec<(String, String)> = sqlite.query(
        "SELECT v.id, json_extract(s.body, '$.name') FROM visits v JOIN stores s ON s.id = v.store_id",
        &[],
    );
    assert!(!visits.is_empty());
    for (id, store) in &visits {
        let page = web.get(&format!("/app/visits/{id}")).unwrap();
        assert_eq!(page.status, 200, "visit {id}: {}", page.body);
        assert!(page.body.contains(store.as_str()), "visit {id} without {store}");
    }
    server.terminate().expect("the server stops");
    println!(
        "{} photos (and thumbnails) and {} visit pages served from PostgreSQL",
        photos.len(),
        visits.len()
    );

    // --- again onto the now non-empty database: refused, nothing changed --------------------
    let held = snapshot(&pg, &columns);
    let again = migrate(&source, &["--to", &url, "--to-photos", &photos_to], &s3);
    assert_refused(&again, "is not empty");
    assert_refused(&again, "nothing copied");
    assert_eq!(
        snapshot(&pg, &columns),
        held,
        "a refused second run changed the database"
    );

    // --- wrong addresses: refused with what is wrong, nothing changed -----------------------
    let nowhere = storage::with_database(&postgres, "no_such_database_here");
    let closed = "postgres://fieldproof@127.0.0.1:1/fieldproof";
    for (to, says) in [
        (
            "mysql://fieldproof@127.0.0.1/fieldproof",
            &["--to is not a PostgreSQL address"][..],
        ),
        ("not a url", &["--to is not a PostgreSQL address"]),
        ("", &["--to is not a PostgreSQL address"]),
        (
            closed,
            &[
                "cannot connect to the PostgreSQL database",
                "refused",
                "nothing copied",
            ],
        ),
        (
            nowhere.as_str(),
            &[
                "cannot connect to the PostgreSQL database",
                "\"no_such_database_here\" does not exist",
            ],
        ),
    ] {
        let out = migrate(&source, &["--to", to], &[]);
        for phrase in says {
            assert_refused(&out, phrase);
        }
    }
    assert_eq!(snapshot(&sqlite, &columns), before, "the source changed");
    assert_eq!(snapshot(&pg, &columns), held, "the target changed");
    println!(
        "migrate-to-postgres test took {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}
