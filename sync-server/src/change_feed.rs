//! The change feed's writer (`changes`): every record a phone pulls is appended here, in the
//! transaction that changed it. A leaf, below `store` and `customers`, so both write the feed
//! through one implementation.

use serde::Serialize;

use crate::db::{Connection, params};

pub(crate) fn append_change(
    tx: &Connection,
    kind: &str,
    id: &str,
    scope_user: Option<&str>,
    scope_territory: Option<&str>,
    body: &str,
    now_ms: i64,
) -> crate::db::Result<()> {
    tx.prepare_cached(
        "INSERT INTO changes (kind, id, scope_user, scope_territory, body, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![kind, id, scope_user, scope_territory, body, now_ms])?;
    Ok(())
}

/// A change-feed row about to be appended (`append_changes`).
#[derive(Serialize)]
pub(crate) struct NewChange {
    pub kind: &'static str,
    pub id: String,
    pub scope_user: Option<String>,
    pub scope_territory: Option<String>,
    pub body: String,
}

/// Append several change-feed rows, in order: on PostgreSQL in one statement (the rows as one
/// JSON array; one statement text whatever their number), on SQLite one call each.
pub(crate) fn append_changes(tx: &Connection, rows: &[NewChange], now_ms: i64) -> crate::db::Result<()> {
    match tx.dialect() {
        crate::db::Dialect::Sqlite => {
            for r in rows {
                append_change(
                    tx,
                    r.kind,
                    &r.id,
                    r.scope_user.as_deref(),
                    r.scope_territory.as_deref(),
                    &r.body,
                    now_ms,
                )?;
            }
        }
        crate::db::Dialect::Postgres if !rows.is_empty() => {
            let json = serde_json::to_string(rows)
                .map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
            tx.prepare_cached(
                "INSERT INTO changes (kind, id, scope_user, scope_territory, body, created_ms)
                 SELECT kind, id, scope_user, scope_territory, body, ?2
                 FROM json_to_recordset(?1::json) AS r(kind text, id text, scope_user text, scope_territory text,
                    body text)",
            )?
            .execute(params![json, now_ms])?;
        }
        crate::db::Dialect::Postgres => {}
    }
    Ok(())
}
