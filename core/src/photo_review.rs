//! A supervisor's phone reviews a team photo (approve / reject / ask for a retake) as one
//! signed op (`visit.photo_review`), and any phone lists its rep's retake requests. The
//! requests themselves, and the lock they put on a store's next visit, are [`crate::retakes`].

use crate::sync::wire::payload::{OpPayload, PhotoReviewPayload};
use rusqlite::{OptionalExtension, params};

use crate::error::{Error, Result};
use crate::model::*;
use crate::outbox::Action;
use crate::queries;
use crate::retakes::requests;
use crate::{Core, rules};

/// Longest reason a review carries (the server takes the same).
pub const MAX_REASON_CHARS: usize = 500;

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
        let payload = OpPayload::PhotoReview(PhotoReviewPayload {
            review_id: review.id.clone(),
            visit_id: visit_id.clone(),
            photo_id: photo_id.to_string(),
            reviewer_id: reviewer.id.clone(),
            verdict: verdict.into(),
            reason: reason.map(str::to_string),
            time: Some(action.time),
        });
        action.finish(&self.signer, &visit_id, &payload)?;
        Ok(review)
    }
}
