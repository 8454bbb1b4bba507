//! The database of a test's data directory: the SQLite file in it (the default), or, when
//! `FIELDPROOF_TEST_POSTGRES` names a PostgreSQL server (`tests/pg.sh` starts a throwaway one),
//! a fresh database of its own there, named after the data directory. Every way a test reaches
//! the server's data goes through here: a store opened in process, a connection to look inside,
//! and the `FIELDPROOF_DATABASE` of a server or admin process it starts. Included with `#[path]`.

#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use fieldproof_server::db::{Connection, Database};
use fieldproof_server::{Limits, Store};
use sha2::{Digest, Sha256};

/// The PostgreSQL server the suite runs against, if any (a `postgres://` URL; its database part
/// is replaced by each test's own).
pub fn postgres_server() -> Option<String> {
    std::env::var("FIELDPROOF_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// The `--database` of `data_dir`'s server: `None` on SQLite; on PostgreSQL the address of its
/// own database, made (empty) on first use.
pub fn url(data_dir: &Path) -> Option<String> {
    let server = postgres_server()?;
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let hash = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let name: String = format!(
        "fp_{}",
        hash.iter()
            .take(10)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    create_once(&server, &name);
    Some(with_database(&server, &name))
}

/// The [`Database`] of `data_dir`.
pub fn database(data_dir: &Path) -> Database {
    Store::database_for(data_dir, url(data_dir).as_deref()).unwrap()
}

/// `Store::open` on the suite's back end.
pub fn store(data_dir: impl AsRef<Path>) -> Store {
    store_with(data_dir, Limits::default())
}

/// `Store::open_with` on the suite's back end.
pub fn store_with(data_dir: impl AsRef<Path>, limits: Limits) -> Store {
    let data_dir = data_dir.as_ref();
    Store::open_in(data_dir, database(data_dir), limits).unwrap()
}

/// A connection to `data_dir`'s database (to look inside, or to set a case up).
pub fn connect(data_dir: impl AsRef<Path>) -> Connection {
    try_connect(data_dir).unwrap()
}

/// [`connect`], its failure the caller's to judge.
pub fn try_connect(data_dir: impl AsRef<Path>) -> fieldproof_server::db::Result<Connection> {
    fieldproof_server::db::connect(&database(data_dir.as_ref()))
}

/// Point a `fieldproof-server` process for `data_dir` at the suite's back end.
pub fn env<'c>(cmd: &'c mut Command, data_dir: &Path) -> &'c mut Command {
    match url(data_dir) {
        Some(u) => cmd.env("FIELDPROOF_DATABASE", u),
        None => cmd.env_remove("FIELDPROOF_DATABASE"),
    }
}

/// `FIELDPROOF_DATABASE` for a process on `data_dir` (empty: SQLite in it).
pub fn database_env(data_dir: impl AsRef<Path>) -> String {
    url(data_dir.as_ref()).unwrap_or_default()
}

fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

static CREATED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

fn create_once(server: &str, name: &str) {
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    let set = created.get_or_insert_with(HashSet::new);
    if set.contains(name) {
        return;
    }
    // On a thread of its own: the client blocks on a runtime of its own, which an async test's
    // thread cannot do.
    let (server, db) = (server.to_string(), name.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        match c.batch_execute(&format!("CREATE DATABASE {db}")) {
            Ok(()) => {}
            Err(e) if e.code() == Some(&postgres::error::SqlState::DUPLICATE_DATABASE) => {}
            Err(e) => panic!("CREATE DATABASE {db}: {e}"),
        }
    })
    .join()
    .unwrap();
    set.insert(name.to_string());
}
