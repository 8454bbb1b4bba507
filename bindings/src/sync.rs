//! Sync: enrolment, the sync itself (with the app's [`SyncListener`] hearing its progress and a
//! [`SyncCancel`] to stop it), its settings, and what is waiting or was refused.

use std::sync::Arc;

use fieldproof_core::{
    OutboxOp, OutboxSummary, RejectedOp, SyncObserver, SyncOptions, SyncProgress, SyncReport, SyncState,
    TeamVisit, User,
};

use crate::{FieldproofCore, Result};

/// The sync client's settings live in memory: plain calls.
#[uniffi::export]
impl FieldproofCore {
    /// The sync client's retry and size settings.
    pub fn sync_options(&self) -> SyncOptions {
        self.inner.sync_options()
    }

    /// Change the sync client's settings (`invalid_input` when out of range).
    pub fn set_sync_options(&self, options: SyncOptions) -> Result<()> {
        Ok(self.inner.set_sync_options(options)?)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl FieldproofCore {
    /// Enrol this device with the server at `server_url` (https; plain http only to a loopback
    /// address) using head office's one-time code. Returns the user the device now acts for.
    pub async fn enrol(self: Arc<Self>, server_url: String, code: String) -> Result<User> {
        let task = AbortOnDrop(tokio::spawn(
            async move { self.inner.enrol(&server_url, &code).await },
        ));
        Ok(task.join().await??)
    }

    /// Push every pending operation (photos first), then pull this user's changes. `listener`
    /// hears where the sync stands after each step; `cancel` stops it (`sync_cancelled`). A
    /// second call while one runs fails at once with `sync_in_progress`. Cancelling, through
    /// `cancel` or by dropping the call (a cancelled coroutine or task), is safe: what was
    /// answered is kept, the rest is sent by the next sync.
    ///
    /// Runs as its own task on the SDK's runtime thread, never on the thread that awaits it:
    /// its database steps (reading the outbox, applying pull pages) stay off the caller's
    /// (main) thread. Dropping the call cancels that task through the same `SyncCancel`.
    #[uniffi::method(default(listener = None, cancel = None))]
    pub async fn sync(
        self: Arc<Self>,
        listener: Option<Arc<dyn SyncListener>>,
        cancel: Option<Arc<SyncCancel>>,
    ) -> Result<SyncReport> {
        let cancel = cancel.unwrap_or_default();
        let mut on_drop = CancelOnDrop(Some(cancel.clone()));
        let task = tokio::spawn(async move {
            let relay = listener.map(Relay);
            let observer = relay.as_ref().map(|r| r as &dyn SyncObserver);
            self.inner.sync_with(observer, Some(&cancel.inner)).await
        });
        let report = task.await;
        // Finished (or failed) on its own: nothing to cancel, and the app's token stays as it was.
        on_drop.0 = None;
        Ok(report??)
    }

    /// Whether this device is enrolled, as whom, with which server, and how far sync got.
    pub async fn sync_state(self: Arc<Self>) -> Result<SyncState> {
        self.run(move |core| core.sync_state()).await
    }

    /// Operations waiting for the server, oldest first.
    /// A negative `limit` is refused (`negative_number`); 0 returns nothing.
    pub async fn pending_ops(self: Arc<Self>, limit: i32) -> Result<Vec<OutboxOp>> {
        self.run(move |core| core.pending_ops(limit)).await
    }

    /// Counts of outbox operations by state, and the last sequence number handed out.
    pub async fn outbox_summary(self: Arc<Self>) -> Result<OutboxSummary> {
        self.run(move |core| core.outbox_summary()).await
    }

    /// Operations the server refused for good, oldest first, with the reason. Never resent; the
    /// app shows them.
    pub async fn rejected_ops(self: Arc<Self>) -> Result<Vec<RejectedOp>> {
        self.run(move |core| core.rejected_ops()).await
    }

    /// A supervisor's read-only mirror of the team's visits (filled by sync), newest first;
    /// `rep_id` narrows it to one rep.
    /// A negative `limit` is refused (`negative_number`); 0 returns nothing.
    pub async fn team_visits(self: Arc<Self>, rep_id: Option<String>, limit: i32) -> Result<Vec<TeamVisit>> {
        self.run(move |core| core.team_visits(rep_id.as_deref(), limit))
            .await
    }
}

/// Told where a running sync stands after each step (a push batch answered, a photo chunk
/// confirmed, a pull page applied, then once `Done`). Called on the sync's own thread: return
/// quickly (post to the UI thread, send to a channel). A listener that throws is skipped for
/// that event; the sync goes on.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, progress: SyncProgress) -> Result<(), SyncListenerError>;
}

/// A listener's failure. Whatever the app's listener throws (this or any other exception) costs
/// that one event; the sync goes on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SyncListenerError {
    /// The listener failed; `detail` says how, for logs.
    #[error("{detail}")]
    Failed { detail: String },
}

/// An exception the listener did not declare arrives as an error, never as a panic in the sync.
impl From<uniffi::UnexpectedUniFFICallbackError> for SyncListenerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SyncListenerError::Failed {
            detail: format!("the sync listener threw: {}", e.reason),
        }
    }
}

/// Stops a running sync: pass it to `sync`, call `cancel()` from anywhere. The sync stops before
/// its next request (abandoning one in flight) and fails with `Sync(sync_cancelled)`; what the
/// server had answered is kept, the rest is sent by the next sync. One per sync: once cancelled
/// it stays cancelled.
#[derive(Debug, Default, uniffi::Object)]
pub struct SyncCancel {
    pub(crate) inner: fieldproof_core::SyncCancel,
}

#[uniffi::export]
impl SyncCancel {
    #[uniffi::constructor]
    pub fn new() -> Self {
        SyncCancel::default()
    }

    pub fn cancel(&self) {
        self.inner.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

/// Hands the core's progress to the app's listener. A listener's error (what it threw) is
/// dropped: a listener's bug costs that one event, never the sync.
pub(crate) struct Relay(pub Arc<dyn SyncListener>);

impl SyncObserver for Relay {
    fn on_progress(&self, progress: &SyncProgress) {
        let _ = self.0.on_progress(progress.clone());
    }
}

/// Cancels a spawned sync when the call awaiting it is dropped (a cancelled coroutine or task):
/// the sync then stops before its next request, as with `SyncCancel::cancel`.
struct CancelOnDrop(Option<Arc<SyncCancel>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(cancel) = self.0.take() {
            cancel.cancel();
        }
    }
}

/// Aborts a spawned enrolment when the call awaiting it is dropped, as dropping the call did
/// before it ran as a task.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn join(mut self) -> std::result::Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
