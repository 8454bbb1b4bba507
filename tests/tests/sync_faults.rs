//! Sync over the worst network we can make on loopback: five real cores push 2,000 ops and 100
//! photos through a fault-injecting proxy (connections reset before the request, cut mid-upload,
//! answers dropped after the server committed, answers truncated, latency) while the real
//! server is killed with SIGKILL and restarted mid-sync. Afterwards the server must hold every
//! op and every photo exactly once, and every device's outbox must be empty. Counts and hashes
//! are compared, not assumed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldproof_tests::fault_proxy::{FaultPlan, FaultProxy};
use fieldproof_tests::fleet::{self, Fleet};
use fieldproof_tests::server::ServerProcess;

const SERVER_KILLS: usize = 4;

#[test]
fn every_op_and_photo_arrives_exactly_once_through_faults_and_server_kills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("server-data");
    let server = ServerProcess::start(&data).expect("server starts");
    let file = dir.path().join("reference.json");
    std::fs::write(&file, serde_json::to_string(&fleet::reference()).expect("json")).expect("write");
    server
        .admin(&["load-reference", file.to_str().expect("utf-8")])
        .expect("reference loads");
    let proxy = FaultProxy::start(server.addr(), FaultPlan::clean()).expect("proxy");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // --- five phones enrol (through the proxy, no faults yet), then a busy day offline --------
    let mut fleet =
        Fleet::enrol(dir.path(), &rt, &proxy.url(), |rep| server.enrol_code(rep)).expect("phones enrol");
    fleet.busy_day().expect("a busy day");

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
    let drained = fleet.drain(&rt, Duration::from_secs(600));
    done.store(true, Ordering::Relaxed);
    let kills = killer.join().expect("killer thread");
    println!(
        "drained in {:.1} s; syncs per device {:?}; server killed {kills} times; proxy: {}",
        started.elapsed().as_secs_f64(),
        drained.iter().map(|d| d.rounds).collect::<Vec<_>>(),
        proxy.stats().summary()
    );
    fleet::assert_only_transient(&drained);
    fleet::assert_every_fault_seen(proxy.stats());
    assert!(kills >= 1, "the server was never killed mid-sync");

    // --- compare: devices vs server, by count and by hash -------------------------------------
    let server = server.lock().expect("server lock");
    let db = server.records().expect("server db");
    let stored = server.stored_photos().expect("stored photos");
    fleet::check_server(&fleet, &db, &stored);
    drop(server);
}
