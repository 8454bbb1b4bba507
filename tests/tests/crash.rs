#![allow(clippy::unwrap_used, clippy::expect_used)]
//! kill -9 at random moments, at least 200 times. After each kill the database must pass
//! `PRAGMA integrity_check`, reopen, hold no partial action (`Core::audit`), and still hold every
//! action the worker saw committed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fieldproof_core::Core;
use rand::Rng;

const KILLS: usize = 200;
/// The worker must get real work done between kills. On a loaded machine (other suites running
/// beside this one) the same random kill times reach fewer actions, so past `KILLS` rounds the
/// test goes on killing until this many are committed, doubling the kill window every 50
/// rounds (150 ms, 300 ms, … 2.4 s), up to `MAX_ROUNDS`.
const MIN_ACTIONS: i64 = 100;
const MAX_ROUNDS: usize = KILLS + 250;

#[test]
fn kill_nine_never_leaves_a_partial_action() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let mut rng = rand::rng();
    let started = Instant::now();
    let (mut max_acked, mut kills_mid_run, mut committed, mut kills) = (0i64, 0usize, 0i64, 0usize);
    for round in 0..MAX_ROUNDS {
        if round >= KILLS && committed > MIN_ACTIONS {
            break;
        }
        kills += 1;
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-worker"))
            .arg(&db)
            .arg(rng.random_range(1..u64::MAX).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse::<i64>().ok()) {
                    let _ = tx.send(n);
                }
            }
        });
        // Anywhere from during open/migration to deep inside the action loop.
        let window_us = 150_000u64 << ((round.saturating_sub(KILLS) / 50).min(4));
        std::thread::sleep(Duration::from_micros(rng.random_range(0..window_us)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        reader.join().unwrap();
        let acked: Vec<i64> = rx.try_iter().collect();
        if status.code().is_some() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("round {round}: worker exited by itself ({status}) before the kill: {err}");
        }
        if !acked.is_empty() {
            kills_mid_run += 1;
        }
        max_acked = max_acked.max(acked.into_iter().max().unwrap_or(0));

        if !db.exists() {
            continue; // killed before SQLite created the file
        }
        let core = Core::open(&db).unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        assert_eq!(core.integrity_check().unwrap(), ["ok"], "round {round}");
        let audit = core.audit().unwrap();
        assert!(
            audit.is_clean(),
            "round {round}: partial action: {:?}",
            audit.problems
        );
        let last_seq = core.outbox_summary().unwrap().last_seq;
        committed = last_seq;
        assert!(
            last_seq >= max_acked,
            "round {round}: an acknowledged action was lost ({last_seq} < {max_acked})"
        );
        for v in core
            .pending_ops(1_000_000)
            .unwrap()
            .iter()
            .filter(|o| o.kind == "visit.photo" || o.kind == "customer.photo")
        {
            let p: serde_json::Value = serde_json::from_str(&v.payload_json).unwrap();
            let file = core
                .photo_dir()
                .join(format!("{}.jpg", p["image_sha256"].as_str().unwrap()));
            assert!(file.exists(), "round {round}: recorded photo without its file");
        }
    }
    let core = Core::open(&db).unwrap();
    let s = core.outbox_summary().unwrap();
    let photos = core
        .pending_ops(1_000_000)
        .unwrap()
        .iter()
        .filter(|o| o.kind == "visit.photo")
        .count();
    // The worker's pipeline rounds (customer entered, follow-up, stage moves, evidence photo).
    let customer_ops = core
        .pending_ops(1_000_000)
        .unwrap()
        .iter()
        .filter(|o| o.kind.starts_with("customer."))
        .count();
    println!(
        "crash test: {kills} SIGKILLs ({kills_mid_run} in the middle of the action loop) in {:.1} s; \
         {} actions committed ({photos} stamped, signed photos), every one intact and its chain \
         unbroken ({customer_ops} of them customers' ops); integrity_check ok after every kill",
        started.elapsed().as_secs_f64(),
        s.last_seq
    );
    assert!(customer_ops > 0, "the worker reached the pipeline rounds");
    assert!(
        kills_mid_run >= kills / 2,
        "too few kills landed mid-run: {kills_mid_run}"
    );
    assert!(
        s.last_seq > MIN_ACTIONS,
        "the worker did real work: {} actions",
        s.last_seq
    );
}
