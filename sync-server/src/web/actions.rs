//! The pages' writes, each one transaction: resolving an exception (through the queue's
//! workflow, [`crate::queue`], so the change is in its history).

use crate::error::{ApiError, ApiResult};
use crate::queue::{self, Actor, QueueAction, QueueError};
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
