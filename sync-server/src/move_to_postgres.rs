//! `admin migrate-to-postgres`: move a one-box deployment (SQLite in the data directory) into a
//! fresh PostgreSQL database, then prove the copy by comparing every table row for row.
//!
//! Rules (docs/OPERATIONS.md, "Moving a SQLite deployment to PostgreSQL"):
//! - The target must be fresh: no tables at all, or this server's schema with no rows in any
//!   table. Anything else is refused and left as it is, so a second run never copies twice.
//! - The copy is one PostgreSQL transaction: the comparison runs inside it, so a copy that
//!   differs anywhere is rolled back and the target stays empty.
//! - Rows keep their ids and values; identity sequences continue after the highest id. The
//!   target's own triggers (which derive columns on insert) are off during the copy: the rows
//!   already carry what they derived on SQLite.
//! - The source is read in one snapshot; the server should be stopped (what it accepts after
//!   the snapshot would not be moved).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::db::{self, Connection, Database, Dialect, TransactionBehavior, Value};
use crate::store::{AdminError, DB_FILE, Store};

/// One table's outcome: rows copied and found equal on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct TableCopy {
    pub table: String,
    pub rows: u64,
}

/// What `admin migrate-to-postgres` did.
#[derive(Debug, Clone, Serialize)]
pub struct MoveReport {
    pub schema_version: i64,
    pub tables: Vec<TableCopy>,
    /// Photos written to the target store, and photos that were there already with the right
    /// bytes; `None` when photos were not asked for.
    pub photos_copied: Option<u64>,
    pub photos_already_there: Option<u64>,
}

/// A table as SQLite declares it.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    /// Column names in declaration order.
    columns: Vec<String>,
    /// Whether each column is declared as text (ordering must be byte order on both sides).
    text: Vec<bool>,
    /// Positions of the primary key's columns (empty: no declared key; every column orders).
    key: Vec<usize>,
    /// Tables whose rows this one's foreign keys point at.
    parents: BTreeSet<String>,
}

fn invalid(e: impl std::fmt::Display) -> AdminError {
    AdminError::Invalid(e.to_string())
}

/// An error with the causes under it ("error connecting to server: Connection refused"): the
/// driver's own message leaves out why.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn source_tables(src: &Connection) -> Result<Vec<Table>, AdminError> {
    let names: Vec<String> = src
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<db::Result<_>>()?;
    let mut tables = Vec::new();
    for name in names {
        let mut columns = Vec::new();
        let mut text = Vec::new();
        let mut keyed: Vec<(i64, usize)> = Vec::new();
        let info: Vec<(String, String, i64)> = src
            .prepare("SELECT name, upper(type), pk FROM pragma_table_info(?1) ORDER BY cid")?
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<db::Result<_>>()?;
        for (i, (col, ty, pk)) in info.into_iter().enumerate() {
            text.push(ty.contains("TEXT") || ty.contains("CHAR") || ty.contains("CLOB"));
            columns.push(col);
            if pk > 0 {
                keyed.push((pk, i));
            }
        }
        keyed.sort();
        let parents: BTreeSet<String> = src
            .prepare("SELECT \"table\" FROM pragma_foreign_key_list(?1)")?
            .query_map([&name], |r| r.get(0))?
            .collect::<db::Result<BTreeSet<String>>>()?
            .into_iter()
            .filter(|p| p != &name)
            .collect();
        tables.push(Table {
            name,
            columns,
            text,
            key: keyed.into_iter().map(|(_, i)| i).collect(),
            parents,
        });
    }
    Ok(order_by_references(tables))
}

/// Parents before children, so every foreign key finds its row (ties by name: one order).
fn order_by_references(mut left: Vec<Table>) -> Vec<Table> {
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|t| t.parents.iter().all(|p| placed.contains(p)))
            // A reference cycle (none in this schema): keep the remaining order.
            .unwrap_or(0);
        let t = left.remove(ready);
        placed.insert(t.name.clone());
        out.push(t);
    }
    out
}

/// The target's tables (in its current schema) and their columns.
fn target_columns(tgt: &Connection) -> Result<BTreeMap<String, BTreeSet<String>>, AdminError> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let rows: Vec<(String, String)> = tgt
        .prepare(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<db::Result<_>>()?;
    for (t, c) in rows {
        out.entry(t).or_default().insert(c);
    }
    Ok(out)
}

/// `ORDER BY` over the table's key (or every column), the same order on both back ends:
/// text in byte order (PostgreSQL's "C" collation, SQLite's BINARY), NULLs first.
fn order_by(t: &Table, dialect: Dialect) -> String {
    let cols: Vec<usize> = if t.key.is_empty() {
        (0..t.columns.len()).collect()
    } else {
        t.key.clone()
    };
    cols.iter()
        .map(|&i| {
            let c = quote(&t.columns[i]);
            match dialect {
                Dialect::Sqlite => c,
                Dialect::Postgres if t.text[i] => format!("{c} COLLATE \"C\" NULLS FIRST"),
                Dialect::Postgres => format!("{c} NULLS FIRST"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn select_all(t: &Table, dialect: Dialect) -> String {
    let cols = t.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT {cols} FROM {} ORDER BY {}",
        quote(&t.name),
        order_by(t, dialect)
    )
}

fn read_rows(conn: &Connection, t: &Table) -> Result<Vec<Vec<Value>>, AdminError> {
    let n = t.columns.len();
    Ok(conn
        .prepare(&select_all(t, conn.dialect()))?
        .query_map([], |r| {
            (0..n)
                .map(|i| r.get::<_, Value>(i))
                .collect::<db::Result<Vec<Value>>>()
        })?
        .collect::<db::Result<_>>()?)
}

/// Equal as stored values: a whole number read back as a float (a REAL column) is the same
/// number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(i), Value::Real(f)) | (Value::Real(f), Value::Integer(i)) => *f == *i as f64,
        _ => a == b,
    }
}

/// Every difference between the two sides of one table, as sentences (at most `limit`).
fn differences(t: &Table, a: &[Vec<Value>], b: &[Vec<Value>], limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    if a.len() != b.len() {
        out.push(format!(
            "{}: {} rows in SQLite, {} in PostgreSQL",
            t.name,
            a.len(),
            b.len()
        ));
    }
    for (n, (ra, rb)) in a.iter().zip(b).enumerate() {
        for (i, col) in t.columns.iter().enumerate() {
            if !same(&ra[i], &rb[i]) {
                out.push(format!(
                    "{}: row {} (in key order), column {col}: SQLite {:?}, PostgreSQL {:?}",
                    t.name,
                    n + 1,
                    ra[i],
                    rb[i]
                ));
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}

/// Move the data directory's SQLite database into the PostgreSQL database at `url`, then
/// compare every table. `photos_to`: also copy every stored photo into that data directory's
/// photo folder (checked by hash).
pub fn migrate_to_postgres(
    data_dir: &Path,
    url: &str,
    photos_to: Option<&str>,
) -> Result<MoveReport, AdminError> {
    if !Store::has_database(data_dir) {
        return Err(AdminError::NoDatabase(data_dir.display().to_string()));
    }
    // Only a PostgreSQL address (an empty one would mean SQLite to `--database`).
    let target = match Database::from_flag(Some(url), data_dir, DB_FILE) {
        Ok(t) if t.dialect() == Dialect::Postgres => t,
        _ => {
            return Err(invalid(
                "--to is not a PostgreSQL address: give postgres://user:password@host:port/dbname, \
                 a new, empty database; nothing copied",
            ));
        }
    };
    // The source at this release's schema (the target gets the same steps).
    let mut src = db::open(&Database::Sqlite(data_dir.join(DB_FILE)))?;
    let tables = source_tables(&src)?;

    // Fresh: no tables at all, or ours without rows (checked again after migrating).
    {
        let before = db::connect(&target).map_err(|e| {
            invalid(format!(
                "cannot connect to the PostgreSQL database {target}: {}; nothing copied",
                with_causes(&e)
            ))
        })?;
        let existing = target_columns(&before)?;
        if !existing.is_empty() && !existing.contains_key("schema_version") {
            return Err(invalid(format!(
                "the PostgreSQL database {target} already holds other tables ({}): give a new, empty database",
                existing.keys().take(5).cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut tgt = db::open(&target)?;
    let columns = target_columns(&tgt)?;
    let mut tables = tables;
    for t in &mut tables {
        let Some(cols) = columns.get(&t.name) else {
            return Err(invalid(format!("PostgreSQL's schema has no table {}", t.name)));
        };
        // PostgreSQL spells SQLite's implicit rowid (the order some reads rely on) as a column:
        // it takes the same values.
        if cols.contains("rowid") && !t.columns.iter().any(|c| c == "rowid") {
            t.columns.push("rowid".into());
            t.text.push(false);
        }
        let want: BTreeSet<String> = t.columns.iter().cloned().collect();
        if &want != cols {
            return Err(invalid(format!(
                "table {}: SQLite's columns {want:?} differ from PostgreSQL's {cols:?}",
                t.name
            )));
        }
        let rows: i64 = tgt.query_row(&format!("SELECT count(*) FROM {}", quote(&t.name)), [], |r| {
            r.get(0)
        })?;
        if rows > 0 {
            return Err(invalid(format!(
                "the PostgreSQL database {target} is not empty ({} holds {rows} rows): nothing copied; \
                 give a new, empty database",
                t.name
            )));
        }
    }

    // The source in one snapshot, the target in one transaction under the writer lock.
    let snapshot = src.transaction()?;
    let tx = tgt.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut report = Vec::new();
    for t in &tables {
        let rows = read_rows(&snapshot, t)?;
        let name = quote(&t.name);
        tx.execute_batch(&format!("ALTER TABLE {name} DISABLE TRIGGER USER"))?;
        let cols = t.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        let marks = (1..=t.columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let insert = format!("INSERT INTO {name} ({cols}) VALUES ({marks})");
        {
            let mut st = tx.prepare(&insert)?;
            for row in &rows {
                st.execute(db::params_from_iter(row.iter()))?;
            }
        }
        tx.execute_batch(&format!("ALTER TABLE {name} ENABLE TRIGGER USER"))?;
        // Identity columns continue after the highest copied id.
        for c in &t.columns {
            let seq: Option<String> =
                tx.query_row("SELECT pg_get_serial_sequence(?1, ?2)", [&t.name, c], |r| {
                    r.get(0)
                })?;
            if let Some(seq) = seq {
                tx.query_row(
                    &format!(
                        "SELECT setval(CAST(?1 AS TEXT)::regclass, coalesce(max({}), 0) + 1, false) FROM {name}",
                        quote(c)
                    ),
                    [&seq],
                    |_| Ok(()),
                )?;
            }
        }
        report.push((t, rows));
    }

    // Compare every table, read back from PostgreSQL inside the same transaction.
    let mut problems = Vec::new();
    let mut copied = Vec::new();
    for (t, rows) in &report {
        let back = read_rows(&tx, t)?;
        problems.extend(differences(t, rows, &back, 20));
        copied.push(TableCopy {
            table: t.name.clone(),
            rows: rows.len() as u64,
        });
    }
    if !problems.is_empty() {
        tx.rollback()?;
        return Err(invalid(format!(
            "the copy differs from SQLite, nothing committed:\n  {}",
            problems.join("\n  ")
        )));
    }
    tx.commit()?;
    let schema_version: i64 = snapshot.query_row("PRAGMA user_version", [], |r| r.get(0))?;

    let (photos_copied, photos_already_there) = match photos_to {
        None => (None, None),
        Some(to) => {
            let shas: Vec<String> = snapshot
                .prepare("SELECT sha256 FROM blobs ORDER BY sha256")?
                .query_map([], |r| r.get(0))?
                .collect::<db::Result<_>>()?;
            // The target: another data directory's photo folder, or a bucket (`s3://…`, with
            // the S3 variables of `--photos`).
            let target = if to.starts_with("s3://") {
                crate::blobs::PhotoLocation::parse(to)
                    .map_err(invalid)?
                    .open(data_dir)?
            } else {
                crate::blobs::PhotoLocation::DataDir.open(Path::new(to))?
            };
            let source = crate::blobs::PhotoLocation::DataDir.open(data_dir)?;
            let (c, a) = copy_photos(&*source, &*target, &shas)?;
            (Some(c), Some(a))
        }
    };
    drop(snapshot);
    Ok(MoveReport {
        schema_version,
        tables: copied,
        photos_copied,
        photos_already_there,
    })
}

/// Every photo `shas` from the data directory's photo folder into the target store, each read
/// back and hashed (a damaged source file is an error, never copied); a target photo with the
/// right bytes is kept. Returns (copied, already there).
fn copy_photos(
    from: &dyn crate::blobs::BlobStore,
    to: &dyn crate::blobs::BlobStore,
    shas: &[String],
) -> Result<(u64, u64), AdminError> {
    use fieldproof_core::evidence::sha256_hex;
    let (mut copied, mut present) = (0, 0);
    for sha in shas {
        if crate::blobs::read_photo(to, sha)?.is_some_and(|b| sha256_hex(&b) == *sha) {
            present += 1;
            continue;
        }
        let bytes = crate::blobs::read_photo(from, sha)?
            .ok_or_else(|| invalid(format!("photo {sha}: not in the photo folder")))?;
        if sha256_hex(&bytes) != *sha {
            return Err(invalid(format!(
                "photo {sha}: the stored bytes do not match their hash; nothing more copied"
            )));
        }
        to.put(&crate::blob_paths::photo(sha), &bytes, true)?;
        copied += 1;
    }
    Ok((copied, present))
}
