//! The server's one storage layer: a [`Connection`] over SQLite (the default: one file in WAL
//! mode in the data directory) or PostgreSQL (`--database postgres://…`), with the API of the
//! rusqlite calls the server makes (`execute`, `query_row`, `prepare` → [`Statement`],
//! [`Row::get`], [`params!`](crate::params), [`OptionalExtension`], [`Transaction`]).
//!
//! SQL is written once, in SQLite's spelling with `?N` placeholders (rewritten to `$N` for
//! PostgreSQL) and values of five kinds ([`Value`]); where the two really differ the caller
//! asks [`Connection::dialect`] at that one place. Each back end has its own migrations
//! (`migrations/`, `migrations-postgres/`), run by the one runner in [`migrate`].
//!
//! Writers: SQLite has one writer at a time (`BEGIN IMMEDIATE`). On PostgreSQL a writer
//! transaction ([`TransactionBehavior::Immediate`]) takes one transaction-scoped advisory lock
//! ([`WRITER_LOCK`]) first, so a write transaction means exactly the same across processes
//! (several servers on one database, the admin CLI beside them): the code that reads, decides
//! and writes inside one never sees another writer's half. Finer locks (per device) are a later
//! refinement; this one keeps every existing invariant without re-proving it per statement.

mod error;
mod migrate;
mod pg;
mod sql;
mod value;

use std::cell::Cell as StdCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::{Error, Result};
pub use migrate::{SCHEMA_VERSION, SCHEMA_VERSION_POSTGRES};
pub use value::{FromSql, FromSqlError, Params, ParamsFromIter, ToSql, Value, ValueRef, params_from_iter};

pub use crate::params;

/// `rusqlite::types` spelled for this layer (`db::types::Value`).
pub mod types {
    pub use crate::db::value::{FromSql, FromSqlError, ToSql, Value, ValueRef};
}

/// How long a connection waits for another one's write lock before giving up (`503 busy`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL advisory lock every writer transaction takes (and every migration step):
/// "fieldprf" in ASCII, so it is recognisable in `pg_locks`.
pub const WRITER_LOCK: i64 = 0x6669_656c_6470_7266;

/// Which SQL spelling a connection speaks, for the few statements written per back end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Where the server's database is: `--database` / `FIELDPROOF_DATABASE` (a `postgres://` URL)
/// or, by default, the SQLite file in the data directory.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// The address with any password left out (it goes to logs).
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => match url
                .split_once("://")
                .and_then(|(s, rest)| rest.split_once('@').map(|(auth, host)| (s, auth, host)))
            {
                Some((scheme, auth, host)) => {
                    let user = auth.split_once(':').map_or(auth, |(u, _)| u);
                    write!(f, "{scheme}://{user}@{host}")
                }
                None => f.write_str(url),
            },
        }
    }
}

impl Database {
    /// `url` when given (it must be `postgres://` or `postgresql://`), else SQLite's `file` in
    /// `data_dir`.
    pub fn from_flag(url: Option<&str>, data_dir: &Path, file: &str) -> Result<Database> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Database::Sqlite(data_dir.join(file))),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Database::Postgres(u.to_string()))
            }
            Some(u) => Err(Error::BadAddress(format!(
                "{u:?} is not a postgres:// address (leave --database out for SQLite in the data directory)"
            ))),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Database::Sqlite(_) => Dialect::Sqlite,
            Database::Postgres(_) => Dialect::Postgres,
        }
    }
}

/// Whether the database exists: the SQLite file is there, or the PostgreSQL database has this
/// server's schema (at any version). Creates nothing.
pub fn exists(db: &Database) -> Result<bool> {
    match db {
        Database::Sqlite(path) => Ok(path.is_file()),
        Database::Postgres(_) => {
            let conn = connect(db)?;
            conn.query_row("SELECT to_regclass('schema_version') IS NOT NULL", [], |r| {
                r.get(0)
            })
        }
    }
}

/// Open (creating and migrating) the database.
pub fn open(db: &Database) -> Result<Connection> {
    let conn = connect(db)?;
    migrate::run(&conn)?;
    Ok(conn)
}

/// What a migration run did: the schema version found and the one left (equal: nothing to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub from: i64,
    pub to: i64,
}

/// Open and migrate, saying which migrations were applied (`fieldproof-server migrate`).
pub fn open_migrated(db: &Database) -> Result<(Connection, Migrated)> {
    use fieldproof_core::migrations::Migrate;
    let conn = connect(db)?;
    let from = conn.version()?;
    migrate::run(&conn)?;
    let to = conn.version()?;
    Ok((conn, Migrated { from, to }))
}

/// A connection for reads (the server's reader pool): like [`open`], tuned for long scans.
pub fn open_reader(db: &Database) -> Result<Connection> {
    let conn = open(db)?;
    if let Inner::Sqlite(c) = &conn.inner {
        // Pages read through a memory map: a page scanning tens of thousands of visits
        // (process health) reads from the OS cache without a system call per page (a third of
        // its time with the 2 MiB page cache alone). Shared by every reader, so it costs no
        // memory per connection; SQLite caps it at its compile-time limit.
        c.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
    }
    Ok(conn)
}

/// How much of the database file a SQLite reader maps (`PRAGMA mmap_size`).
const READER_MMAP_BYTES: i64 = 2 << 30;

/// Open without migrating (the migration runner's own connection, tests reading a database).
pub fn connect(db: &Database) -> Result<Connection> {
    match db {
        Database::Sqlite(path) => {
            let conn = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                    | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::NotWal(mode));
            }
            // FULL: an acknowledged push survives a power cut, not only a killed process. With
            // WAL it is one fsync per commit, and a commit is a whole batch.
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.pragma_update(None, "temp_store", "MEMORY")?;
            conn.set_prepared_statement_cache_capacity(64);
            Ok(Connection {
                inner: Inner::Sqlite(conn),
            })
        }
        Database::Postgres(url) => {
            let conn = pg::PgConn::connect(url)?;
            // The same wait as SQLite's busy timeout: a writer that cannot get the writer lock
            // within it fails as busy (503, the client retries) instead of queueing forever.
            conn.batch(&format!(
                "SET lock_timeout = '{}ms'; SET client_min_messages = warning; SET TIME ZONE 'UTC'",
                BUSY_TIMEOUT.as_millis()
            ))?;
            Ok(Connection {
                inner: Inner::Postgres(Box::new(conn)),
            })
        }
    }
}

/// A database connection (either back end). Not `Sync`: one thread at a time, like rusqlite's.
pub struct Connection {
    inner: Inner,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<pg::PgConn>),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Connection({:?})", self.dialect())
    }
}

/// When a transaction takes the write lock (as SQLite's `BEGIN DEFERRED/IMMEDIATE/EXCLUSIVE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionBehavior {
    /// Reads see one snapshot; the write lock is taken at the first write (SQLite) — on
    /// PostgreSQL a `REPEATABLE READ` transaction, whose conflicting write fails as busy.
    Deferred,
    /// The writer lock first: writer transactions run one at a time, across processes.
    Immediate,
    /// Same as `Immediate` here.
    Exclusive,
}

impl Connection {
    /// Whether this connection can no longer be used: its PostgreSQL server went away (a
    /// restart, a managed database's failover, a terminated session). A SQLite connection
    /// never is. The store replaces broken connections instead of failing every request after.
    pub fn is_broken(&self) -> bool {
        match &self.inner {
            Inner::Sqlite(_) => false,
            Inner::Postgres(c) => c.is_closed(),
        }
    }

    /// A SQLite database file, as [`connect`] opens it (tests and tools reading one).
    pub fn open(path: impl AsRef<Path>) -> Result<Connection> {
        connect(&Database::Sqlite(path.as_ref().to_path_buf()))
    }

    /// An in-memory SQLite database, migrated (unit tests).
    pub fn open_in_memory() -> Result<Connection> {
        let conn = Connection {
            inner: Inner::Sqlite(rusqlite::Connection::open_in_memory()?),
        };
        migrate::run(&conn)?;
        Ok(conn)
    }

    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// Statements without parameters, separated by `;` (schema steps, tests' fixtures).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(c) => c.batch(sql),
        }
    }

    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// A statement prepared for this call only (SQL built at run time).
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(Statement(Stmt::Sqlite(c.prepare(sql)?))),
            Inner::Postgres(c) => Ok(Statement(Stmt::Postgres(c, c.prepare(sql)?))),
        }
    }

    /// A statement kept prepared for the next call with the same SQL.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(Statement(Stmt::SqliteCached(c.prepare_cached(sql)?))),
            Inner::Postgres(c) => Ok(Statement(Stmt::Postgres(c, c.prepare(sql)?))),
        }
    }

    /// A deferred transaction (consistent reads; see [`TransactionBehavior::Deferred`]).
    /// `&mut`, as with rusqlite: a connection has one transaction at a time.
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.begin(TransactionBehavior::Deferred)
    }

    /// A transaction; `Immediate` for one that writes (the writer lock, across processes).
    pub fn transaction_with_behavior(&mut self, behavior: TransactionBehavior) -> Result<Transaction<'_>> {
        self.begin(behavior)
    }

    /// A transaction through a shared reference: the caller makes sure none is open on this
    /// connection (the migration runner).
    fn begin(&self, behavior: TransactionBehavior) -> Result<Transaction<'_>> {
        match (&self.inner, behavior) {
            (Inner::Sqlite(c), TransactionBehavior::Deferred) => c.execute_batch("BEGIN DEFERRED")?,
            (Inner::Sqlite(c), TransactionBehavior::Immediate) => c.execute_batch("BEGIN IMMEDIATE")?,
            (Inner::Sqlite(c), TransactionBehavior::Exclusive) => c.execute_batch("BEGIN EXCLUSIVE")?,
            (Inner::Postgres(c), TransactionBehavior::Deferred) => {
                c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ")?
            }
            (Inner::Postgres(c), _) => {
                c.batch(&format!("BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK})"))?
            }
        }
        Ok(Transaction {
            conn: self,
            open: StdCell::new(true),
        })
    }

    /// The id the last `INSERT` gave its row (SQLite's rowid; on PostgreSQL `lastval()`, the
    /// identity column's sequence).
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.last_insert_rowid()),
            Inner::Postgres(_) => self.query_row("SELECT lastval()", [], |r| r.get(0)),
        }
    }

    /// Fold SQLite's WAL into the database file (at shutdown); nothing to do on PostgreSQL.
    pub fn checkpoint(&self) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?),
            Inner::Postgres(_) => Ok(()),
        }
    }

    /// The SQLite connection underneath (SQLite-only tools: online backup). `None` on
    /// PostgreSQL.
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }
}

/// A transaction: derefs to its [`Connection`]; rolled back when dropped without
/// [`Transaction::commit`].
pub struct Transaction<'c> {
    conn: &'c Connection,
    open: StdCell<bool>,
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Transaction<'_> {
    pub fn commit(self) -> Result<()> {
        self.open.set(false);
        self.conn.execute_batch("COMMIT")
    }

    pub fn rollback(self) -> Result<()> {
        self.open.set(false);
        self.conn.execute_batch("ROLLBACK")
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open.get()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %e, "rollback failed");
        }
    }
}

/// A prepared statement.
pub struct Statement<'c>(Stmt<'c>);

enum Stmt<'c> {
    Sqlite(rusqlite::Statement<'c>),
    SqliteCached(rusqlite::CachedStatement<'c>),
    Postgres(&'c pg::PgConn, postgres::Statement),
}

/// A parameter handed to rusqlite as what it is.
struct SqliteParam<'a>(ValueRef<'a>);

impl rusqlite::ToSql for SqliteParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef as R;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => R::Null,
            ValueRef::Integer(i) => R::Integer(i),
            ValueRef::Real(f) => R::Real(f),
            ValueRef::Text(s) => R::Text(s.as_bytes()),
            ValueRef::Blob(b) => R::Blob(b),
        }))
    }
}

fn sqlite_params<'a>(values: &'a [&'a dyn ToSql]) -> Result<Vec<SqliteParam<'a>>> {
    values.iter().map(|v| v.to_sql().map(SqliteParam)).collect()
}

impl<'c> Statement<'c> {
    fn sqlite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match &mut self.0 {
            Stmt::Sqlite(s) => Some(s),
            Stmt::SqliteCached(s) => Some(s),
            Stmt::Postgres(..) => None,
        }
    }

    /// Run it; the number of rows changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        if let Some(s) = self.sqlite() {
            return params.with_values(|v| {
                let v = sqlite_params(v)?;
                Ok(s.execute(rusqlite::params_from_iter(v.iter()))?)
            });
        }
        match &self.0 {
            Stmt::Postgres(c, s) => params.with_values(|v| c.execute(s, v)),
            _ => unreachable!("handled above"),
        }
    }

    /// Its rows, one at a time.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        if let Stmt::Postgres(c, s) = &self.0 {
            let rows = params.with_values(|v| c.query(s, v))?;
            return Ok(Rows(RowsInner::Postgres {
                rows: rows.into_iter(),
                current: None,
            }));
        }
        match self.sqlite() {
            Some(s) => params.with_values(|v| {
                let v = sqlite_params(v)?;
                Ok(Rows(RowsInner::Sqlite(
                    s.query(rusqlite::params_from_iter(v.iter()))?,
                )))
            }),
            None => unreachable!("handled above"),
        }
    }

    /// Its rows, each through `f`.
    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }

    /// Its first row through `f`; [`Error::QueryReturnedNoRows`] when it has none.
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::QueryReturnedNoRows),
        }
    }

    /// Whether it returns a row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }
}

/// A statement's rows.
pub struct Rows<'s>(RowsInner<'s>);

enum RowsInner<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres {
        rows: std::vec::IntoIter<postgres::Row>,
        current: Option<postgres::Row>,
    },
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match &mut self.0 {
            RowsInner::Sqlite(rows) => Ok(rows.next()?.map(|r| Row(RowInner::Sqlite(r)))),
            RowsInner::Postgres { rows, current } => {
                *current = rows.next();
                Ok(current.as_ref().map(|r| Row(RowInner::Postgres(r))))
            }
        }
    }
}

/// A statement's rows through a function ([`Statement::query_map`]).
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(r)) => Some((self.f)(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// One row.
pub struct Row<'a>(RowInner<'a>);

enum RowInner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

/// A column by position or by name.
pub trait RowIndex: Copy {
    fn position(self, row: &Row<'_>) -> Result<usize>;
}

impl RowIndex for usize {
    fn position(self, _: &Row<'_>) -> Result<usize> {
        Ok(self)
    }
}

impl RowIndex for &str {
    fn position(self, row: &Row<'_>) -> Result<usize> {
        let found = match &row.0 {
            RowInner::Sqlite(r) => r.as_ref().column_index(self).ok(),
            RowInner::Postgres(r) => r.columns().iter().position(|c| c.name() == self),
        };
        found.ok_or_else(|| Error::FromSql {
            column: self.to_string(),
            reason: "no such column".into(),
        })
    }
}

impl Row<'_> {
    /// Column `idx` as `T`.
    pub fn get<I: RowIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let i = idx.position(self)?;
        let conversion = |reason: String| Error::FromSql {
            column: self.column_name(i),
            reason,
        };
        let value = match &self.0 {
            RowInner::Sqlite(r) => {
                use rusqlite::types::ValueRef as R;
                match r.get_ref(i)? {
                    R::Null => ValueRef::Null,
                    R::Integer(v) => ValueRef::Integer(v),
                    R::Real(v) => ValueRef::Real(v),
                    R::Text(t) => {
                        ValueRef::Text(std::str::from_utf8(t).map_err(|e| conversion(e.to_string()))?)
                    }
                    R::Blob(b) => ValueRef::Blob(b),
                }
            }
            RowInner::Postgres(r) => {
                if i >= r.len() {
                    return Err(conversion(format!("no column {i}")));
                }
                r.try_get::<_, pg::Cell<'_>>(i)
                    .map_err(|e| conversion(e.to_string()))?
                    .0
            }
        };
        T::from_sql(value).map_err(|e| conversion(e.to_string()))
    }

    fn column_name(&self, i: usize) -> String {
        let name = match &self.0 {
            RowInner::Sqlite(r) => r.as_ref().column_name(i).ok().map(str::to_string),
            RowInner::Postgres(r) => r.columns().get(i).map(|c| c.name().to_string()),
        };
        name.unwrap_or_else(|| i.to_string())
    }
}

/// `.optional()` on a query's result: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
