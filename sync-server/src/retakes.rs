//! Photo review with retakes (`migrations/011_photo_reviews_and_retakes.sql`): one set of rules
//! for a decision on a photo, whether it comes from a web page (a head-office or supervisor
//! account) or from a supervisor's phone (a signed `visit.photo_review` op, applied by
//! [`crate::ingest`]).
//!
//! - approve, or reject with a reason: recorded; an open retake request of the photo is
//!   withdrawn (`cancelled`).
//! - retake with a reason: recorded, and a retake request opens for the photo's rep and store,
//!   due on the rep's next planned visit of the store after today, else [`DEFAULT_DUE_DAYS`]
//!   days on (store-local days, [`crate::calendar`]). It goes down the change feed to the rep's
//!   phone (kind `retake`, like plans: to the rep and their supervisor) and again on every
//!   state change.
//! - a `visit.photo` op naming the request (`retake_request_id` in its manifest) by that rep at
//!   that store links the new photo ([`link_photo`]); the request is `done` once the photo's
//!   bytes are here too ([`photo_received`]).
//!
//! A leaf above `store`: the web actions and the push both call it inside their transaction.

use crate::db::{Connection, OptionalExtension, params};
use fieldproof_core::model::PhotoReviewVerdict;
use fieldproof_core::sync::wire::RetakeChange;

use crate::calendar::{Calendar, day_string, parse_day};
use crate::store::append_change;

/// Longest reason, in characters (the phone's core takes the same).
pub const MAX_REASON_CHARS: usize = fieldproof_core::MAX_REVIEW_REASON_CHARS;

/// Days until a retake is due when the rep has no later plan at the store.
pub const DEFAULT_DUE_DAYS: i64 = 3;

/// Who decides.
#[derive(Debug, Clone, Copy)]
pub enum Reviewer<'a> {
    /// A web account, seeing `scope` (`WebUser::scope`: `None` = everything).
    Web { id: &'a str, scope: Option<&'a str> },
    /// A supervisor on their phone: the field user the device is enrolled for, and the op.
    Field { user_id: &'a str, op_id: &'a str },
}

/// Why a decision is refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewError {
    /// The verdict is none of approve, reject, retake.
    BadVerdict {
        value: String,
    },
    /// Reject and retake say why.
    ReasonRequired,
    ReasonTooLong {
        max: usize,
    },
    /// No such photo (or, from a phone, not of the visit the op names).
    UnknownPhoto,
    /// The photo is not of the reviewer's team (or the phone's user is no supervisor).
    NotInTeam,
    /// A retake is asked of a rep; this photo is a supervisor's.
    NotARepPhoto,
    /// The photo already has an open retake request.
    RetakeAlreadyOpen,
    Storage(String),
}

impl ReviewError {
    /// Stable codes: a phone's refused op carries the same as its reason.
    pub fn code(&self) -> &'static str {
        match self {
            ReviewError::BadVerdict { .. } => "review_bad_verdict",
            ReviewError::ReasonRequired => "review_reason_required",
            ReviewError::ReasonTooLong { .. } => "review_reason_too_long",
            ReviewError::UnknownPhoto => "unknown_photo",
            ReviewError::NotInTeam => "photo_not_in_team",
            ReviewError::NotARepPhoto => "retake_not_a_rep",
            ReviewError::RetakeAlreadyOpen => "retake_already_open",
            ReviewError::Storage(_) => "storage",
        }
    }

    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            ReviewError::BadVerdict { value } => vec![("value", value.clone())],
            ReviewError::ReasonTooLong { max } => vec![("max", max.to_string())],
            _ => Vec::new(),
        }
    }
}

impl From<crate::db::Error> for ReviewError {
    fn from(e: crate::db::Error) -> Self {
        ReviewError::Storage(e.to_string())
    }
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    pub review_id: i64,
    /// The photo's visit (its summary for the supervisor changed).
    pub visit_id: String,
    /// The request a retake opened.
    pub retake_id: Option<String>,
}

/// The photo a decision is about.
struct PhotoRow {
    visit_id: String,
    store_id: String,
    user_id: String,
    item_id: Option<String>,
    photo_kind: String,
}

/// Record one decision in the caller's transaction. `retake_id` names the request a retake
/// opens: a phone's review id, a fresh random id from the web.
/// `visit_id`: the visit a phone's op names (the photo must be of it).
#[allow(clippy::too_many_arguments)]
pub fn review_in(
    tx: &Connection,
    calendar: Calendar,
    reviewer: Reviewer<'_>,
    photo_id: &str,
    visit_id: Option<&str>,
    verdict: &str,
    reason: Option<&str>,
    retake_id: &str,
    now_ms: i64,
) -> Result<Reviewed, ReviewError> {
    let verdict = PhotoReviewVerdict::parse(verdict.trim()).ok_or_else(|| ReviewError::BadVerdict {
        value: verdict.chars().take(40).collect(),
    })?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ReviewError::ReasonTooLong {
            max: MAX_REASON_CHARS,
        });
    }
    if verdict != PhotoReviewVerdict::Approve && reason.is_none() {
        return Err(ReviewError::ReasonRequired);
    }
    let photo: Option<PhotoRow> = tx
        .prepare_cached(
            "SELECT visit_id, store_id, user_id, item_id, photo_kind FROM photos WHERE photo_id = ?1",
        )?
        .query_row([photo_id], |r| {
            Ok(PhotoRow {
                visit_id: r.get(0)?,
                store_id: r.get(1)?,
                user_id: r.get(2)?,
                item_id: r.get(3)?,
                photo_kind: r.get(4)?,
            })
        })
        .optional()?;
    let photo = photo
        .filter(|p| visit_id.is_none_or(|v| v == p.visit_id))
        .ok_or(ReviewError::UnknownPhoto)?;
    let role = |id: &str| -> crate::db::Result<Option<(String, Option<String>)>> {
        tx.prepare_cached("SELECT role, supervisor_id FROM users WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
    };
    let photo_user = role(&photo.user_id)?;
    let in_scope = |scope: Option<&str>| match scope {
        None => true,
        Some(sup) => photo.user_id == sup || photo_user.as_ref().and_then(|(_, s)| s.as_deref()) == Some(sup),
    };
    match reviewer {
        Reviewer::Web { scope, .. } => {
            // Another team's photo is "not found" on the web: its existence is not theirs.
            if !in_scope(scope) {
                return Err(ReviewError::UnknownPhoto);
            }
        }
        Reviewer::Field { user_id, .. } => {
            let is_supervisor = role(user_id)?.is_some_and(|(r, _)| r == "supervisor");
            if !is_supervisor || !in_scope(Some(user_id)) {
                return Err(ReviewError::NotInTeam);
            }
        }
    }
    if verdict == PhotoReviewVerdict::Retake {
        if photo_user.as_ref().map(|(r, _)| r.as_str()) != Some("rep") {
            return Err(ReviewError::NotARepPhoto);
        }
        if open_request(tx, photo_id)?.is_some() {
            return Err(ReviewError::RetakeAlreadyOpen);
        }
    }
    let (web_user, field_user, op_id) = match reviewer {
        Reviewer::Web { id, .. } => (Some(id), None, None),
        Reviewer::Field { user_id, op_id } => (None, Some(user_id), Some(op_id)),
    };
    let review_id: i64 = tx
        .prepare_cached(
            "INSERT INTO photo_reviews (photo_id, verdict, reason, web_user_id, field_user_id, reviewed_ms, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )?
        .query_row(
            params![photo_id, verdict.as_str(), reason, web_user, field_user, now_ms, op_id],
            |r| r.get(0),
        )?;
    // A new decision replaces a retake still waiting for this photo.
    if let Some(open) = open_request(tx, photo_id)? {
        tx.prepare_cached("UPDATE retake_requests SET state = 'cancelled', closed_ms = ?1 WHERE id = ?2")?
            .execute(params![now_ms, open])?;
        publish(tx, &open, now_ms)?;
    }
    let mut retake = None;
    if verdict == PhotoReviewVerdict::Retake {
        let id = retake_id.to_string();
        let due = due_day(tx, calendar, &photo.user_id, &photo.store_id, now_ms)?;
        tx.prepare_cached(
            "INSERT INTO retake_requests (id, photo_id, visit_id, store_id, rep_id, photo_kind, item_id, reason,
                review_id, requested_ms, due_day, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'open')",
        )?
        .execute(params![
            id,
            photo_id,
            photo.visit_id,
            photo.store_id,
            photo.user_id,
            photo.photo_kind,
            photo.item_id,
            reason,
            review_id,
            now_ms,
            due
        ])?;
        publish(tx, &id, now_ms)?;
        retake = Some(id);
    }
    Ok(Reviewed {
        review_id,
        visit_id: photo.visit_id,
        retake_id: retake,
    })
}

fn open_request(tx: &Connection, photo_id: &str) -> crate::db::Result<Option<String>> {
    tx.prepare_cached("SELECT id FROM retake_requests WHERE photo_id = ?1 AND state = 'open'")?
        .query_row([photo_id], |r| r.get(0))
        .optional()
}

/// The rep's first planned day at the store after today, else [`DEFAULT_DUE_DAYS`] on.
fn due_day(
    tx: &Connection,
    calendar: Calendar,
    rep: &str,
    store: &str,
    now_ms: i64,
) -> crate::db::Result<i64> {
    let today = calendar.day_of(now_ms);
    let next: Option<String> = tx
        .prepare_cached(
            "SELECT min(json_extract(body, '$.date')) FROM plans
             WHERE rep_id = ?1 AND store_id = ?2 AND json_extract(body, '$.date') > ?3",
        )?
        .query_row(params![rep, store, day_string(today)], |r| r.get(0))?;
    Ok(next
        .as_deref()
        .and_then(parse_day)
        .unwrap_or(today + DEFAULT_DUE_DAYS))
}

/// A `visit.photo` op of `rep` at `store` names request `request_id`: link the photo (the first
/// one only), and close the request if the photo's bytes are here. A request of another rep or
/// store, or no longer open, is left as it is (the photo is stored all the same).
pub fn link_photo(
    tx: &Connection,
    request_id: &str,
    photo_id: &str,
    rep: &str,
    store: &str,
    received: bool,
    now_ms: i64,
) -> crate::db::Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE retake_requests SET fulfilled_photo_id = ?1,
                state = CASE WHEN ?2 THEN 'done' ELSE state END,
                closed_ms = CASE WHEN ?2 THEN ?3 ELSE closed_ms END
             WHERE id = ?4 AND rep_id = ?5 AND store_id = ?6 AND state = 'open' AND fulfilled_photo_id IS NULL",
        )?
        .execute(params![photo_id, received, now_ms, request_id, rep, store])?;
    if n == 1 {
        publish(tx, request_id, now_ms)?;
    }
    Ok(n == 1)
}

/// Photo `photo_id`'s bytes are stored: a request it was taken for is done.
pub fn photo_received(tx: &Connection, photo_id: &str, now_ms: i64) -> crate::db::Result<()> {
    let ids: Vec<String> = {
        let mut st = tx.prepare_cached(
            "UPDATE retake_requests SET state = 'done', closed_ms = ?1
             WHERE fulfilled_photo_id = ?2 AND state = 'open' RETURNING id",
        )?;
        let rows = st.query_map(params![now_ms, photo_id], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for id in ids {
        publish(tx, &id, now_ms)?;
    }
    Ok(())
}

/// The request as the feed carries it.
pub fn change(c: &Connection, id: &str) -> crate::db::Result<Option<RetakeChange>> {
    c.prepare_cached(
        "SELECT r.id, r.photo_id, r.visit_id, r.store_id, r.rep_id, r.photo_kind, r.item_id, r.reason,
                coalesce(w.name, json_extract(u.body, '$.name'), pr.web_user_id, pr.field_user_id),
                r.requested_ms, r.due_day, r.state, r.fulfilled_photo_id
         FROM retake_requests r JOIN photo_reviews pr ON pr.id = r.review_id
         LEFT JOIN web_users w ON w.id = pr.web_user_id
         LEFT JOIN users u ON u.id = pr.field_user_id
         WHERE r.id = ?1",
    )?
    .query_row([id], |r| {
        Ok(RetakeChange {
            id: r.get(0)?,
            photo_id: r.get(1)?,
            visit_id: r.get(2)?,
            store_id: r.get(3)?,
            rep_id: r.get(4)?,
            photo_kind: r.get(5)?,
            item_id: r.get(6)?,
            reason: r.get(7)?,
            requested_by: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
            requested_at_ms: r.get(9)?,
            due_date: day_string(r.get(10)?),
            state: r.get(11)?,
            fulfilled_photo_id: r.get(12)?,
        })
    })
    .optional()
}

/// Append the request's current state to the change feed, for its rep (and their supervisor).
fn publish(tx: &Connection, id: &str, now_ms: i64) -> crate::db::Result<()> {
    if let Some(r) = change(tx, id)? {
        let body =
            serde_json::to_string(&r).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
        append_change(tx, "retake", id, Some(&r.rep_id), None, &body, now_ms)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const DAY: i64 = 86_400_000;

    /// A migrated database with two teams (sup-wang: rep-li; sup-liu: rep-chen), a web account,
    /// a photo of each rep at st-001 and rep-li's plan there in five days.
    fn world() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(&crate::db::Database::Sqlite(dir.path().join("t.db"))).unwrap();
        c.execute_batch(
            r#"INSERT INTO users (id, role, territory, supervisor_id, body) VALUES
                 ('sup-wang', 'supervisor', NULL, NULL, '{"name":"王磊"}'),
                 ('sup-liu', 'supervisor', NULL, NULL, '{"name":"刘洋"}'),
                 ('rep-li', 'rep', 'east', 'sup-wang', '{"name":"李娜"}'),
                 ('rep-chen', 'rep', 'east', 'sup-liu', '{"name":"陈静"}');
               INSERT INTO web_users (id, name, role, password_hash, created_ms) VALUES ('hq', '总部', 'head_office', 'x', 0);
               INSERT INTO photos (photo_id, op_id, visit_id, device_id, user_id, store_id, item_id, photo_kind,
                   sha256, byte_len, evidence_code, received) VALUES
                 ('p-li', 'o1', 'v-li', 'd1', 'rep-li', 'st-001', 'shelf_photo', 'shelf_overview', 'aa', 1, 'X', 1),
                 ('p-chen', 'o2', 'v-chen', 'd2', 'rep-chen', 'st-001', NULL, 'other', 'bb', 1, 'Y', 1),
                 ('p-new', 'o3', 'v-li2', 'd1', 'rep-li', 'st-001', NULL, 'shelf_overview', 'cc', 1, 'Z', 0);
               INSERT INTO plans (id, rep_id, store_id, body) VALUES
                 ('plan-1', 'rep-li', 'st-001', '{"date":"1970-01-06"}');"#,
        )
        .unwrap();
        (dir, c)
    }

    fn field<'a>(user_id: &'a str) -> Reviewer<'a> {
        Reviewer::Field { user_id, op_id: "op" }
    }

    #[test]
    fn a_phone_review_follows_the_webs_rules() {
        let (_d, c) = world();
        let cal = Calendar::fixed(0).unwrap();
        let review = |who, photo, visit, verdict, reason| {
            review_in(&c, cal, who, photo, visit, verdict, reason, "r-1", DAY)
        };
        assert_eq!(
            review(field("sup-wang"), "p-li", None, "maybe", Some("x")).unwrap_err(),
            ReviewError::BadVerdict {
                value: "maybe".into()
            }
        );
        assert_eq!(
            review(field("sup-wang"), "p-li", None, "reject", Some("  ")).unwrap_err(),
            ReviewError::ReasonRequired
        );
        assert_eq!(
            review(field("sup-wang"), "nope", None, "approve", None).unwrap_err(),
            ReviewError::UnknownPhoto
        );
        assert_eq!(
            review(field("sup-wang"), "p-li", Some("v-other"), "approve", None).unwrap_err(),
            ReviewError::UnknownPhoto,
            "a phone's op names the photo's visit"
        );
        assert_eq!(
            review(field("sup-wang"), "p-chen", None, "approve", None).unwrap_err(),
            ReviewError::NotInTeam
        );
        assert_eq!(
            review(field("rep-li"), "p-li", None, "approve", None).unwrap_err(),
            ReviewError::NotInTeam,
            "a rep reviews nothing"
        );
        // On the web another team's photo is not found at all.
        let web_sup = Reviewer::Web {
            id: "hq",
            scope: Some("sup-wang"),
        };
        assert_eq!(
            review(web_sup, "p-chen", None, "approve", None).unwrap_err(),
            ReviewError::UnknownPhoto
        );
        let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(
            n("SELECT count(*) FROM photo_reviews"),
            0,
            "refusals write nothing"
        );

        let asked = review(field("sup-wang"), "p-li", Some("v-li"), "retake", Some("重拍")).unwrap();
        assert_eq!(asked.retake_id.as_deref(), Some("r-1"));
        let r = change(&c, "r-1").unwrap().unwrap();
        assert_eq!(
            (
                r.state.as_str(),
                r.due_date.as_str(),
                r.requested_by.as_str(),
                r.item_id.as_deref()
            ),
            ("open", "1970-01-06", "王磊", Some("shelf_photo")),
            "due on the next planned visit, asked by name"
        );
        assert_eq!(
            review(
                Reviewer::Web {
                    id: "hq",
                    scope: None
                },
                "p-li",
                None,
                "retake",
                Some("again")
            )
            .unwrap_err(),
            ReviewError::RetakeAlreadyOpen
        );
        // The new photo of another store is not linked; this rep's at the store is, and the
        // request is done once its bytes are here.
        assert!(!link_photo(&c, "r-1", "p-new", "rep-li", "st-999", false, DAY).unwrap());
        assert!(link_photo(&c, "r-1", "p-new", "rep-li", "st-001", false, DAY).unwrap());
        assert_eq!(change(&c, "r-1").unwrap().unwrap().state, "open");
        photo_received(&c, "p-new", 2 * DAY).unwrap();
        let done = change(&c, "r-1").unwrap().unwrap();
        assert_eq!(
            (done.state.as_str(), done.fulfilled_photo_id.as_deref()),
            ("done", Some("p-new"))
        );
        assert_eq!(
            n("SELECT count(*) FROM changes WHERE kind = 'retake' AND scope_user = 'rep-li'"),
            3,
            "opened, linked, done: each sent down the feed"
        );

        // Without a later plan the retake is due three days on; a later approval withdraws it.
        let hq = Reviewer::Web {
            id: "hq",
            scope: None,
        };
        review_in(
            &c,
            cal,
            hq,
            "p-new",
            None,
            "retake",
            Some("模糊"),
            "r-2",
            10 * DAY,
        )
        .unwrap();
        assert_eq!(change(&c, "r-2").unwrap().unwrap().due_date, "1970-01-14");
        review_in(&c, cal, hq, "p-new", None, "approve", None, "unused", 11 * DAY).unwrap();
        assert_eq!(change(&c, "r-2").unwrap().unwrap().state, "cancelled");
    }

    #[test]
    fn every_refusal_has_a_stable_code() {
        let all = [
            ReviewError::BadVerdict { value: "x".into() },
            ReviewError::ReasonRequired,
            ReviewError::ReasonTooLong { max: 1 },
            ReviewError::UnknownPhoto,
            ReviewError::NotInTeam,
            ReviewError::NotARepPhoto,
            ReviewError::RetakeAlreadyOpen,
        ];
        for e in &all {
            assert!(
                crate::codes::REFUSAL_CODES.contains(&e.code()),
                "{} is not a refusal code",
                e.code()
            );
        }
    }
}
