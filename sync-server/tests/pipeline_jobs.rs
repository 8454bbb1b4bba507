//! The pipeline's storage and scheduled jobs (issue 15, acceptance 1, 2 and 5) on the suite's
//! back end (SQLite, or PostgreSQL under `tests/pg.sh`):
//!
//! 1. The stored dry run over a seeded 30 days of 2,000 leads reports the matched share the test
//!    computes again from the raw leads; a planted rule moves it by exactly the leads only that
//!    rule takes; going live is refused below the threshold (and with a stale dry run) and
//!    allowed past it; routing then assigns new leads with their deadline.
//! 2. With a test clock, two schedulers (two stores on one database, racing in threads) return
//!    an unclaimed lead to the pool at 2 h with one alert, and release a claimed customer without
//!    interaction at 7 days — each exactly once, and not a minute early.
//! 5. The nightly health job's rows equal the formula computed here for every seeded customer;
//!    changed weights change the grades; a component at zero for 14 days warns once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

#[path = "support/seeded.rs"]
mod seeded;
#[path = "support/db.rs"]
mod test_db;

use std::collections::BTreeMap;
use std::path::Path;

use fieldproof_core::customers::{NewCustomer, dedupe_keys};
use fieldproof_server::Store;
use fieldproof_server::db::{Connection, params};
use fieldproof_server::i18n::Lang;
use fieldproof_server::pipeline::health::HealthModel;
use fieldproof_server::pipeline::routing::Rule;
use fieldproof_server::pipeline_jobs::{
    self, GoLiveRefusal, JobOutcome, SettingsError, dry_run_routing, go_live, run_due_jobs, run_health,
    save_health, save_routing_rules, set_rep_tags,
};
use seeded::Rng;

const REFERENCE: &str = include_str!("../../tests/fixtures/reference.json");
/// 2026-09-21 (UTC), a round minute.
const T0: i64 = 1_790_000_040_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn setup() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = test_db::store(dir.path());
    store.load_reference_json(REFERENCE, T0 - 100 * DAY).unwrap();
    (dir, store)
}

fn db(dir: &Path) -> Connection {
    test_db::connect(dir)
}

fn rule(position: u32, name: &str) -> Rule {
    Rule {
        position,
        name: name.to_string(),
        industries: vec![],
        budget_min_cents: None,
        budget_max_cents: None,
        regions: vec![],
        sources: vec![],
        required_tags: vec![],
        team: None,
        max_load: None,
        enabled: true,
    }
}

fn count(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn insert_lead(
    c: &Connection,
    id: &str,
    phones: &[String],
    industry: &str,
    region: &str,
    budget: i64,
    state: &str,
    created_ms: i64,
) {
    c.execute(
        "INSERT INTO leads (id, name, phones, industry, region, budget_cents, source, state, created_ms, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, '展会', ?7, ?8, ?8)",
        params![
            id,
            format!("线索{id}"),
            serde_json::to_string(phones).unwrap(),
            industry,
            region,
            budget,
            state,
            created_ms
        ],
    )
    .unwrap();
}

/// An owned customer with its duplicate keys, as the ingest keeps it.
#[allow(clippy::too_many_arguments)]
fn insert_customer(
    c: &Connection,
    id: &str,
    phone: &str,
    owner: Option<&str>,
    state: &str,
    stage: &str,
    stage_entered_ms: i64,
    claimed_ms: Option<i64>,
    release_due_ms: Option<i64>,
) {
    let new = NewCustomer {
        name: format!("客户{id}"),
        company: None,
        phones: vec![phone.to_string()],
        contacts: vec![],
        industry: Some("food".into()),
        region: Some("east".into()),
        budget_cents: None,
        store_id: None,
        from_lead_id: None,
    };
    c.execute(
        "INSERT INTO customers (id, name, phones, industry, region, owner_id, state, stage, stage_entered_ms, claimed_ms,
            release_due_ms, created_by, created_ms, updated_ms)
         VALUES (?1, ?2, ?3, 'food', 'east', ?4, ?5, ?6, ?7, ?8, ?9, 'rep-li', ?7, ?7)",
        params![
            id,
            new.name,
            serde_json::to_string(&new.phones).unwrap(),
            owner,
            state,
            stage,
            stage_entered_ms,
            claimed_ms,
            release_due_ms
        ],
    )
    .unwrap();
    for (on, key) in dedupe_keys(&new) {
        let on = match on {
            fieldproof_core::customers::MatchOn::Phone => "phone",
            fieldproof_core::customers::MatchOn::Company => "company",
        };
        c.execute(
            "INSERT INTO customer_keys (key, customer_id, matched_on) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![key, id, on],
        )
        .unwrap();
    }
}

fn add_reps(c: &Connection, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let id = format!("r-{i:02}");
            c.execute(
                "INSERT INTO users (id, role, territory, supervisor_id, body) VALUES (?1, 'rep', 'east', 'sup-wang', ?2)",
                params![id, format!(r#"{{"id":"{id}","name":"业务员{i}","role":"rep"}}"#)],
            )
            .unwrap();
            id
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Acceptance 1: the stored dry run.

struct SeededLead {
    industry: &'static str,
    region: &'static str,
    budget: i64,
    owned: bool,
}

#[test]
fn dry_run_over_30_days_of_2000_leads_reports_the_share_and_a_planted_rule_moves_it() {
    let (dir, store) = setup();
    let c = db(dir.path());
    let reps = add_reps(&c, 20);
    for (i, r) in reps.iter().enumerate() {
        let tags: Vec<String> = match i {
            0..10 => vec!["food".into()],
            10..15 => vec!["drink".into()],
            _ => vec!["key_account".into(), "food".into()],
        };
        set_rep_tags(&store, r, &tags).unwrap();
    }
    // A supervisor has no tags to set: refused, typed.
    let e = set_rep_tags(&store, "sup-wang", &["x".into()]).unwrap_err();
    assert_eq!(e.code(), "pipeline_unknown_rep");

    // 20 customers owned by r-03; 50 of the leads are theirs (by phone), none of which a rule
    // would match on its own.
    for k in 0..20 {
        insert_customer(
            &c,
            &format!("own-{k}"),
            &format!("1380000{k:04}"),
            Some("r-03"),
            "owned",
            "needs",
            T0,
            Some(T0),
            None,
        );
    }
    let now = T0 + 40 * DAY;
    let start = now - 30 * DAY;
    let mut rng = Rng(15);
    let industries = ["food", "drink", "chem", "retail"];
    let regions = ["east", "west"];
    let mut seeded = Vec::new();
    for i in 0..2000i64 {
        let owned = i % 40 == 7;
        let lead = if owned {
            SeededLead {
                industry: "chem",
                region: "west",
                budget: 1_000,
                owned,
            }
        } else {
            SeededLead {
                industry: industries[rng.below(4) as usize],
                region: regions[rng.below(2) as usize],
                budget: rng.below(200_000_000) as i64,
                owned,
            }
        };
        let phones = if owned {
            vec![format!("+86 138 0000 {:04}", (i / 40) % 20)]
        } else {
            vec![format!("1390000{i:04}")]
        };
        // Spread over (start, now]; ids out of time order.
        let created = start + 1 + (i * 7919 % 2000) * (30 * DAY / 2000);
        insert_lead(
            &c,
            &format!("L{i:04}"),
            &phones,
            lead.industry,
            lead.region,
            lead.budget,
            "converted",
            created,
        );
        seeded.push(lead);
    }
    // Leads outside the window never count: older than 30 days, and after now.
    for i in 0..100 {
        insert_lead(
            &c,
            &format!("old-{i}"),
            &[],
            "food",
            "east",
            5,
            "lost",
            start - 1 - i * MIN,
        );
        insert_lead(
            &c,
            &format!("late-{i}"),
            &[],
            "food",
            "east",
            5,
            "new",
            now + 1 + i,
        );
    }

    let mut rules = vec![rule(10, "华东食品"), rule(20, "饮料"), rule(30, "大客户")];
    rules[0].industries = vec!["food".into()];
    rules[0].regions = vec!["east".into()];
    rules[0].required_tags = vec!["food".into()];
    rules[1].industries = vec!["drink".into()];
    rules[1].required_tags = vec!["drink".into()];
    rules[2].budget_min_cents = Some(100_000_000);
    rules[2].required_tags = vec!["key_account".into()];

    // A bad rule set is refused whole with typed problems; nothing saved.
    let mut bad = rules.clone();
    bad[1].position = 10;
    bad[2].name = " ".into();
    match save_routing_rules(&store, &bad, None, Some("boss"), now).unwrap_err() {
        SettingsError::Invalid(problems) => {
            let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
            assert_eq!(codes, ["routing_duplicate_position", "routing_rule_no_name"]);
            let zh = problems[0].message(Lang::Zh);
            assert!(zh.contains("10") && !zh.contains('{'), "{zh}");
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(pipeline_jobs::load_routing(&c).unwrap().version, 0);

    let v1 = save_routing_rules(&store, &rules, Some(0), Some("boss"), now).unwrap();
    assert_eq!(v1, 1);
    // A form opened before that save is refused.
    let e = save_routing_rules(&store, &rules, Some(0), Some("boss"), now).unwrap_err();
    assert_eq!(e.code(), "pipeline_version_conflict");

    // Going live before any dry run: refused.
    assert!(matches!(
        go_live(&store, Some("boss"), now),
        Err(GoLiveRefusal::NoDryRun)
    ));

    // Computed again here from the raw leads: no rule has a load limit, so a lead is matched
    // when its customer is owned or some rule's filters hold.
    let base = |l: &SeededLead| {
        l.owned
            || (l.industry == "food" && l.region == "east")
            || l.industry == "drink"
            || l.budget >= 100_000_000
    };
    let want: u32 = seeded.iter().filter(|l| base(l)).count() as u32;
    let run = dry_run_routing(&store, Some("boss"), now).unwrap();
    let r = &run.report;
    assert_eq!(r.leads, 2000);
    assert_eq!(r.matched, want);
    assert_eq!(r.by_owner, 50);
    assert!((r.share - f64::from(want) / 2000.0).abs() < 1e-12);
    assert_eq!(run.rules_version, 1);
    // Per rule: the first rule sees every lead it matches; the later ones those left to them.
    let food_east = seeded
        .iter()
        .filter(|l| !l.owned && l.industry == "food" && l.region == "east")
        .count() as u32;
    assert_eq!(r.per_rule[0].matched, food_east);
    assert_eq!(r.per_rule[0].assigned, food_east);
    let drink = seeded
        .iter()
        .filter(|l| !l.owned && l.industry == "drink")
        .count() as u32;
    assert_eq!(r.per_rule[1].assigned, drink);
    assert!(
        r.share < 0.91,
        "the seeded rules stay under the line: {}",
        r.share
    );

    // Stored: the latest run reads back the same report.
    let stored = pipeline_jobs::last_dry_run(&c).unwrap().unwrap();
    assert_eq!(stored.report, run.report);

    // Below the line: refused, in words with the share and the goal.
    let refusal = go_live(&store, Some("boss"), now).unwrap_err();
    assert_eq!(refusal.code(), "routing_below_threshold");
    let en = refusal.message(Lang::En);
    assert!(en.contains("91"), "{en}");
    assert!(!pipeline_jobs::load_routing(&c).unwrap().body.live);

    // The planted change: a rule for the chemical industry, for food-tagged reps. It moves the
    // share by exactly the chemical leads nothing else took.
    let mut more = rules.clone();
    let mut chem = rule(40, "化工");
    chem.industries = vec!["chem".into()];
    chem.required_tags = vec!["food".into()];
    more.push(chem);
    save_routing_rules(&store, &more, Some(1), Some("boss"), now).unwrap();
    // The rules changed since the last dry run: going live is refused until it runs again.
    assert!(matches!(
        go_live(&store, Some("boss"), now),
        Err(GoLiveRefusal::DryRunStale)
    ));
    let gained = seeded.iter().filter(|l| !base(l) && l.industry == "chem").count() as u32;
    assert!(gained > 100);
    let run2 = dry_run_routing(&store, Some("boss"), now).unwrap();
    assert_eq!(run2.report.matched, want + gained);
    assert_eq!(run2.report.per_rule[3].assigned, gained);
    // Left unmatched: retail, and food outside the east (all but the big budgets), no rule.
    assert!(run2.report.unmatched_top.iter().all(|g| {
        matches!(g.industry.as_deref(), Some("retail" | "food"))
            && g.reason == fieldproof_server::pipeline::routing::Unrouted::NoRule
    }));

    // A catch-all last passes the line; going live is allowed.
    let mut all = more.clone();
    all.push(rule(50, "其余"));
    save_routing_rules(&store, &all, None, Some("boss"), now).unwrap();
    let run3 = dry_run_routing(&store, Some("boss"), now).unwrap();
    assert_eq!(run3.report.matched, 2000);
    go_live(&store, Some("boss"), now).unwrap();
    assert!(pipeline_jobs::load_routing(&c).unwrap().body.live);

    // Live: the 100 'late' leads are new; route them now. Each gets a rep and its deadline.
    let routed_at = now + 10 * MIN;
    let summary = {
        let mut c2 = db(dir.path());
        let tx = c2.transaction().unwrap();
        let s = pipeline_jobs::route_new_leads(&tx, routed_at).unwrap();
        tx.commit().unwrap();
        s
    };
    assert_eq!(summary.assigned, 100);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM leads WHERE id LIKE 'late-%' AND state = 'assigned'"
        ),
        100
    );
    let deadline_ok = count(
        &c,
        &format!(
            "SELECT count(*) FROM leads WHERE id LIKE 'late-%' AND assigned_ms = {routed_at}
               AND deadline_ms = {} AND routed_by = '华东食品'",
            routed_at + 120 * MIN
        ),
    );
    assert_eq!(deadline_ok, 100);
    // Down the feed, each to its rep.
    assert_eq!(
        count(
            &c,
            "SELECT count(DISTINCT id) FROM changes WHERE kind = 'lead' AND id LIKE 'late-%' AND scope_user IS NOT NULL"
        ),
        100
    );
}

// ---------------------------------------------------------------------------------------------
// Acceptance 2: deadline and release with a test clock, two schedulers racing.

/// Both schedulers run the due jobs at `now`, at the same time, each on its own store (its own
/// connections: two replicas on one database). Returns how many runs each job had in all.
fn race(a: &Store, b: &Store, now: i64) -> BTreeMap<&'static str, u32> {
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| run_due_jobs(a, "replica-a", now).unwrap());
        let tb = s.spawn(|| run_due_jobs(b, "replica-b", now).unwrap());
        (ta.join().unwrap(), tb.join().unwrap())
    });
    let mut ran = BTreeMap::new();
    for r in ra.iter().chain(&rb) {
        if matches!(r.outcome, JobOutcome::Ran { .. }) {
            *ran.entry(r.job).or_insert(0) += 1;
        }
    }
    ran
}

#[test]
fn an_unclaimed_lead_alerts_at_2h_and_a_silent_customer_is_released_at_7_days_exactly_once_with_two_schedulers()
 {
    let (dir, a) = setup();
    let b = test_db::store(dir.path());
    let c = db(dir.path());
    // Routing is not live: the lead is assigned by hand as an import with a rep would.
    insert_lead(
        &c,
        "lead-1",
        &["13900001111".into()],
        "food",
        "east",
        5,
        "assigned",
        T0 - 5 * MIN,
    );
    c.execute(
        "UPDATE leads SET assigned_rep = 'rep-li', assigned_ms = ?1, deadline_ms = ?2 WHERE id = 'lead-1'",
        params![T0, T0 + 120 * MIN],
    )
    .unwrap();
    // A second lead claimed in time: never touched.
    insert_lead(&c, "lead-2", &[], "food", "east", 5, "claimed", T0);
    c.execute(
        "UPDATE leads SET assigned_rep = 'rep-li', assigned_ms = ?1, deadline_ms = ?2, claimed_ms = ?1,
            responded_in_time = 1 WHERE id = 'lead-2'",
        params![T0, T0 + 120 * MIN],
    )
    .unwrap();
    // A customer claimed at T0 with no interaction since: due at T0 + 7 days.
    insert_customer(
        &c,
        "cust-1",
        "13800002222",
        Some("rep-li"),
        "owned",
        "explore",
        T0,
        Some(T0),
        Some(T0 + 7 * DAY),
    );
    // One whose interaction keeps it: due later.
    insert_customer(
        &c,
        "cust-2",
        "13800003333",
        Some("rep-li"),
        "owned",
        "explore",
        T0,
        Some(T0),
        Some(T0 + 9 * DAY),
    );

    let lead_state = |id: &str| -> String {
        c.query_row("SELECT state FROM leads WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    let overdue_alerts = || {
        count(
            &c,
            "SELECT count(*) FROM exceptions WHERE code = 'lead_overdue' AND user_id = 'rep-li'",
        )
    };

    // The supervisors' alert rules: one for rep-li's team (sup-wang's), one for another team.
    // The overdue lead's alert must reach the first channel only.
    let now = T0 - DAY;
    for (id, name) in [(1, "王磊的企业微信"), (2, "刘洋的企业微信")] {
        c.execute(
            "INSERT INTO alert_channels (id, kind, name, webhook_url, lang, created_ms, updated_ms)
             VALUES (?1, 'wecom', ?2, 'http://127.0.0.1:9/hook', 'zh-CN', ?3, ?3)",
            params![id, name, now],
        )
        .unwrap();
    }
    let team = |sup: &str| -> String {
        c.query_row("SELECT code FROM teams WHERE supervisor_id = ?1", [sup], |r| {
            r.get(0)
        })
        .unwrap()
    };
    for (id, channel, sup) in [(1, 1, "sup-wang"), (2, 2, "sup-liu")] {
        c.execute(
            "INSERT INTO alert_rules (id, name, channel_id, codes, team, min_severity, created_ms, updated_ms)
             VALUES (?1, 'pipeline', ?2, 'lead_overdue,customer_stalled', ?3, 1, ?4, ?4)",
            params![id, channel, team(sup), now],
        )
        .unwrap();
    }

    // One minute before the deadline: nothing. Every job ran once, by one of the two.
    let ran = race(&a, &b, T0 + 119 * MIN);
    assert!(ran.values().all(|n| *n == 1), "{ran:?}");
    assert_eq!(ran.len(), 6, "{ran:?}");
    assert_eq!(lead_state("lead-1"), "assigned");
    assert_eq!(overdue_alerts(), 0);

    // The same minute again (a second tick): nothing runs twice.
    let ran = race(&a, &b, T0 + 119 * MIN + 30_000);
    assert!(ran.is_empty(), "{ran:?}");

    // At the deadline: back to the pool, not in time, one alert for the rep's supervisor.
    let ran = race(&a, &b, T0 + 120 * MIN);
    assert_eq!(ran.get("lead_deadline"), Some(&1));
    assert_eq!(lead_state("lead-1"), "pool");
    let (overdue, in_time): (Option<i64>, Option<i64>) = c
        .query_row(
            "SELECT overdue_ms, responded_in_time FROM leads WHERE id = 'lead-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((overdue, in_time), (Some(T0 + 120 * MIN), Some(0)));
    assert_eq!(overdue_alerts(), 1);
    assert_eq!(lead_state("lead-2"), "claimed");
    // Delivered through the alert channels: to the rep's supervisor's channel, once.
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM alert_deliveries d JOIN exceptions e ON e.id = d.exception_id
             WHERE e.code = 'lead_overdue' AND d.channel_id = 1"
        ),
        1
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM alert_deliveries WHERE channel_id = 2"),
        0
    );
    // The rep's phone hears it went to the pool, and so does the territory.
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM changes WHERE kind = 'lead' AND id = 'lead-1'"
        ),
        2
    );
    // The alert is a sentence in both languages naming the lead, no ids.
    let params: String = c
        .query_row(
            "SELECT params FROM exceptions WHERE code = 'lead_overdue'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let p: serde_json::Value = serde_json::from_str(&params).unwrap();
    let names = fieldproof_server::messages::NameTable::default();
    let zh = fieldproof_server::messages::render(Lang::Zh, "lead_overdue", Some(&p), &names);
    assert!(
        zh.sentence.contains("线索lead-1") && zh.sentence.contains("公海"),
        "{}",
        zh.sentence
    );

    // Minutes later: nothing more.
    for m in [121, 122, 180] {
        race(&a, &b, T0 + m * MIN);
    }
    assert_eq!(overdue_alerts(), 1);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM customer_events WHERE lead_id = 'lead-1' AND kind = 'deadline_pool'"
        ),
        1
    );

    // A minute before 7 days: the customer is still owned.
    race(&a, &b, T0 + 7 * DAY - MIN);
    let cust_state = |id: &str| -> (String, Option<String>) {
        c.query_row("SELECT state, owner_id FROM customers WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
    };
    assert_eq!(cust_state("cust-1"), ("owned".into(), Some("rep-li".into())));
    // At 7 days: released, once.
    let ran = race(&a, &b, T0 + 7 * DAY);
    assert_eq!(ran.get("customer_release"), Some(&1));
    assert_eq!(cust_state("cust-1"), ("pool".into(), None));
    assert_eq!(cust_state("cust-2"), ("owned".into(), Some("rep-li".into())));
    for m in 1..4 {
        race(&a, &b, T0 + 7 * DAY + m * MIN);
    }
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM customer_events WHERE customer_id = 'cust-1' AND kind = 'auto_release'"
        ),
        1
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM exceptions WHERE code = 'customer_released'"
        ),
        1
    );
    // The territory's copy says pool.
    let body: String = c
        .query_row(
            "SELECT body FROM changes WHERE kind = 'customer' AND id = 'cust-1' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(body.contains("\"pool\""), "{body}");
    // Every run of every minute ran exactly once in all.
    let dup = count(
        &c,
        "SELECT count(*) FROM (SELECT job, run_key FROM pipeline_jobs WHERE done_ms IS NULL) AS open_runs",
    );
    assert_eq!(dup, 0);
}

#[test]
fn a_stalled_customer_warns_once_per_stage_entry_and_repeated_follow_ups_escalate_once() {
    let (dir, store) = setup();
    let c = db(dir.path());
    insert_customer(
        &c,
        "cust-s",
        "13800004444",
        Some("rep-zhao"),
        "owned",
        "needs",
        T0,
        Some(T0),
        Some(T0 + 60 * DAY),
    );
    // Three follow-ups within 7 days, in the same stage.
    for (i, at) in [T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY].iter().enumerate() {
        c.execute(
            "INSERT INTO customer_follow_ups (id, customer_id, user_id, channel, outcome, at_ms, op_id)
             VALUES (?1, 'cust-s', 'rep-zhao', 'call', 'no_answer', ?2, ?1)",
            params![format!("f{i}"), at],
        )
        .unwrap();
    }
    run_due_jobs(&store, "one", T0 + 3 * DAY + MIN).unwrap();
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM exceptions WHERE code = 'pipeline_escalated'"
        ),
        1
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM exceptions WHERE code = 'customer_stalled'"
        ),
        0
    );
    // Past 5 days in the stage: one stall.
    for m in 0..3 {
        run_due_jobs(&store, "one", T0 + 5 * DAY + (m + 1) * MIN).unwrap();
    }
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM exceptions WHERE code = 'customer_stalled'"
        ),
        1
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM exceptions WHERE code = 'pipeline_escalated'"
        ),
        1
    );
    // A new stage entry: a new stall 5 days later, once.
    c.execute(
        "UPDATE customers SET stage = 'demo', stage_entered_ms = ?1 WHERE id = 'cust-s'",
        [T0 + 6 * DAY],
    )
    .unwrap();
    run_due_jobs(&store, "one", T0 + 10 * DAY).unwrap();
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM exceptions WHERE code = 'customer_stalled'"
        ),
        1
    );
    run_due_jobs(&store, "one", T0 + 11 * DAY + MIN).unwrap();
    run_due_jobs(&store, "one", T0 + 11 * DAY + 2 * MIN).unwrap();
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM exceptions WHERE code = 'customer_stalled'"
        ),
        2
    );
}

// ---------------------------------------------------------------------------------------------
// Acceptance 5: the nightly health score.

/// The formula written out here: per kind (purchase, trial, event) the count within `window`
/// days up to `today`, capped, weighted, 0–100, rounded to 0.01; graded by `lines`.
fn by_hand(
    acts: &[(usize, i64)],
    today: i64,
    weights: [f64; 3],
    caps: [f64; 3],
    window: i64,
    lines: (f64, f64),
) -> (f64, &'static str) {
    let mut x = [0.0f64; 3];
    for (kind, day) in acts {
        if *day <= today && today - day < window {
            x[*kind] += 1.0;
        }
    }
    let mut sum = 0.0;
    for i in 0..3 {
        sum += weights[i] * (x[i] / caps[i]).min(1.0);
    }
    let raw = 100.0 * sum / (weights[0] + weights[1] + weights[2]);
    let score = (raw * 100.0).round() / 100.0;
    let grade = if score >= lines.0 {
        "A"
    } else if score >= lines.1 {
        "B"
    } else {
        "C"
    };
    (score, grade)
}

#[test]
fn the_nightly_health_job_equals_the_formula_for_every_customer_and_weights_change_grades() {
    let (dir, store) = setup();
    let c = db(dir.path());
    let cal = store.calendar();
    let today = cal.day_of(T0);
    let kinds = ["purchase", "trial", "event"];
    let mut rng = Rng(5);
    let mut acts: Vec<Vec<(usize, i64)>> = Vec::new();
    for k in 0..300 {
        let id = format!("h-{k:03}");
        insert_customer(
            &c,
            &id,
            &format!("1370000{k:04}"),
            Some("rep-chen"),
            "owned",
            "explore",
            T0,
            Some(T0),
            Some(T0 + 100 * DAY),
        );
        let n = rng.below(10);
        let mut mine = Vec::new();
        for _ in 0..n {
            let kind = rng.below(3) as usize;
            // Some beyond the 90-day window, some after today (must not count).
            let day = today - 120 + rng.below(125) as i64;
            c.execute(
                "INSERT INTO customer_activities (customer_id, kind, day, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![id, kinds[kind], day, T0],
            )
            .unwrap();
            mine.push((kind, day));
        }
        acts.push(mine);
    }
    // A duplicate is not scored.
    insert_customer(
        &c,
        "dup-1",
        "13600000000",
        None,
        "duplicate",
        "explore",
        T0,
        None,
        None,
    );

    let check = |day: i64, weights: [f64; 3], caps: [f64; 3]| -> BTreeMap<&'static str, u32> {
        let mut grades = BTreeMap::new();
        for (k, mine) in acts.iter().enumerate() {
            let id = format!("h-{k:03}");
            let (want_score, want_grade) = by_hand(mine, day, weights, caps, 90, (70.0, 40.0));
            let (score, grade): (f64, String) = c
                .query_row(
                    "SELECT score, grade FROM customer_health WHERE customer_id = ?1 AND day = ?2",
                    params![id, day],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert!((score - want_score).abs() < 1e-9, "{id}: {score} vs {want_score}");
            assert_eq!(grade, want_grade, "{id}");
            let (cg, cs): (String, f64) = c
                .query_row(
                    "SELECT health_grade, health_score FROM customers WHERE id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!((cg.as_str(), cs), (want_grade, want_score), "{id}");
            *grades.entry(want_grade).or_insert(0) += 1;
        }
        grades
    };

    let s = run_health(&store, T0).unwrap();
    assert_eq!(s.customers, 300);
    let before = check(today, [0.4, 0.3, 0.3], [3.0, 1.0, 1.0]);
    assert!(before.len() == 3, "all three grades occur: {before:?}");
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM customer_health WHERE customer_id = 'dup-1'"
        ),
        0
    );
    // Graded customers go down the feed.
    assert!(
        count(
            &c,
            "SELECT count(*) FROM changes WHERE kind = 'customer' AND body LIKE '%health_grade%'"
        ) >= 300
    );

    // Weights changed in configuration: purchases count most now.
    let mut model = HealthModel::default();
    model.components[0].weight = 0.8;
    model.components[1].weight = 0.1;
    model.components[2].weight = 0.1;
    save_health(&store, &model, Some(0), Some("boss"), T0).unwrap();
    // A bad model is refused with typed problems.
    let mut bad = model.clone();
    bad.components[1].weight = 0.0;
    bad.grade_b = 90.0;
    let e = save_health(&store, &bad, None, Some("boss"), T0).unwrap_err();
    let SettingsError::Invalid(problems) = &e else {
        panic!("{e:?}")
    };
    let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["health_weight_not_positive", "health_grade_lines"]);
    assert_eq!(pipeline_jobs::load_health(&c).unwrap().version, 1);

    // The next night's run uses the new weights.
    run_due_jobs(&store, "one", T0 + DAY).unwrap();
    let after = check(today + 1, [0.8, 0.1, 0.1], [3.0, 1.0, 1.0]);
    let changed = acts
        .iter()
        .filter(|m| {
            by_hand(m, today + 1, [0.4, 0.3, 0.3], [3.0, 1.0, 1.0], 90, (70.0, 40.0)).1
                != by_hand(m, today + 1, [0.8, 0.1, 0.1], [3.0, 1.0, 1.0], 90, (70.0, 40.0)).1
        })
        .count();
    assert!(
        changed > 10,
        "the new weights change grades: {before:?} → {after:?}"
    );
}

#[test]
fn a_component_at_zero_for_14_days_warns_once() {
    let (dir, store) = setup();
    let c = db(dir.path());
    let today = store.calendar().day_of(T0);
    insert_customer(
        &c,
        "z-1",
        "13500000001",
        Some("rep-li"),
        "owned",
        "explore",
        T0,
        Some(T0),
        Some(T0 + 100 * DAY),
    );
    // Purchases and trials every few days; never an event.
    for d in 0..40 {
        for kind in ["purchase", "trial"] {
            c.execute(
                "INSERT INTO customer_activities (customer_id, kind, day, created_ms) VALUES ('z-1', ?1, ?2, ?3)",
                params![kind, today - 100 + d * 3, T0],
            )
            .unwrap();
        }
    }
    let warnings = || count(&c, "SELECT count(*) FROM exceptions WHERE code = 'health_zero'");
    for d in 0..13 {
        run_health(&store, T0 + d * DAY).unwrap();
    }
    assert_eq!(warnings(), 0, "13 days at zero");
    run_health(&store, T0 + 13 * DAY).unwrap();
    assert_eq!(warnings(), 1, "the 14th day");
    for d in 14..20 {
        run_health(&store, T0 + d * DAY).unwrap();
    }
    assert_eq!(warnings(), 1, "once per run of zeros");
    let p: String = c
        .query_row(
            "SELECT params FROM exceptions WHERE code = 'health_zero'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let p: serde_json::Value = serde_json::from_str(&p).unwrap();
    let names = fieldproof_server::messages::NameTable::default();
    let en = fieldproof_server::messages::render(Lang::En, "health_zero", Some(&p), &names);
    assert!(
        en.sentence.contains("Event participation") && en.sentence.contains("14 days"),
        "{}",
        en.sentence
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM customer_health WHERE customer_id = 'z-1' AND warning = 1"
        ),
        7
    );
}

/// The nightly job writes in transactions of 5,000 customers: past one part, every customer
/// still gets its row and its grade, once, and the run is marked done with the last part.
#[test]
fn the_health_job_writes_every_customer_across_its_parts() {
    let (dir, a) = setup();
    let b = test_db::store(dir.path());
    let mut c = db(dir.path());
    {
        let tx = c.transaction().unwrap();
        for k in 0..5_003 {
            tx.execute(
                "INSERT INTO customers (id, name, owner_id, state, stage, stage_entered_ms, created_by, created_ms, updated_ms)
                 VALUES (?1, '客户', 'rep-li', 'owned', 'explore', ?2, 'rep-li', ?2, ?2)",
                params![format!("p-{k:05}"), T0],
            )
            .unwrap();
        }
        tx.execute(
            "INSERT INTO customer_activities (customer_id, kind, day, created_ms) VALUES ('p-05002', 'event', ?1, ?2)",
            params![a.calendar().day_of(T0), T0],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let ran = race(&a, &b, T0 + 30 * 60_000);
    assert_eq!(ran.get("health"), Some(&1), "{ran:?}");
    let day = a.calendar().day_of(T0);
    assert_eq!(
        count(
            &c,
            &format!("SELECT count(*) FROM customer_health WHERE day = {day}")
        ),
        5_003
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM customers WHERE health_grade = 'C'"),
        5_003
    );
    // Events weigh 0.3 of 1.0 (full marks at 1): 30 points.
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM customers WHERE id = 'p-05002' AND health_score = 30"
        ),
        1
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM pipeline_jobs WHERE job = 'health' AND done_ms IS NOT NULL"
        ),
        1
    );
}
