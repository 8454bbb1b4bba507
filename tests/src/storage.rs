//! The server's storage as the tests see it: which back end a test server runs on, and one
//! reader of its records for the checks, the same on both.
//!
//! Plainly a test server keeps SQLite in its data folder. When the test command sets
//! `FIELDPROOF_TEST_POSTGRES` (`tests/pg.sh`), each server gets a fresh PostgreSQL database of
//! its own there; with `FIELDPROOF_TEST_S3` too (`tests/s3.sh`), replicas share a fresh prefix
//! in the S3-compatible bucket ([`SharedStorage`]). [`ServerDb`] reads either database back,
//! values folded onto SQLite's five kinds, so a check is written once and runs on both.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The PostgreSQL server the test command started, if any (`FIELDPROOF_TEST_POSTGRES`).
pub fn test_postgres() -> Option<String> {
    var("FIELDPROOF_TEST_POSTGRES")
}

/// A name unique to this run: the tag (as an SQL identifier), the process id and the time.
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tag: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    format!("fp_{tag}_{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// `postgres://user@host:port/db?opts` with its database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A new, empty database named after `tag` on the test command's PostgreSQL; its URL. `None`
/// when the suite runs on SQLite.
pub fn fresh_database(tag: &str) -> Result<Option<String>, String> {
    let Some(pg) = test_postgres() else {
        return Ok(None);
    };
    let name = unique(tag);
    let mut admin = postgres::Client::connect(&pg, postgres::NoTls)
        .map_err(|e| format!("PostgreSQL at FIELDPROOF_TEST_POSTGRES: {e}"))?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
    Ok(Some(with_database(&pg, &name)))
}

/// The S3 variables of a server process (`--photos s3://…`) for the test bucket: endpoint,
/// region, credentials, as every test server gets them (`s3_env`), without its own prefix;
/// `None` when the suite keeps photos on disk.
pub fn s3_env() -> Option<Vec<(String, String)>> {
    let env = crate::server::s3_env::server_env(Path::new("."));
    if env.is_empty() {
        return None;
    }
    Some(
        env.into_iter()
            .filter(|(k, _)| k != "FIELDPROOF_PHOTOS")
            .collect(),
    )
}

/// `s3://bucket/prefix` for a new prefix named after `tag` in the test bucket.
pub fn fresh_bucket_prefix(tag: &str) -> Option<String> {
    let (_, bucket, _, _) = crate::server::s3_env::test_s3()?;
    Some(format!("s3://{bucket}/{}", unique(tag)))
}

/// A fresh database and photo prefix, and the environment a server process (and its admin
/// commands) needs to use them.
#[derive(Debug, Clone)]
pub struct SharedStorage {
    pub database_url: String,
    pub photos_url: String,
    pub env: Vec<(String, String)>,
}

impl SharedStorage {
    /// `None` when the test command did not set both switches; otherwise a new database
    /// (created now) and a new prefix named after `tag`.
    pub fn from_env(tag: &str) -> Result<Option<SharedStorage>, String> {
        let (Some(_), Some(photos_url), Some(s3)) = (test_postgres(), fresh_bucket_prefix(tag), s3_env())
        else {
            return Ok(None);
        };
        let database_url = fresh_database(tag)?.ok_or("FIELDPROOF_TEST_POSTGRES is not set")?;
        let mut env = vec![
            ("FIELDPROOF_DATABASE".to_string(), database_url.clone()),
            ("FIELDPROOF_PHOTOS".to_string(), photos_url.clone()),
        ];
        env.extend(s3);
        Ok(Some(SharedStorage {
            database_url,
            photos_url,
            env,
        }))
    }

    /// The environment as `(&str, &str)` pairs, for `ServerProcess::start_with`.
    pub fn env_pairs(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// The database, read back for the checks.
    pub fn records(&self) -> Result<ServerDb, String> {
        ServerDb::postgres(&self.database_url)
    }
}

/// One value of a row, as both back ends give it: SQLite's five kinds (PostgreSQL's integer
/// widths, floats, booleans, text and bytes folded onto them).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// Equal as stored values: a whole number read back as a float (a REAL column) is the
    /// same number.
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Integer(i), Value::Real(f)) | (Value::Real(f), Value::Integer(i)) => *f == *i as f64,
            _ => self == other,
        }
    }

    /// An order over values of any kind (NULL, numbers, text, bytes), to sort rows the same
    /// way whichever database they came from.
    pub fn order(&self, other: &Value) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let rank = |v: &Value| match v {
            Value::Null => 0,
            Value::Integer(_) | Value::Real(_) => 1,
            Value::Text(_) => 2,
            Value::Blob(_) => 3,
        };
        let num = |v: &Value| match v {
            Value::Integer(i) => *i as f64,
            Value::Real(f) => *f,
            _ => 0.0,
        };
        match (self, other) {
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::Blob(a), Value::Blob(b)) => a.cmp(b),
            (a, b) if rank(a) == 1 && rank(b) == 1 => num(a).partial_cmp(&num(b)).unwrap_or(Ordering::Equal),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Integer(i)
    }
}

/// A Rust value read from one [`Value`].
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self, String>;
}

impl FromValue for Value {
    fn from_value(v: &Value) -> Result<Self, String> {
        Ok(v.clone())
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Integer(i) => Ok(*i),
            other => Err(format!("{other:?} is not an integer")),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Integer(i) => Ok(*i as f64),
            Value::Real(f) => Ok(*f),
            other => Err(format!("{other:?} is not a number")),
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("{other:?} is not text")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A Rust value read from one row: a tuple of [`FromValue`]s, column by column.
pub trait FromRow: Sized {
    fn from_row(row: &[Value]) -> Result<Self, String>;
}

fn column<T: FromValue>(row: &[Value], i: usize) -> Result<T, String> {
    let v = row
        .get(i)
        .ok_or_else(|| format!("no column {i} in a row of {}", row.len()))?;
    T::from_value(v).map_err(|e| format!("column {i}: {e}"))
}

macro_rules! from_row_tuple {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromValue),+> FromRow for ($($t,)+) {
            fn from_row(row: &[Value]) -> Result<Self, String> {
                Ok(($(column::<$t>(row, $i)?,)+))
            }
        }
    };
}
from_row_tuple!(A 0);
from_row_tuple!(A 0, B 1);
from_row_tuple!(A 0, B 1, C 2);
from_row_tuple!(A 0, B 1, C 2, D 3);

/// A server's database, read back for the checks: its SQLite file (read-only) or its
/// PostgreSQL database. Queries use `$1` placeholders (PostgreSQL's; SQLite reads them as `?1`).
pub enum ServerDb {
    Sqlite(rusqlite::Connection),
    Postgres(Mutex<postgres::Client>),
}

/// `$N` placeholders as SQLite's `?N` (a `$` only ever starts a placeholder in the checks' SQL).
fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

fn sqlite_param(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Null => V::Null,
        Value::Integer(i) => V::Integer(*i),
        Value::Real(f) => V::Real(*f),
        Value::Text(s) => V::Text(s.clone()),
        Value::Blob(b) => V::Blob(b.clone()),
    }
}

fn pg_value(row: &postgres::Row, i: usize) -> Result<Value, String> {
    use postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    fn get<'a, T: postgres::types::FromSql<'a>>(
        row: &'a postgres::Row,
        i: usize,
    ) -> Result<Option<T>, String> {
        row.try_get::<_, Option<T>>(i).map_err(|e| e.to_string())
    }
    Ok(match ty {
        Type::INT8 => get::<i64>(row, i)?.map(Value::Integer),
        Type::INT4 => get::<i32>(row, i)?.map(|v| Value::Integer(v.into())),
        Type::INT2 => get::<i16>(row, i)?.map(|v| Value::Integer(v.into())),
        Type::BOOL => get::<bool>(row, i)?.map(|v| Value::Integer(v.into())),
        Type::FLOAT8 => get::<f64>(row, i)?.map(Value::Real),
        Type::FLOAT4 => get::<f32>(row, i)?.map(|v| Value::Real(v.into())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => get::<String>(row, i)?.map(Value::Text),
        Type::BYTEA => get::<Vec<u8>>(row, i)?.map(Value::Blob),
        other => {
            return Err(format!(
                "column {} has type {other}, unknown to the checks",
                row.columns()[i].name()
            ));
        }
    }
    .unwrap_or(Value::Null))
}

impl ServerDb {
    /// A server's SQLite file, read-only.
    pub fn sqlite(file: &Path) -> Result<ServerDb, String> {
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map(ServerDb::Sqlite)
            .map_err(|e| format!("{}: {e}", file.display()))
    }

    /// A server's PostgreSQL database.
    pub fn postgres(url: &str) -> Result<ServerDb, String> {
        postgres::Client::connect(url, postgres::NoTls)
            .map(|c| ServerDb::Postgres(Mutex::new(c)))
            .map_err(|e| format!("{url}: {e}"))
    }

    /// Every row `sql` answers, each column as a [`Value`].
    pub fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, String> {
        match self {
            ServerDb::Sqlite(c) => {
                let mut st = c
                    .prepare(&sqlite_placeholders(sql))
                    .map_err(|e| format!("{sql}: {e}"))?;
                let n = st.column_count();
                let params: Vec<rusqlite::types::Value> = params.iter().map(sqlite_param).collect();
                st.query_map(rusqlite::params_from_iter(params), |r| {
                    (0..n).map(|i| r.get_ref(i).map(sqlite_value)).collect()
                })
                .and_then(Iterator::collect)
                .map_err(|e| format!("{sql}: {e}"))
            }
            ServerDb::Postgres(c) => {
                let mut c = c.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let boxed: Vec<Box<dyn postgres::types::ToSql + Sync>> = params
                    .iter()
                    .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
                        match v {
                            Value::Null => Box::new(None::<String>),
                            Value::Integer(i) => Box::new(*i),
                            Value::Real(f) => Box::new(*f),
                            Value::Text(s) => Box::new(s.clone()),
                            Value::Blob(b) => Box::new(b.clone()),
                        }
                    })
                    .collect();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| &**b).collect();
                let rows = c.query(sql, &refs).map_err(|e| format!("{sql}: {e}"))?;
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| pg_value(r, i)).collect())
                    .collect::<Result<_, String>>()
                    .map_err(|e| format!("{sql}: {e}"))
            }
        }
    }

    /// Every row as `T` (a tuple of columns); panics naming the query if it fails (a check).
    pub fn query<T: FromRow>(&self, sql: &str, params: &[Value]) -> Vec<T> {
        let rows = self.rows(sql, params).unwrap_or_else(|e| panic!("{e}"));
        rows.iter()
            .map(|r| T::from_row(r).unwrap_or_else(|e| panic!("{sql}: {e}")))
            .collect()
    }

    /// The one row `sql` answers as `T`; panics if there is none.
    pub fn one<T: FromRow>(&self, sql: &str, params: &[Value]) -> T {
        match self.query::<T>(sql, params).into_iter().next() {
            Some(row) => row,
            None => panic!("{sql}: no row"),
        }
    }

    /// One number (`SELECT count(*) …`).
    pub fn count(&self, sql: &str) -> i64 {
        self.one::<(i64,)>(sql, &[]).0
    }

    /// `(op_id, seq, entry_hash)` of one device's ops, by seq.
    pub fn device_ops(&self, device_id: &str) -> Vec<(String, i64, String)> {
        self.query(
            "SELECT op_id, seq, entry_hash FROM ops WHERE device_id = $1 ORDER BY seq",
            &[device_id.into()],
        )
    }

    /// The hashes of the photos the server has records of.
    pub fn photo_hashes(&self) -> BTreeSet<String> {
        self.query::<(String,)>("SELECT sha256 FROM photos", &[])
            .into_iter()
            .map(|(s,)| s)
            .collect()
    }

    /// The names of the tables in the database (its own schema; SQLite's internal ones left out).
    pub fn tables(&self) -> Result<BTreeSet<String>, String> {
        let sql = match self {
            ServerDb::Sqlite(_) => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            ServerDb::Postgres(_) => {
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            }
        };
        self.rows(sql, &[])?
            .iter()
            .map(|r| column::<String>(r, 0))
            .collect()
    }

    /// A table's column names.
    pub fn columns(&self, table: &str) -> Result<BTreeSet<String>, String> {
        let sql = match self {
            ServerDb::Sqlite(_) => "SELECT name FROM pragma_table_info($1)",
            ServerDb::Postgres(_) => {
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1"
            }
        };
        self.rows(sql, &[table.into()])?
            .iter()
            .map(|r| column::<String>(r, 0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{sqlite_placeholders, with_database};

    #[test]
    fn the_database_name_is_replaced_and_options_kept() {
        assert_eq!(
            with_database("postgres://fp@127.0.0.1:5433/postgres", "t1"),
            "postgres://fp@127.0.0.1:5433/t1"
        );
        assert_eq!(
            with_database("postgres://fp@127.0.0.1:5433", "t1"),
            "postgres://fp@127.0.0.1:5433/t1"
        );
        assert_eq!(
            with_database("postgres://fp:pw@h/db?sslmode=disable", "t1"),
            "postgres://fp:pw@h/t1?sslmode=disable"
        );
    }

    #[test]
    fn placeholders_become_sqlites() {
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE b = $2 AND c = $1 AND d = '$'"),
            "SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = '$'"
        );
    }
}
