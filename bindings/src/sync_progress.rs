//! Sync progress and cancellation across the FFI: the app's [`SyncListener`] (a foreign trait
//! the core calls after each step), the [`SyncCancel`] handle it keeps, and the mirrors of the
//! core's [`SyncProgress`] and [`SyncPhase`]. `FieldproofCore::sync(listener, cancel)` takes both.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use fieldproof_core::{SyncObserver, SyncPhase, SyncProgress};

/// Which step a running sync is in.
#[uniffi::remote(Enum)]
pub enum SyncPhase {
    /// Sending operations (a batch was answered, or the sync is starting).
    Pushing,
    /// Sending photo bytes (a chunk was confirmed, or a photo finished).
    UploadingPhotos,
    /// Applying the server's changes (a page was applied).
    Pulling,
    /// Finished; the counts are final and match the `SyncReport`.
    Done,
}

/// Where a running sync stands. Totals are known at the start and corrected as the sync learns
/// more (an operation written meanwhile raises them, a photo the server already holds lowers
/// them); after a clean sync each `sent` equals its total. The pull has no total.
#[uniffi::remote(Record)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    /// Operations the server answered in this sync (applied, duplicate or rejected).
    pub ops_sent: i32,
    pub ops_total: i32,
    /// Photos whose bytes this sync delivered.
    pub photos_sent: i32,
    pub photos_total: i32,
    /// Photo bytes the server confirmed, chunk by chunk.
    pub photo_bytes_sent: i64,
    pub photo_bytes_total: i64,
    pub pages_pulled: i32,
    /// Changes applied from the server.
    pub changes_pulled: i32,
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
