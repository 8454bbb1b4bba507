//! Off the caller's thread: the one way FFI calls run their work.

use crate::Result;

/// Run `work` on tokio's blocking pool and wait for it without holding the caller's thread: a
/// Kotlin coroutine suspends, a Swift task awaits, the main thread stays free. A panic in `work`
/// comes back as `FieldproofError::Storage` code `internal` rather than unwinding across the FFI.
/// If the caller drops the future (a cancelled coroutine), `work` still runs to its end: every
/// core action is one transaction, so it happens completely or not at all either way.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work).await?
}
