//! The pipeline's scheduler with two real server processes (`serve`) on one PostgreSQL database
//! and one shared test clock (`--pipeline-clock-file`, here through its environment variable):
//! an assigned lead not claimed within 2 hours goes back to the pool with one alert, and a
//! claimed customer without interaction is released at 7 days — each exactly once, although
//! both replicas poll every 200 ms and race for every minute's runs (issue 15, acceptance 2).
//!
//! Needs `FIELDPROOF_TEST_POSTGRES` (`bash tests/pg.sh -- cargo test --test pipeline_replicas`);
//! without it it prints that it was skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use fieldproof_tests::fleet;
use fieldproof_tests::server::ServerProcess;
use fieldproof_tests::storage::{fresh_database, test_postgres};
use rand::Rng;

/// 2026-09-21 (UTC), a round minute.
const T0: i64 = 1_790_000_040_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

/// Move the shared clock (write then rename: a replica never reads half a number).
fn set_clock(path: &Path, ms: i64) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, ms.to_string()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn count(db: &mut postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).unwrap().get(0)
}

/// Wait until `sql` counts `want` (the replicas poll every 200 ms).
fn wait_for(db: &mut postgres::Client, sql: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = count(db, sql);
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {n}, waited for {want}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Step the clock minute by minute from `from` to `to`, a random moment apart, so either
/// replica may be the first to see each new minute.
fn step(clock: &Path, from: i64, to: i64) {
    let mut rng = rand::rng();
    let mut t = from;
    while t <= to {
        set_clock(clock, t);
        std::thread::sleep(Duration::from_millis(rng.random_range(150..450)));
        t += MIN;
    }
}

#[test]
fn two_replicas_return_an_unclaimed_lead_and_release_a_silent_customer_exactly_once() {
    if test_postgres().is_none() {
        println!(
            "SKIPPED pipeline replica test: FIELDPROOF_TEST_POSTGRES is not set \
             (run it as `bash tests/pg.sh -- cargo test --test pipeline_replicas`)"
        );
        return;
    }
    let url = fresh_database("pipeline_replicas").unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = dir.path().join("clock");
    set_clock(&clock, T0 - 30 * MIN);
    let clock_s = clock.to_str().unwrap().to_string();
    let env = [
        ("FIELDPROOF_DATABASE", url.as_str()),
        ("FIELDPROOF_PIPELINE_CLOCK_FILE", clock_s.as_str()),
    ];
    // One after the other: the first migrates.
    let mut a = ServerProcess::start_with(&dir.path().join("a"), "127.0.0.1:0", &env).unwrap();
    let mut b = ServerProcess::start_with(&dir.path().join("b"), "127.0.0.1:0", &env).unwrap();
    let file = dir.path().join("reference.json");
    std::fs::write(&file, serde_json::to_string(&fleet::reference()).unwrap()).unwrap();
    a.admin(&["load-reference", file.to_str().unwrap()]).unwrap();

    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    db.execute(
        "INSERT INTO leads (id, name, phones, industry, region, state, assigned_rep, assigned_ms, deadline_ms,
            created_ms, updated_ms)
         VALUES ('lead-1', '华东食品', '[]', 'food', 'shanghai-east', 'assigned', 'rep-li', $1, $2, $1, $1)",
        &[&T0, &(T0 + 120 * MIN)],
    )
    .unwrap();
    db.execute(
        "INSERT INTO customers (id, name, region, owner_id, state, stage, stage_entered_ms, claimed_ms, release_due_ms,
            created_by, created_ms, updated_ms)
         VALUES ('cust-1', '徐汇便利', 'shanghai-east', 'rep-li', 'owned', 'explore', $1, $1, $2, 'rep-li', $1, $1)",
        &[&T0, &(T0 + 7 * DAY)],
    )
    .unwrap();

    // Up to a minute before the deadline: nothing.
    step(&clock, T0 + 110 * MIN, T0 + 119 * MIN);
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM leads WHERE state = 'assigned'"),
        1
    );
    // At the deadline and the minutes after it: returned once, alerted once.
    step(&clock, T0 + 120 * MIN, T0 + 126 * MIN);
    wait_for(
        &mut db,
        "SELECT count(*) FROM leads WHERE id = 'lead-1' AND state = 'pool'",
        1,
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM exceptions WHERE code = 'lead_overdue' AND user_id = 'rep-li'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM customer_events WHERE lead_id = 'lead-1' AND kind = 'deadline_pool'"
        ),
        1
    );
    let in_time: Option<i64> = db
        .query_one("SELECT responded_in_time FROM leads WHERE id = 'lead-1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(in_time, Some(0));

    // A minute before 7 days: still owned; then released once.
    step(&clock, T0 + 7 * DAY - 3 * MIN, T0 + 7 * DAY - MIN);
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM customers WHERE state = 'owned'"),
        1
    );
    step(&clock, T0 + 7 * DAY, T0 + 7 * DAY + 5 * MIN);
    wait_for(
        &mut db,
        "SELECT count(*) FROM customers WHERE id = 'cust-1' AND state = 'pool' AND owner_id IS NULL",
        1,
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM customer_events WHERE customer_id = 'cust-1' AND kind = 'auto_release'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM exceptions WHERE code = 'customer_released'"
        ),
        1
    );

    // Every run taken was finished, once (the primary key), and both replicas took some.
    wait_for(
        &mut db,
        "SELECT count(*) FROM pipeline_jobs WHERE done_ms IS NULL",
        0,
    );
    let owners = count(
        &mut db,
        "SELECT count(DISTINCT split_part(lease_owner, '-', 1)) FROM pipeline_jobs",
    );
    let runs = count(
        &mut db,
        "SELECT count(*) FROM pipeline_jobs WHERE job = 'lead_deadline'",
    );
    println!("{runs} lead_deadline runs, taken by {owners} replica(s)");
    assert_eq!(owners, 2, "both replicas took runs");
    a.terminate().unwrap();
    b.terminate().unwrap();
}
