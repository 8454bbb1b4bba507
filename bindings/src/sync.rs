//! Sync: enrolment, the sync itself, its settings, and what is waiting or was refused.

use std::sync::Arc;

use fieldproof_core::{
    OutboxOp, OutboxSummary, RejectedOp, SyncOptions, SyncReport, SyncState, TeamVisit, User,
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

    /// Push every pending operation (photos first), then pull this user's changes. A second call
    /// while one runs fails at once with `sync_in_progress`. Cancelling is safe: what was
    /// answered is kept, the rest is sent again next time (and comes back as duplicates).
    pub async fn sync(&self) -> Result<SyncReport> {
        Ok(self.inner.sync().await?)
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
