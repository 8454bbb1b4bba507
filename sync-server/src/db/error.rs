//! The storage layer's one error type, over both back ends.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `query_row` found no row ([`super::OptionalExtension::optional`] turns it into `None`).
    #[error("query returned no rows")]
    QueryReturnedNoRows,
    /// A parameter could not be bound (e.g. a `u64` past `i64::MAX`, a body that does not
    /// serialise).
    #[error("parameter: {0}")]
    ToSqlConversionFailure(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A column could not be read as the type asked for.
    #[error("column {column}: {reason}")]
    FromSql { column: String, reason: String },
    #[error("statement takes {expected} parameters, {given} given")]
    InvalidParameterCount { given: usize, expected: usize },
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
    #[error("the connection is closed")]
    Closed,
    #[error("database address: {0}")]
    BadAddress(String),
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    #[error("postgres: {}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::QueryReturnedNoRows,
            e => Error::Sqlite(e),
        }
    }
}

/// The server's own message with its detail (the driver's Display shows only "db error").
fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({}): {detail}", db.message(), db.code().code()),
            None => format!("{} ({})", db.message(), db.code().code()),
        },
        None => e.to_string(),
    }
}

impl Error {
    /// Another writer held the database past the wait (SQLite's busy timeout; PostgreSQL's
    /// lock timeout, a serialisation conflict or a deadlock): an outage the client retries, not
    /// a bug.
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            Error::Postgres(e) => e.code().is_some_and(|c| {
                [
                    postgres::error::SqlState::T_R_SERIALIZATION_FAILURE,
                    postgres::error::SqlState::T_R_DEADLOCK_DETECTED,
                    postgres::error::SqlState::LOCK_NOT_AVAILABLE,
                    postgres::error::SqlState::QUERY_CANCELED,
                ]
                .contains(c)
            }),
            _ => false,
        }
    }

    /// The database cannot be reached: the connection was closed under us (a restart, a
    /// failover, a terminated session) or a new one was refused. An outage, not a bug.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Closed => true,
            Error::Postgres(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| {
                        [
                            postgres::error::SqlState::ADMIN_SHUTDOWN,
                            postgres::error::SqlState::CRASH_SHUTDOWN,
                            postgres::error::SqlState::CANNOT_CONNECT_NOW,
                        ]
                        .contains(c)
                    })
                    || (e.as_db_error().is_none()
                        && std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()))
            }
            _ => false,
        }
    }

    /// A unique or primary-key constraint refused the row (another writer got there first).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            Error::Postgres(e) => e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }
}
