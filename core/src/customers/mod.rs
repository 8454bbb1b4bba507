//! Customers and leads (客户与线索): the records a rep keeps offline, the pipeline's stages and
//! their evidence, and the configuration head office sets for them. Plain data and pure rules
//! (`rules`, `store_code`), shared by the phone and the server so the two decide alike.
//!
//! The health model and the routing rules are server configuration and live with the server;
//! a phone only sees their results (a customer's grade, a lead's assignment).

use serde::{Deserialize, Serialize};

pub mod rules;
pub mod store_code;

pub use rules::{
    EvidenceOnHand, MatchOn, StageMoveRefusal, StageStep, counts_as_interaction, dedupe_keys,
    missing_for_stage, normalize_company, normalize_phone, stage_move,
};
pub use store_code::{
    STORE_CODE_STEP_MS, StoreCodeCheck, StoreCodeProblem, StoreKey, format_store_code, sign_store_code,
    store_code_step, store_key_public_hex, verify_store_code,
};

// ---------------------------------------------------------------------------------------------
// Configuration (head office's; the phone holds the copy the server last sent)
// ---------------------------------------------------------------------------------------------

/// Stage keys the default pipeline uses and the rules name: `lost` is entered from any open
/// stage with a reason; every other terminal stage (`won`) only from the last open stage.
pub const STAGE_WON: &str = "won";
pub const STAGE_LOST: &str = "lost";

/// What a stage asks for before a customer may enter it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    /// A `customer.photo` taken for this requirement (e.g. the signed 技术参数确认单).
    Photo,
    /// A follow-up since entering the current stage, of the listed channels and outcomes.
    FollowUp,
    /// A customer field filled in (`industry`, `region`, `budget_cents`, …).
    Field,
    /// A reason written with the move.
    Reason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRequirement {
    /// Stable id: a photo taken for the requirement names it.
    pub id: String,
    /// What the rep reads (head office writes it, in Chinese first).
    pub label: String,
    pub kind: RequirementKind,
    /// For `FollowUp`: the channels that count; empty means any.
    #[serde(default)]
    pub channels: Vec<FollowUpChannel>,
    /// For `FollowUp`: the outcomes that count; empty means any.
    #[serde(default)]
    pub outcomes: Vec<FollowUpOutcome>,
    /// For `Field`: the customer field that must be filled.
    #[serde(default)]
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageDef {
    pub key: String,
    pub label: String,
    /// Nothing leaves a terminal stage (`won`, `lost`).
    #[serde(default)]
    pub terminal: bool,
    /// What entering this stage needs.
    #[serde(default)]
    pub requirements: Vec<StageRequirement>,
}

/// The pipeline's settings. Fields missing from a stored or pulled copy take their default, so
/// a newer server's config (with fields this build does not know) still reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PipelineConfig {
    pub version: i64,
    /// In order: open stages first, then the terminal ones.
    pub stages: Vec<StageDef>,
    /// A lead not claimed within this long goes back to the pool (and alerts the supervisor).
    /// Wall-clock minutes: working hours do not pause it (a lead arriving at 17:30 is overdue at
    /// 19:30). A copy stored by a build that had a `business_hours` field still reads (serde
    /// skips the field).
    pub lead_response_minutes: u32,
    /// A claimed customer with no real interaction for this long is released to the pool.
    pub release_days: u32,
    /// The phone warns this long before the release.
    pub release_warning_days: u32,
    /// More than this long in one stage is a stall (a to-do for the rep, a warning up).
    pub stall_days: u32,
    /// This many follow-ups on a lead within `escalate_window_days`, with no progress, escalate.
    pub escalate_follow_ups: u32,
    pub escalate_window_days: u32,
    /// A rep cannot reclaim a customer they released (or lost) for this long.
    pub reclaim_cooldown_days: u32,
    /// Most customers one rep may hold (保有量); `None`: no limit (the default).
    pub max_customers_per_rep: Option<u32>,
    /// Routing rules go live only when a dry run matches at least this share of leads.
    pub routing_live_threshold: f64,
    /// The lead-response rate head office aims for.
    pub response_goal: f64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        let stage = |key: &str, label: &str, terminal: bool, requirements: Vec<StageRequirement>| StageDef {
            key: key.into(),
            label: label.into(),
            terminal,
            requirements,
        };
        let photo = |id: &str, label: &str| StageRequirement {
            id: id.into(),
            label: label.into(),
            kind: RequirementKind::Photo,
            channels: Vec::new(),
            outcomes: Vec::new(),
            field: None,
        };
        PipelineConfig {
            version: 1,
            stages: vec![
                stage("explore", "意向初探", false, vec![]),
                stage("needs", "需求确认", false, vec![]),
                stage("demo", "方案演示", false, vec![]),
                stage(
                    "negotiation",
                    "报价谈判",
                    false,
                    vec![photo("tech_spec_form", "签字的技术参数确认单")],
                ),
                stage(STAGE_WON, "成交", true, vec![photo("contract", "合同")]),
                stage(STAGE_LOST, "流失", true, vec![]),
            ],
            lead_response_minutes: 120,
            release_days: 7,
            release_warning_days: 1,
            stall_days: 5,
            escalate_follow_ups: 3,
            escalate_window_days: 7,
            reclaim_cooldown_days: 7,
            max_customers_per_rep: None,
            routing_live_threshold: 0.91,
            response_goal: 0.85,
        }
    }
}

impl PipelineConfig {
    pub fn stage(&self, key: &str) -> Option<&StageDef> {
        self.stages.iter().find(|s| s.key == key)
    }

    /// Where a new customer starts: the first open stage.
    pub fn first_stage(&self) -> Option<&StageDef> {
        self.stages.iter().find(|s| !s.terminal)
    }
}

// ---------------------------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------------------------

/// How the rep reached the customer (跟进方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpChannel {
    Call,
    Visit,
    Message,
}

/// What came of a follow-up. `Reached` and `Meeting` are real interactions (they keep a
/// claimed customer from being released).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpOutcome {
    Reached,
    Meeting,
    NoAnswer,
    Declined,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerState {
    /// Held by one rep (一客一主).
    Owned,
    /// In the pool (公海): any rep of the territory may claim it.
    Pool,
    /// Another rep's entry of a customer someone already owns; `duplicate_of` links it.
    Duplicate,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadState {
    New,
    /// Routed to a rep, waiting for the claim (the response clock runs).
    Assigned,
    Claimed,
    Pool,
    Converted,
    Lost,
    Duplicate,
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// A person at the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    /// Job title (职务).
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
}

/// A customer as the rep enters it (also a lead converted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCustomer {
    /// The customer's name as the rep knows it (a person, a shop).
    pub name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub industry: Option<String>,
    /// Territory code.
    #[serde(default)]
    pub region: Option<String>,
    /// Budget in fen (分).
    #[serde(default)]
    pub budget_cents: Option<i64>,
    /// The store the customer is linked to (its QR check-in code).
    #[serde(default)]
    pub store_id: Option<String>,
    #[serde(default)]
    pub from_lead_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub phones: Vec<String>,
    pub contacts: Vec<Contact>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub budget_cents: Option<i64>,
    pub store_id: Option<String>,
    pub from_lead_id: Option<String>,
    /// `None` in the pool.
    pub owner_id: Option<String>,
    pub owner_name: Option<String>,
    pub state: CustomerState,
    /// For a duplicate: the customer it duplicates.
    pub duplicate_of: Option<String>,
    pub stage: String,
    pub stage_entered_ms: i64,
    pub last_interaction_ms: Option<i64>,
    /// When a claimed customer goes back to the pool without a real interaction.
    pub release_due_ms: Option<i64>,
    /// `A`, `B` or `C`, from the server's nightly score; `None` before the first.
    pub health_grade: Option<String>,
    pub health_score: Option<f64>,
    pub created_ms: i64,
    /// Changed on this phone and not yet accepted by the server.
    pub pending_sync: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub phones: Vec<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub budget_cents: Option<i64>,
    /// Where the lead came from (来源), as head office names it.
    pub source: Option<String>,
    pub state: LeadState,
    pub assigned_rep: Option<String>,
    pub assigned_ms: Option<i64>,
    /// Claim before this, or the lead goes back to the pool.
    pub deadline_ms: Option<i64>,
    pub claimed_ms: Option<i64>,
    /// The customer it became.
    pub customer_id: Option<String>,
    pub created_ms: i64,
}

/// A follow-up to log, on a customer or on a lead (exactly one of the two).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpRequest {
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub lead_id: Option<String>,
    pub channel: FollowUpChannel,
    pub outcome: FollowUpOutcome,
    #[serde(default)]
    pub note: String,
    /// 下一步.
    #[serde(default)]
    pub next_step: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub next_date: Option<String>,
    /// The visit it happened in, for a `Visit`.
    #[serde(default)]
    pub visit_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub id: String,
    pub customer_id: Option<String>,
    pub lead_id: Option<String>,
    pub user_id: String,
    pub channel: FollowUpChannel,
    pub outcome: FollowUpOutcome,
    pub note: String,
    pub next_step: Option<String>,
    pub next_date: Option<String>,
    pub visit_id: Option<String>,
    pub at_ms: i64,
    pub pending_sync: bool,
}

/// What satisfied one requirement of a stage move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub requirement_id: String,
    #[serde(default)]
    pub photo_id: Option<String>,
    #[serde(default)]
    pub follow_up_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChange {
    pub id: String,
    pub customer_id: String,
    pub from: String,
    pub to: String,
    pub reason: Option<String>,
    pub evidence: Vec<EvidenceRef>,
    pub user_id: String,
    pub at_ms: i64,
}

/// A photo to take as a stage's evidence (`customer.photo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPhotoRequest {
    pub customer_id: String,
    pub requirement_id: String,
}

/// An existing customer a new entry matches (by a normalised phone or company name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateMatch {
    pub customer_id: String,
    /// The owner's name; `None` in the pool.
    pub owner_name: Option<String>,
    pub state: CustomerState,
    pub matched_on: MatchOn,
}
