//! Photo reviews and retake requests as the pages show them (`crate::retakes` writes them): the
//! latest decision on each photo of a visit, a visit's retakes with the old and the new photo,
//! and the list of retakes for supervisors.

use std::collections::HashMap;

use crate::db::{Connection, params};

use crate::error::ApiResult;
use crate::web::auth::scope_sql;

/// The latest decision on a photo.
pub struct PhotoReviewView {
    /// `approve`, `reject` or `retake`.
    pub verdict: String,
    pub reason: Option<String>,
    /// Who decided, by name (a web account or a supervisor on a phone).
    pub by: String,
    /// From a supervisor's phone (a signed op), not from the web.
    pub from_phone: bool,
    pub at_ms: i64,
}

/// A retake request with both photos.
pub struct RetakeView {
    pub id: String,
    pub visit_id: String,
    pub store_id: String,
    pub rep_id: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_ms: i64,
    /// Store-local day number.
    pub due_day: i64,
    /// `open`, `done` or `cancelled` as stored; see [`RetakeView::state_on`].
    pub state: String,
    pub closed_ms: Option<i64>,
    pub old_photo_id: String,
    /// The photo to replace, when its bytes are here.
    pub old_sha: Option<String>,
    pub new_photo_id: Option<String>,
    /// The new photo, when its bytes are here.
    pub new_sha: Option<String>,
    pub new_visit_id: Option<String>,
}

impl RetakeView {
    /// The state a person reads on `today` (store-local day): an open request past its due
    /// day is `overdue`.
    pub fn state_on(&self, today: i64) -> &str {
        if self.state == "open" && today > self.due_day {
            "overdue"
        } else {
            &self.state
        }
    }
}

/// The latest decision on each photo of visit `visit_id` (the page already checked its scope).
pub fn latest_reviews(c: &Connection, visit_id: &str) -> ApiResult<HashMap<String, PhotoReviewView>> {
    let mut st = c.prepare_cached(
        "SELECT r.photo_id, r.verdict, r.reason, coalesce(w.name, json_extract(u.body, '$.name'), r.web_user_id, r.field_user_id),
                r.field_user_id IS NOT NULL, r.reviewed_ms
         FROM photo_reviews r JOIN photos p ON p.photo_id = r.photo_id
         LEFT JOIN web_users w ON w.id = r.web_user_id LEFT JOIN users u ON u.id = r.field_user_id
         WHERE p.visit_id = ?1 ORDER BY r.reviewed_ms, r.id",
    )?;
    let rows = st.query_map([visit_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            PhotoReviewView {
                verdict: r.get(1)?,
                reason: r.get(2)?,
                by: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                from_phone: r.get(4)?,
                at_ms: r.get(5)?,
            },
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (photo, review) = row?;
        out.insert(photo, review);
    }
    Ok(out)
}

const SELECT: &str = "SELECT r.id, r.visit_id, r.store_id, r.rep_id, r.reason,
        coalesce(w.name, json_extract(u.body, '$.name'), pr.web_user_id, pr.field_user_id),
        r.requested_ms, r.due_day, r.state, r.closed_ms, r.photo_id,
        (SELECT o.sha256 FROM photos o WHERE o.photo_id = r.photo_id AND o.received = 1),
        r.fulfilled_photo_id,
        (SELECT n.sha256 FROM photos n WHERE n.photo_id = r.fulfilled_photo_id AND n.received = 1),
        (SELECT n.visit_id FROM photos n WHERE n.photo_id = r.fulfilled_photo_id)
     FROM retake_requests r JOIN photo_reviews pr ON pr.id = r.review_id
     LEFT JOIN web_users w ON w.id = pr.web_user_id LEFT JOIN users u ON u.id = pr.field_user_id";

fn row(r: &crate::db::Row<'_>) -> crate::db::Result<RetakeView> {
    Ok(RetakeView {
        id: r.get(0)?,
        visit_id: r.get(1)?,
        store_id: r.get(2)?,
        rep_id: r.get(3)?,
        reason: r.get(4)?,
        requested_by: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
        requested_ms: r.get(6)?,
        due_day: r.get(7)?,
        state: r.get(8)?,
        closed_ms: r.get(9)?,
        old_photo_id: r.get(10)?,
        old_sha: r.get(11)?,
        new_photo_id: r.get(12)?,
        new_sha: r.get(13)?,
        new_visit_id: r.get(14)?,
    })
}

/// The retakes of a visit: asked of its photos, or answered by its photos; oldest first.
pub fn visit_retakes(c: &Connection, visit_id: &str) -> ApiResult<Vec<RetakeView>> {
    let mut st = c.prepare_cached(&format!(
        "{SELECT} WHERE r.visit_id = ?1
            OR r.fulfilled_photo_id IN (SELECT photo_id FROM photos WHERE visit_id = ?1)
         ORDER BY r.requested_ms, r.id"
    ))?;
    let rows = st.query_map([visit_id], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Which retakes the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetakeFilter {
    /// Open and overdue: still waiting for the rep.
    #[default]
    Waiting,
    Overdue,
    Done,
    Cancelled,
    All,
}

impl RetakeFilter {
    pub const ALL: [RetakeFilter; 5] = [
        RetakeFilter::Waiting,
        RetakeFilter::Overdue,
        RetakeFilter::Done,
        RetakeFilter::Cancelled,
        RetakeFilter::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RetakeFilter::Waiting => "waiting",
            RetakeFilter::Overdue => "overdue",
            RetakeFilter::Done => "done",
            RetakeFilter::Cancelled => "cancelled",
            RetakeFilter::All => "all",
        }
    }
}

/// The most rows the list shows (newest first); the count says how many there are.
pub const RETAKE_LIST_LIMIT: u32 = 200;

/// The retakes the viewer's scope sees, by `filter` on store-local day `today`, newest first,
/// and how many match in all.
pub fn retake_list(
    c: &Connection,
    scope: Option<&str>,
    filter: RetakeFilter,
    today: i64,
) -> ApiResult<(Vec<RetakeView>, u32)> {
    let cond = match filter {
        RetakeFilter::Waiting => "r.state = 'open'",
        RetakeFilter::Overdue => "r.state = 'open' AND r.due_day < ?2",
        RetakeFilter::Done => "r.state = 'done'",
        RetakeFilter::Cancelled => "r.state = 'cancelled'",
        RetakeFilter::All => "1",
    };
    let scope_cond = scope_sql("r.rep_id", 1);
    // `?2 = ?2`: every filter binds the same parameters (only `overdue` reads today's day).
    let total: u32 = c.query_row(
        &format!("SELECT count(*) FROM retake_requests r WHERE {scope_cond} AND {cond} AND ?2 = ?2"),
        params![scope, today],
        |r| r.get(0),
    )?;
    let mut st = c.prepare(&format!(
        "{SELECT} WHERE {scope_cond} AND {cond} AND ?2 = ?2 ORDER BY r.requested_ms DESC, r.id LIMIT ?3"
    ))?;
    let rows = st.query_map(params![scope, today, RETAKE_LIST_LIMIT], row)?;
    Ok((rows.collect::<Result<_, _>>()?, total))
}
