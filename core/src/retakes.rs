//! Photo review with retakes, on the phone. A rep's phone keeps the retake requests the server
//! sends down the feed (change kind `retake`) and makes each open one a required photo of the
//! store's next visit: [`missing_for_visit`] adds it to what the milestone lock reports, and a
//! photo captured with the request's id clears it. A supervisor's phone reviews team photos
//! (approve / reject / ask for a retake) as one signed op each (`visit.photo_review`).
//!
//! Overdue is not stored: it is an open request whose due day is before the day the app asks
//! about (the same local `YYYY-MM-DD` the day plan takes).

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::*;
use crate::outbox::Action;
use crate::queries::{self, VisitRow};
use crate::sync::wire::RetakeChange;
use crate::{Core, rules};

/// Longest reason a review carries (the server takes the same).
pub const MAX_REASON_CHARS: usize = 500;

/// Keep the latest version of a pulled request (the feed re-sends it on each state change).
pub(crate) fn store_pulled(tx: &Transaction<'_>, seq: i64, r: &RetakeChange) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO retake_requests (id, rep_id, store_id, state, due_date, requested_at_ms, body, feed_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET rep_id = excluded.rep_id, store_id = excluded.store_id,
           state = excluded.state, due_date = excluded.due_date, requested_at_ms = excluded.requested_at_ms,
           body = excluded.body, feed_seq = excluded.feed_seq
         WHERE excluded.feed_seq >= retake_requests.feed_seq",
    )?
    .execute(params![
        r.id,
        r.rep_id,
        r.store_id,
        r.state,
        r.due_date,
        r.requested_at_ms,
        serde_json::to_string(r)?,
        seq
    ])?;
    Ok(())
}

/// A pulled request as the apps see it: `today` (local `YYYY-MM-DD`) decides overdue; a photo
/// taken for it on this phone makes it done before the server says so.
fn request(body: &str, local_photo: Option<String>, today: Option<&str>) -> Result<RetakeRequest> {
    let r: RetakeChange = serde_json::from_str(body)?;
    let state = match (r.state.as_str(), &local_photo) {
        ("done", _) | (_, Some(_)) if r.state != "cancelled" => RetakeState::Done,
        ("cancelled", _) => RetakeState::Cancelled,
        _ if today.is_some_and(|t| r.due_date.as_str() < t) => RetakeState::Overdue,
        _ => RetakeState::Open,
    };
    Ok(RetakeRequest {
        photo_kind: crate::queries::photo_kind_from(&r.photo_kind),
        new_photo_id: local_photo.or(r.fulfilled_photo_id),
        id: r.id,
        photo_id: r.photo_id,
        visit_id: r.visit_id,
        store_id: r.store_id,
        rep_id: r.rep_id,
        item_id: r.item_id,
        reason: r.reason,
        requested_by: r.requested_by,
        requested_at_ms: r.requested_at_ms,
        due_date: r.due_date,
        state,
    })
}

const SELECT: &str = "SELECT r.body, (SELECT p.id FROM photos p WHERE p.retake_request_id = r.id
                                      ORDER BY p.taken_at_ms LIMIT 1)
                      FROM retake_requests r";

/// The rep's requests, newest first; `store_id` narrows to one store; `owed` keeps only those
/// still waiting for a photo (open or overdue).
pub(crate) fn requests(
    conn: &Connection,
    rep_id: &str,
    store_id: Option<&str>,
    owed: bool,
    today: Option<&str>,
) -> Result<Vec<RetakeRequest>> {
    let mut st = conn.prepare_cached(&format!(
        "{SELECT} WHERE r.rep_id = ?1 AND (?2 IS NULL OR r.store_id = ?2)
         ORDER BY r.requested_at_ms DESC, r.id"
    ))?;
    let rows = st.query_map(params![rep_id, store_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (body, photo) = row?;
        let req = request(&body, photo, today)?;
        if !owed || matches!(req.state, RetakeState::Open | RetakeState::Overdue) {
            out.push(req);
        }
    }
    Ok(out)
}

/// The retakes a store check still owes: every open request of its rep at its store with no
/// photo taken for it yet. An inspection owes none (a supervisor is not the rep asked).
pub(crate) fn missing_for_visit(conn: &Connection, visit: &VisitRow) -> Result<Vec<MissingItem>> {
    if visit.kind != TemplateKind::StoreCheck {
        return Ok(Vec::new());
    }
    Ok(requests(conn, &visit.user_id, Some(&visit.store_id), true, None)?
        .into_iter()
        .map(|r| MissingItem {
            kind: MissingKind::RetakePhoto,
            item_id: r.item_id,
            label: r.reason,
            retake_request_id: Some(r.id),
        })
        .collect())
}

/// A photo about to be captured for `request_id` in `visit`: the request must be this phone's,
/// for the visit's rep and store, and still waiting.
pub(crate) fn check_for_capture(conn: &Connection, request_id: &str, visit: &VisitRow) -> Result<()> {
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached(&format!("{SELECT} WHERE r.id = ?1"))?
        .query_row([request_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (body, photo) = row.ok_or_else(|| Error::not_found("retake_request", request_id))?;
    let req = request(&body, photo, None)?;
    if req.rep_id != visit.user_id || req.store_id != visit.store_id || visit.kind != TemplateKind::StoreCheck
    {
        return Err(Error::RetakeNotForVisit {
            request_id: request_id.into(),
            visit_id: visit.id.clone(),
        });
    }
    match req.state {
        RetakeState::Open | RetakeState::Overdue => Ok(()),
        s => Err(Error::RetakeNotOpen {
            request_id: request_id.into(),
            state: if s == RetakeState::Done {
                "done"
            } else {
                "cancelled"
            },
        }),
    }
}

#[derive(Serialize)]
struct PhotoReviewPayload<'a> {
    review_id: &'a str,
    visit_id: &'a str,
    photo_id: &'a str,
    reviewer_id: &'a str,
    verdict: PhotoReviewVerdict,
    reason: Option<&'a str>,
    time: EventTime,
}

impl Core {
    /// The rep's retake requests (newest first), each with its state on `date` (local
    /// `YYYY-MM-DD`: an open one past its due day is overdue). On a supervisor's phone, the
    /// team's requests of that rep.
    pub fn retake_requests(&self, rep_id: &str, date: &str) -> Result<Vec<RetakeRequest>> {
        rules::validate_date(date).map_err(Error::InvalidInput)?;
        requests(&self.lock().conn, rep_id, None, false, Some(date))
    }

    /// A supervisor's decision on a team photo they see in [`Core::team_visits`]: approve it,
    /// reject it (with a reason), or ask the rep for a retake (with a reason). One signed op
    /// (`visit.photo_review`); the server applies it with the web's rules and sends a retake
    /// request down to the rep. Refused here, before anything is written: a photo this phone
    /// does not know (`unknown_photo`), a reviewer who is not the photo's rep's supervisor
    /// (`photo_not_in_team`), a missing reason (`reason_required`).
    pub fn review_photo(
        &self,
        reviewer_id: &str,
        photo_id: &str,
        verdict: PhotoReviewVerdict,
        reason: Option<&str>,
    ) -> Result<PhotoReview> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
            return Err(Error::InvalidInput(format!(
                "reason longer than {MAX_REASON_CHARS} characters"
            )));
        }
        if verdict != PhotoReviewVerdict::Approve && reason.is_none() {
            return Err(Error::ReasonRequired {
                verdict: verdict.as_str(),
            });
        }
        let mut inner = self.lock();
        let reviewer =
            queries::user(&inner.conn, reviewer_id)?.ok_or_else(|| Error::not_found("user", reviewer_id))?;
        let found: Option<(String, String)> = inner
            .conn
            .prepare_cached(
                "SELECT t.visit_id, t.rep_id FROM team_visits t, json_each(t.body, '$.photos') p
                 WHERE json_extract(p.value, '$.photo_id') = ?1 LIMIT 1",
            )?
            .query_row([photo_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (visit_id, rep_id) = found.ok_or_else(|| Error::not_found("photo", photo_id))?;
        let rep = queries::user(&inner.conn, &rep_id)?;
        if reviewer.role != Role::Supervisor
            || rep.and_then(|r| r.supervisor_id).as_deref() != Some(reviewer.id.as_str())
        {
            return Err(Error::PhotoNotInTeam {
                photo_id: photo_id.into(),
            });
        }
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        let review = PhotoReview {
            id: uuid::Uuid::now_v7().to_string(),
            photo_id: photo_id.to_string(),
            visit_id: visit_id.clone(),
            reviewer_id: reviewer.id.clone(),
            verdict,
            reason: reason.map(str::to_string),
            reviewed_at_ms: action.time.wall_ms,
        };
        action.tx.execute(
            "INSERT INTO photo_reviews (id, photo_id, visit_id, reviewer_id, verdict, reason, reviewed_at_ms, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                review.id,
                review.photo_id,
                review.visit_id,
                review.reviewer_id,
                verdict.as_str(),
                review.reason,
                review.reviewed_at_ms,
                action.op_id
            ],
        )?;
        let payload = PhotoReviewPayload {
            review_id: &review.id,
            visit_id: &visit_id,
            photo_id,
            reviewer_id: &reviewer.id,
            verdict,
            reason,
            time: action.time,
        };
        action.finish(&self.signer, "visit.photo_review", &visit_id, &payload)?;
        Ok(review)
    }
}
