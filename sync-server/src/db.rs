//! The server database: one SQLite file in WAL mode, migrated by `PRAGMA user_version`.
//!
//! The server process and the admin CLI may have it open at once (the CLI loads reference data,
//! issues codes, revokes devices while the server runs), so every connection waits on the lock
//! (`busy_timeout`) instead of failing, and every migration step re-reads the version under the
//! write lock.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_init.sql"),
    include_str!("../migrations/002_web.sql"),
    include_str!("../migrations/003_sign_in_links.sql"),
    include_str!("../migrations/004_exception_params.sql"),
    include_str!("../migrations/005_login_throttle.sql"),
    include_str!("../migrations/006_visit_day_and_workflow.sql"),
    include_str!("../migrations/007_people_and_structure.sql"),
    include_str!("../migrations/008_page_indexes.sql"),
    include_str!("../migrations/009_visit_photo_received.sql"),
    include_str!("../migrations/010_figures_indexes.sql"),
    include_str!("../migrations/011_photo_reviews_and_retakes.sql"),
    include_str!("../migrations/012_alerts.sql"),
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a connection waits for another one's write lock before giving up (`503 busy`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A newer `fieldproof-server` migrated this database: running an older binary on it could
    /// misread or damage what the newer schema added, so it is refused rather than opened.
    #[error(
        "the database is at schema version {found}, newer than this fieldproof-server knows \
         ({supported}): it was upgraded by a newer release. Run that release (or a newer one), or \
         restore the backup taken before the upgrade; nothing was changed"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("journal_mode is {0}, not wal")]
    NotWal(String),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// What a migration run did: the schema version found and the one left (equal: nothing to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub from: i64,
    pub to: i64,
}

pub fn open(path: &Path) -> Result<Connection, DbError> {
    open_migrated(path).map(|(conn, _)| conn)
}

/// [`open`], also saying which migrations it applied (`fieldproof-server migrate`).
pub fn open_migrated(path: &Path) -> Result<(Connection, Migrated), DbError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::NotWal(mode));
    }
    // FULL: an acknowledged push survives a power cut, not only a killed process. With WAL it
    // is one fsync per commit, and a commit is a whole batch.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    let migrated = migrate(&conn)?;
    Ok((conn, migrated))
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn migrate(conn: &Connection) -> Result<Migrated, DbError> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(DbError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for version in found..SCHEMA_VERSION {
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        // Another process (server or CLI) may have migrated while we waited for the lock.
        if user_version(&tx)? != version {
            tx.rollback()?;
            continue;
        }
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        tracing::info!(from = version, to = version + 1, "server database migrated");
    }
    Ok(Migrated {
        from: found,
        to: user_version(conn)?,
    })
}
