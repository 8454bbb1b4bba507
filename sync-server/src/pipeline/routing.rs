//! Lead routing (线索分配): which rep a new lead goes to, and the dry run that says how many of
//! the last days' leads a set of rules would have placed.
//!
//! # Semantics: ordered rules, first match wins
//!
//! The issue leaves the choice open between ordered rules and weighted scoring; this is **ordered
//! rules, first match wins** (as in Salesforce assignment rules and 纷享销客 线索分配规则): head
//! office can read a rule list top to bottom and say where a lead goes, which a weighted score
//! does not allow. For each lead, in this order:
//!
//! 1. **一客一主 (one owner per customer).** A lead whose customer already has an owner goes to
//!    that owner ([`RouteDecision::Owner`]), whatever the rules, filters or loads say. A lead
//!    whose customer sits in the pool (公海) goes to the pool ([`Unrouted::CustomerInPool`]): the
//!    customer is claimed there, not handed out by a rule. An owner known here as inactive is
//!    ignored and the rules apply (deactivating a rep releases their customers, so this is only
//!    stale data); an owner not among the profiles still gets the lead.
//! 2. **The rules, by ascending `position`.** A disabled rule is skipped. A rule *matches* a lead
//!    when every filter it sets holds:
//!    - `industries`, `regions` (territory codes), `sources`: the lead's value is one of the
//!      listed values, compared exactly as written; an empty list accepts any value, and a lead
//!      without the value matches only an empty list;
//!    - the budget, in fen: `budget_min_cents ≤ budget < budget_max_cents`, each bound optional;
//!      a lead without a budget never matches a rule with a bound.
//! 3. **The rep, within the first matching rule.** Eligible reps are active, in the rule's `team`
//!    when it names one, hold every one of its `required_tags` (资质标签), and carry fewer open
//!    leads than its `max_load`. Among them: the lowest load, then the least recently assigned
//!    (never assigned first), then the smallest rep id (as text). The lead raises that rep's load
//!    by one and sets their last assignment to the routing time.
//! 4. **Fall-through.** A matching rule with no eligible rep (all at `max_load`, inactive, or
//!    none qualified) passes the lead to the next rule. When no rule is left the lead goes to the
//!    pool: [`Unrouted::NoCapacity`] if some rule matched it, [`Unrouted::NoRule`] if none did.
//!
//! Known limits, to be said on the rules page: round-robin is only a tie-break; the load counts
//! open leads, not their size; leave is modelled only by deactivating the rep; changing the rules
//! does not re-route leads already placed; and the dry run is an estimate (it replays the window
//! with the loads at its start, adds each simulated assignment and removes each real close, but
//! cannot know how the simulated reps would have closed their leads).
//!
//! Tags, industries, regions and sources are interned when a [`Router`] is built, and each rule's
//! reps are sorted once by tag bitsets and team, so routing a lead costs a few set lookups and a
//! scan of the first matching rule's qualified reps.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// One routing rule, as head office writes it (stored as JSON with its rule set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Order of evaluation: ascending, first match wins. Unique within a rule set.
    pub position: u32,
    /// What head office calls the rule (shown on the rules page and in the dry-run report).
    pub name: String,
    /// Customer industries (行业) accepted; empty: any.
    #[serde(default)]
    pub industries: Vec<String>,
    /// Lowest budget accepted, in fen, inclusive; none: no lower bound.
    #[serde(default)]
    pub budget_min_cents: Option<i64>,
    /// Budget from which the rule no longer applies, in fen, exclusive; none: no upper bound.
    #[serde(default)]
    pub budget_max_cents: Option<i64>,
    /// Territory codes accepted; empty: any.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Lead sources (展会, 官网, …) accepted; empty: any.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Qualification tags (资质标签) a rep must hold, all of them.
    #[serde(default)]
    pub required_tags: Vec<String>,
    /// Only reps of this team; none: any team.
    #[serde(default)]
    pub team: Option<String>,
    /// A rep with this many open leads or more gets no lead from this rule; none: no limit.
    #[serde(default)]
    pub max_load: Option<u32>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// A field rep as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepProfile {
    pub id: String,
    #[serde(default)]
    pub team: Option<String>,
    /// Qualification tags (资质标签).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Open leads held now.
    #[serde(default)]
    pub load: u32,
    /// When the rep was last given a lead; none: never.
    #[serde(default)]
    pub last_assigned_ms: Option<i64>,
    pub active: bool,
}

/// What routing needs to know of a lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadFacts {
    pub id: String,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub budget_cents: Option<i64>,
    /// The territory code the lead is in.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    pub created_ms: i64,
    /// The owner of the customer this lead belongs to (matched by phone or company), if owned.
    #[serde(default)]
    pub existing_owner: Option<String>,
    /// The lead's customer exists and is in the pool (公海): the lead joins it there.
    #[serde(default)]
    pub customer_in_pool: bool,
}

/// Why a lead went to the pool instead of a rep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unrouted {
    /// No enabled rule matched the lead.
    NoRule,
    /// Rules matched, but none had an eligible rep under its `max_load`.
    NoCapacity,
    /// The lead's customer is in the pool.
    CustomerInPool,
}

impl Unrouted {
    /// The message code, for rendering in the reader's language.
    pub fn code(self) -> &'static str {
        match self {
            Unrouted::NoRule => "routing_no_rule",
            Unrouted::NoCapacity => "routing_no_capacity",
            Unrouted::CustomerInPool => "routing_customer_in_pool",
        }
    }
}

/// Where one lead went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum RouteDecision {
    /// To `rep` by the rule at `position`.
    Rep { rep: String, position: u32 },
    /// To the owner of the lead's customer (一客一主), before any rule.
    Owner { rep: String },
    /// To the pool.
    Pool { reason: Unrouted },
}

impl RouteDecision {
    /// The rep the lead went to, if any.
    pub fn rep(&self) -> Option<&str> {
        match self {
            RouteDecision::Rep { rep, .. } | RouteDecision::Owner { rep } => Some(rep),
            RouteDecision::Pool { .. } => None,
        }
    }
}

/// Why a rule set was refused; nothing is saved. [`RuleProblem::code`] is the message's code,
/// the fields its parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleProblem {
    #[error("two rules have position {position}")]
    DuplicatePosition { position: u32 },
    #[error("the rule at position {position} has no name")]
    NoName { position: u32 },
    #[error("the rule at position {position} has a budget below zero")]
    NegativeBudget { position: u32 },
    #[error("the rule at position {position} accepts no budget: from {min} up to (not including) {max}")]
    EmptyBudget { position: u32, min: i64, max: i64 },
    #[error("the rule at position {position} has a maximum load of 0: it could never assign a lead")]
    ZeroMaxLoad { position: u32 },
}

impl RuleProblem {
    /// The message code (`routing_duplicate_position`…), for rendering in the reader's language.
    pub fn code(&self) -> &'static str {
        match self {
            RuleProblem::DuplicatePosition { .. } => "routing_duplicate_position",
            RuleProblem::NoName { .. } => "routing_rule_no_name",
            RuleProblem::NegativeBudget { .. } => "routing_negative_budget",
            RuleProblem::EmptyBudget { .. } => "routing_empty_budget",
            RuleProblem::ZeroMaxLoad { .. } => "routing_zero_max_load",
        }
    }
}

/// Checks a rule set before it is saved: every problem found, in rule order.
pub fn validate_rules(rules: &[Rule]) -> Result<(), Vec<RuleProblem>> {
    let mut problems = Vec::new();
    let mut seen = BTreeMap::new();
    for r in rules {
        let position = r.position;
        if seen.insert(position, ()).is_some() {
            problems.push(RuleProblem::DuplicatePosition { position });
        }
        if r.name.trim().is_empty() {
            problems.push(RuleProblem::NoName { position });
        }
        if r.budget_min_cents.is_some_and(|b| b < 0) || r.budget_max_cents.is_some_and(|b| b < 0) {
            problems.push(RuleProblem::NegativeBudget { position });
        } else if let (Some(min), Some(max)) = (r.budget_min_cents, r.budget_max_cents)
            && min >= max
        {
            problems.push(RuleProblem::EmptyBudget { position, min, max });
        }
        if r.max_load == Some(0) {
            problems.push(RuleProblem::ZeroMaxLoad { position });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

// ---------------------------------------------------------------------------------------------
// The router.

/// A set of small integers (interned names), one bit each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn insert(&mut self, i: u32) {
        let (word, bit) = ((i / 64) as usize, i % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn contains(&self, i: u32) -> bool {
        self.0
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Whether every member of `other` is in `self`.
    fn contains_all(&self, other: &Bits) -> bool {
        other
            .0
            .iter()
            .enumerate()
            .all(|(i, &w)| w & !self.0.get(i).copied().unwrap_or(0) == 0)
    }
}

/// Names to small integers, for one kind of value (tags, industries…).
#[derive(Debug, Default)]
struct Names(HashMap<String, u32>);

impl Names {
    fn intern(&mut self, name: &str) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(name.to_string()).or_insert(next)
    }

    /// The set of `names`; none when the list is empty (the filter accepts anything).
    fn filter(&mut self, names: &[String]) -> Option<Bits> {
        if names.is_empty() {
            return None;
        }
        let mut bits = Bits::default();
        for n in names {
            bits.insert(self.intern(n));
        }
        Some(bits)
    }

    fn get(&self, name: Option<&str>) -> Option<u32> {
        name.and_then(|n| self.0.get(n).copied())
    }
}

/// A rule ready to match: its filters as sets, and the reps it may assign to.
#[derive(Debug)]
struct Compiled {
    position: u32,
    industries: Option<Bits>,
    regions: Option<Bits>,
    sources: Option<Bits>,
    budget_min: Option<i64>,
    budget_max: Option<i64>,
    max_load: u32,
    /// Indices into the router's reps: active, of the rule's team, holding all its tags; in rep
    /// id order, so the first of equal candidates is the smallest id.
    qualified: Vec<usize>,
}

/// Interned values of one lead.
struct LeadKeys {
    industry: Option<u32>,
    region: Option<u32>,
    source: Option<u32>,
}

/// A set filter: `None` accepts anything; otherwise the lead's value must be in it.
fn accepts(filter: &Option<Bits>, value: Option<u32>) -> bool {
    match filter {
        None => true,
        Some(set) => value.is_some_and(|v| set.contains(v)),
    }
}

impl Compiled {
    fn matches(&self, lead: &LeadKeys, budget: Option<i64>) -> bool {
        let bounded = self.budget_min.is_some() || self.budget_max.is_some();
        let budget_ok = match budget {
            None => !bounded,
            Some(b) => {
                self.budget_min.is_none_or(|min| min <= b) && self.budget_max.is_none_or(|max| b < max)
            }
        };
        budget_ok
            && accepts(&self.industries, lead.industry)
            && accepts(&self.regions, lead.region)
            && accepts(&self.sources, lead.source)
    }
}

/// One rep's changing state while routing.
#[derive(Debug, Clone)]
struct RepState {
    id: String,
    active: bool,
    load: u32,
    last_assigned_ms: Option<i64>,
}

/// What a rule did with one lead, reported to the dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleOutcome {
    Assigned,
    NoCapacity,
}

/// Routes leads one after another, keeping the reps' loads and last assignments up to date.
/// Built once per batch (or per dry run) from the rule set and the reps as they are now.
#[derive(Debug)]
pub struct Router {
    /// Enabled rules by ascending position.
    rules: Vec<Compiled>,
    /// `rules[i]`'s index in the rule list given to [`Router::new`], for the dry run's report.
    rule_index: Vec<usize>,
    reps: Vec<RepState>,
    rep_index: HashMap<String, usize>,
    industries: Names,
    regions: Names,
    sources: Names,
}

impl Router {
    /// The router for `rules` (in any order; disabled ones are kept out) and `reps` (a repeated
    /// id keeps its first profile).
    pub fn new(rules: &[Rule], reps: &[RepProfile]) -> Router {
        let mut rep_index = HashMap::with_capacity(reps.len());
        let mut states = Vec::with_capacity(reps.len());
        // `profiles[k]`: the profile `states[k]` came from.
        let mut profiles: Vec<&RepProfile> = Vec::with_capacity(reps.len());
        for r in reps {
            if rep_index.contains_key(&r.id) {
                continue;
            }
            rep_index.insert(r.id.clone(), states.len());
            profiles.push(r);
            states.push(RepState {
                id: r.id.clone(),
                active: r.active,
                load: r.load,
                last_assigned_ms: r.last_assigned_ms,
            });
        }
        // Tags as bit numbers: each rep's set once, each rule's required set once.
        let mut tags = Names::default();
        let mut by_id: Vec<usize> = (0..states.len()).collect();
        by_id.sort_by(|&a, &b| states[a].id.cmp(&states[b].id));
        let rep_tags: Vec<Bits> = profiles
            .iter()
            .map(|p| {
                let mut bits = Bits::default();
                for t in &p.tags {
                    bits.insert(tags.intern(t));
                }
                bits
            })
            .collect();
        let mut order: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].enabled).collect();
        order.sort_by_key(|&i| rules[i].position);
        let mut industries = Names::default();
        let mut regions = Names::default();
        let mut sources = Names::default();
        let mut compiled = Vec::with_capacity(order.len());
        for &i in &order {
            let r = &rules[i];
            let mut required = Bits::default();
            for t in &r.required_tags {
                required.insert(tags.intern(t));
            }
            let qualified = by_id
                .iter()
                .copied()
                .filter(|&k| {
                    let rep = profiles[k];
                    rep.active
                        && r.team.as_ref().is_none_or(|t| rep.team.as_ref() == Some(t))
                        && rep_tags[k].contains_all(&required)
                })
                .collect();
            compiled.push(Compiled {
                position: r.position,
                industries: industries.filter(&r.industries),
                regions: regions.filter(&r.regions),
                sources: sources.filter(&r.sources),
                budget_min: r.budget_min_cents,
                budget_max: r.budget_max_cents,
                max_load: r.max_load.unwrap_or(u32::MAX),
                qualified,
            });
        }
        Router {
            rules: compiled,
            rule_index: order,
            reps: states,
            rep_index,
            industries,
            regions,
            sources,
        }
    }

    /// Where `lead` goes at `now_ms` (see the module documentation), counting the lead in the
    /// chosen rep's load.
    pub fn route(&mut self, lead: &LeadFacts, now_ms: i64) -> RouteDecision {
        self.route_traced(lead, now_ms, |_, _| {})
    }

    /// [`Router::route`], telling `seen` each rule that matched the lead (by its index in the
    /// rule list given to [`Router::new`]) and whether it assigned it.
    fn route_traced(
        &mut self,
        lead: &LeadFacts,
        now_ms: i64,
        mut seen: impl FnMut(usize, RuleOutcome),
    ) -> RouteDecision {
        if let Some(owner) = &lead.existing_owner {
            match self.rep_index.get(owner).copied() {
                Some(k) if self.reps[k].active => {
                    self.assign(k, now_ms);
                    return RouteDecision::Owner { rep: owner.clone() };
                }
                Some(_) => {}
                None => return RouteDecision::Owner { rep: owner.clone() },
            }
        } else if lead.customer_in_pool {
            return RouteDecision::Pool {
                reason: Unrouted::CustomerInPool,
            };
        }
        let keys = LeadKeys {
            industry: self.industries.get(lead.industry.as_deref()),
            region: self.regions.get(lead.region.as_deref()),
            source: self.sources.get(lead.source.as_deref()),
        };
        let mut any_matched = false;
        for (n, rule) in self.rules.iter().enumerate() {
            if !rule.matches(&keys, lead.budget_cents) {
                continue;
            }
            any_matched = true;
            // The best candidate: lowest (load, last assigned); `qualified` is in id order, so a
            // strict comparison keeps the smallest id among equals. Never assigned sorts first.
            let mut best: Option<(usize, (u32, i64))> = None;
            for &k in &rule.qualified {
                let s = &self.reps[k];
                if s.load >= rule.max_load {
                    continue;
                }
                let key = (s.load, s.last_assigned_ms.unwrap_or(i64::MIN));
                if best.is_none_or(|(_, b)| key < b) {
                    best = Some((k, key));
                }
            }
            match best {
                Some((k, _)) => {
                    let position = rule.position;
                    seen(self.rule_index[n], RuleOutcome::Assigned);
                    self.assign(k, now_ms);
                    return RouteDecision::Rep {
                        rep: self.reps[k].id.clone(),
                        position,
                    };
                }
                None => seen(self.rule_index[n], RuleOutcome::NoCapacity),
            }
        }
        RouteDecision::Pool {
            reason: if any_matched {
                Unrouted::NoCapacity
            } else {
                Unrouted::NoRule
            },
        }
    }

    fn assign(&mut self, k: usize, now_ms: i64) {
        let s = &mut self.reps[k];
        s.load = s.load.saturating_add(1);
        s.last_assigned_ms = Some(now_ms);
    }

    /// A lead of `rep` was closed (converted, lost, returned): one fewer open lead. Unknown reps
    /// and reps at zero are left as they are.
    pub fn lead_closed(&mut self, rep: &str) {
        if let Some(&k) = self.rep_index.get(rep) {
            self.reps[k].load = self.reps[k].load.saturating_sub(1);
        }
    }

    /// A rep's open leads now, as routing counts them.
    pub fn load(&self, rep: &str) -> Option<u32> {
        self.rep_index.get(rep).map(|&k| self.reps[k].load)
    }

    /// When a rep was last given a lead, as routing counts it.
    pub fn last_assigned_ms(&self, rep: &str) -> Option<i64> {
        self.rep_index
            .get(rep)
            .and_then(|&k| self.reps[k].last_assigned_ms)
    }
}

// ---------------------------------------------------------------------------------------------
// The dry run.

/// A real lead close during the dry run's window: the rep's load drops by one from `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadClose {
    pub rep: String,
    pub at_ms: i64,
}

/// One rule's part in a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleStats {
    pub position: u32,
    pub name: String,
    /// Leads that reached this rule (no earlier rule assigned them) and matched its filters.
    pub matched: u32,
    /// Of those, the leads it assigned.
    pub assigned: u32,
    /// Of those, the leads it passed on because none of its reps was eligible.
    pub no_capacity: u32,
}

/// Leads that went to the pool for one reason and industry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedGroup {
    pub reason: Unrouted,
    /// None: leads without an industry.
    pub industry: Option<String>,
    pub leads: u32,
}

/// How many of the leads that arrived would the rules have placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRunReport {
    /// Leads replayed.
    pub leads: u32,
    /// Leads that got a rep (by a rule or by their customer's owner).
    pub matched: u32,
    /// `matched / leads`; 0 with no leads (an empty window proves nothing).
    pub share: f64,
    /// Of `matched`, those that went to their customer's owner.
    pub by_owner: u32,
    /// Every rule given, disabled ones with zeros, by ascending position.
    pub per_rule: Vec<RuleStats>,
    /// The largest groups of leads sent to the pool, most first (at most [`UNMATCHED_TOP`]).
    pub unmatched_top: Vec<UnmatchedGroup>,
}

/// How many unmatched groups a dry-run report keeps.
pub const UNMATCHED_TOP: usize = 10;

/// Replays `leads` through `rules`, starting from the reps as they were at the window's start
/// and applying each real close at its time. Leads are taken by creation time (ties keep the
/// order given); each is routed at its creation time.
pub fn dry_run(
    rules: &[Rule],
    reps_at_start: &[RepProfile],
    leads: &[LeadFacts],
    closes: &[LeadClose],
) -> DryRunReport {
    let mut router = Router::new(rules, reps_at_start);
    let mut lead_order: Vec<&LeadFacts> = leads.iter().collect();
    lead_order.sort_by_key(|l| l.created_ms);
    let mut close_order: Vec<&LeadClose> = closes.iter().collect();
    close_order.sort_by_key(|c| c.at_ms);
    let mut next_close = close_order.iter().peekable();

    let mut stats: Vec<RuleStats> = rules
        .iter()
        .map(|r| RuleStats {
            position: r.position,
            name: r.name.clone(),
            matched: 0,
            assigned: 0,
            no_capacity: 0,
        })
        .collect();
    let mut matched = 0u32;
    let mut by_owner = 0u32;
    let mut unmatched: BTreeMap<(Unrouted, Option<String>), u32> = BTreeMap::new();
    for lead in &lead_order {
        while let Some(c) = next_close.next_if(|c| c.at_ms <= lead.created_ms) {
            router.lead_closed(&c.rep);
        }
        let decision = router.route_traced(lead, lead.created_ms, |i, outcome| {
            let s = &mut stats[i];
            s.matched += 1;
            match outcome {
                RuleOutcome::Assigned => s.assigned += 1,
                RuleOutcome::NoCapacity => s.no_capacity += 1,
            }
        });
        match decision {
            RouteDecision::Rep { .. } => matched += 1,
            RouteDecision::Owner { .. } => {
                matched += 1;
                by_owner += 1;
            }
            RouteDecision::Pool { reason } => {
                *unmatched.entry((reason, lead.industry.clone())).or_default() += 1;
            }
        }
    }
    let mut unmatched_top: Vec<UnmatchedGroup> = unmatched
        .into_iter()
        .map(|((reason, industry), leads)| UnmatchedGroup {
            reason,
            industry,
            leads,
        })
        .collect();
    // Most first; equal counts keep the map's order (reason, then industry).
    unmatched_top.sort_by_key(|g| std::cmp::Reverse(g.leads));
    unmatched_top.truncate(UNMATCHED_TOP);
    let mut per_rule = stats;
    per_rule.sort_by_key(|s| s.position);
    let leads_n = lead_order.len() as u32;
    DryRunReport {
        leads: leads_n,
        matched,
        share: if leads_n == 0 {
            0.0
        } else {
            f64::from(matched) / f64::from(leads_n)
        },
        by_owner,
        per_rule,
        unmatched_top,
    }
}

/// Whether a dry run placed at least `threshold` of its leads (0.91: the line for
/// switching the rules to live). Compared in basis points on the counts, so 1,820 of 2,000 is
/// exactly 91 % (no floating-point rounding either way). An empty run never passes.
pub fn passes_threshold(report: &DryRunReport, threshold: f64) -> bool {
    if report.leads == 0 || !threshold.is_finite() {
        return false;
    }
    let needed_bp = (threshold.clamp(0.0, 1.0) * 10_000.0).round() as u64;
    u64::from(report.matched) * 10_000 >= needed_bp * u64::from(report.leads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_hold_members_past_one_word() {
        let mut a = Bits::default();
        for i in [0, 63, 64, 200] {
            a.insert(i);
        }
        assert!(a.contains(200) && a.contains(64) && !a.contains(65) && !a.contains(1000));
        let mut b = Bits::default();
        b.insert(200);
        b.insert(0);
        assert!(a.contains_all(&b));
        b.insert(130);
        assert!(!a.contains_all(&b));
        assert!(a.contains_all(&Bits::default()));
        assert!(!Bits::default().contains_all(&b));
    }

    #[test]
    fn threshold_is_exact_at_the_line() {
        let report = |matched, leads| DryRunReport {
            leads,
            matched,
            share: 0.0,
            by_owner: 0,
            per_rule: vec![],
            unmatched_top: vec![],
        };
        assert!(passes_threshold(&report(1820, 2000), 0.91));
        assert!(!passes_threshold(&report(1819, 2000), 0.91));
        assert!(!passes_threshold(&report(0, 0), 0.91));
        assert!(passes_threshold(&report(0, 5), 0.0));
        assert!(!passes_threshold(&report(5, 5), f64::NAN));
    }
}
