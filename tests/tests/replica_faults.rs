//! Several server replicas on one PostgreSQL database and one S3-compatible bucket, behind the
//! worst network we can make on loopback: five real cores push 2,000 ops and 100 photos
//! through the fault-injecting proxy, which sends each connection to a replica drawn at random
//! (so one push, or one photo's chunks, land on different replicas), while replicas are killed
//! with SIGKILL and restarted. Afterwards the database must hold every op and photo exactly
//! once and the bucket every photo once, with the same checks as the single-server fault test
//! (`sync_faults.rs`, both through `fieldproof_tests::fleet`).
//!
//! Needs `FIELDPROOF_TEST_POSTGRES` and `FIELDPROOF_TEST_S3` (the test command sets both, through
//! `tests/pg.sh` and `tests/s3.sh`); without them it prints that it was skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldproof_tests::fault_proxy::{FaultPlan, FaultProxy};
use fieldproof_tests::fleet::{self, Fleet};
use fieldproof_tests::server::ServerProcess;
use fieldproof_tests::storage::SharedStorage;

const REPLICAS: usize = 3;
/// Kills spread over the run, one replica at a time, a random one each time.
const REPLICA_KILLS: usize = 6;

#[test]
fn every_op_and_photo_arrives_exactly_once_through_three_replicas_faults_and_kills() {
    let Some(storage) = SharedStorage::from_env("replica_faults").expect("shared storage") else {
        println!(
            "SKIPPED replica fault test: FIELDPROOF_TEST_POSTGRES and FIELDPROOF_TEST_S3 are not both set \
             (run it as `bash tests/pg.sh -- bash tests/s3.sh -- cargo test --test replica_faults`)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let env = storage.env_pairs();
    // Each replica has its own data folder (nothing shared is kept there: the database and
    // the photos are elsewhere); they start one after the other so the first migrates.
    let mut replicas = Vec::new();
    for i in 0..REPLICAS {
        let data = dir.path().join(format!("replica-{i}"));
        replicas.push(ServerProcess::start_with(&data, "127.0.0.1:0", &env).expect("replica starts"));
    }
    let file = dir.path().join("reference.json");
    std::fs::write(&file, serde_json::to_string(&fleet::reference()).expect("json")).expect("write");
    replicas[0]
        .admin(&["load-reference", file.to_str().expect("utf-8")])
        .expect("reference loads");
    let addrs: Vec<_> = replicas.iter().map(ServerProcess::addr).collect();
    let proxy = FaultProxy::start_spread(&addrs, FaultPlan::clean()).expect("proxy");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // --- five phones enrol (codes made on one replica, redeemed on any), then a busy day -----
    let next = std::cell::Cell::new(0usize);
    let mut fleet = Fleet::enrol(dir.path(), &rt, &proxy.url(), |rep| {
        next.set(next.get() + 1);
        replicas[next.get() % REPLICAS].enrol_code(rep)
    })
    .expect("phones enrol");
    fleet.busy_day().expect("a busy day");

    // --- sync through a hostile network to random replicas; replicas die and come back -------
    proxy.set_plan(FaultPlan::hostile(0x5EED_0003));
    let replicas: Vec<Arc<Mutex<ServerProcess>>> =
        replicas.into_iter().map(|r| Arc::new(Mutex::new(r))).collect();
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let replicas = replicas.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut killed = vec![0usize; REPLICAS];
            let mut pick: u64 = 0x9E37_79B9_7F4A_7C15;
            while killed.iter().sum::<usize>() < REPLICA_KILLS && !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1_200));
                pick ^= pick << 13;
                pick ^= pick >> 7;
                pick ^= pick << 17;
                let i = (pick % REPLICAS as u64) as usize;
                let mut s = replicas[i].lock().expect("replica lock");
                s.kill9();
                std::thread::sleep(Duration::from_millis(300));
                s.restart().expect("replica restarts on the same port");
                killed[i] += 1;
            }
            killed
        })
    };
    let started = Instant::now();
    let drained = fleet.drain(&rt, Duration::from_secs(600));
    done.store(true, Ordering::Relaxed);
    let killed = killer.join().expect("killer thread");
    println!(
        "drained in {:.1} s through {REPLICAS} replicas; syncs per device {:?}; kills per replica {killed:?}; \
         connections per replica {:?}; proxy: {}",
        started.elapsed().as_secs_f64(),
        drained.iter().map(|d| d.rounds).collect::<Vec<_>>(),
        proxy.stats().per_upstream(),
        proxy.stats().summary()
    );
    fleet::assert_only_transient(&drained);
    // Through three replicas the phones need few connections (~20-30: they keep them alive);
    // the proxy gives the first ones under the hostile plan each kind of fault, so every kind
    // is met whatever the count.
    let st = proxy.stats();
    let kinds = [
        &st.reset_before_request,
        &st.cut_upload,
        &st.drop_response,
        &st.truncate_response,
    ]
    .map(|n| n.load(Ordering::Relaxed));
    assert!(
        kinds.iter().all(|n| *n > 0),
        "a kind of fault never happened through the replicas: {}",
        st.summary()
    );
    assert!(
        killed.iter().sum::<usize>() >= 1,
        "no replica was killed mid-sync"
    );
    assert!(
        proxy.stats().per_upstream().iter().all(|n| *n > 0),
        "every replica served connections"
    );

    // --- compare: devices vs the database and the bucket, by count and by hash ---------------
    let db = storage.records().expect("database");
    let stored = replicas[0]
        .lock()
        .expect("replica lock")
        .stored_photos()
        .expect("stored photos");
    fleet::check_server(&fleet, &db, &stored);
}
