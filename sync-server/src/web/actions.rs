//! The pages' writes, each one transaction: resolving an exception.

use rusqlite::{OptionalExtension, params};

use super::auth::scope_sql;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;

/// How resolving went.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    Now,
    /// Someone resolved it before: nothing changed.
    Already,
}

/// Resolve exception `id` (in the scope) as `by` with `comment`; `NotFound` when the scope
/// does not see it.
pub fn resolve_exception(
    store: &Store,
    scope: Option<&str>,
    id: i64,
    by: &str,
    comment: &str,
    now_ms: i64,
) -> ApiResult<Resolved> {
    let w = store.writer();
    let sql = format!(
        "UPDATE exceptions SET resolved_by = ?1, resolved_ms = ?2, resolution_comment = ?3
         WHERE id = ?4 AND resolved_ms IS NULL AND {}",
        scope_sql("user_id", 5)
    );
    if w.conn.execute(&sql, params![by, now_ms, comment, id, scope])? == 1 {
        return Ok(Resolved::Now);
    }
    let visible_sql = format!(
        "SELECT 1 FROM exceptions WHERE id = ?1 AND {}",
        scope_sql("user_id", 2)
    );
    let visible = w
        .conn
        .query_row(&visible_sql, params![id, scope], |_| Ok(()))
        .optional()?
        .is_some();
    if visible {
        Ok(Resolved::Already)
    } else {
        Err(ApiError::NotFound("exception".into()))
    }
}
