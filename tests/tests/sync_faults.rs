//! Sync over the worst network we can make on loopback: five real cores push 2,000 ops and 100
//! photos through a fault-injecting proxy (connections reset before the request, cut mid-upload,
//! answers dropped after the server committed, answers truncated, latency) while the real
//! server is killed with SIGKILL and restarted mid-sync. Afterwards the server must hold every
//! op and every photo exactly once, and every device's outbox must be empty. Counts and hashes
//! are compared, not assumed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldproof_core::*;
use fieldproof_tests::day::{self, DayClock, Trouble};
use fieldproof_tests::fault_proxy::{FaultPlan, FaultProxy};
use fieldproof_tests::server::ServerProcess;

const DEVICES: usize = 5;
const VISITS_PER_DEVICE: usize = 20;
/// check-in + 6 answers + 9 recounts + 1 photo + report + complete + check-out = 20 ops a visit
const RECOUNTS: u32 = 9;
const OPS: usize = DEVICES * VISITS_PER_DEVICE * 20;
const PHOTOS: usize = DEVICES * VISITS_PER_DEVICE;
const SERVER_KILLS: usize = 4;

/// The fixture plus three more reps, so five reps in two territories under two supervisors.
fn reference() -> ReferenceData {
    let mut r: ReferenceData =
        serde_json::from_str(fieldproof_tests::REFERENCE_JSON).expect("fixture parses");
    for (id, name, territory, sup) in [
        ("rep-sun", "孙伟", "shanghai-east", "sup-liu"),
        ("rep-zhou", "周敏", "shanghai-west", "sup-liu"),
        ("rep-wu", "吴昊", "shanghai-west", "sup-wang"),
    ] {
        r.users.push(User {
            id: id.into(),
            name: name.into(),
            role: Role::Rep,
            territory: Some(territory.into()),
            supervisor_id: Some(sup.into()),
        });
    }
    r
}

fn server_db(data: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        data.join("fieldproof.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("server db")
}

#[test]
fn every_op_and_photo_arrives_exactly_once_through_faults_and_server_kills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("server-data");
    let server = ServerProcess::start(&data).expect("server starts");
    let file = dir.path().join("reference.json");
    std::fs::write(&file, serde_json::to_string(&reference()).expect("json")).expect("write");
    server
        .admin(&["load-reference", file.to_str().expect("utf-8")])
        .expect("reference loads");
    let proxy = FaultProxy::start(server.addr(), FaultPlan::clean()).expect("proxy");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // --- five phones enrol (through the proxy, no faults yet) and pull their reference data --
    let reps = ["rep-li", "rep-zhao", "rep-chen", "rep-sun", "rep-zhou"];
    let mut phones = Vec::new();
    for rep in reps {
        let clock = DayClock::real_time();
        let core = day::open_core(&dir.path().join(format!("{rep}.db")), &clock).expect("core opens");
        core.set_sync_options(SyncOptions {
            initial_backoff_ms: 20,
            max_backoff_ms: 400,
            max_attempts: 6,
            connect_timeout_ms: 2_000,
            request_timeout_ms: 10_000,
            push_batch: 50,
            pull_limit: 100,
            photo_chunk_bytes: 64 * 1024,
        })
        .expect("options");
        let code = server.enrol_code(rep).expect("code");
        rt.block_on(core.enrol(&proxy.url(), &code)).expect("enrols");
        rt.block_on(core.sync()).expect("first sync");
        phones.push((rep, core, clock));
    }

    // --- a busy day on every phone: 2,000 ops and 100 photos, all offline ---------------------
    let made = Instant::now();
    let mut photo_n = 0;
    let mut device_photos = BTreeSet::new();
    for (rep, core, clock) in &phones {
        let stores = core.stores(None).expect("stores");
        assert!(!stores.is_empty(), "{rep} has no stores");
        for v in 0..VISITS_PER_DEVICE {
            let run = day::store_check_with_recounts(
                core,
                clock,
                rep,
                &stores[v % stores.len()],
                None,
                &[day::distinct_photo(photo_n)],
                Trouble::default(),
                RECOUNTS,
            )
            .expect("visit");
            photo_n += 1;
            device_photos.extend(run.photos.iter().map(|p| p.sha256.clone()));
        }
    }
    let pending: i32 = phones
        .iter()
        .map(|(_, c, _)| c.outbox_summary().expect("summary").pending)
        .sum();
    assert_eq!(pending as usize, OPS);
    assert_eq!(device_photos.len(), PHOTOS);
    println!(
        "{OPS} ops and {PHOTOS} photos made on {DEVICES} devices in {:.1} s",
        made.elapsed().as_secs_f64()
    );

    // --- sync everything through a hostile network while the server dies now and then -------
    proxy.set_plan(FaultPlan::hostile(0x5EED));
    let server = Arc::new(Mutex::new(server));
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let server = server.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut kills = 0;
            while kills < SERVER_KILLS && !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1_500));
                let mut s = server.lock().expect("server lock");
                s.kill9();
                std::thread::sleep(Duration::from_millis(300));
                s.restart().expect("server restarts on the same port");
                kills += 1;
            }
            kills
        })
    };
    let started = Instant::now();
    let deadline = Duration::from_secs(600);
    let rounds = rt.block_on(async {
        let mut tasks = Vec::new();
        for (i, (_, core, _)) in phones.iter().enumerate() {
            // The cores live until the end of the test; scoped by reference.
            let core: &Core = core;
            tasks.push(async move {
                let mut rounds = 0u32;
                let mut errors = Vec::new();
                loop {
                    rounds += 1;
                    match core.sync().await {
                        Ok(r) if r.pending == 0 && r.photos_not_uploaded == 0 => break,
                        Ok(_) => {}
                        Err(e) => errors.push(e.code()),
                    }
                    if started.elapsed() > deadline {
                        panic!("device {i} not drained after {rounds} syncs: {errors:?}");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                (rounds, errors)
            });
        }
        futures_join_all(tasks).await
    });
    done.store(true, Ordering::Relaxed);
    let kills = killer.join().expect("killer thread");
    println!(
        "drained in {:.1} s; syncs per device {:?}; server killed {kills} times; proxy: {}",
        started.elapsed().as_secs_f64(),
        rounds.iter().map(|r| r.0).collect::<Vec<_>>(),
        proxy.stats().summary()
    );
    for (rounds, errors) in &rounds {
        assert!(
            errors.iter().all(|c| *c == "network" || *c == "sync_protocol"),
            "only transient failures expected, got {errors:?} after {rounds} rounds"
        );
    }
    let st = proxy.stats();
    for (what, n) in [
        ("reset before request", &st.reset_before_request),
        ("cut mid-upload", &st.cut_upload),
        ("answer dropped after commit", &st.drop_response),
        ("answer truncated", &st.truncate_response),
    ] {
        assert!(n.load(Ordering::Relaxed) > 0, "no connection was {what}");
    }
    assert!(kills >= 1, "the server was never killed mid-sync");

    // --- compare: devices vs server, by count and by hash -------------------------------------
    let server = server.lock().expect("server lock");
    let db = server_db(&data);
    let mut total = 0usize;
    for (rep, core, _) in &phones {
        let s = core.outbox_summary().expect("summary");
        assert_eq!((s.pending, s.rejected), (0, 0), "{rep}: outbox not empty");
        let state = core.sync_state().expect("state");
        assert_eq!(state.photos_not_uploaded, 0, "{rep}");
        let device_db = dir.path().join(format!("{rep}.db"));
        let c = rusqlite::Connection::open_with_flags(&device_db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("device db");
        let mine: Vec<(String, i64, String)> = c
            .prepare("SELECT op_id, seq, entry_hash FROM outbox ORDER BY seq")
            .expect("query")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        let theirs: Vec<(String, i64, String)> = db
            .prepare("SELECT op_id, seq, entry_hash FROM ops WHERE device_id = ?1 ORDER BY seq")
            .expect("query")
            .query_map([core.device_id()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(mine.len(), theirs.len(), "{rep}: op count");
        assert_eq!(mine, theirs, "{rep}: ops differ");
        total += mine.len();
    }
    assert_eq!(total, OPS);
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(count("SELECT count(*) FROM ops") as usize, OPS);
    assert_eq!(count("SELECT count(DISTINCT op_id) FROM ops") as usize, OPS);
    assert_eq!(count("SELECT count(*) FROM rejected_ops"), 0);
    assert_eq!(count("SELECT count(*) FROM photos") as usize, PHOTOS);
    assert_eq!(
        count("SELECT count(*) FROM photos WHERE received = 1 AND verified = 1") as usize,
        PHOTOS
    );
    assert_eq!(count("SELECT count(*) FROM blobs") as usize, PHOTOS);
    // Faults and kills must not look like tampering: an honest chain stays whole.
    assert_eq!(
        count(
            "SELECT count(*) FROM exceptions WHERE code IN
             ('chain_gap','chain_fork','reordered','backdated','bad_signature','photo_hash_mismatch')"
        ),
        0
    );
    let server_photos: BTreeSet<String> = db
        .prepare("SELECT sha256 FROM photos")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(server_photos, device_photos);
    let on_disk = fieldproof_tests::server::stored_photos_rehashed(&data).expect("photo files");
    assert_eq!(on_disk, device_photos, "photo files on the server");
    println!(
        "server holds {OPS} ops and {PHOTOS} verified photos, each once; {} photo files re-hashed",
        on_disk.len()
    );
    drop(server);
}

/// Run futures concurrently on the current task and collect their outputs in order (a tiny
/// join_all, so the tests need no futures crate).
async fn futures_join_all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output>
where
    F::Output: Unpin,
{
    use std::pin::Pin;
    use std::task::{Context, Poll};
    struct JoinAll<F: std::future::Future> {
        futs: Vec<Option<Pin<Box<F>>>>,
        outs: Vec<Option<F::Output>>,
    }
    impl<F: std::future::Future> std::future::Future for JoinAll<F>
    where
        F::Output: Unpin,
    {
        type Output = Vec<F::Output>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.get_mut();
            let mut pending = false;
            for (slot, out) in this.futs.iter_mut().zip(this.outs.iter_mut()) {
                if let Some(f) = slot {
                    match f.as_mut().poll(cx) {
                        Poll::Ready(v) => {
                            *out = Some(v);
                            *slot = None;
                        }
                        Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                Poll::Pending
            } else {
                Poll::Ready(this.outs.iter_mut().filter_map(Option::take).collect())
            }
        }
    }
    let n = futs.len();
    JoinAll {
        futs: futs.into_iter().map(|f| Some(Box::pin(f))).collect(),
        outs: (0..n).map(|_| None).collect(),
    }
    .await
}
