//! Lead routing rules and their dry run (issue 15, acceptance 1), through the pure API of
//! `pipeline::routing`: one test per filter and per tie-break, capacity fall-through, inactive
//! reps, 一客一主, and a dry run over 30 seeded days of 2,000 leads whose matched share is
//! computed again here from the raw leads, with a planted rule change that moves it by exactly
//! the leads only that rule took.

// A test: a failed expectation is the failure to report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldproof_server::pipeline::routing::{
    DryRunReport, LeadClose, LeadFacts, RepProfile, RouteDecision, Router, Rule, RuleProblem, Unrouted,
    dry_run, passes_threshold, validate_rules,
};

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

fn rep(id: &str) -> RepProfile {
    RepProfile {
        id: id.to_string(),
        team: None,
        tags: vec![],
        load: 0,
        last_assigned_ms: None,
        active: true,
    }
}

fn lead(id: &str) -> LeadFacts {
    LeadFacts {
        id: id.to_string(),
        industry: None,
        budget_cents: None,
        region: None,
        source: None,
        created_ms: 1_000,
        existing_owner: None,
        customer_in_pool: false,
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn to_rep(rep: &str, position: u32) -> RouteDecision {
    RouteDecision::Rep {
        rep: rep.to_string(),
        position,
    }
}

fn pool(reason: Unrouted) -> RouteDecision {
    RouteDecision::Pool { reason }
}

/// Routes one lead through a fresh router.
fn route_one(rules: &[Rule], reps: &[RepProfile], l: &LeadFacts) -> RouteDecision {
    Router::new(rules, reps).route(l, l.created_ms)
}

// ---------------------------------------------------------------------------------------------
// Filters.

#[test]
fn industry_in_matches_and_out_does_not() {
    let mut r = rule(1, "医疗");
    r.industries = strs(&["医疗", "教育"]);
    let reps = [rep("li")];
    let mut l = lead("l1");
    l.industry = Some("医疗".into());
    assert_eq!(route_one(&[r.clone()], &reps, &l), to_rep("li", 1));
    l.industry = Some("制造".into());
    assert_eq!(route_one(&[r.clone()], &reps, &l), pool(Unrouted::NoRule));
    l.industry = None;
    assert_eq!(route_one(&[r.clone()], &reps, &l), pool(Unrouted::NoRule));
    // An empty list accepts any industry, and none.
    r.industries.clear();
    assert_eq!(route_one(&[r], &reps, &l), to_rep("li", 1));
}

#[test]
fn budget_minimum_is_inclusive() {
    let mut r = rule(1, "mid");
    r.budget_min_cents = Some(100_000);
    r.budget_max_cents = Some(500_000);
    let reps = [rep("li")];
    let mut l = lead("l1");
    l.budget_cents = Some(100_000);
    assert_eq!(route_one(&[r.clone()], &reps, &l), to_rep("li", 1));
    l.budget_cents = Some(99_999);
    assert_eq!(route_one(&[r], &reps, &l), pool(Unrouted::NoRule));
}

#[test]
fn budget_maximum_is_exclusive() {
    let mut r = rule(1, "mid");
    r.budget_min_cents = Some(100_000);
    r.budget_max_cents = Some(500_000);
    let reps = [rep("li")];
    let mut l = lead("l1");
    l.budget_cents = Some(499_999);
    assert_eq!(route_one(&[r.clone()], &reps, &l), to_rep("li", 1));
    l.budget_cents = Some(500_000);
    assert_eq!(route_one(&[r], &reps, &l), pool(Unrouted::NoRule));
}

#[test]
fn an_absent_budget_never_matches_a_bounded_rule() {
    let reps = [rep("li")];
    let l = lead("l1");
    let mut only_min = rule(1, "from 0");
    only_min.budget_min_cents = Some(0);
    assert_eq!(route_one(&[only_min], &reps, &l), pool(Unrouted::NoRule));
    let mut only_max = rule(1, "below 1m");
    only_max.budget_max_cents = Some(100_000_000);
    assert_eq!(route_one(&[only_max], &reps, &l), pool(Unrouted::NoRule));
    // An unbounded rule takes it.
    assert_eq!(route_one(&[rule(1, "any")], &reps, &l), to_rep("li", 1));
}

#[test]
fn region_filter() {
    let mut r = rule(1, "east");
    r.regions = strs(&["SH", "JS"]);
    let reps = [rep("li")];
    let mut l = lead("l1");
    l.region = Some("JS".into());
    assert_eq!(route_one(&[r.clone()], &reps, &l), to_rep("li", 1));
    l.region = Some("BJ".into());
    assert_eq!(route_one(&[r.clone()], &reps, &l), pool(Unrouted::NoRule));
    l.region = None;
    assert_eq!(route_one(&[r], &reps, &l), pool(Unrouted::NoRule));
}

#[test]
fn source_filter() {
    let mut r = rule(1, "trade fair");
    r.sources = strs(&["展会"]);
    let reps = [rep("li")];
    let mut l = lead("l1");
    l.source = Some("展会".into());
    assert_eq!(route_one(&[r.clone()], &reps, &l), to_rep("li", 1));
    l.source = Some("官网".into());
    assert_eq!(route_one(&[r], &reps, &l), pool(Unrouted::NoRule));
}

#[test]
fn team_filter_takes_only_that_teams_reps() {
    let mut r = rule(1, "east team");
    r.team = Some("east".into());
    let mut west = rep("a-west");
    west.team = Some("west".into());
    let mut east = rep("z-east");
    east.team = Some("east".into());
    east.load = 5; // busier, and later by id: chosen anyway, the only one of the team
    let l = lead("l1");
    assert_eq!(
        route_one(&[r.clone()], &[west.clone(), east], &l),
        to_rep("z-east", 1)
    );
    // The lead matched, but the rule has nobody: no capacity, not "no rule".
    assert_eq!(
        route_one(&[r], &[west, rep("no-team")], &l),
        pool(Unrouted::NoCapacity)
    );
}

#[test]
fn every_required_tag_must_be_held() {
    let mut r = rule(1, "medical devices");
    r.required_tags = strs(&["medical", "devices"]);
    let mut one = rep("a-one-tag");
    one.tags = strs(&["medical"]);
    let mut both = rep("b-both");
    both.tags = strs(&["devices", "extra", "medical"]);
    both.load = 9;
    let l = lead("l1");
    assert_eq!(
        route_one(&[r.clone()], &[one.clone(), both], &l),
        to_rep("b-both", 1)
    );
    assert_eq!(route_one(&[r], &[one], &l), pool(Unrouted::NoCapacity));
}

#[test]
fn a_disabled_rule_is_skipped() {
    let mut off = rule(1, "off");
    off.enabled = false;
    let mut next = rule(2, "next");
    next.industries = strs(&["医疗"]);
    let reps = [rep("li")];
    let mut l = lead("l1");
    l.industry = Some("医疗".into());
    assert_eq!(route_one(&[off.clone(), next], &reps, &l), to_rep("li", 2));
    assert_eq!(route_one(&[off.clone()], &reps, &l), pool(Unrouted::NoRule));
    // The dry run lists it with zeros.
    let report = dry_run(&[off], &reps, &[l], &[]);
    assert_eq!(report.per_rule.len(), 1);
    assert_eq!(
        (
            report.per_rule[0].matched,
            report.per_rule[0].assigned,
            report.per_rule[0].no_capacity
        ),
        (0, 0, 0)
    );
}

#[test]
fn rules_run_by_position_and_the_first_match_wins() {
    // Given out of order: position 1 is evaluated first although it is last in the list.
    let mut broad = rule(5, "broad");
    broad.required_tags = strs(&["b"]);
    let mut narrow = rule(1, "narrow");
    narrow.industries = strs(&["医疗"]);
    narrow.required_tags = strs(&["n"]);
    let mut rn = rep("rn");
    rn.tags = strs(&["n"]);
    let mut rb = rep("rb");
    rb.tags = strs(&["b"]);
    let rules = [broad, narrow];
    let reps = [rb, rn];
    let mut l = lead("l1");
    l.industry = Some("医疗".into());
    assert_eq!(route_one(&rules, &reps, &l), to_rep("rn", 1));
    l.industry = Some("教育".into());
    assert_eq!(route_one(&rules, &reps, &l), to_rep("rb", 5));
}

// ---------------------------------------------------------------------------------------------
// Tie-breaks.

#[test]
fn tie_break_lowest_load_first() {
    let mut a = rep("a");
    a.load = 3;
    a.last_assigned_ms = Some(1); // assigned longest ago, but busier
    let mut b = rep("b");
    b.load = 2;
    b.last_assigned_ms = Some(900);
    assert_eq!(route_one(&[rule(1, "all")], &[a, b], &lead("l1")), to_rep("b", 1));
}

#[test]
fn tie_break_least_recently_assigned_then_never_assigned_first() {
    let mut a = rep("a");
    a.last_assigned_ms = Some(500);
    let mut b = rep("b");
    b.last_assigned_ms = Some(100);
    assert_eq!(
        route_one(&[rule(1, "all")], &[a.clone(), b.clone()], &lead("l1")),
        to_rep("b", 1)
    );
    let never = rep("z-never");
    assert_eq!(
        route_one(&[rule(1, "all")], &[a, b, never], &lead("l1")),
        to_rep("z-never", 1)
    );
}

#[test]
fn tie_break_rep_id_last() {
    let reps = [rep("wang"), rep("li"), rep("zhao")];
    assert_eq!(route_one(&[rule(1, "all")], &reps, &lead("l1")), to_rep("li", 1));
}

#[test]
fn routing_updates_loads_and_last_assignment_as_it_goes() {
    let mut router = Router::new(&[rule(1, "all")], &[rep("a"), rep("b")]);
    let got: Vec<_> = (0..4)
        .map(|i| router.route(&lead(&format!("l{i}")), 1_000 + i))
        .map(|d| d.rep().unwrap().to_string())
        .collect();
    // a (id), b (load 0), a (loads equal, a assigned earlier), b.
    assert_eq!(got, ["a", "b", "a", "b"]);
    assert_eq!(router.load("a"), Some(2));
    assert_eq!(router.last_assigned_ms("b"), Some(1_003));
    router.lead_closed("a");
    assert_eq!(router.load("a"), Some(1));
    assert_eq!(router.route(&lead("l5"), 2_000), to_rep("a", 1));
}

// ---------------------------------------------------------------------------------------------
// Capacity, inactive reps, owners, no rules.

#[test]
fn a_rule_at_max_load_falls_through_to_the_next() {
    let mut first = rule(1, "first");
    first.max_load = Some(2);
    first.required_tags = strs(&["x"]);
    let mut second = rule(2, "second");
    second.max_load = Some(2);
    let mut a = rep("a");
    a.tags = strs(&["x"]);
    a.load = 1;
    let mut b = rep("b");
    b.load = 1;
    let mut router = Router::new(&[first, second], &[a, b]);
    assert_eq!(router.route(&lead("l1"), 1), to_rep("a", 1)); // a: 2 (full for rule 1)
    assert_eq!(router.route(&lead("l2"), 2), to_rep("b", 2)); // falls through; b: 2
    assert_eq!(router.route(&lead("l3"), 3), pool(Unrouted::NoCapacity));
    assert_eq!(router.load("a"), Some(2));
    assert_eq!(router.load("b"), Some(2));
}

#[test]
fn inactive_reps_get_nothing() {
    let mut idle = rep("a-idle");
    idle.active = false;
    let busy = {
        let mut r = rep("b-busy");
        r.load = 40;
        r
    };
    assert_eq!(
        route_one(&[rule(1, "all")], &[idle.clone(), busy], &lead("l1")),
        to_rep("b-busy", 1)
    );
    assert_eq!(
        route_one(&[rule(1, "all")], &[idle], &lead("l1")),
        pool(Unrouted::NoCapacity)
    );
}

#[test]
fn the_customers_owner_comes_first() {
    // A rule would send the lead elsewhere, and the owner is at the rule's max load: the owner
    // gets it anyway (一客一主), and their load counts it.
    let mut r = rule(1, "all");
    r.max_load = Some(1);
    let mut owner = rep("owner");
    owner.load = 7;
    let mut router = Router::new(&[r], &[rep("free"), owner]);
    let mut l = lead("l1");
    l.existing_owner = Some("owner".into());
    assert_eq!(router.route(&l, 5), RouteDecision::Owner { rep: "owner".into() });
    assert_eq!(router.load("owner"), Some(8));
    // Even with no rules at all; an owner not among the profiles still gets the lead.
    l.existing_owner = Some("elsewhere".into());
    assert_eq!(
        route_one(&[], &[], &l),
        RouteDecision::Owner {
            rep: "elsewhere".into()
        }
    );
    // A customer in the pool keeps its lead in the pool.
    let mut in_pool = lead("l2");
    in_pool.customer_in_pool = true;
    assert_eq!(
        route_one(&[rule(1, "all")], &[rep("free")], &in_pool),
        pool(Unrouted::CustomerInPool)
    );
}

#[test]
fn an_inactive_owner_leaves_the_lead_to_the_rules() {
    let mut gone = rep("gone");
    gone.active = false;
    let mut l = lead("l1");
    l.existing_owner = Some("gone".into());
    assert_eq!(
        route_one(&[rule(1, "all")], &[gone, rep("li")], &l),
        to_rep("li", 1)
    );
}

#[test]
fn no_rules_send_every_lead_to_the_pool() {
    let report = dry_run(&[], &[rep("li")], &[lead("l1"), lead("l2")], &[]);
    assert_eq!((report.leads, report.matched, report.share), (2, 0, 0.0));
    assert_eq!(report.unmatched_top.len(), 1);
    assert_eq!(
        (report.unmatched_top[0].reason, report.unmatched_top[0].leads),
        (Unrouted::NoRule, 2)
    );
    assert_eq!(route_one(&[], &[rep("li")], &lead("l3")), pool(Unrouted::NoRule));
}

#[test]
fn rule_sets_with_problems_are_refused_with_each_problem() {
    let mut dup = rule(1, "b");
    dup.budget_min_cents = Some(500);
    dup.budget_max_cents = Some(500);
    let mut neg = rule(2, " ");
    neg.budget_min_cents = Some(-1);
    neg.max_load = Some(0);
    let problems = validate_rules(&[rule(1, "a"), dup, neg]).unwrap_err();
    assert_eq!(
        problems,
        [
            RuleProblem::DuplicatePosition { position: 1 },
            RuleProblem::EmptyBudget {
                position: 1,
                min: 500,
                max: 500
            },
            RuleProblem::NoName { position: 2 },
            RuleProblem::NegativeBudget { position: 2 },
            RuleProblem::ZeroMaxLoad { position: 2 },
        ]
    );
    assert_eq!(problems[0].code(), "routing_duplicate_position");
    assert_eq!(validate_rules(&[rule(1, "a"), rule(2, "b")]), Ok(()));
}

#[test]
fn rules_and_reports_are_stored_as_json() {
    let mut r = rule(3, "医疗");
    r.industries = strs(&["医疗"]);
    r.budget_min_cents = Some(5_000_000);
    let json = serde_json::to_string(&[r.clone()]).unwrap();
    let back: Vec<Rule> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, [r.clone()]);
    // Fields left out take their defaults (a hand-written rule needs only position and name).
    let minimal: Rule = serde_json::from_str(r#"{"position": 1, "name": "all"}"#).unwrap();
    assert_eq!(minimal, rule(1, "all"));
    let report = dry_run(&[r], &[rep("li")], &[lead("l1")], &[]);
    let back: DryRunReport = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    assert_eq!(back, report);
    let decision = serde_json::to_value(to_rep("li", 3)).unwrap();
    assert_eq!(
        decision,
        serde_json::json!({"to": "rep", "rep": "li", "position": 3})
    );
}

#[test]
fn the_dry_run_applies_real_closes_at_their_time() {
    let mut r = rule(1, "one each");
    r.max_load = Some(1);
    let mut l1 = lead("l1");
    l1.created_ms = 100;
    let mut l2 = lead("l2");
    l2.created_ms = 300;
    // Given out of creation order: the dry run replays by creation time.
    let leads = [l2, l1];
    let without = dry_run(&[r.clone()], &[rep("li")], &leads, &[]);
    assert_eq!((without.matched, without.per_rule[0].no_capacity), (1, 1));
    let close = LeadClose {
        rep: "li".into(),
        at_ms: 200,
    };
    let with = dry_run(&[r.clone()], &[rep("li")], &leads, std::slice::from_ref(&close));
    assert_eq!((with.matched, with.per_rule[0].no_capacity), (2, 0));
    // A close after the second lead comes too late.
    let late = LeadClose { at_ms: 301, ..close };
    assert_eq!(dry_run(&[r], &[rep("li")], &leads, &[late]).matched, 1);
}

// ---------------------------------------------------------------------------------------------
// 30 seeded days of 2,000 leads.

#[path = "support/seeded.rs"]
mod seeded;
use seeded::Rng;

/// Draws of this file on the shared seeded generator.
impl Rng {
    /// One of `items`, with the given weights.
    fn pick<'a>(&mut self, items: &[(&'a str, u64)]) -> &'a str {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut at = self.below(total);
        for (item, w) in items {
            if at < *w {
                return item;
            }
            at -= w;
        }
        items[0].0
    }
}

const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_790_000_000_000;

fn seeded_reps() -> Vec<RepProfile> {
    (0..60)
        .map(|i| {
            let mut tags = Vec::new();
            for (tag, every) in [
                ("key_account", 5),
                ("medical", 3),
                ("industrial", 4),
                ("retail", 2),
            ] {
                if i % every == 0 {
                    tags.push(tag.to_string());
                }
            }
            RepProfile {
                id: format!("rep-{i:03}"),
                team: Some(["east", "north", "finance"][i % 3].to_string()),
                tags,
                load: (i % 7) as u32,
                last_assigned_ms: (i % 4 != 0).then_some(START_MS - (i as i64) * 60_000),
                active: i % 17 != 5,
            }
        })
        .collect()
}

fn seeded_rules() -> Vec<Rule> {
    let r = |position: u32, name: &str, f: &dyn Fn(&mut Rule)| {
        let mut x = rule(position, name);
        f(&mut x);
        x
    };
    vec![
        r(1, "大客户", &|x| {
            x.budget_min_cents = Some(100_000_000);
            x.required_tags = strs(&["key_account"]);
        }),
        r(2, "华东医疗", &|x| {
            x.industries = strs(&["医疗"]);
            x.regions = strs(&["east"]);
            x.required_tags = strs(&["medical"]);
        }),
        r(3, "医疗与教育", &|x| {
            x.industries = strs(&["医疗", "教育"]);
            x.budget_min_cents = Some(1_000_000);
            x.budget_max_cents = Some(100_000_000);
        }),
        r(4, "北区制造", &|x| {
            x.industries = strs(&["制造"]);
            x.regions = strs(&["north", "east"]);
            x.required_tags = strs(&["industrial"]);
        }),
        r(5, "零售餐饮", &|x| {
            x.industries = strs(&["零售", "餐饮"]);
            x.sources = strs(&["展会", "官网", "电话", "转介绍"]);
            x.required_tags = strs(&["retail"]);
        }),
        r(6, "金融", &|x| {
            x.industries = strs(&["金融"]);
            x.team = Some("finance".into());
        }),
        r(7, "物流制造", &|x| {
            x.industries = strs(&["物流", "制造"]);
            x.budget_min_cents = Some(500_000);
        }),
        r(8, "兜底（停用）", &|x| {
            x.enabled = false;
        }),
        r(9, "南区转介绍", &|x| {
            x.sources = strs(&["转介绍"]);
            x.regions = strs(&["south"]);
        }),
        r(10, "教育零预算", &|x| {
            x.industries = strs(&["教育"]);
        }),
    ]
}

fn seeded_leads(reps: &[RepProfile]) -> Vec<LeadFacts> {
    let mut rng = Rng(15);
    let mut times: Vec<i64> = (0..2_000)
        .map(|_| START_MS + rng.below(30 * DAY_MS as u64) as i64)
        .collect();
    times.sort();
    times
        .into_iter()
        .enumerate()
        .map(|(i, created_ms)| {
            let industry = rng.pick(&[
                ("医疗", 22),
                ("教育", 12),
                ("制造", 18),
                ("零售", 12),
                ("餐饮", 8),
                ("金融", 8),
                ("物流", 10),
                ("农业", 1),
                ("", 1),
            ]);
            let budget_cents = match rng.below(100) {
                0..=5 => None,
                6..=10 => Some(100_000_000 + rng.below(400_000_000) as i64),
                _ => Some(rng.below(100_000_000) as i64),
            };
            let owned = rng.below(100);
            LeadFacts {
                id: format!("lead-{i:04}"),
                industry: (!industry.is_empty()).then(|| industry.to_string()),
                budget_cents,
                region: Some(
                    rng.pick(&[("east", 40), ("north", 25), ("south", 20), ("west", 15)])
                        .to_string(),
                ),
                source: Some(
                    rng.pick(&[("展会", 30), ("官网", 35), ("转介绍", 20), ("电话", 15)])
                        .to_string(),
                ),
                created_ms,
                existing_owner: (owned < 8).then(|| reps[(owned as usize * 7) % reps.len()].id.clone()),
                customer_in_pool: (8..10).contains(&owned),
            }
        })
        .collect()
}

/// Written here from the rule's fields, not through the router.
fn filters_hold(r: &Rule, l: &LeadFacts) -> bool {
    let in_list =
        |list: &[String], v: &Option<String>| list.is_empty() || v.as_ref().is_some_and(|v| list.contains(v));
    let budget = match l.budget_cents {
        None => r.budget_min_cents.is_none() && r.budget_max_cents.is_none(),
        Some(b) => r.budget_min_cents.is_none_or(|m| b >= m) && r.budget_max_cents.is_none_or(|m| b < m),
    };
    r.enabled
        && budget
        && in_list(&r.industries, &l.industry)
        && in_list(&r.regions, &l.region)
        && in_list(&r.sources, &l.source)
}

fn has_qualified_rep(r: &Rule, reps: &[RepProfile]) -> bool {
    reps.iter().any(|p| {
        p.active
            && r.team.as_ref().is_none_or(|t| p.team.as_ref() == Some(t))
            && r.required_tags.iter().all(|t| p.tags.contains(t))
    })
}

/// Where each lead goes with unlimited loads: `Some(Some(position))` by a rule, `Some(None)` to
/// its owner, `None` to the pool.
fn expected_places(rules: &[Rule], reps: &[RepProfile], leads: &[LeadFacts]) -> Vec<Option<Option<u32>>> {
    let mut by_position: Vec<&Rule> = rules.iter().collect();
    by_position.sort_by_key(|r| r.position);
    leads
        .iter()
        .map(|l| {
            let owner_active = l
                .existing_owner
                .as_ref()
                .is_some_and(|o| reps.iter().any(|p| &p.id == o && p.active));
            if owner_active {
                return Some(None);
            }
            if l.existing_owner.is_none() && l.customer_in_pool {
                return None;
            }
            by_position
                .iter()
                .find(|r| filters_hold(r, l) && has_qualified_rep(r, reps))
                .map(|r| Some(r.position))
        })
        .collect()
}

#[test]
fn thirty_days_of_leads_match_the_share_computed_from_the_raw_leads() {
    let reps = seeded_reps();
    let rules = seeded_rules();
    let leads = seeded_leads(&reps);
    assert_eq!(leads.len(), 2_000);
    // Real closes through the window; no rule here has a max load, so they change no place.
    let closes: Vec<LeadClose> = (0..300)
        .map(|i| LeadClose {
            rep: reps[i % reps.len()].id.clone(),
            at_ms: START_MS + (i as i64) * DAY_MS / 10,
        })
        .collect();

    let expected = expected_places(&rules, &reps, &leads);
    let expected_matched = expected.iter().filter(|p| p.is_some()).count() as u32;
    let expected_owner = expected.iter().filter(|p| **p == Some(None)).count() as u32;
    let report = dry_run(&rules, &reps, &leads, &closes);
    assert_eq!(report.leads, 2_000);
    assert_eq!(report.matched, expected_matched, "{report:#?}");
    assert_eq!(report.by_owner, expected_owner);
    assert_eq!(report.share, f64::from(expected_matched) / 2_000.0);
    for s in &report.per_rule {
        let took = expected.iter().filter(|p| **p == Some(Some(s.position))).count() as u32;
        assert_eq!(s.assigned, took, "rule {} {}", s.position, s.name);
        assert_eq!(s.matched, s.assigned + s.no_capacity);
    }
    let assigned: u32 = report.per_rule.iter().map(|s| s.assigned).sum();
    assert_eq!(assigned + report.by_owner, report.matched);
    let pooled: u32 = report.unmatched_top.iter().map(|g| g.leads).sum();
    assert!(pooled <= 2_000 - report.matched);
    assert!(report.unmatched_top.windows(2).all(|w| w[0].leads >= w[1].leads));
    // The seeded window clears the issue's line for going live.
    assert!(
        report.share >= 0.91,
        "share {} {:?}",
        report.share,
        report.unmatched_top
    );
    assert!(passes_threshold(&report, 0.91));

    // The planted change: rule 3 stops taking 医疗. The share drops by exactly the 医疗 leads
    // rule 3 took that no later rule accepts (they now go to the pool).
    let only_rule_3: u32 = leads
        .iter()
        .zip(&expected)
        .filter(|(l, place)| {
            **place == Some(Some(3))
                && l.industry.as_deref() == Some("医疗")
                && !rules
                    .iter()
                    .any(|r| r.position > 3 && filters_hold(r, l) && has_qualified_rep(r, &reps))
        })
        .count() as u32;
    assert!(only_rule_3 > 0);
    let mut changed = rules.clone();
    changed[2].industries.retain(|i| i != "医疗");
    let after = dry_run(&changed, &reps, &leads, &closes);
    assert_eq!(report.matched - after.matched, only_rule_3);
    assert_eq!(
        after.matched,
        expected_places(&changed, &reps, &leads)
            .iter()
            .filter(|p| p.is_some())
            .count() as u32
    );
    println!(
        "matched {} of 2,000 ({:.1} %); without 医疗 in rule 3: {} ({:.1} %), {only_rule_3} fewer",
        report.matched,
        report.share * 100.0,
        after.matched,
        after.share * 100.0
    );
    assert!(!passes_threshold(&after, 0.91), "share after {}", after.share);
    let medical_no_rule = after
        .unmatched_top
        .iter()
        .find(|g| g.reason == Unrouted::NoRule && g.industry.as_deref() == Some("医疗"))
        .map_or(0, |g| g.leads);
    assert!(medical_no_rule >= only_rule_3, "{:?}", after.unmatched_top);
}

#[test]
fn thirty_days_with_loads_capped_keep_the_reports_accounts() {
    // With max loads the places depend on the order of arrival; the report's own accounts must
    // still add up, and capacity shows as fall-through and as pool leads with no capacity.
    let reps = seeded_reps();
    let mut rules = seeded_rules();
    for r in &mut rules {
        r.max_load = Some(12);
    }
    let leads = seeded_leads(&reps);
    let report = dry_run(&rules, &reps, &leads, &[]);
    let assigned: u32 = report.per_rule.iter().map(|s| s.assigned).sum();
    assert_eq!(assigned + report.by_owner, report.matched);
    assert!(
        report
            .per_rule
            .iter()
            .all(|s| s.matched == s.assigned + s.no_capacity)
    );
    assert!(report.per_rule.iter().any(|s| s.no_capacity > 0), "{report:#?}");
    assert!(
        report
            .unmatched_top
            .iter()
            .any(|g| g.reason == Unrouted::NoCapacity)
    );
    let free = dry_run(&seeded_rules(), &reps, &leads, &[]);
    assert!(report.matched < free.matched);
    // Routing the same leads one by one through a router gives the same places.
    let mut router = Router::new(&rules, &reps);
    let one_by_one = leads
        .iter()
        .filter(|l| router.route(l, l.created_ms).rep().is_some())
        .count() as u32;
    assert_eq!(one_by_one, report.matched);
}
