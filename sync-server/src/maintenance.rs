//! Operating the server (docs/OPERATIONS.md): `fieldproof-server migrate`, `admin backup`, and
//! the checks behind `GET /readyz`.
//!
//! Backups copy the live database through SQLite's online backup API, so they run while the
//! server serves: the copy is one consistent snapshot (a read transaction, which in WAL mode
//! never blocks the writer), written beside the target and renamed into place only when whole
//! and checked, so a half-written file never looks like a backup. The backup API is SQLite's
//! alone, so this is the one place outside `db/` that holds rusqlite connections.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::db::{Database, Migrated};
use crate::store::{AdminError, DB_FILE, Store};

/// `fieldproof-server migrate`: bring the data directory's database to this binary's schema.
/// Refuses a folder without a database (`admin init` makes one) and a database a newer release
/// migrated ([`crate::db::DbError::TooNew`]), changing nothing in either case.
/// On PostgreSQL a new, empty database is where `migrate` creates the schema (run once before
/// the replicas start).
pub fn migrate(data_dir: &Path, database: Option<&str>) -> Result<Migrated, AdminError> {
    let db = Store::database_for(data_dir, database)?;
    if matches!(db, Database::Sqlite(_)) && !Store::has_database(data_dir) {
        return Err(AdminError::NoDatabase(data_dir.display().to_string()));
    }
    let (_conn, migrated) = crate::db::open_migrated(&db)?;
    Ok(migrated)
}

/// What `admin backup` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
}

/// How long a backup waits for a moment when the source can be read (only a WAL recovery or an
/// exclusive lock makes it wait at all).
const BACKUP_BUSY_LIMIT: Duration = Duration::from_secs(60);

/// `admin backup --to FILE`: a consistent copy of the live database as one self-contained file
/// (rollback journal, no `-wal` beside it), while the server keeps serving. Refuses an existing
/// `FILE` (an earlier backup is never overwritten) and does not migrate the source: a backup
/// taken with a newer binary before an upgrade is still the old schema.
pub fn backup(data_dir: &Path, to: &Path) -> Result<BackupReport, AdminError> {
    if !Store::has_database(data_dir) {
        return Err(AdminError::NoDatabase(data_dir.display().to_string()));
    }
    if to.exists() {
        return Err(AdminError::Invalid(format!(
            "{} already exists: back up to a new file name (an earlier backup is never overwritten)",
            to.display()
        )));
    }
    let partial = partial_path(to);
    // A leftover of an interrupted backup is ours to replace; it was never renamed into place.
    let _ = std::fs::remove_file(&partial);
    let result = write_backup(&data_dir.join(DB_FILE), &partial, to);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}

/// SQLite's own error from the backup API, as the storage layer's.
fn sq(e: rusqlite::Error) -> AdminError {
    AdminError::Db(e.into())
}

fn write_backup(source: &Path, partial: &Path, to: &Path) -> Result<BackupReport, AdminError> {
    // Read-write without create (WAL readers need the shared-memory file), no migration.
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sq)?;
    src.busy_timeout(Duration::from_secs(5)).map_err(sq)?;
    let mut dst = Connection::open(partial).map_err(sq)?;
    {
        let backup = Backup::new(&src, &mut dst).map_err(sq)?;
        let started = std::time::Instant::now();
        // All pages in one step: one read transaction, so one snapshot. Copying in small steps
        // would restart whenever the server commits in between, which on a busy server is
        // always.
        loop {
            match backup.step(-1).map_err(sq)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked if started.elapsed() < BACKUP_BUSY_LIMIT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                StepResult::Busy | StepResult::Locked => {
                    return Err(AdminError::Invalid(format!(
                        "the database stayed locked for {} s; nothing written",
                        BACKUP_BUSY_LIMIT.as_secs()
                    )));
                }
                // rusqlite's StepResult is non-exhaustive.
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    // One file to keep or copy: the server switches it back to WAL when it opens it.
    let mode: String = dst
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .map_err(sq)?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(AdminError::Invalid(format!(
            "the copy stayed in journal mode {mode}"
        )));
    }
    let check: String = dst
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(sq)?;
    if check != "ok" {
        return Err(AdminError::Invalid(format!(
            "the copy failed SQLite's check: {check}"
        )));
    }
    let schema_version: i64 = dst
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sq)?;
    dst.close().map_err(|(_, e)| sq(e))?;
    std::fs::File::open(partial)?.sync_all()?;
    std::fs::rename(partial, to)?;
    // The rename itself survives a power cut only once the folder is synced.
    let folder = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(folder)?.sync_all()?;
    Ok(BackupReport {
        path: to.to_path_buf(),
        bytes: std::fs::metadata(to)?.len(),
        schema_version,
    })
}

/// `GET /readyz`'s answer: each part `ok` or `failed`, nothing about why (the log says why).
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub status: &'static str,
    pub database: &'static str,
    pub photos: &'static str,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.status == "ready"
    }
}

/// A check that takes longer than this fails: a load balancer asks again in seconds, and a
/// database that needs longer to answer `SELECT 1` cannot serve requests either.
const READY_CHECK_LIMIT: Duration = Duration::from_secs(2);

/// Whether this process can serve: the database answers a query and the photo store accepts a
/// write. Both run at once on the blocking pool, each within [`READY_CHECK_LIMIT`].
pub(crate) async fn readiness(store: Arc<Store>) -> Readiness {
    let db = check(store.clone(), "database", database_answers);
    let photos = check(store, "photos", photo_store_writable);
    let (database, photos) = tokio::join!(db, photos);
    let word = |ok: bool| if ok { "ok" } else { "failed" };
    Readiness {
        status: if database && photos { "ready" } else { "not_ready" },
        database: word(database),
        photos: word(photos),
    }
}

async fn check(store: Arc<Store>, part: &'static str, f: fn(&Store) -> Result<(), String>) -> bool {
    let run = tokio::task::spawn_blocking(move || f(&store));
    match tokio::time::timeout(READY_CHECK_LIMIT, run).await {
        Ok(Ok(Ok(()))) => true,
        Ok(Ok(Err(e))) => {
            tracing::warn!(part, error = %e, "readiness check failed");
            false
        }
        Ok(Err(e)) => {
            tracing::warn!(part, error = %e, "readiness check did not finish");
            false
        }
        Err(_) => {
            tracing::warn!(
                part,
                limit_ms = READY_CHECK_LIMIT.as_millis() as u64,
                "readiness check timed out"
            );
            false
        }
    }
}

fn database_answers(store: &Store) -> Result<(), String> {
    let r = store.reader().map_err(|e| e.to_string())?;
    let one: i64 = r
        .query_row("SELECT count(*) FROM devices WHERE 1 = 0", [], |row| row.get(0))
        .map_err(|e| e.to_string())?;
    match one {
        0 => Ok(()),
        n => Err(format!("unexpected answer {n}")),
    }
}

/// The photo store answers: the folders exist and take a small file, or the bucket answers a
/// write (a full or read-only disk fails here before it fails a phone's upload).
fn photo_store_writable(store: &Store) -> Result<(), String> {
    store.photo_store_check().map_err(|e| e.to_string())
}
