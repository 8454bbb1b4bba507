//! The server's migrations for both back ends, run by the one runner the phone's database uses
//! too ([`fieldproof_core::migrations`]): numbered steps, each applied once, in its own
//! transaction under the writer lock, after re-reading the version under that lock (another
//! process, a second server or the admin CLI, may have migrated while this one waited).
//!
//! SQLite keeps the version in `PRAGMA user_version`; PostgreSQL in the one-row table
//! `schema_version`, its steps under the writer advisory lock ([`super::WRITER_LOCK`]).

use fieldproof_core::migrations::{self, Migrate, TooNew};

use super::{Connection, Dialect, Error, Inner, Result, TransactionBehavior};

const SQLITE: &[&str] = &[
    include_str!("../../migrations/001_init.sql"),
    include_str!("../../migrations/002_web.sql"),
    include_str!("../../migrations/003_sign_in_links.sql"),
    include_str!("../../migrations/004_exception_params.sql"),
    include_str!("../../migrations/005_login_throttle.sql"),
    include_str!("../../migrations/006_visit_day_and_workflow.sql"),
    include_str!("../../migrations/007_people_and_structure.sql"),
    include_str!("../../migrations/008_page_indexes.sql"),
    include_str!("../../migrations/009_visit_photo_received.sql"),
    include_str!("../../migrations/010_figures_indexes.sql"),
    include_str!("../../migrations/011_photo_reviews_and_retakes.sql"),
    include_str!("../../migrations/012_alerts.sql"),
    include_str!("../../migrations/013_customers_and_leads.sql"),
    include_str!("../../migrations/014_evidence_rules.sql"),
    include_str!("../../migrations/015_device_certificates.sql"),
];

/// Step for step the same as [`SQLITE`], in PostgreSQL's spelling.
const POSTGRES: &[&str] = &[
    include_str!("../../migrations-postgres/001_init.sql"),
    include_str!("../../migrations-postgres/002_web.sql"),
    include_str!("../../migrations-postgres/003_sign_in_links.sql"),
    include_str!("../../migrations-postgres/004_exception_params.sql"),
    include_str!("../../migrations-postgres/005_login_throttle.sql"),
    include_str!("../../migrations-postgres/006_visit_day_and_workflow.sql"),
    include_str!("../../migrations-postgres/007_people_and_structure.sql"),
    include_str!("../../migrations-postgres/008_page_indexes.sql"),
    include_str!("../../migrations-postgres/009_visit_photo_received.sql"),
    include_str!("../../migrations-postgres/010_figures_indexes.sql"),
    include_str!("../../migrations-postgres/011_photo_reviews_and_retakes.sql"),
    include_str!("../../migrations-postgres/012_alerts.sql"),
    include_str!("../../migrations-postgres/013_customers_and_leads.sql"),
    include_str!("../../migrations-postgres/014_evidence_rules.sql"),
    include_str!("../../migrations-postgres/015_device_certificates.sql"),
];

/// The SQLite schema version this server writes.
pub const SCHEMA_VERSION: i64 = SQLITE.len() as i64;
/// The PostgreSQL schema version this server writes (the same steps, so the same number).
pub const SCHEMA_VERSION_POSTGRES: i64 = POSTGRES.len() as i64;

/// Bring the schema to this server's version, one transaction per step.
pub(crate) fn run(conn: &Connection) -> Result<()> {
    let steps = match conn.dialect() {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    migrations::migrate(conn, steps)
}

impl From<TooNew> for Error {
    fn from(e: TooNew) -> Error {
        Error::TooNew {
            found: e.found,
            supported: e.supported,
        }
    }
}

/// PostgreSQL's version table.
const PG_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    one     BIGINT PRIMARY KEY DEFAULT 1 CHECK (one = 1),
    version BIGINT NOT NULL
)";

impl Migrate for Connection {
    type Error = Error;

    fn version(&self) -> Result<i64> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?),
            Inner::Postgres(_) => {
                let exists: bool =
                    self.query_row("SELECT to_regclass('schema_version') IS NOT NULL", [], |r| {
                        r.get(0)
                    })?;
                if !exists {
                    return Ok(0);
                }
                Ok(
                    self.query_row("SELECT coalesce(max(version), 0) FROM schema_version", [], |r| {
                        r.get(0)
                    })?,
                )
            }
        }
    }

    fn step(&self, from: i64, sql: &str) -> Result<bool> {
        let tx = self.begin(TransactionBehavior::Immediate)?;
        if let Inner::Postgres(_) = &self.inner {
            tx.execute_batch(PG_VERSION_TABLE)?;
        }
        if tx.version()? != from {
            tx.rollback()?;
            return Ok(false);
        }
        tx.execute_batch(sql)?;
        match &self.inner {
            Inner::Sqlite(c) => c.pragma_update(None, "user_version", from + 1)?,
            Inner::Postgres(_) => {
                tx.execute(
                    "INSERT INTO schema_version (one, version) VALUES (1, ?1)
                     ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                    [from + 1],
                )?;
            }
        }
        tx.commit()?;
        Ok(true)
    }
}
