//! Opening the phone's database: pragmas, migrations keyed on `PRAGMA user_version`, and
//! quarantine of a corrupt file.
//!
//! Un-synced visits and photos exist nowhere else, so a damaged file is never deleted or reset:
//! it is renamed aside (with its `-wal`/`-shm`) for support to recover, and the app gets a typed
//! error. A database written by a newer app version is refused, not downgraded.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::{Error, Result, is_corruption};

/// Each entry upgrades the schema from version `index` to `index + 1`, in one IMMEDIATE
/// transaction. Shipped entries are never edited: `tests/fixtures/schema_v*.sql` pin them.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_init.sql"),
    include_str!("../migrations/002_reports_photos_reviews.sql"),
    include_str!("../migrations/003_evidence.sql"),
    include_str!("../migrations/004_sync.sql"),
    include_str!("../migrations/005_retakes.sql"),
    include_str!("../migrations/006_plan_window.sql"),
    include_str!("../migrations/007_sealed_device_key.sql"),
    include_str!("../migrations/008_customers.sql"),
    include_str!("../migrations/009_device_certificate.sql"),
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Open (creating if needed) and migrate a database file.
pub fn open_file(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    match prepare(&conn, true).and_then(|()| migrate(&conn)) {
        Ok(()) => Ok(conn),
        Err(e) if is_corrupt_error(&e) => {
            drop(conn);
            let quarantined_to = quarantine(path)?;
            tracing::error!(
                quarantined_to = %quarantined_to.display(),
                "database file is corrupt; moved aside, not deleted"
            );
            Err(Error::DatabaseCorrupt { quarantined_to })
        }
        Err(e) => Err(e),
    }
}

/// An in-memory database (tests, previews). Same schema, same rules.
pub fn open_memory() -> Result<Connection> {
    let conn = Connection::open_in_memory()?;
    prepare(&conn, false)?;
    migrate(&conn)?;
    Ok(conn)
}

fn is_corrupt_error(e: &Error) -> bool {
    matches!(e, Error::Storage(inner) if is_corruption(inner))
}

fn prepare(conn: &Connection, file: bool) -> Result<()> {
    // Android has no usable temp directory for SQLite (SQLITE_IOERR_GETTEMPPATH).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The first statement that reads the file: a non-database or a damaged header fails here.
    let _: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if file {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Internal(format!("journal_mode is {mode}, not wal")));
        }
        // FULL: a commit survives power loss too (a dead battery), not only a killed process.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let check: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(Error::Storage(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(check),
            )));
        }
    }
    Ok(())
}

pub fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Bring the schema to [`SCHEMA_VERSION`], one transaction per step.
pub fn migrate(conn: &Connection) -> Result<()> {
    migrate_to(conn, SCHEMA_VERSION)
}

/// Migrate up to `target` (tests build old-version databases with it).
pub fn migrate_to(conn: &Connection, target: i64) -> Result<()> {
    crate::migrations::migrate_to(&PhoneDb(conn), MIGRATIONS, target)
}

/// The phone's database as the shared runner's back end: the version in `PRAGMA user_version`.
struct PhoneDb<'a>(&'a Connection);

impl crate::migrations::Migrate for PhoneDb<'_> {
    type Error = Error;

    fn version(&self) -> Result<i64> {
        user_version(self.0)
    }

    fn step(&self, from: i64, sql: &str) -> Result<bool> {
        // `unchecked_transaction` because we only hold `&Connection`; nothing else uses it here.
        let tx = rusqlite::Transaction::new_unchecked(self.0, TransactionBehavior::Immediate)?;
        // Re-read inside the write lock: another process may have migrated meanwhile.
        if user_version(&tx)? != from {
            tx.rollback()?;
            return Ok(false);
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", from + 1)?;
        tx.commit()?;
        Ok(true)
    }
}

/// Rename the database and its WAL/SHM aside. Returns the new main-file path.
fn quarantine(path: &Path) -> Result<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let target = sibling(path, &format!(".corrupt-{stamp}"));
    std::fs::rename(path, &target)?;
    for suffix in ["-wal", "-shm"] {
        let side = sibling(path, suffix);
        if side.exists() {
            std::fs::rename(&side, sibling(&target, suffix))?;
        }
    }
    Ok(target)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The schema as SQLite stores it, sorted: used to prove an upgraded database equals a fresh one.
pub fn schema_dump(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
         WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
