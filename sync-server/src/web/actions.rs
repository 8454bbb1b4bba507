//! The pages' writes, each one transaction: resolving an exception (through the queue's
//! workflow, [`crate::queue`], so the change is in its history) and a decision on a photo
//! (through [`crate::retakes`], the rules a supervisor's phone follows too).

use crate::error::{ApiError, ApiResult};
use crate::queue::{self, Actor, QueueAction, QueueError};
use crate::retakes::{ReviewError, Reviewed, Reviewer, review_in};
use crate::store::{Store, publish_team_visits};

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
    let actor = Actor {
        id: by.to_string(),
        scope: scope.map(str::to_string),
    };
    match queue::act(store, &actor, &[id], &QueueAction::Resolve, comment, now_ms) {
        Ok(_) => Ok(Resolved::Now),
        Err(QueueError::WrongState { .. }) => Ok(Resolved::Already),
        Err(e) => Err(ApiError::from(e)),
    }
}

/// A web user's decision on a photo (approve, reject, retake: [`crate::retakes`]), one
/// transaction with the photo's visit summary for the supervisor's phone.
pub fn review_photo(
    store: &Store,
    by: &str,
    scope: Option<&str>,
    photo_id: &str,
    verdict: &str,
    reason: Option<&str>,
    now_ms: i64,
) -> Result<Reviewed, ReviewError> {
    let retake_id = super::auth::random_hex(16).map_err(|e| ReviewError::Storage(e.to_string()))?;
    let mut w = store.writer();
    let tx = w
        .conn
        .transaction_with_behavior(crate::db::TransactionBehavior::Immediate)?;
    let reviewer = Reviewer::Web { id: by, scope };
    let done = review_in(
        &tx,
        store.calendar(),
        reviewer,
        photo_id,
        None,
        verdict,
        reason,
        &retake_id,
        now_ms,
    )?;
    publish_team_visits(&tx, [&done.visit_id], now_ms)?;
    tx.commit()?;
    Ok(done)
}
