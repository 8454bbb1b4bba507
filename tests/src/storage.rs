//! Shared storage for server processes that must see one state (replicas): a fresh PostgreSQL
//! database on the server `FIELDPROOF_TEST_POSTGRES` names, and a fresh prefix in the
//! S3-compatible bucket at `FIELDPROOF_TEST_S3` (bucket and credentials in
//! `FIELDPROOF_TEST_S3_*`). The test command sets them (`tests/pg.sh`, `tests/s3.sh`); a test
//! that needs them says it was skipped when they are absent.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::fleet::{DEVICE_OPS_SQL, ServerRecords};

/// A fresh database and photo prefix, and the environment a server process (and its admin
/// commands) needs to use them.
#[derive(Debug, Clone)]
pub struct SharedStorage {
    pub database_url: String,
    pub photos_url: String,
    pub env: Vec<(String, String)>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A name unique to this run: the process id and the time.
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{tag}_{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// `postgres://user@host:port/db?opts` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
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

impl SharedStorage {
    /// `None` when the test command did not set both switches; otherwise a new database
    /// (created now) and a new prefix named after `tag`.
    pub fn from_env(tag: &str) -> Result<Option<SharedStorage>, String> {
        let (Some(pg), Some(endpoint)) = (var("FIELDPROOF_TEST_POSTGRES"), var("FIELDPROOF_TEST_S3")) else {
            return Ok(None);
        };
        let bucket = var("FIELDPROOF_TEST_S3_BUCKET").ok_or("FIELDPROOF_TEST_S3_BUCKET is not set")?;
        let name = unique(tag);
        let mut admin = postgres::Client::connect(&pg, postgres::NoTls)
            .map_err(|e| format!("PostgreSQL at FIELDPROOF_TEST_POSTGRES: {e}"))?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
        let database_url = with_database(&pg, &name);
        let photos_url = format!("s3://{bucket}/{name}");
        let mut env = vec![
            ("FIELDPROOF_DATABASE".to_string(), database_url.clone()),
            ("FIELDPROOF_PHOTOS".to_string(), photos_url.clone()),
            ("FIELDPROOF_S3_ENDPOINT".to_string(), endpoint.clone()),
        ];
        if endpoint.starts_with("http://") {
            env.push(("FIELDPROOF_S3_ALLOW_HTTP".into(), "true".into()));
        }
        for (from, to) in [
            ("FIELDPROOF_TEST_S3_REGION", "FIELDPROOF_S3_REGION"),
            ("FIELDPROOF_TEST_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
            ("FIELDPROOF_TEST_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
        ] {
            if let Some(v) = var(from) {
                env.push((to.to_string(), v));
            }
        }
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
    pub fn records(&self) -> Result<PostgresRecords, String> {
        postgres::Client::connect(&self.database_url, postgres::NoTls)
            .map(|c| PostgresRecords(Mutex::new(c)))
            .map_err(|e| format!("{}: {e}", self.database_url))
    }
}

/// A server's PostgreSQL database.
pub struct PostgresRecords(Mutex<postgres::Client>);

impl PostgresRecords {
    fn rows(&self, sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> Vec<postgres::Row> {
        let mut c = match self.0.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        match c.query(sql, params) {
            Ok(rows) => rows,
            Err(e) => panic!("{sql}: {e}"),
        }
    }
}

impl ServerRecords for PostgresRecords {
    fn count(&self, sql: &str) -> i64 {
        match self.rows(sql, &[]).first() {
            Some(r) => r.get(0),
            None => panic!("{sql}: no row"),
        }
    }

    fn device_ops(&self, device_id: &str) -> Vec<(String, i64, String)> {
        self.rows(DEVICE_OPS_SQL, &[&device_id])
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    fn photo_hashes(&self) -> BTreeSet<String> {
        self.rows("SELECT sha256 FROM photos", &[])
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

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
}
