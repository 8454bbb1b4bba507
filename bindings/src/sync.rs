//! Sync: enrolment, the sync itself (with the app's [`SyncListener`] hearing its progress and a
//! [`SyncCancel`] to stop it), its settings, and what is waiting or was refused.

use std::panic::AssertUnwindSafe;
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
    pub async fn enrol(&self, server_url: String, code: String) -> Result<User> {
        Ok(self.inner.enrol(&server_url, &code).await?)
    }

    /// Push every pending operation (photos first), then pull this user's changes. `listener`
    /// hears where the sync stands after each step; `cancel` stops it (`sync_cancelled`). A
    /// second call while one runs fails at once with `sync_in_progress`. Cancelling, through
    /// `cancel` or by dropping the call (a cancelled coroutine or task), is safe: what was
    /// answered is kept, the rest is sent by the next sync.
    ///
    /// Not on the blocking pool: the sync is async itself and never holds the database lock
    /// across a request, and running it in this future is what lets dropping the call stop it.
    #[uniffi::method(default(listener = None, cancel = None))]
    pub async fn sync(
        &self,
        listener: Option<Arc<dyn SyncListener>>,
        cancel: Option<Arc<SyncCancel>>,
    ) -> Result<SyncReport> {
        let relay = listener.map(Relay);
        let observer = relay.as_ref().map(|r| r as &dyn SyncObserver);
        Ok(self
            .inner
            .sync_with(observer, cancel.as_deref().map(|c| &c.inner))
            .await?)
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
    fn on_progress(&self, progress: SyncProgress);
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

/// Hands the core's progress to the app's listener. uniffi turns an exception thrown by the
/// foreign listener into a panic on this side (its method returns nothing to carry an error):
/// caught here, so a listener's bug costs that one event, never the sync.
pub(crate) struct Relay(pub Arc<dyn SyncListener>);

impl SyncObserver for Relay {
    fn on_progress(&self, progress: &SyncProgress) {
        let listener = &self.0;
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| listener.on_progress(progress.clone())));
    }
}
