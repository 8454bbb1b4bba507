//! Sync progress and cancellation against the real `fieldproof-server` binary on loopback: the
//! events of a sync come in order and end at the report's numbers; a sync cancelled after its
//! first photo chunk (or whose future is dropped there) keeps what the server acknowledged, and
//! the next sync finishes the rest: the server then holds every op once and every photo, and the
//! bytes it already had are not sent again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use fieldproof_core::*;
use fieldproof_tests::day::{self, DayClock, Trouble};
use fieldproof_tests::server::ServerProcess;

const CHUNK: i32 = 64 * 1024;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A server with the fixture (plans moved to today) and one enrolled rep whose first sync
/// brought the reference data; small batches, pages and chunks so each step happens often.
struct Setup {
    dir: tempfile::TempDir,
    server: ServerProcess,
    core: Core,
    clock: DayClock,
    db: std::path::PathBuf,
    rt: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(&dir.path().join("server-data")).expect("server starts");
    let mut reference: ReferenceData =
        serde_json::from_str(fieldproof_tests::REFERENCE_JSON).expect("fixture parses");
    let today = clock::civil_date(SystemClock.wall_ms(), 480);
    for p in &mut reference.plans {
        p.date = today.clone();
    }
    let file = dir.path().join("reference.json");
    std::fs::write(&file, serde_json::to_string(&reference).expect("json")).expect("write");
    server
        .admin(&["load-reference", file.to_str().expect("utf-8")])
        .expect("reference loads");
    let clock = DayClock::real_time();
    let db = dir.path().join("li.db");
    let core = day::open_core(&db, &clock).expect("core opens");
    core.set_sync_options(SyncOptions {
        initial_backoff_ms: 20,
        max_backoff_ms: 200,
        push_batch: 5,
        pull_limit: 3,
        photo_chunk_bytes: CHUNK,
        ..SyncOptions::default()
    })
    .expect("options");
    let rt = runtime();
    let code = server.enrol_code("rep-li").expect("code");
    rt.block_on(core.enrol(&server.url(), &code)).expect("enrols");
    Setup {
        dir,
        server,
        core,
        clock,
        db,
        rt,
    }
}

/// `visits` store checks with two photos each, offline; the photos taken.
fn visits(s: &Setup, visits: u32) -> Vec<Photo> {
    let stores = s.core.stores(None).expect("stores");
    let mut photos = Vec::new();
    for v in 0..visits {
        let run = day::store_check(
            &s.core,
            &s.clock,
            "rep-li",
            &stores[v as usize % stores.len()],
            None,
            &[day::distinct_photo(2 * v), day::distinct_photo(2 * v + 1)],
            Trouble::default(),
        )
        .expect("store check");
        photos.extend(run.photos);
    }
    photos
}

/// Every event, and a cancel fired at the first photo chunk the server confirms.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<SyncProgress>>,
    cancel_at_first_chunk: bool,
    cancel: SyncCancel,
    first_chunk: AtomicBool,
}

impl SyncObserver for Recorder {
    fn on_progress(&self, p: &SyncProgress) {
        self.events.lock().expect("events").push(p.clone());
        if p.photo_bytes_sent > 0
            && !self.first_chunk.swap(true, Ordering::SeqCst)
            && self.cancel_at_first_chunk
        {
            self.cancel.cancel();
        }
    }
}

impl Recorder {
    fn events(&self) -> Vec<SyncProgress> {
        self.events.lock().expect("events").clone()
    }
}

fn rank(phase: SyncPhase) -> u8 {
    match phase {
        // Photos go up before the batch holding their ops: the two interleave.
        SyncPhase::Pushing | SyncPhase::UploadingPhotos => 0,
        SyncPhase::Pulling => 1,
        SyncPhase::Done => 2,
    }
}

/// The events of one finished sync: in phase order, counts never going back, never above their
/// totals, one `Done` last whose counts are the report's.
fn check_finished(events: &[SyncProgress], report: &SyncReport) {
    assert!(events.len() >= 2, "{events:?}");
    let first = &events[0];
    assert_eq!(first.phase, SyncPhase::Pushing);
    assert_eq!(
        (
            first.ops_sent,
            first.photos_sent,
            first.photo_bytes_sent,
            first.changes_pulled
        ),
        (0, 0, 0, 0)
    );
    for pair in events.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(rank(a.phase) <= rank(b.phase), "phase order: {a:?} then {b:?}");
        assert!(b.ops_sent >= a.ops_sent && b.photos_sent >= a.photos_sent);
        assert!(b.photo_bytes_sent >= a.photo_bytes_sent);
        assert!(b.pages_pulled >= a.pages_pulled && b.changes_pulled >= a.changes_pulled);
    }
    for e in events {
        assert!(e.ops_sent <= e.ops_total, "{e:?}");
        assert!(e.photos_sent <= e.photos_total, "{e:?}");
        assert!(e.photo_bytes_sent <= e.photo_bytes_total, "{e:?}");
    }
    assert_eq!(events.iter().filter(|e| e.phase == SyncPhase::Done).count(), 1);
    let last = events.last().expect("events");
    assert_eq!(last.phase, SyncPhase::Done);
    let answered = report.pushed + report.duplicates + report.rejected.len() as i32;
    assert_eq!((last.ops_sent, last.ops_total), (answered, answered));
    assert_eq!(
        (last.photos_sent, last.photos_total),
        (report.photos_sent, report.photos_sent)
    );
    assert_eq!(
        (last.photo_bytes_sent, last.photo_bytes_total),
        (report.photo_bytes_sent, report.photo_bytes_sent)
    );
    assert_eq!(last.changes_pulled, report.pulled);
    assert!(last.pages_pulled >= 1);
}

/// The server holds exactly the device's ops, each once, and exactly these photos, each
/// received, verified and stored once; nothing looks like tampering.
fn server_holds_everything_once(s: &Setup, photos: &[Photo]) {
    let mine = fieldproof_tests::fleet::device_outbox(&s.db);
    let db = s.server.records().expect("server db");
    let theirs = db.device_ops(s.core.device_id());
    assert_eq!(mine, theirs, "the server holds exactly the device's ops");
    let count = |sql: &str| db.count(sql);
    assert_eq!(
        count("SELECT count(DISTINCT op_id) FROM ops"),
        count("SELECT count(*) FROM ops")
    );
    assert_eq!(count("SELECT count(*) FROM rejected_ops"), 0);
    let wanted: BTreeSet<String> = photos.iter().map(|p| p.sha256.clone()).collect();
    assert_eq!(count("SELECT count(*) FROM photos") as usize, wanted.len());
    assert_eq!(
        count("SELECT count(*) FROM photos WHERE received = 1 AND verified = 1") as usize,
        wanted.len()
    );
    assert_eq!(count("SELECT count(*) FROM blobs") as usize, wanted.len());
    assert_eq!(
        count(
            "SELECT count(*) FROM exceptions WHERE code IN
             ('chain_gap','chain_fork','reordered','backdated','bad_signature','image_hash_mismatch')"
        ),
        0
    );
    let stored = s.server.stored_photos().expect("stored photos");
    assert_eq!(stored, wanted, "photos in the server's photo store");
    let state = s.core.sync_state().expect("state");
    assert_eq!((state.pending_ops, state.photos_not_uploaded), (0, 0));
    assert!(s.core.audit().expect("audit").is_clean());
}

fn photo_bytes(photos: &[Photo]) -> i64 {
    photos.iter().map(|p| p.byte_len).sum()
}

#[test]
fn progress_events_come_in_order_and_end_at_the_report() {
    let s = setup();
    // The first sync only pulls: pages of 3, no total.
    let first = Recorder::default();
    let report =
        s.rt.block_on(s.core.sync_with(Some(&first), None))
            .expect("first sync");
    let events = first.events();
    check_finished(&events, &report);
    assert!(report.pulled > 3, "several pages: {}", report.pulled);
    assert_eq!(
        events.iter().filter(|e| e.phase == SyncPhase::Pulling).count() as i32,
        events.last().expect("done").pages_pulled
    );
    assert_eq!((events[0].ops_total, events[0].photos_total), (0, 0));

    // Two store checks offline: 24 ops, 4 photos, sent in batches of 5 and chunks of 64 KiB.
    let photos = visits(&s, 2);
    let pending = s.core.outbox_summary().expect("summary").pending;
    assert_eq!(pending, 24);
    let second = Recorder::default();
    let report =
        s.rt.block_on(s.core.sync_with(Some(&second), None))
            .expect("second sync");
    let events = second.events();
    check_finished(&events, &report);
    // Totals known before the first request, and right.
    let start = &events[0];
    assert_eq!(start.ops_total, pending);
    assert_eq!(start.photos_total, photos.len() as i32);
    assert_eq!(start.photo_bytes_total, photo_bytes(&photos));
    assert_eq!((report.pushed, report.photos_sent), (24, 4));
    assert_eq!(report.photo_bytes_sent, photo_bytes(&photos));
    // One event per push batch answered (besides the start), one per chunk confirmed.
    let pushing = events
        .iter()
        .skip(1)
        .filter(|e| e.phase == SyncPhase::Pushing)
        .count();
    assert_eq!(pushing, 24_usize.div_ceil(5));
    let chunks: u64 = photos
        .iter()
        .map(|p| (p.byte_len as u64).div_ceil(CHUNK as u64))
        .sum();
    assert!(chunks > photos.len() as u64, "photos span several chunks");
    let uploads = events
        .iter()
        .filter(|e| e.phase == SyncPhase::UploadingPhotos)
        .count() as u64;
    assert_eq!(uploads, chunks);
    // Every photo done is announced by the event of its last chunk, in order.
    let done_steps: Vec<i32> = events
        .windows(2)
        .filter(|w| w[1].photos_sent > w[0].photos_sent)
        .map(|w| w[1].photos_sent)
        .collect();
    assert_eq!(done_steps, [1, 2, 3, 4]);
    server_holds_everything_once(&s, &photos);
    drop(s.dir);
}

#[test]
fn a_sync_cancelled_after_its_first_photo_chunk_resumes_with_nothing_lost_or_sent_twice() {
    let s = setup();
    s.rt.block_on(s.core.sync()).expect("first sync");
    let photos = visits(&s, 2);
    let ops = s.core.outbox_summary().expect("summary").pending;

    let cancelling = Recorder {
        cancel_at_first_chunk: true,
        ..Recorder::default()
    };
    let e =
        s.rt.block_on(s.core.sync_with(Some(&cancelling), Some(&cancelling.cancel)))
            .expect_err("cancelled");
    assert_eq!(e.code(), "sync_cancelled", "{e}");
    let events = cancelling.events();
    let last = events.last().expect("events");
    assert_eq!(last.phase, SyncPhase::UploadingPhotos);
    assert_eq!(last.photo_bytes_sent, i64::from(CHUNK), "stopped after one chunk");
    assert!(events.iter().all(|e| e.phase != SyncPhase::Done));
    // The first batch (check-in and answers, no photo) was answered before: recorded as such,
    // and the server holds exactly it; the rest waits.
    assert_eq!(last.ops_sent, 5);
    let summary = s.core.outbox_summary().expect("summary");
    assert_eq!((summary.acknowledged, summary.pending), (5, ops - 5));
    let on_server = s
        .server
        .records()
        .expect("server db")
        .count("SELECT count(*) FROM ops");
    assert_eq!(on_server, 5);
    assert!(s.core.audit().expect("audit").is_clean());

    // The next sync (no observer, no cancel) finishes: nothing resent, the chunk the server
    // holds not sent again.
    let resumed = Recorder::default();
    let report =
        s.rt.block_on(s.core.sync_with(Some(&resumed), None))
            .expect("resumed sync");
    assert_eq!((report.pushed, report.duplicates), (ops - 5, 0));
    assert!(report.rejected.is_empty());
    assert_eq!(report.photos_sent, 4);
    assert_eq!(report.photo_bytes_sent, photo_bytes(&photos) - i64::from(CHUNK));
    let events = resumed.events();
    check_finished(&events, &report);
    // It started from the outbox's totals and learned the server had one chunk already.
    assert_eq!(events[0].photo_bytes_total, photo_bytes(&photos));
    server_holds_everything_once(&s, &photos);
}

#[test]
fn a_sync_future_dropped_mid_upload_leaves_the_next_sync_free_to_finish() {
    let s = setup();
    s.rt.block_on(s.core.sync()).expect("first sync");
    let photos = visits(&s, 2);
    let watcher = Recorder::default();
    // Poll the sync until its first photo chunk is confirmed, then drop it: what a cancelled
    // Kotlin coroutine or Swift task does to the future.
    s.rt.block_on(async {
        let mut sync = std::pin::pin!(s.core.sync_with(Some(&watcher), None));
        std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(r) = sync.as_mut().poll(cx) {
                panic!("the sync finished before its first chunk: {r:?}");
            }
            if watcher.first_chunk.load(Ordering::SeqCst) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
    });
    assert!(s.core.audit().expect("audit").is_clean());
    // Not `sync_in_progress`: the dropped sync released the core. Whatever the dropped sync's
    // last request delivered comes back as duplicates or a later offset, never twice.
    let report = s.rt.block_on(s.core.sync()).expect("next sync");
    assert_eq!((report.pending, report.photos_not_uploaded), (0, 0));
    server_holds_everything_once(&s, &photos);
}
