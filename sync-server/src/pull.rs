//! Pull: the change feed after a cursor, filtered to what the device's user may see. The scope
//! comes from the user's record on the server, never from the request: there is no parameter a
//! rep could use to ask for another territory.

use crate::db::{OptionalExtension, params};
use fieldproof_core::sync::wire::{Change, ChangeKind, MAX_PULL_LIMIT, PullResponse};

use crate::error::{ApiError, ApiResult};
use crate::store::Store;

/// Who sees what, as lists the feed query matches against.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Scope {
    users: Vec<String>,
    territories: Vec<String>,
    /// Stores outside those territories that the user's (or team's) plans send them to.
    plan_stores: Vec<String>,
    plan_reps: Vec<String>,
    team: Vec<String>,
    /// Whose customers and leads arrive whole: the user's own, and a supervisor's team's
    /// (never a rep's supervisor's: `users` has them for the user records only).
    holders: Vec<String>,
}

fn kind_from_str(s: &str) -> Option<ChangeKind> {
    Some(match s {
        "user" => ChangeKind::User,
        "store" => ChangeKind::Store,
        "product" => ChangeKind::Product,
        "template" => ChangeKind::Template,
        "plan" => ChangeKind::Plan,
        "team_visit" => ChangeKind::TeamVisit,
        "retake" => ChangeKind::Retake,
        "customer" => ChangeKind::Customer,
        "lead" => ChangeKind::Lead,
        "customer_key" => ChangeKind::CustomerKey,
        "store_key" => ChangeKind::StoreKey,
        "pipeline_config" => ChangeKind::PipelineConfig,
        _ => return None,
    })
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn scope_of(c: &crate::db::Connection, user_id: &str) -> ApiResult<Scope> {
    let me: Option<(String, Option<String>, Option<String>)> = c
        .prepare_cached("SELECT role, territory, supervisor_id FROM users WHERE id = ?1")?
        .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    // A user head office no longer has sees nothing.
    let Some((role, territory, supervisor)) = me else {
        return Ok(Scope::default());
    };
    let mut s = Scope {
        users: vec![user_id.to_string()],
        holders: vec![user_id.to_string()],
        territories: territory.into_iter().collect(),
        ..Scope::default()
    };
    if role == "supervisor" {
        let mut st =
            c.prepare_cached("SELECT id, territory FROM users WHERE supervisor_id = ?1 ORDER BY id")?;
        let rows = st.query_map([user_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        for row in rows {
            let (id, territory) = row?;
            s.users.push(id.clone());
            s.holders.push(id.clone());
            s.team.push(id.clone());
            s.plan_reps.push(id);
            if let Some(t) = territory
                && !s.territories.contains(&t)
            {
                s.territories.push(t);
            }
        }
    } else {
        s.users.extend(supervisor);
        s.plan_reps.push(user_id.to_string());
    }
    let mut st = c.prepare_cached(
        "SELECT DISTINCT store_id FROM plans WHERE rep_id IN (SELECT value FROM json_each(?1)) ORDER BY store_id",
    )?;
    let rows = st.query_map([json_list(&s.plan_reps)], |r| r.get::<_, String>(0))?;
    for id in rows {
        s.plan_stores.push(id?);
    }
    Ok(s)
}

/// `GET /v1/pull?cursor=C&limit=L` for a device. `limit` is clamped to 1..=1000.
pub fn changes_after(
    store: &Store,
    device_id: &str,
    cursor: i64,
    limit: u32,
    now_ms: i64,
) -> ApiResult<PullResponse> {
    let limit = limit.clamp(1, MAX_PULL_LIMIT);
    let mut r = store.reader()?;
    // One snapshot: the scope, the page and the feed's end agree with each other.
    let tx = r.transaction()?;
    let user_id: String = tx
        .prepare_cached("SELECT user_id FROM devices WHERE device_id = ?1")?
        .query_row([device_id], |row| row.get(0))
        .optional()?
        .ok_or(ApiError::UnknownDevice)?;
    let scope = scope_of(&tx, &user_id)?;
    let feed_end: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |row| row.get(0))?;
    let mut changes = Vec::new();
    {
        let mut st = tx.prepare_cached(
            "SELECT seq, kind, id, body FROM changes WHERE seq > ?1 AND (
                kind IN ('product', 'template')
                OR (kind = 'user' AND scope_user IN (SELECT value FROM json_each(?2)))
                OR (kind = 'store' AND (scope_territory IN (SELECT value FROM json_each(?3))
                                        OR id IN (SELECT value FROM json_each(?4))))
                OR (kind IN ('plan', 'retake') AND scope_user IN (SELECT value FROM json_each(?5)))
                OR (kind = 'team_visit' AND scope_user IN (SELECT value FROM json_each(?6)))
                OR kind = 'pipeline_config'
                OR (kind IN ('customer', 'lead') AND (scope_user IN (SELECT value FROM json_each(?8))
                                                     OR scope_territory IN (SELECT value FROM json_each(?3))))
                OR (kind = 'customer_key' AND (scope_territory IN (SELECT value FROM json_each(?3))
                                               OR scope_user IN (SELECT value FROM json_each(?8))))
                -- A store key's id is `{store}:{kid}`, the kid 9 characters (`customers::store_keys`).
                OR (kind = 'store_key' AND (scope_territory IN (SELECT value FROM json_each(?3))
                                            OR substr(id, 1, length(id) - 10) IN (SELECT value FROM json_each(?4))))
             ) ORDER BY seq LIMIT ?7",
        )?;
        let mut rows = st.query(params![
            cursor,
            json_list(&scope.users),
            json_list(&scope.territories),
            json_list(&scope.plan_stores),
            json_list(&scope.plan_reps),
            json_list(&scope.team),
            i64::from(limit) + 1,
            json_list(&scope.holders)
        ])?;
        while let Some(row) = rows.next()? {
            let kind: String = row.get(1)?;
            let body: String = row.get(3)?;
            let (Some(kind), Ok(body)) = (kind_from_str(&kind), serde_json::from_str(&body)) else {
                continue;
            };
            changes.push(Change {
                seq: row.get(0)?,
                kind,
                id: row.get(2)?,
                body,
            });
        }
    }
    tx.commit()?;
    let has_more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    // Past the last page the cursor moves to the end of the feed, so rows this user may
    // not see are not scanned again on every pull.
    let next = match (has_more, changes.last()) {
        (true, Some(last)) => last.seq,
        (false, _) => feed_end.max(cursor),
        (true, None) => cursor,
    };
    store.metrics.record_pull(changes.len() as u64);
    Ok(PullResponse {
        changes,
        cursor: next,
        has_more,
        server_time_ms: now_ms,
    })
}
