//! Customers (客户) for head office: the list with owner, stage, days in stage, health grade
//! and its trend, the red warning and duplicate links (filters, paged); the pool (公海) with
//! when and why each customer was released; one customer's page (follow-ups, stage moves with
//! their evidence and what was missing, photos, events, activities, duplicates). Scope:
//! [`customer_scope_sql`] (a supervisor sees their team's customers and their territories'
//! pool).

use std::collections::HashMap;

use crate::db::{Connection, OptionalExtension, Value, params, params_from_iter};
use crate::error::ApiResult;
use crate::web::read::pipeline::{DAY_MS, customer_scope_sql};

/// Weeks of health trend a list row shows (one grade per week, newest last).
pub const TREND_WEEKS: i64 = 4;

/// The list's filters (empty: any).
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Name or company contains.
    pub q: String,
    pub owner: String,
    pub stage: String,
    /// `A`, `B`, `C`, or `none` (not graded yet).
    pub grade: String,
    /// `owned`, `pool`, `duplicate`, `closed`; empty: all but closed.
    pub state: String,
    /// Only those with a red health warning.
    pub warning: bool,
}

/// One week's health: its last scored day in the week.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthPoint {
    pub day: i64,
    pub score: f64,
    pub grade: String,
    pub warning: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub region: Option<String>,
    pub owner_id: Option<String>,
    pub created_by: String,
    pub state: String,
    pub duplicate_of: Option<String>,
    /// The original's name, for a duplicate.
    pub duplicate_of_name: Option<String>,
    /// Other entries linked to this one as its duplicates.
    pub duplicates: i64,
    pub stage: String,
    pub stage_entered_ms: i64,
    pub last_interaction_ms: Option<i64>,
    pub release_due_ms: Option<i64>,
    pub health_grade: Option<String>,
    pub health_score: Option<f64>,
    /// One point per week over the last [`TREND_WEEKS`] weeks, oldest first.
    pub trend: Vec<HealthPoint>,
    /// The latest nightly score's red warning.
    pub warning: bool,
}

impl CustomerRow {
    /// Whole days in the current stage at `now_ms`.
    pub fn days_in_stage(&self, now_ms: i64) -> i64 {
        ((now_ms - self.stage_entered_ms) / DAY_MS).max(0)
    }
}

#[derive(Debug, Clone, Default)]
pub struct CustomerList {
    pub rows: Vec<CustomerRow>,
    pub total: i64,
    /// Owners and regions (territory codes) in scope, to filter by.
    pub owners: Vec<String>,
    pub regions: Vec<String>,
}

const COLUMNS: &str = "c.id, c.name, c.company, c.region, c.owner_id, c.created_by, c.state, c.duplicate_of,
    (SELECT o.name FROM customers o WHERE o.id = c.duplicate_of),
    (SELECT count(*) FROM customers d WHERE d.duplicate_of = c.id),
    c.stage, c.stage_entered_ms, c.last_interaction_ms, c.release_due_ms, c.health_grade, c.health_score";

fn customer_row(r: &crate::db::Row<'_>) -> crate::db::Result<CustomerRow> {
    Ok(CustomerRow {
        id: r.get(0)?,
        name: r.get(1)?,
        company: r.get(2)?,
        region: r.get(3)?,
        owner_id: r.get(4)?,
        created_by: r.get(5)?,
        state: r.get(6)?,
        duplicate_of: r.get(7)?,
        duplicate_of_name: r.get(8)?,
        duplicates: r.get(9)?,
        stage: r.get(10)?,
        stage_entered_ms: r.get(11)?,
        last_interaction_ms: r.get(12)?,
        release_due_ms: r.get(13)?,
        health_grade: r.get(14)?,
        health_score: r.get(15)?,
        trend: Vec::new(),
        warning: false,
    })
}

/// Customers `scope` sees under `filter`, `offset..offset+limit` (the longest in their stage
/// first: what needs attention), each with its health trend up to `today` (a field-calendar
/// day).
pub fn customer_list(
    c: &Connection,
    scope: Option<&str>,
    filter: &CustomerFilter,
    today: i64,
    offset: u64,
    limit: u64,
) -> ApiResult<CustomerList> {
    let mut clause = customer_scope_sql("c", 1);
    let mut values: Vec<Value> = vec![scope.map_or(Value::Null, |s| Value::Text(s.to_string()))];
    let mut bind = |clause: &mut String, sql: &str, v: Value| {
        values.push(v);
        clause.push_str(&sql.replace("?N", &format!("?{}", values.len())));
    };
    if !filter.q.is_empty() {
        let like = format!("%{}%", filter.q.replace(['%', '_'], ""));
        bind(
            &mut clause,
            " AND (c.name LIKE ?N OR COALESCE(c.company, '') LIKE ?N)",
            Value::Text(like),
        );
    }
    if !filter.owner.is_empty() {
        bind(
            &mut clause,
            " AND c.owner_id = ?N",
            Value::Text(filter.owner.clone()),
        );
    }
    if !filter.stage.is_empty() {
        bind(
            &mut clause,
            " AND c.stage = ?N",
            Value::Text(filter.stage.clone()),
        );
    }
    match filter.grade.as_str() {
        "" => {}
        "none" => clause.push_str(" AND c.health_grade IS NULL"),
        g => bind(
            &mut clause,
            " AND c.health_grade = ?N",
            Value::Text(g.to_string()),
        ),
    }
    match filter.state.as_str() {
        "" => clause.push_str(" AND c.state <> 'closed'"),
        s => bind(&mut clause, " AND c.state = ?N", Value::Text(s.to_string())),
    }
    if filter.warning {
        clause.push_str(
            " AND EXISTS (SELECT 1 FROM customer_health h WHERE h.customer_id = c.id AND h.warning = 1
                AND h.day = (SELECT max(h2.day) FROM customer_health h2 WHERE h2.customer_id = c.id))",
        );
    }
    let total: i64 = c.query_row(
        &format!("SELECT count(*) FROM customers c WHERE {clause}"),
        params_from_iter(values.iter().cloned()),
        |r| r.get(0),
    )?;
    let n = values.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM customers c WHERE {clause} ORDER BY c.stage_entered_ms, c.id LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    );
    let mut all = values.clone();
    all.push(Value::Integer(limit as i64));
    all.push(Value::Integer(offset as i64));
    let mut st = c.prepare(&sql)?;
    let mut rows: Vec<CustomerRow> = st
        .query_map(params_from_iter(all), customer_row)?
        .collect::<Result<_, _>>()?;
    add_trends(c, &mut rows, today)?;
    let distinct = |col: &str| -> ApiResult<Vec<String>> {
        let sql = format!(
            "SELECT DISTINCT {col} FROM customers c WHERE {} AND {col} IS NOT NULL ORDER BY {col}",
            customer_scope_sql("c", 1)
        );
        let mut st = c.prepare(&sql)?;
        let v: Vec<String> = st
            .query_map(params![scope], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(v)
    };
    Ok(CustomerList {
        rows,
        total,
        owners: distinct("c.owner_id")?,
        regions: distinct("c.region")?,
    })
}

/// Each row's weekly health over the last [`TREND_WEEKS`] weeks to `today`, and its latest red
/// warning: one query for the page's customers.
fn add_trends(c: &Connection, rows: &mut [CustomerRow], today: i64) -> ApiResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let first = today - TREND_WEEKS * 7 + 1;
    let ids: Vec<Value> = rows.iter().map(|r| Value::Text(r.id.clone())).collect();
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("?{}", i + 3)).collect();
    let sql = format!(
        "SELECT customer_id, day, score, grade, warning FROM customer_health
         WHERE day >= ?1 AND day <= ?2 AND customer_id IN ({}) ORDER BY customer_id, day",
        marks.join(", ")
    );
    let mut values = vec![Value::Integer(first), Value::Integer(today)];
    values.extend(ids);
    let mut st = c.prepare(&sql)?;
    // Customer → week index → its last day's point.
    let mut weeks: HashMap<String, Vec<Option<HealthPoint>>> = HashMap::new();
    let mut latest: HashMap<String, bool> = HashMap::new();
    for r in st.query_map(params_from_iter(values), |r| {
        Ok((
            r.get::<_, String>(0)?,
            HealthPoint {
                day: r.get(1)?,
                score: r.get(2)?,
                grade: r.get(3)?,
                warning: r.get::<_, i64>(4)? != 0,
            },
        ))
    })? {
        let (id, p) = r?;
        let week = ((p.day - first) / 7) as usize;
        latest.insert(id.clone(), p.warning);
        let slots = weeks
            .entry(id)
            .or_insert_with(|| vec![None; TREND_WEEKS as usize]);
        if let Some(slot) = slots.get_mut(week) {
            *slot = Some(p);
        }
    }
    for row in rows.iter_mut() {
        row.trend = weeks
            .remove(&row.id)
            .map(|w| w.into_iter().flatten().collect())
            .unwrap_or_default();
        row.warning = latest.get(&row.id).copied().unwrap_or(false);
    }
    Ok(())
}

/// A pooled customer and how it got there: the latest release (by its rep, by the 7-day rule,
/// a lead's deadline) or its import.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolRow {
    pub customer: CustomerRow,
    /// `release`, `auto_release`, `imported`, … (`customer_events.kind`); `None`: no event.
    pub kind: Option<String>,
    pub by: Option<String>,
    pub reason: Option<String>,
    pub at_ms: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct PoolList {
    pub rows: Vec<PoolRow>,
    pub total: i64,
    pub regions: Vec<String>,
}

/// The pool (state `pool`) that `scope` sees, in `region` when given, the most recently
/// released first.
pub fn pool_list(
    c: &Connection,
    scope: Option<&str>,
    region: &str,
    offset: u64,
    limit: u64,
) -> ApiResult<PoolList> {
    let clause = format!(
        "c.state = 'pool' AND {} AND (CAST(?2 AS TEXT) = '' OR c.region = ?2)",
        customer_scope_sql("c", 1)
    );
    let total: i64 = c.query_row(
        &format!("SELECT count(*) FROM customers c WHERE {clause}"),
        params![scope, region],
        |r| r.get(0),
    )?;
    // The latest event that put it in the pool, by a correlated lookup (both dialects).
    let sql = format!(
        "SELECT {COLUMNS}, e.kind, e.user_id, e.reason, e.at_ms FROM customers c
         LEFT JOIN customer_events e ON e.id = (SELECT e2.id FROM customer_events e2
             WHERE e2.customer_id = c.id AND e2.kind IN ('release', 'auto_release', 'imported', 'lead_pool')
             ORDER BY e2.at_ms DESC, e2.id DESC LIMIT 1)
         WHERE {clause} ORDER BY COALESCE(e.at_ms, c.updated_ms) DESC, c.id LIMIT ?3 OFFSET ?4"
    );
    let mut st = c.prepare(&sql)?;
    let rows: Vec<PoolRow> = st
        .query_map(params![scope, region, limit as i64, offset as i64], |r| {
            Ok(PoolRow {
                customer: customer_row(r)?,
                kind: r.get(16)?,
                by: r.get(17)?,
                reason: r.get(18)?,
                at_ms: r.get(19)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let sql = format!(
        "SELECT DISTINCT c.region FROM customers c WHERE c.state = 'pool' AND {} AND c.region IS NOT NULL ORDER BY c.region",
        customer_scope_sql("c", 1)
    );
    let mut st = c.prepare(&sql)?;
    let regions: Vec<String> = st
        .query_map(params![scope], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(PoolList { rows, total, regions })
}

#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpView {
    pub user_id: String,
    pub channel: String,
    pub outcome: String,
    pub note: String,
    pub next_step: Option<String>,
    pub next_date: Option<String>,
    pub visit_id: Option<String>,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageMoveView {
    pub from_stage: String,
    pub to_stage: String,
    pub reason: Option<String>,
    /// The evidence it rested on: requirement ids (labels come from the settings).
    pub evidence: Vec<String>,
    /// What the server found missing (requirement ids).
    pub missing: Vec<String>,
    pub user_id: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerPhotoView {
    pub requirement_id: String,
    pub kind: String,
    pub sha256: String,
    pub taken_at_ms: i64,
    pub user_id: String,
    pub evidence_code: Option<String>,
    /// The bytes are stored (the page links a preview only then).
    pub received: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    pub kind: String,
    pub user_id: Option<String>,
    pub reason: Option<String>,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityView {
    pub kind: String,
    pub day: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerDetail {
    pub row: CustomerRow,
    pub industry: Option<String>,
    pub phones: Vec<String>,
    pub budget_cents: Option<i64>,
    pub store_id: Option<String>,
    pub from_lead_id: Option<String>,
    pub created_ms: i64,
    pub follow_ups: Vec<FollowUpView>,
    pub moves: Vec<StageMoveView>,
    pub photos: Vec<CustomerPhotoView>,
    pub events: Vec<EventView>,
    pub activities: Vec<ActivityView>,
    /// (id, name, who entered it) of the entries linked to this one as duplicates.
    pub duplicates: Vec<(String, String, String)>,
    /// Every nightly score of the last [`TREND_WEEKS`] weeks.
    pub health: Vec<HealthPoint>,
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str::<Vec<serde_json::Value>>(text)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v {
            serde_json::Value::String(s) => Some(s),
            // An evidence reference or a missing item: its requirement.
            serde_json::Value::Object(o) => o
                .get("requirement_id")
                .or_else(|| o.get("id"))
                .and_then(|v| v.as_str())
                .map(str::to_string),
            _ => None,
        })
        .collect()
}

/// One customer as `scope` sees it; `None` when there is no such customer or it is another
/// team's.
pub fn customer_detail(
    c: &Connection,
    scope: Option<&str>,
    id: &str,
    today: i64,
) -> ApiResult<Option<CustomerDetail>> {
    let sql = format!(
        "SELECT {COLUMNS}, c.industry, c.phones, c.budget_cents, c.store_id, c.from_lead_id, c.created_ms
         FROM customers c WHERE c.id = ?2 AND {}",
        customer_scope_sql("c", 1)
    );
    let found = c
        .query_row(&sql, params![scope, id], |r| {
            Ok((
                customer_row(r)?,
                r.get::<_, Option<String>>(16)?,
                r.get::<_, String>(17)?,
                r.get::<_, Option<i64>>(18)?,
                r.get::<_, Option<String>>(19)?,
                r.get::<_, Option<String>>(20)?,
                r.get::<_, i64>(21)?,
            ))
        })
        .optional()?;
    let Some((row, industry, phones, budget_cents, store_id, from_lead_id, created_ms)) = found else {
        return Ok(None);
    };
    let mut rows = [row];
    add_trends(c, &mut rows, today)?;
    let [row] = rows;
    let mut st = c.prepare(
        "SELECT user_id, channel, outcome, note, next_step, next_date, visit_id, at_ms FROM customer_follow_ups
         WHERE customer_id = ?1 ORDER BY at_ms DESC, id",
    )?;
    let follow_ups = st
        .query_map(params![id], |r| {
            Ok(FollowUpView {
                user_id: r.get(0)?,
                channel: r.get(1)?,
                outcome: r.get(2)?,
                note: r.get(3)?,
                next_step: r.get(4)?,
                next_date: r.get(5)?,
                visit_id: r.get(6)?,
                at_ms: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut st = c.prepare(
        "SELECT from_stage, to_stage, reason, evidence, missing, user_id, at_ms FROM customer_stage_changes
         WHERE customer_id = ?1 ORDER BY at_ms DESC, id",
    )?;
    let moves = st
        .query_map(params![id], |r| {
            Ok(StageMoveView {
                from_stage: r.get(0)?,
                to_stage: r.get(1)?,
                reason: r.get(2)?,
                evidence: json_list(&r.get::<_, String>(3)?),
                missing: json_list(&r.get::<_, String>(4)?),
                user_id: r.get(5)?,
                at_ms: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut st = c.prepare(
        "SELECT p.requirement_id, p.kind, p.sha256, p.taken_at_ms, p.user_id, p.evidence_code,
                CASE WHEN EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = p.sha256) THEN 1 ELSE 0 END
         FROM customer_photos p WHERE p.customer_id = ?1 ORDER BY p.taken_at_ms DESC, p.id",
    )?;
    let photos = st
        .query_map(params![id], |r| {
            Ok(CustomerPhotoView {
                requirement_id: r.get(0)?,
                kind: r.get(1)?,
                sha256: r.get(2)?,
                taken_at_ms: r.get(3)?,
                user_id: r.get(4)?,
                evidence_code: r.get(5)?,
                received: r.get::<_, i64>(6)? != 0,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut st = c.prepare(
        "SELECT kind, user_id, reason, at_ms FROM customer_events WHERE customer_id = ?1 ORDER BY at_ms DESC, id DESC",
    )?;
    let events = st
        .query_map(params![id], |r| {
            Ok(EventView {
                kind: r.get(0)?,
                user_id: r.get(1)?,
                reason: r.get(2)?,
                at_ms: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut st = c.prepare(
        "SELECT kind, day, note FROM customer_activities WHERE customer_id = ?1 ORDER BY day DESC, id DESC",
    )?;
    let activities = st
        .query_map(params![id], |r| {
            Ok(ActivityView {
                kind: r.get(0)?,
                day: r.get(1)?,
                note: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut st = c.prepare(
        "SELECT id, name, created_by FROM customers WHERE duplicate_of = ?1 ORDER BY created_ms, id",
    )?;
    let duplicates = st
        .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let first = today - TREND_WEEKS * 7 + 1;
    let mut st = c.prepare(
        "SELECT day, score, grade, warning FROM customer_health WHERE customer_id = ?1 AND day >= ?2 AND day <= ?3
         ORDER BY day",
    )?;
    let health = st
        .query_map(params![id, first, today], |r| {
            Ok(HealthPoint {
                day: r.get(0)?,
                score: r.get(1)?,
                grade: r.get(2)?,
                warning: r.get::<_, i64>(3)? != 0,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(CustomerDetail {
        row,
        industry,
        phones: serde_json::from_str(&phones).unwrap_or_default(),
        budget_cents,
        store_id,
        from_lead_id,
        created_ms,
        follow_ups,
        moves,
        photos,
        events,
        activities,
        duplicates,
        health,
    }))
}

/// A store's newest key that is not retired: (kid, seed hex).
pub fn current_store_key(c: &Connection, store_id: &str) -> ApiResult<Option<(String, String)>> {
    Ok(c.query_row(
        "SELECT kid, seed_hex FROM store_keys WHERE store_id = ?1 AND retired_ms IS NULL
         ORDER BY created_ms DESC, kid DESC LIMIT 1",
        params![store_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}
