//! Progress and cancellation of a running sync (`Core::sync_with`): the observer an app passes,
//! the cancel handle it keeps, and the tracker that turns the sync's steps into
//! [`SyncProgress`] snapshots.

use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Poll, Waker};

use super::report_bytes;
use crate::sync::local::SyncTotals;
use crate::sync::{SyncPhase, SyncProgress};

/// Told where a running sync stands after each step. Called on the task running the sync,
/// between requests, so it should return quickly (post to the UI, send to a channel).
pub trait SyncObserver: Send + Sync {
    fn on_progress(&self, progress: &SyncProgress);
}

/// Stops a running sync from another thread or task. The sync checks it before every request
/// and between photo chunks, and abandons a request or a retry pause in progress when it fires;
/// it then ends with `sync_cancelled`. What the server had answered before is recorded, the rest
/// stays pending for the next sync. Once cancelled it stays cancelled: use a new one per sync.
#[derive(Debug, Default)]
pub struct SyncCancel {
    cancelled: AtomicBool,
    /// Tasks waiting on a request or a retry pause, woken by [`SyncCancel::cancel`].
    pub(super) waiting: Mutex<Vec<Waker>>,
}

impl SyncCancel {
    pub fn new() -> SyncCancel {
        SyncCancel::default()
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        let waiting = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|p| p.into_inner()));
        for waker in waiting {
            waker.wake();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    fn forget(&self, waker: &Waker) {
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|w| !w.will_wake(waker));
    }
}

/// Runs `work` to its end, or until `cancel` fires: then `None`, and `work` is dropped (a
/// request in flight is abandoned like a broken connection; the protocol is idempotent).
pub(crate) async fn unless_cancelled<F: Future>(cancel: Option<&SyncCancel>, work: F) -> Option<F::Output> {
    let Some(cancel) = cancel else {
        return Some(work.await);
    };
    let mut work = pin!(work);
    std::future::poll_fn(|cx| {
        if cancel.is_cancelled() {
            cancel.forget(cx.waker());
            return Poll::Ready(None);
        }
        {
            let mut waiting = cancel.waiting.lock().unwrap_or_else(|p| p.into_inner());
            if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
        }
        // `cancel` may have run between the check and the registration, finding no waker.
        if cancel.is_cancelled() {
            cancel.forget(cx.waker());
            return Poll::Ready(None);
        }
        let polled = work.as_mut().poll(cx);
        if polled.is_ready() {
            cancel.forget(cx.waker());
        }
        polled.map(Some)
    })
    .await
}

/// The counts of one sync as it goes, and the observer they go to.
pub(crate) struct Progress<'a> {
    observer: Option<&'a dyn SyncObserver>,
    pub now: SyncProgress,
}

/// A batch's length as a progress count (`i32`, signed for Kotlin and Swift); a batch holds at
/// most 500 ops, so saturating is only a guard.
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl<'a> Progress<'a> {
    /// Starts from what the outbox holds: pending ops, photos not yet on the server and their
    /// bytes.
    pub fn new(observer: Option<&'a dyn SyncObserver>, totals: SyncTotals) -> Progress<'a> {
        Progress {
            observer,
            now: SyncProgress {
                ops_total: totals.ops,
                photos_total: totals.photos,
                photo_bytes_total: totals.photo_bytes,
                ..SyncProgress::default()
            },
        }
    }

    pub fn emit(&mut self, phase: SyncPhase) {
        self.now.phase = phase;
        if let Some(o) = self.observer {
            o.on_progress(&self.now);
        }
    }

    /// A batch of `n` ops is about to go: ops written since the start raise the total.
    pub fn batch(&mut self, n: usize) {
        self.now.ops_total = self.now.ops_total.max(self.now.ops_sent.saturating_add(count(n)));
    }

    pub fn batch_answered(&mut self, n: usize) {
        self.now.ops_sent = self.now.ops_sent.saturating_add(count(n));
        self.now.ops_total = self.now.ops_total.max(self.now.ops_sent);
    }

    /// The server already holds `had` of this photo's `size` bytes: only the rest is to send
    /// (none of it, and the photo is not one to send, when it holds them all).
    pub fn photo_offered(&mut self, size: u64, had: u64) {
        let n = &mut self.now;
        if had >= size {
            n.photos_total = (n.photos_total - 1).max(n.photos_sent);
            n.photo_bytes_total = (n.photo_bytes_total - report_bytes(size)).max(n.photo_bytes_sent);
        } else {
            n.photo_bytes_total = (n.photo_bytes_total - report_bytes(had)).max(n.photo_bytes_sent);
            // A photo taken while the sync runs was not in the totals.
            n.photos_total = n.photos_total.max(n.photos_sent.saturating_add(1));
            n.photo_bytes_total = n
                .photo_bytes_total
                .max(n.photo_bytes_sent.saturating_add(report_bytes(size - had)));
        }
    }

    /// The server confirmed bytes up to `delivered` of this photo's upload, which started at
    /// `base` bytes sent in this sync. Never moves back (a server that lost bytes gets them again,
    /// which shows in `bytes_up`, not here).
    pub fn photo_bytes(&mut self, base: i64, delivered: u64) {
        let sent = base.saturating_add(report_bytes(delivered));
        self.now.photo_bytes_sent = self.now.photo_bytes_sent.max(sent);
    }

    pub fn photo_done(&mut self) {
        self.now.photos_sent = self.now.photos_sent.saturating_add(1);
    }

    pub fn page(&mut self, changes: i32) {
        self.now.pages_pulled = self.now.pages_pulled.saturating_add(1);
        self.now.changes_pulled = self.now.changes_pulled.saturating_add(changes);
    }
}
