//! Visits: a day's list, and one visit whole (answers, report, photos; its exceptions are
//! read with the queue's rows, `super::exceptions::visit_exceptions`).

use crate::db::{Connection, OptionalExtension, params};

use crate::calendar::Calendar;
use crate::error::{ApiError, ApiResult};
use crate::values::{StoredAnswer, TemplateLabels};
use crate::web::auth::scope_sql;

/// A visit as the lists show it.
pub struct VisitRow {
    pub id: String,
    pub user_id: String,
    pub store_id: String,
    pub status: String,
    pub started: i64,
    pub ended: Option<i64>,
    pub geofence: String,
    pub score: Option<f64>,
    /// Its exceptions' distinct codes, sorted, each open or closed.
    pub codes: Vec<VisitCode>,
}

/// One exception code of a visit, as a chip: closed once every exception of that code on the
/// visit is resolved or dismissed (a closed chip looks closed, not like work to do).
pub struct VisitCode {
    pub code: String,
    pub open: bool,
}

impl VisitRow {
    /// Completed or checked out.
    pub fn done(&self) -> bool {
        self.status == "completed" || self.status == "checked_out"
    }

    /// Minutes from start to end, when it ended after it started.
    pub fn minutes(&self) -> Option<i64> {
        self.ended
            .filter(|e| *e >= self.started)
            .map(|e| (e - self.started) / 60_000)
    }
}

/// The columns [`visit_row`] reads, of visits aliased `v`.
const VISIT_COLUMNS: &str = "v.id, v.user_id, v.store_id, v.status, v.started_wall_ms, coalesce(v.ended_wall_ms, v.completed_wall_ms), v.geofence, v.score,
                (SELECT group_concat(code || ':' || open) FROM (SELECT code, max(CASE WHEN resolved_ms IS NULL THEN 1 ELSE 0 END) AS open FROM exceptions e WHERE e.visit_id = v.id GROUP BY code ORDER BY code) AS codes)";

fn visit_row(r: &crate::db::Row<'_>) -> crate::db::Result<VisitRow> {
    let codes: Option<String> = r.get(8)?;
    Ok(VisitRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        store_id: r.get(2)?,
        status: r.get(3)?,
        started: r.get(4)?,
        ended: r.get(5)?,
        geofence: r.get(6)?,
        score: r.get(7)?,
        codes: codes
            .map(|s| {
                s.split(',')
                    .filter_map(|c| c.rsplit_once(':'))
                    .map(|(code, open)| VisitCode {
                        code: code.to_string(),
                        open: open == "1",
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// The visits started in [from, to) Unix ms, in start order.
pub fn visits_between(c: &Connection, scope: Option<&str>, from: i64, to: i64) -> ApiResult<Vec<VisitRow>> {
    let sql = format!(
        "SELECT {VISIT_COLUMNS}
         FROM visits v WHERE started_wall_ms >= ?1 AND started_wall_ms < ?2 AND {}
         ORDER BY started_wall_ms",
        scope_sql("user_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(params![from, to, scope], visit_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One page of a rep's or a store's visits, latest first (`offset`, at most `limit`), and how
/// many there are in all, in the viewer's scope.
pub fn visits_of(
    c: &Connection,
    scope: Option<&str>,
    rep: Option<&str>,
    store: Option<&str>,
    offset: u64,
    limit: u64,
) -> ApiResult<(Vec<VisitRow>, u64)> {
    // Only the filters given go in the SQL: an index serves `v.user_id = ?` or `v.store_id = ?`
    // (migration 010), not `(? IS NULL OR …)`.
    // An absent filter's parameter is still named (`CAST(?n AS TEXT) IS NULL`, always true):
    // PostgreSQL refuses a statement with a parameter it cannot type, and SQLite counts
    // parameters up to the highest number used, so binding all of them stays valid on both.
    let mut filter = scope_sql("v.user_id", 3);
    filter.push_str(if rep.is_some() {
        " AND v.user_id = ?1"
    } else {
        " AND CAST(?1 AS TEXT) IS NULL"
    });
    filter.push_str(if store.is_some() {
        " AND v.store_id = ?2"
    } else {
        " AND CAST(?2 AS TEXT) IS NULL"
    });
    let total: i64 = c.query_row(
        &format!("SELECT count(*) FROM visits v WHERE {filter}"),
        params![rep, store, scope],
        |r| r.get(0),
    )?;
    let sql = format!(
        "SELECT {VISIT_COLUMNS} FROM visits v WHERE {filter}
         ORDER BY v.started_wall_ms DESC, v.id LIMIT ?4 OFFSET ?5"
    );
    let mut st = c.prepare(&sql)?;
    let rows = st
        .query_map(params![rep, store, scope, limit as i64, offset as i64], visit_row)?
        .collect::<Result<_, _>>()?;
    Ok((rows, total.max(0) as u64))
}

/// The day a day page opens on when no date is asked for: today when the viewer's scope has
/// visits today, else the latest earlier day with visits (Monday morning opens on Friday),
/// else today.
pub fn default_day(c: &Connection, cal: Calendar, scope: Option<&str>, today: i64) -> ApiResult<i64> {
    let (_, end_of_today) = cal.day_bounds(today);
    let latest: Option<i64> = c.query_row(
        &format!(
            "SELECT max(started_wall_ms) FROM visits WHERE started_wall_ms < ?1 AND {}",
            scope_sql("user_id", 2)
        ),
        params![end_of_today, scope],
        |r| r.get(0),
    )?;
    Ok(latest.map_or(today, |ms| cal.day_of(ms)))
}

/// One photo of a visit, with the manifest entry and device of the op that attached it.
pub struct VisitPhoto {
    pub photo_id: String,
    pub sha256: String,
    pub evidence_code: String,
    pub kind: String,
    pub received: bool,
    /// As shown (`photo_verdict::shown`: the device's revocation applied).
    pub verified: bool,
    pub problems: Option<String>,
    /// Verified, and the device's key was revoked after the server received the photo.
    pub key_revoked_later: bool,
    /// The op's entry JSON (time, location), when the op has arrived.
    pub entry: Option<String>,
    pub device_id: Option<String>,
}

/// A visit whole, for its page.
pub struct VisitDetail {
    pub visit: VisitRow,
    /// `visits.kind` (`store_check`, `inspection`).
    pub kind: String,
    pub template_id: String,
    pub distance_m: Option<f64>,
    /// The labels of the template version the visit used (None: that template is not stored).
    pub labels: Option<TemplateLabels>,
    pub answers: Vec<StoredAnswer>,
    /// The latest saved report's JSON.
    pub report: Option<String>,
    pub photos: Vec<VisitPhoto>,
}

/// Visit `id` when the scope sees it; `NotFound` otherwise.
pub fn visit_detail(c: &Connection, scope: Option<&str>, id: &str) -> ApiResult<VisitDetail> {
    let sql = format!(
        "SELECT id, user_id, store_id, status, started_wall_ms, coalesce(ended_wall_ms, completed_wall_ms), geofence, score,
                distance_m, kind, template_id, template_version
         FROM visits WHERE id = ?1 AND {}",
        scope_sql("user_id", 2)
    );
    struct Head {
        visit: VisitRow,
        distance_m: Option<f64>,
        kind: String,
        template_id: String,
        template_version: i64,
    }
    let head = c
        .query_row(&sql, params![id, scope], |r| {
            Ok(Head {
                visit: VisitRow {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    store_id: r.get(2)?,
                    status: r.get(3)?,
                    started: r.get(4)?,
                    ended: r.get(5)?,
                    geofence: r.get(6)?,
                    score: r.get(7)?,
                    codes: Vec::new(),
                },
                distance_m: r.get(8)?,
                kind: r.get(9)?,
                template_id: r.get(10)?,
                template_version: r.get(11)?,
            })
        })
        .optional()?
        .ok_or_else(|| ApiError::NotFound("visit".into()))?;
    let vid = head.visit.id.as_str();
    let mut st = c.prepare("SELECT item_id, value, note FROM answers WHERE visit_id = ?1 ORDER BY rowid")?;
    let answers = st
        .query_map([vid], |r| {
            Ok(StoredAnswer {
                item_id: r.get(0)?,
                value: r.get(1)?,
                note: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let report = c
        .query_row(
            "SELECT body FROM reports WHERE visit_id = ?1 ORDER BY saved_ms DESC LIMIT 1",
            [vid],
            |r| r.get(0),
        )
        .optional()?;
    let mut st = c.prepare(&format!(
        "SELECT p.photo_id, p.sha256, p.evidence_code, p.photo_kind, p.received, p.verified, p.problems, o.entry,
            o.device_id, {}
         FROM photos p {} WHERE p.visit_id = ?1 ORDER BY p.rowid",
        crate::photo_verdict::COLUMNS,
        crate::photo_verdict::JOINS
    ))?;
    let photos = st
        .query_map([vid], |r| {
            let problems: Option<String> = r.get(6)?;
            let shown = crate::photo_verdict::shown(r.get(5)?, problems.as_deref(), r.get(9)?, r.get(10)?);
            Ok(VisitPhoto {
                photo_id: r.get(0)?,
                sha256: r.get(1)?,
                evidence_code: r.get(2)?,
                kind: r.get(3)?,
                received: r.get(4)?,
                verified: shown.verified,
                problems: shown.problems,
                key_revoked_later: shown.key_revoked_later,
                entry: r.get(7)?,
                device_id: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(VisitDetail {
        labels: template_labels(c, &head.template_id, head.template_version)?,
        visit: head.visit,
        kind: head.kind,
        template_id: head.template_id,
        distance_m: head.distance_m,
        answers,
        report,
        photos,
    })
}

/// The labels of a stored template version.
fn template_labels(c: &Connection, template: &str, version: i64) -> ApiResult<Option<TemplateLabels>> {
    let body: Option<String> = c
        .query_row(
            "SELECT body FROM templates WHERE id = ?1 AND version = ?2",
            params![template, version],
            |r| r.get(0),
        )
        .optional()?;
    Ok(body.as_deref().and_then(TemplateLabels::from_body))
}
