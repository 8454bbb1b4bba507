//! The one way the server takes a mutex. A leaf: the store, the metrics and the connection
//! limiter all lock with it.

use std::sync::{Mutex, MutexGuard};

/// A poisoned lock only means another request panicked while holding it; its transaction was
/// rolled back when it unwound, so the state behind the lock is consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
