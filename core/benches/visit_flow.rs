#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Benchmark of the foundation, on real database files, with a floor measured in the same run.
//!
//! `cargo bench -p fieldproof-core --bench visit_flow` (set `BENCH_QUICK=1` for a short run).
//!
//! 1. A whole visit: check-in + 30 answers + report + complete, on a file database
//!    (WAL, synchronous=FULL, as on the phone): per-action and per-visit p50/p99.
//!    Floor: the same number of bare one-row INSERT+COMMIT transactions on a file with the same
//!    pragmas, so the ratio shows what the core adds on top of SQLite's own durable commit.
//! 2. Opening + migrating a new database file, and reopening an existing one.
//! 3. The day's plan query with 100,000 past visits in the database.

use std::time::{Duration, Instant};

use fieldproof_core::*;
use rusqlite::params;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn summary(name: &str, mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let (p50, p99) = (pct(&v, 0.50), pct(&v, 0.99));
    println!(
        "{name:<44} n={:<6} p50 {:>8.3} ms   p99 {:>8.3} ms   max {:>8.3} ms",
        v.len(),
        ms(p50),
        ms(p99),
        ms(*v.last().unwrap())
    );
    (p50, p99)
}

/// Reference data with a 30-item store check (numbers, yes/no, prices, choices).
fn bench_reference() -> ReferenceData {
    let mut data: ReferenceData =
        serde_json::from_str(include_str!("../../tests/fixtures/reference.json")).unwrap();
    let items: Vec<CheckItem> = (0..30)
        .map(|i| CheckItem {
            id: format!("q{i:02}"),
            label: format!("Question {i}"),
            kind: match i % 4 {
                0 => ItemKind::YesNo,
                1 => ItemKind::Number,
                2 => ItemKind::Price,
                _ => ItemKind::Choice,
            },
            required: true,
            weight: 1.0,
            show_if: None,
            product_id: None,
            compare_to_item_id: (i % 4 == 2 && i >= 6).then(|| format!("q{:02}", i - 4)),
            choices: if i % 4 == 3 {
                vec![
                    Choice {
                        id: "a".into(),
                        label: "A".into(),
                        score: 1.0,
                    },
                    Choice {
                        id: "b".into(),
                        label: "B".into(),
                        score: 0.5,
                    },
                ]
            } else {
                vec![]
            },
            target: (i % 4 == 1).then_some(6.0),
            min_photos: None,
        })
        .collect();
    data.templates.push(CheckTemplate {
        id: "tpl-bench-30".into(),
        version: 1,
        name: "30 items".into(),
        kind: TemplateKind::StoreCheck,
        is_default: false,
        rules: TemplateRules::default(),
        sections: vec![CheckSection {
            id: "all".into(),
            title: "All".into(),
            weight: 1.0,
            items,
        }],
    });
    data
}

fn answer_for(i: usize, round: usize) -> AnswerValue {
    match i % 4 {
        0 => AnswerValue::YesNo {
            value: round.is_multiple_of(2),
        },
        1 => AnswerValue::Number {
            value: (round % 9) as f64,
        },
        2 => AnswerValue::Price {
            cents: 300 + (round % 150) as i64,
        },
        _ => AnswerValue::Choice {
            choice_id: if round.is_multiple_of(3) { "a" } else { "b" }.into(),
        },
    }
}

fn visit_flow(quick: bool) -> Vec<String> {
    let visits = if quick { 20 } else { 200 };
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path().join("bench.db")).unwrap();
    core.load_reference_data(&bench_reference()).unwrap();
    let fix = LocationFix {
        latitude: 31.2304,
        longitude: 121.52,
        accuracy_m: 10.0,
        provider: LocationProvider::Gps,
        is_mock: false,
        fix_time_ms: SystemClock.wall_ms(),
    };
    let (mut actions, mut flows) = (Vec::new(), Vec::new());
    for round in 0..visits {
        let flow = Instant::now();
        let t = Instant::now();
        let v = core
            .check_in(&CheckInRequest {
                user_id: "rep-li".into(),
                store_id: "st-001".into(),
                plan_id: None,
                template_id: Some("tpl-bench-30".into()),
                fix: Some(LocationFix {
                    fix_time_ms: SystemClock.wall_ms(),
                    ..fix.clone()
                }),
            })
            .unwrap();
        actions.push(t.elapsed());
        for i in 0..30 {
            let t = Instant::now();
            core.answer(&v.id, &format!("q{i:02}"), &answer_for(i, round), None)
                .unwrap();
            actions.push(t.elapsed());
        }
        let t = Instant::now();
        core.save_report(
            &v.id,
            &VisitReport {
                notes: "店长同意增加陈列".into(),
                objections: vec![],
                next_steps: vec!["follow up".into()],
                follow_up_date: None,
            },
        )
        .unwrap();
        actions.push(t.elapsed());
        let t = Instant::now();
        core.complete_visit(&v.id).unwrap();
        actions.push(t.elapsed());
        flows.push(flow.elapsed());
        core.check_out(&v.id, None).unwrap();
    }
    assert!(core.audit().unwrap().is_clean());
    let n_actions = actions.len();

    // Floor: the same number of durable one-row transactions, bare SQLite, same pragmas.
    let floor_db = dir.path().join("floor.db");
    let conn = rusqlite::Connection::open(&floor_db).unwrap();
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        .unwrap();
    let mut floor = Vec::with_capacity(n_actions);
    let mut conn = conn;
    for i in 0..n_actions {
        let t = Instant::now();
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO t (v) VALUES (?1)", params![format!("row {i}")])
            .unwrap();
        tx.commit().unwrap();
        floor.push(t.elapsed());
    }

    println!("\n## 1. A whole visit on a file database ({visits} visits, {n_actions} actions)");
    let (a50, a99) = summary("action (check-in | answer | report | complete)", actions);
    let (f50, f99) = summary("floor: bare INSERT + COMMIT (same pragmas)", floor);
    let (v50, v99) = summary("visit: check-in + 30 answers + report + complete", flows);
    println!(
        "ratio action/floor: p50 {:.2}x  p99 {:.2}x",
        a50.as_secs_f64() / f50.as_secs_f64(),
        a99.as_secs_f64() / f99.as_secs_f64()
    );
    vec![
        format!(
            "| action (one transaction + outbox op) | {:.2} ms | {:.2} ms |",
            ms(a50),
            ms(a99)
        ),
        format!(
            "| floor: bare INSERT+COMMIT, same pragmas | {:.2} ms | {:.2} ms |",
            ms(f50),
            ms(f99)
        ),
        format!(
            "| ratio action / floor | {:.2}x | {:.2}x |",
            a50.as_secs_f64() / f50.as_secs_f64(),
            a99.as_secs_f64() / f99.as_secs_f64()
        ),
        format!(
            "| whole visit (33 actions) | {:.1} ms | {:.1} ms |",
            ms(v50),
            ms(v99)
        ),
    ]
}

fn open_and_migrate(quick: bool) -> Vec<String> {
    let n = if quick { 5 } else { 40 };
    let dir = tempfile::tempdir().unwrap();
    let mut fresh = Vec::new();
    let mut reopen = Vec::new();
    for i in 0..n {
        let p = dir.path().join(format!("open-{i}.db"));
        let t = Instant::now();
        drop(Core::open(&p).unwrap());
        fresh.push(t.elapsed());
        let t = Instant::now();
        drop(Core::open(&p).unwrap());
        reopen.push(t.elapsed());
    }
    println!("\n## 2. Opening the database");
    let (f50, f99) = summary("create + migrate to the current schema", fresh);
    let (r50, r99) = summary("reopen (already current)", reopen);
    vec![
        format!(
            "| create + migrate a new database | {:.2} ms | {:.2} ms |",
            ms(f50),
            ms(f99)
        ),
        format!(
            "| reopen an existing database | {:.2} ms | {:.2} ms |",
            ms(r50),
            ms(r99)
        ),
    ]
}

fn day_plan_with_history(quick: bool) -> Vec<String> {
    let past = if quick { 10_000 } else { 100_000 };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("history.db");
    let core = Core::open(&p).unwrap();
    core.load_reference_data(&bench_reference()).unwrap();
    drop(core);
    // History is bulk-written with SQL: 100,000 visits through the API would time fsyncs, not queries.
    let t = Instant::now();
    {
        let mut conn = rusqlite::Connection::open(&p).unwrap();
        let tx = conn.transaction().unwrap();
        let stores = ["st-001", "st-002", "st-003"];
        for i in 0..past {
            let day = i / 25; // 25 visits a day: 4,000 days of history
            let date = format!(
                "{:04}-{:02}-{:02}",
                2010 + day / 336,
                1 + (day / 28) % 12,
                1 + day % 28
            );
            let plan = format!("hist-plan-{i}");
            let store = stores[i % 3];
            tx.execute(
                "INSERT INTO plans (id, rep_id, store_id, date, template_id, sequence) VALUES (?1, 'rep-li', ?2, ?3, 'tpl-store-check', ?4)",
                params![plan, store, date, (i % 25) as i64],
            )
            .unwrap();
            let wall = 1_262_304_000_000i64 + i as i64 * 3_456_000;
            tx.execute(
                "INSERT INTO visits (id, kind, user_id, store_id, template_id, template_version, plan_id, status,
                    check_in_wall_ms, check_in_boot_ms, check_in_hlc, geofence, check_in_op, complete_op, check_out_op)
                 VALUES (?1, 'store_check', 'rep-li', ?2, 'tpl-store-check', 1, ?3, 'checked_out', ?4, 0, ?5, 'verified',
                    ?6, ?7, ?8)",
                params![format!("hist-{i}"), store, plan, wall, wall << 16, format!("op-a-{i}"), format!("op-b-{i}"), format!("op-c-{i}")],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let seeded = t.elapsed();
    let core = Core::open(&p).unwrap();
    let n = if quick { 50 } else { 1_000 };
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let plan = core.day_plan("rep-li", "2026-11-23").unwrap();
        times.push(t.elapsed());
        assert_eq!(plan.len(), 3);
    }
    let mut stores = Vec::new();
    for _ in 0..n / 10 {
        let t = Instant::now();
        let h = core.store_history("st-001", 50).unwrap();
        stores.push(t.elapsed());
        assert_eq!(h.len(), 50);
    }
    println!(
        "\n## 3. Queries with {past} past visits (seeded in {:.1} s)",
        seeded.as_secs_f64()
    );
    let (d50, d99) = summary("day plan (3 stops with status)", times);
    let (s50, s99) = summary("store history (latest 50 visits)", stores);
    vec![
        format!(
            "| day plan, {past} past visits in the database | {:.3} ms | {:.3} ms |",
            ms(d50),
            ms(d99)
        ),
        format!(
            "| store history (latest 50), same database | {:.3} ms | {:.3} ms |",
            ms(s50),
            ms(s99)
        ),
    ]
}

fn main() {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let mut rows = Vec::new();
    rows.extend(visit_flow(quick));
    rows.extend(open_and_migrate(quick));
    rows.extend(day_plan_with_history(quick));
    println!("\n| measurement | p50 | p99 |\n|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
