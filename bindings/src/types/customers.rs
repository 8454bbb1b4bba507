//! Customers and leads (客户与线索): the records, the lists and the pipeline's day.
//!
//! uniffi remote types: the core's own structs described field by field, so a core change that
//! is not mirrored here fails to compile.

use fieldproof_core::{
    Contact, Customer, CustomerDetail, CustomerList, CustomerPhoto, CustomerPhotoRequest, CustomerState,
    CustomerUpdate, DueFollowUp, DuplicateMatch, EvidenceRef, FollowUp, FollowUpChannel, FollowUpOutcome,
    FollowUpRequest, Lead, LeadList, LeadState, MatchOn, MissingItem, NewCustomer, PhotoKind, PipelineDay,
    RequirementKind, StageChange, StageDef, StageRequirement,
};

/// A person at the customer.
#[uniffi::remote(Record)]
pub struct Contact {
    pub name: String,
    /// Job title (职务).
    pub title: Option<String>,
    pub phones: Vec<String>,
}

/// A customer as the rep enters it (also a lead converted: `from_lead_id`).
#[uniffi::remote(Record)]
pub struct NewCustomer {
    pub name: String,
    pub company: Option<String>,
    pub phones: Vec<String>,
    pub contacts: Vec<Contact>,
    pub industry: Option<String>,
    /// Territory code.
    pub region: Option<String>,
    /// Budget in fen (分).
    pub budget_cents: Option<i64>,
    /// The store the customer is linked to (its QR check-in code).
    pub store_id: Option<String>,
    pub from_lead_id: Option<String>,
}

/// Where a customer stands.
#[uniffi::remote(Enum)]
pub enum CustomerState {
    /// Held by one rep (一客一主).
    Owned,
    /// In the pool (公海): any rep of the territory may claim it.
    Pool,
    /// Another entry of a customer someone already owns; `duplicate_of` links it.
    Duplicate,
    Closed,
}

/// A customer. Another rep's customer comes without phones and contacts.
#[uniffi::remote(Record)]
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
    /// `null` in the pool.
    pub owner_id: Option<String>,
    pub owner_name: Option<String>,
    pub state: CustomerState,
    pub duplicate_of: Option<String>,
    /// The stage key (`explore`, `needs`, `demo`, `negotiation`, `won`, `lost` by default).
    pub stage: String,
    pub stage_entered_ms: i64,
    pub last_interaction_ms: Option<i64>,
    /// When it goes back to the pool without a real interaction.
    pub release_due_ms: Option<i64>,
    /// `A`, `B` or `C` from the nightly health score.
    pub health_grade: Option<String>,
    pub health_score: Option<f64>,
    pub created_ms: i64,
    /// Changed on this phone and not yet accepted by the server.
    pub pending_sync: bool,
}

#[uniffi::remote(Enum)]
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

/// A lead (线索).
#[uniffi::remote(Record)]
pub struct Lead {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub phones: Vec<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub budget_cents: Option<i64>,
    /// Where the lead came from (来源).
    pub source: Option<String>,
    pub state: LeadState,
    pub assigned_rep: Option<String>,
    pub assigned_ms: Option<i64>,
    /// Claim before this (Unix ms), or the lead goes back to the pool.
    pub deadline_ms: Option<i64>,
    pub claimed_ms: Option<i64>,
    pub customer_id: Option<String>,
    pub created_ms: i64,
}

/// How the rep reached the customer (跟进方式).
#[uniffi::remote(Enum)]
pub enum FollowUpChannel {
    Call,
    Visit,
    Message,
}

/// What came of a follow-up; `Reached` and `Meeting` are real interactions.
#[uniffi::remote(Enum)]
pub enum FollowUpOutcome {
    Reached,
    Meeting,
    NoAnswer,
    Declined,
    Other,
}

/// A follow-up to log, on a customer or on a lead (exactly one of the two).
#[uniffi::remote(Record)]
pub struct FollowUpRequest {
    pub customer_id: Option<String>,
    pub lead_id: Option<String>,
    pub channel: FollowUpChannel,
    pub outcome: FollowUpOutcome,
    pub note: String,
    /// 下一步.
    pub next_step: Option<String>,
    /// `YYYY-MM-DD`.
    pub next_date: Option<String>,
    pub visit_id: Option<String>,
}

#[uniffi::remote(Record)]
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
#[uniffi::remote(Record)]
pub struct EvidenceRef {
    pub requirement_id: String,
    pub photo_id: Option<String>,
    pub follow_up_id: Option<String>,
}

/// A stage move.
#[uniffi::remote(Record)]
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

/// A stage-evidence photo to take (the requirement's id, e.g. `tech_spec_form`).
#[uniffi::remote(Record)]
pub struct CustomerPhotoRequest {
    pub customer_id: String,
    pub requirement_id: String,
}

/// A stage-evidence photo taken on this phone.
#[uniffi::remote(Record)]
pub struct CustomerPhoto {
    pub id: String,
    pub customer_id: String,
    pub requirement_id: String,
    pub kind: PhotoKind,
    pub sha256: String,
    pub byte_len: i64,
    pub path: String,
    pub taken_at_ms: i64,
    pub evidence_code: Option<String>,
}

/// What a duplicate matched on.
#[uniffi::remote(Enum)]
pub enum MatchOn {
    Phone,
    Company,
}

/// An existing customer a new entry matches: its owner's name, never their phone numbers.
#[uniffi::remote(Record)]
pub struct DuplicateMatch {
    pub customer_id: String,
    /// `null` in the pool.
    pub owner_name: Option<String>,
    pub state: CustomerState,
    pub matched_on: MatchOn,
}

/// What `update_customer` replaces.
#[uniffi::remote(Record)]
pub struct CustomerUpdate {
    pub contacts: Vec<Contact>,
    pub budget_cents: Option<i64>,
}

/// Which customers a list shows.
#[uniffi::remote(Enum)]
pub enum CustomerList {
    Mine,
    Pool,
    Duplicates,
}

/// Which leads a list shows.
#[uniffi::remote(Enum)]
pub enum LeadList {
    Mine,
    Pool,
}

/// One customer with its follow-ups, stage moves, photos, and what its next stage needs.
#[uniffi::remote(Record)]
pub struct CustomerDetail {
    pub customer: Customer,
    pub follow_ups: Vec<FollowUp>,
    pub stage_changes: Vec<StageChange>,
    pub photos: Vec<CustomerPhoto>,
    pub next_stage: Option<String>,
    /// Empty: the move to `next_stage` is unlocked.
    pub missing_for_next: Vec<MissingItem>,
}

/// A planned follow-up that is due.
#[uniffi::remote(Record)]
pub struct DueFollowUp {
    pub follow_up_id: String,
    pub customer_id: Option<String>,
    pub lead_id: Option<String>,
    pub name: String,
    pub next_step: Option<String>,
    pub next_date: String,
    pub overdue: bool,
}

/// The pipeline's part of a rep's day.
#[uniffi::remote(Record)]
pub struct PipelineDay {
    pub follow_ups_due: Vec<DueFollowUp>,
    pub stalled: Vec<Customer>,
    pub leads_waiting: Vec<Lead>,
    pub near_release: Vec<Customer>,
}

/// What a stage asks for before a customer may enter it.
#[uniffi::remote(Enum)]
pub enum RequirementKind {
    Photo,
    FollowUp,
    Field,
    Reason,
}

#[uniffi::remote(Record)]
pub struct StageRequirement {
    /// A photo taken for the requirement names it (`CustomerPhotoRequest::requirement_id`).
    pub id: String,
    pub label: String,
    pub kind: RequirementKind,
    pub channels: Vec<FollowUpChannel>,
    pub outcomes: Vec<FollowUpOutcome>,
    pub field: Option<String>,
}

/// One stage of the pipeline, in order.
#[uniffi::remote(Record)]
pub struct StageDef {
    pub key: String,
    pub label: String,
    pub terminal: bool,
    pub requirements: Vec<StageRequirement>,
}
