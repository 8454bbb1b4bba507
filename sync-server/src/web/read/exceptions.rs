//! The exception queue.

use rusqlite::{Connection, params};

use crate::error::ApiResult;
use crate::web::auth::scope_sql;

/// Which exceptions by resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Open,
    Resolved,
    All,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Open => "open",
            Resolution::Resolved => "resolved",
            Resolution::All => "all",
        }
    }
}

/// The queue's filters; an empty text or `None` is "all".
pub struct ExceptionFilter {
    pub code: String,
    pub rep: String,
    pub status: Resolution,
    /// [first, end) visit days (days since 1970-01-01 in the field's time zone): the visit's
    /// day, not the day the server received the exception.
    pub between: Option<(i64, i64)>,
}

/// The most rows one queue page lists.
pub const QUEUE_LIMIT: i64 = 500;

/// An exception as the queue lists it.
pub struct ExceptionRow {
    pub id: i64,
    pub code: String,
    pub user_id: Option<String>,
    pub visit_id: Option<String>,
    pub store_id: Option<String>,
    pub detail: String,
    pub created_ms: i64,
    pub resolved_by: Option<String>,
    pub resolved_ms: Option<i64>,
    pub comment: Option<String>,
}

/// The newest exceptions matching `f`, at most [`QUEUE_LIMIT`].
pub fn queue(c: &Connection, scope: Option<&str>, f: &ExceptionFilter) -> ApiResult<Vec<ExceptionRow>> {
    let (from, to) = f.between.unwrap_or((i64::MIN, i64::MAX));
    let sql = format!(
        "SELECT id, code, user_id, visit_id, store_id, detail, created_ms, resolved_by, resolved_ms, resolution_comment
         FROM exceptions WHERE {} AND (?2 = '' OR code = ?2) AND (?3 = '' OR user_id = ?3)
           AND visit_day >= ?4 AND visit_day < ?5
           AND (?6 = 'all' OR (?6 = 'open') = (resolved_ms IS NULL))
         ORDER BY id DESC LIMIT ?7",
        scope_sql("user_id", 1)
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(
        params![scope, f.code, f.rep, from, to, f.status.as_str(), QUEUE_LIMIT],
        |r| {
            Ok(ExceptionRow {
                id: r.get(0)?,
                code: r.get(1)?,
                user_id: r.get(2)?,
                visit_id: r.get(3)?,
                store_id: r.get(4)?,
                detail: r.get(5)?,
                created_ms: r.get(6)?,
                resolved_by: r.get(7)?,
                resolved_ms: r.get(8)?,
                comment: r.get(9)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The codes and the reps the scope has exceptions of: the filter's choices.
pub struct QueueChoices {
    pub codes: Vec<String>,
    pub reps: Vec<String>,
}

/// The queue page: its rows and its filter's choices.
pub struct QueuePage {
    pub rows: Vec<ExceptionRow>,
    pub choices: QueueChoices,
}

pub fn queue_page(c: &Connection, scope: Option<&str>, f: &ExceptionFilter) -> ApiResult<QueuePage> {
    Ok(QueuePage {
        rows: queue(c, scope, f)?,
        choices: choices(c, scope)?,
    })
}

fn choices(c: &Connection, scope: Option<&str>) -> ApiResult<QueueChoices> {
    let sql = format!(
        "SELECT DISTINCT code FROM exceptions WHERE {} ORDER BY code",
        scope_sql("user_id", 1)
    );
    let mut st = c.prepare(&sql)?;
    let codes = st
        .query_map(params![scope], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let sql = format!(
        "SELECT DISTINCT user_id FROM exceptions WHERE user_id IS NOT NULL AND {} ORDER BY user_id",
        scope_sql("user_id", 1)
    );
    let mut st = c.prepare(&sql)?;
    let reps = st
        .query_map(params![scope], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(QueueChoices { codes, reps })
}
