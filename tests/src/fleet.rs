//! Five real phones, a busy day on each, synced through a hostile network until their outboxes
//! are empty, and the checks that the server then holds every op and photo exactly once: the
//! parts the single-server fault test (`tests/sync_faults.rs`) and the replica fault test
//! (`tests/replica_faults.rs`) share. Counts and hashes are compared, never assumed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fieldproof_core::*;

use crate::day::{self, DayClock, Trouble};
use crate::fault_proxy::FaultStats;
use crate::storage::ServerDb;

pub const DEVICES: usize = 5;
pub const VISITS_PER_DEVICE: usize = 20;
/// check-in + 6 answers + 9 recounts + 1 photo + report + complete + check-out = 20 ops a visit
pub const RECOUNTS: u32 = 9;
pub const OPS: usize = DEVICES * VISITS_PER_DEVICE * 20;
pub const PHOTOS: usize = DEVICES * VISITS_PER_DEVICE;

pub const REPS: [&str; DEVICES] = ["rep-li", "rep-zhao", "rep-chen", "rep-sun", "rep-zhou"];

/// The fixture plus three more reps, so five reps in two territories under two supervisors.
pub fn reference() -> ReferenceData {
    let mut r: ReferenceData = match serde_json::from_str(crate::REFERENCE_JSON) {
        Ok(r) => r,
        Err(e) => panic!("the reference fixture does not parse: {e}"),
    };
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

/// Short backoff and small chunks: many requests, so the network's faults hit every kind.
pub fn sync_options() -> SyncOptions {
    SyncOptions {
        initial_backoff_ms: 20,
        max_backoff_ms: 400,
        max_attempts: 6,
        connect_timeout_ms: 2_000,
        request_timeout_ms: 10_000,
        push_batch: 50,
        pull_limit: 100,
        photo_chunk_bytes: 64 * 1024,
    }
}

pub struct Phone {
    pub rep: &'static str,
    pub core: Core,
    pub clock: DayClock,
    pub db: PathBuf,
}

/// The phones and the photo hashes they took.
pub struct Fleet {
    pub phones: Vec<Phone>,
    pub photos: BTreeSet<String>,
}

/// How one phone's syncs went: how many it took, and the error codes of the failed ones.
#[derive(Debug)]
pub struct Drained {
    pub rounds: u32,
    pub errors: Vec<String>,
}

impl Fleet {
    /// Every rep's phone enrols at `url` with the code `code_for(rep)` gives and pulls its
    /// reference data (the caller keeps the network clean meanwhile).
    pub fn enrol(
        dir: &Path,
        rt: &tokio::runtime::Runtime,
        url: &str,
        code_for: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Fleet, String> {
        let mut phones = Vec::new();
        for rep in REPS {
            let clock = DayClock::real_time();
            let db = dir.join(format!("{rep}.db"));
            let core = day::open_core(&db, &clock).map_err(|e| format!("{rep}: core: {e}"))?;
            core.set_sync_options(sync_options())
                .map_err(|e| format!("{rep}: options: {e}"))?;
            let code = code_for(rep)?;
            rt.block_on(core.enrol(url, &code))
                .map_err(|e| format!("{rep}: enrol: {e}"))?;
            rt.block_on(core.sync())
                .map_err(|e| format!("{rep}: first sync: {e}"))?;
            phones.push(Phone { rep, core, clock, db });
        }
        Ok(Fleet {
            phones,
            photos: BTreeSet::new(),
        })
    }

    /// A busy day on every phone, all offline: `OPS` ops and `PHOTOS` distinct photos.
    pub fn busy_day(&mut self) -> Result<(), String> {
        let made = Instant::now();
        let mut photo_n = 0;
        for p in &self.phones {
            let stores = p.core.stores(None).map_err(|e| e.to_string())?;
            if stores.is_empty() {
                return Err(format!("{} has no stores", p.rep));
            }
            for v in 0..VISITS_PER_DEVICE {
                let run = day::store_check_with_recounts(
                    &p.core,
                    &p.clock,
                    p.rep,
                    &stores[v % stores.len()],
                    None,
                    &[day::distinct_photo(photo_n)],
                    Trouble::default(),
                    RECOUNTS,
                )
                .map_err(|e| format!("{}: visit {v}: {e}", p.rep))?;
                photo_n += 1;
                self.photos.extend(run.photos.iter().map(|p| p.sha256.clone()));
            }
        }
        let mut pending = 0usize;
        for p in &self.phones {
            pending += p.core.outbox_summary().map_err(|e| e.to_string())?.pending as usize;
        }
        if pending != OPS || self.photos.len() != PHOTOS {
            return Err(format!(
                "the day made {pending} ops and {} photos, not {OPS} and {PHOTOS}",
                self.photos.len()
            ));
        }
        println!(
            "{OPS} ops and {PHOTOS} photos made on {DEVICES} devices in {:.1} s",
            made.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Every phone syncs again and again (50 ms apart) until nothing is pending and every
    /// photo is uploaded; panics naming the phone if one is not drained within `deadline`.
    pub fn drain(&self, rt: &tokio::runtime::Runtime, deadline: Duration) -> Vec<Drained> {
        let started = Instant::now();
        rt.block_on(async {
            let mut tasks = Vec::new();
            for p in &self.phones {
                let core = &p.core;
                let rep = p.rep;
                tasks.push(async move {
                    let mut rounds = 0u32;
                    let mut errors = Vec::new();
                    loop {
                        rounds += 1;
                        match core.sync().await {
                            Ok(r) if r.pending == 0 && r.photos_not_uploaded == 0 => break,
                            Ok(_) => {}
                            Err(e) => errors.push(e.code().to_string()),
                        }
                        if started.elapsed() > deadline {
                            panic!("{rep} not drained after {rounds} syncs: {errors:?}");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Drained { rounds, errors }
                });
            }
            join_all(tasks).await
        })
    }
}

/// A hostile network and dying servers must only ever look transient to a phone.
pub fn assert_only_transient(drained: &[Drained]) {
    for d in drained {
        assert!(
            d.errors.iter().all(|c| c == "network" || c == "sync_protocol"),
            "only transient failures expected, got {:?} after {} rounds",
            d.errors,
            d.rounds
        );
    }
}

/// Each kind of fault actually happened (a run where the proxy broke nothing proves nothing).
pub fn assert_every_fault_seen(st: &FaultStats) {
    for (what, n) in [
        ("reset before request", &st.reset_before_request),
        ("cut mid-upload", &st.cut_upload),
        ("answer dropped after commit", &st.drop_response),
        ("answer truncated", &st.truncate_response),
    ] {
        assert!(n.load(Ordering::Relaxed) > 0, "no connection was {what}");
    }
}

/// A phone's outbox as its database holds it: (op id, sequence, entry hash) in sequence order,
/// what the server must hold for that device.
// A test helper: it panics on an unreadable phone database, like `assert!`.
#[allow(clippy::expect_used)]
pub fn device_outbox(device_db: &std::path::Path) -> Vec<(String, i64, String)> {
    let c = rusqlite::Connection::open_with_flags(device_db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("device db");
    c.prepare("SELECT op_id, seq, entry_hash FROM outbox ORDER BY seq")
        .expect("query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Every phone's outbox is empty and every photo uploaded; the server holds each phone's ops
/// exactly as the phone has them (op id, seq, chain hash, in order), `OPS` in all, each once,
/// none rejected; `PHOTOS` photos, each received and verified, each stored once
/// (`stored_photos`: the photo store's files, each re-hashed by the caller); and no finding
/// that would mean tampering (an honest chain stays whole through faults and kills).
// An assertion: it panics on what it finds, like `assert!`.
#[allow(clippy::expect_used)]
pub fn check_server(fleet: &Fleet, db: &ServerDb, stored_photos: &BTreeSet<String>) {
    let mut total = 0usize;
    for p in &fleet.phones {
        let s = p.core.outbox_summary().expect("summary");
        assert_eq!((s.pending, s.rejected), (0, 0), "{}: outbox not empty", p.rep);
        let state = p.core.sync_state().expect("state");
        assert_eq!(state.photos_not_uploaded, 0, "{}", p.rep);
        let mine = device_outbox(&p.db);
        let theirs = db.device_ops(p.core.device_id());
        assert_eq!(mine.len(), theirs.len(), "{}: op count", p.rep);
        assert_eq!(mine, theirs, "{}: ops differ", p.rep);
        total += mine.len();
    }
    assert_eq!(total, OPS);
    assert_eq!(db.count("SELECT count(*) FROM ops") as usize, OPS);
    assert_eq!(db.count("SELECT count(DISTINCT op_id) FROM ops") as usize, OPS);
    assert_eq!(db.count("SELECT count(*) FROM rejected_ops"), 0);
    assert_eq!(db.count("SELECT count(*) FROM photos") as usize, PHOTOS);
    assert_eq!(
        db.count("SELECT count(*) FROM photos WHERE received = 1 AND verified = 1") as usize,
        PHOTOS
    );
    assert_eq!(db.count("SELECT count(*) FROM blobs") as usize, PHOTOS);
    assert_eq!(
        db.count(
            "SELECT count(*) FROM exceptions WHERE code IN
             ('chain_gap','chain_fork','reordered','backdated','bad_signature','image_hash_mismatch')"
        ),
        0
    );
    assert_eq!(db.photo_hashes(), fleet.photos);
    assert_eq!(stored_photos, &fleet.photos, "photo files on the server");
    println!(
        "server holds {OPS} ops and {PHOTOS} verified photos, each once; {} photo files re-hashed",
        stored_photos.len()
    );
}

/// Run futures concurrently on the current task and collect their outputs in order (a tiny
/// join_all, so the tests need no futures crate).
pub async fn join_all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output>
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
