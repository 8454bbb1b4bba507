//! Every code the server stores for a person to read (exceptions, photo problems, refused ops)
//! and the typed parameters each exception carries in `exceptions.params`.
//!
//! An exception is stored as its code plus these parameters as a JSON object; `detail` stays a
//! machine-made English line for the admin CLI and logs only. Pages render the code and
//! parameters in the reader's language (`crate::messages`). A leaf: ingest and photos write
//! these structs, messages and export read them.

use serde::{Deserialize, Serialize};

/// Every exception code the server raises (grep-able: each `raise` names one of these).
pub const EXCEPTION_CODES: &[&str] = &[
    "bad_signature",
    "chain_gap",
    "chain_fork",
    "reordered",
    "backdated",
    "clock_jump",
    "clock_skew",
    "photo_missing",
    "unknown_visit",
    "unknown_store",
    "no_fix",
    "mock_location",
    "low_accuracy",
    "stale_fix",
    "outside_geofence",
    "price_gap_unexplained",
    "image_hash_mismatch",
    "code_mismatch",
    "unknown_key",
    "revoked_key",
    "malformed_entry",
    "not_a_photo",
    "photo_unreadable",
    "possible_reuse",
    // Raised on the phone by a supervisor's review; kept so old rows and future ones read.
    "supervisor_flag",
    // Customers and leads (issue 15, `crate::customers::apply`).
    "customer_duplicate",
    "customer_claim_conflict",
    "stage_evidence_missing",
    "customer_op_not_applied",
    // QR check-in (`crate::customers::store_keys`).
    "store_code_invalid",
    // The pipeline's scheduled jobs (`crate::pipeline_jobs`, issue 15).
    "lead_overdue",
    "customer_released",
    "customer_stalled",
    "pipeline_escalated",
    "health_zero",
];

/// How urgent an exception is for the people alerts go to (`crate::alerts`): a rule sends codes
/// at or above its minimum. Ordered: `Info < Warning < Critical`; stored as 1, 2, 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing, usually explained by the next sync or the rep's phone (a photo still on
    /// its way, a weak GPS fix).
    Info = 1,
    /// A supervisor should look today: the visit's place, time or answers are in doubt.
    Warning = 2,
    /// Likely fraud or tampering: faked location, a reused or altered photo, broken evidence.
    Critical = 3,
}

impl Severity {
    pub fn level(self) -> i64 {
        self as i64
    }

    /// 1, 2 or 3 (a rule's stored minimum); anything else is none of them.
    pub fn from_level(level: i64) -> Option<Severity> {
        match level {
            1 => Some(Severity::Info),
            2 => Some(Severity::Warning),
            3 => Some(Severity::Critical),
            _ => None,
        }
    }

    /// The message code of its words (`crate::i18n::MESSAGES`: 提示 / 警告 / 严重).
    pub fn words_code(self) -> &'static str {
        match self {
            Severity::Info => "severity_info",
            Severity::Warning => "severity_warning",
            Severity::Critical => "severity_critical",
        }
    }
}

/// Every exception code's severity: the one table alerts filter by and pages show. Why each:
/// - critical: evidence that cannot be trusted (signatures, forks, altered or reused photos,
///   unknown or revoked keys, backdated entries) and faked locations;
/// - warning: the visit's place or time is in doubt, or its content needs a look (outside the
///   fence, clock problems, gaps and reordering in the chain, unexplained price gaps, photos that
///   are not photos, a supervisor's flag);
/// - info: usually explained by the next sync or the phone's conditions (a photo still on its
///   way, a re-sent upload, no or weak GPS fix, records that arrived before their visit or store).
pub const EXCEPTION_SEVERITY: &[(&str, Severity)] = &[
    ("bad_signature", Severity::Critical),
    ("chain_gap", Severity::Warning),
    ("chain_fork", Severity::Critical),
    ("reordered", Severity::Warning),
    ("backdated", Severity::Critical),
    ("clock_jump", Severity::Warning),
    ("clock_skew", Severity::Warning),
    ("photo_missing", Severity::Info),
    ("unknown_visit", Severity::Info),
    ("unknown_store", Severity::Info),
    ("no_fix", Severity::Info),
    ("mock_location", Severity::Critical),
    ("low_accuracy", Severity::Info),
    ("stale_fix", Severity::Info),
    ("outside_geofence", Severity::Warning),
    ("price_gap_unexplained", Severity::Warning),
    ("image_hash_mismatch", Severity::Critical),
    ("code_mismatch", Severity::Critical),
    ("unknown_key", Severity::Critical),
    ("revoked_key", Severity::Critical),
    ("malformed_entry", Severity::Warning),
    ("not_a_photo", Severity::Warning),
    ("photo_unreadable", Severity::Info),
    ("possible_reuse", Severity::Critical),
    ("supervisor_flag", Severity::Warning),
    // Nothing lost and nothing wrong on the phone's side: a second rep entered a customer
    // someone has, or two reps claimed one customer while offline.
    ("customer_duplicate", Severity::Info),
    ("customer_claim_conflict", Severity::Info),
    // The phone refuses such a move: an old or altered client made it.
    ("stage_evidence_missing", Severity::Warning),
    ("customer_op_not_applied", Severity::Info),
    // The scan that proves presence did not verify: a photographed, forged or other store's code.
    ("store_code_invalid", Severity::Critical),
    // A lead nobody answered in time: the supervisor should act today.
    ("lead_overdue", Severity::Warning),
    // The 7-day rule did what it says: worth knowing, nothing to act on.
    ("customer_released", Severity::Info),
    ("customer_stalled", Severity::Warning),
    ("pipeline_escalated", Severity::Warning),
    ("health_zero", Severity::Warning),
];

/// An exception code's severity; a code not in the table (a newer server's) is a warning, so a
/// rule for warnings and above still hears of it.
pub fn severity(code: &str) -> Severity {
    EXCEPTION_SEVERITY
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(Severity::Warning, |(_, s)| *s)
}

/// What `blobs.problems` / `photos.problems` can hold (comma-separated): the core's photo
/// verdict codes, and `file_missing` when the stored bytes are gone at verification.
pub const PHOTO_PROBLEM_CODES: &[&str] = &[
    "bad_signature",
    "image_hash_mismatch",
    "code_mismatch",
    "unknown_key",
    "revoked_key",
    "malformed_entry",
    "not_a_photo",
    "file_missing",
];

/// Why a pushed op was refused (`rejected_ops.reason`, the push answer's `reason`).
pub const REFUSAL_CODES: &[&str] = &[
    "malformed_entry",
    "bad_signature",
    "conflicting_duplicate",
    "wrong_user",
    // A supervisor's photo review from a phone (`crate::retakes::ReviewError`).
    "review_bad_verdict",
    "review_reason_required",
    "review_reason_too_long",
    "unknown_photo",
    "photo_not_in_team",
    "retake_not_a_rep",
    "retake_already_open",
];

/// Every code above, once each.
pub fn all_codes() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    for c in EXCEPTION_CODES
        .iter()
        .chain(PHOTO_PROBLEM_CODES)
        .chain(REFUSAL_CODES)
    {
        if !v.contains(c) {
            v.push(c);
        }
    }
    v
}

/// The rep's action that raised a location finding: a check-out 590 m away is not a check-in
/// 590 m away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    CheckIn,
    CheckOut,
    Photo,
}

/// `outside_geofence`: distance is after the fix's accuracy (the benefit of the doubt goes to
/// the rep), both in metres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutsideGeofence {
    pub action: Action,
    pub distance_m: f64,
    pub radius_m: f64,
    /// The store measured against.
    pub store_id: String,
}

/// `mock_location`: the location service said the fix was simulated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MockLocation {
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// `no_fix`: the action had no location at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoFix {
    pub action: Action,
}

/// `low_accuracy`: the fix's accuracy radius against the template's limit, metres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowAccuracy {
    pub action: Action,
    pub accuracy_m: f64,
    pub limit_m: f64,
}

/// `stale_fix`: how old the fix was when the action was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleFix {
    pub action: Action,
    pub age_s: i64,
    pub limit_s: i64,
}

/// Who noticed a clock jump: the phone (its own boot clock) or the server (between two entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observer {
    Device,
    Server,
}

/// `clock_jump`: the phone's clock moved against its time since boot, by `drift_s` seconds
/// (positive: set forward). The device's own flag may not say by how much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockJump {
    pub observer: Observer,
    #[serde(default)]
    pub drift_s: Option<i64>,
    pub seq: i64,
}

/// How a clock skew was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkewKind {
    /// The phone's last known offset from server time was large (`seconds`: phone minus
    /// server).
    Offset,
    /// Without a known offset, the op's time was ahead of the server's clock by `seconds`.
    Ahead,
}

/// `clock_skew`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockSkew {
    pub kind: SkewKind,
    pub seconds: i64,
    pub seq: i64,
}

/// What conflicted in a `chain_fork`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fork {
    /// The entry does not link to the previous entry's hash.
    BrokenLink,
    /// Another entry with this op id is already stored.
    OpIdReused,
    /// Another op is already stored at this position of the chain.
    SeqTaken,
}

/// `chain_gap`, `reordered`, `backdated`, `chain_fork`: the op's position in the phone's record
/// chain and the position it followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    pub seq: i64,
    #[serde(default)]
    pub previous_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork: Option<Fork>,
    /// The op already stored in the conflicting place (`seq_taken`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_op_id: Option<String>,
}

/// `bad_signature` on an op (a photo's bad signature is a [`PhotoRef`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadSignature {
    pub seq: i64,
}

/// A finding on one photo: `photo_missing`, `photo_unreadable` and the photo verdict's
/// problems (`image_hash_mismatch`, `code_mismatch`, `unknown_key`, `revoked_key`,
/// `malformed_entry`, `not_a_photo`, `bad_signature`). `photo_id` is empty when the photo's
/// manifest could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoRef {
    pub photo_id: String,
    pub sha256: String,
}

/// `image_hash_mismatch` found on upload: the uploaded bytes hash to something else than the
/// image hash the signed manifest announced (they are refused; the phone sends them again).
/// Verification's `image_hash_mismatch` on stored bytes carries a [`PhotoRef`] instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoHashMismatch {
    #[serde(default)]
    pub photo_id: Option<String>,
    pub expected_sha256: String,
    pub actual_sha256: String,
}

/// `unknown_store`: the check-in names a store the server's reference data lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownStore {
    pub store_id: String,
}

/// `unknown_visit`: an op for a visit whose check-in the server does not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownVisit {
    /// The op's kind, e.g. `visit.answer`.
    pub op_kind: String,
    pub seq: i64,
}

/// `price_gap_unexplained`: a competitor's price below ours by more than the template allows,
/// with no negotiation note. Prices in minor units (fen); the prices are the answers the server
/// holds when the flag arrives (absent if it has not got them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceGap {
    pub item_id: String,
    #[serde(default)]
    pub own_item_id: Option<String>,
    #[serde(default)]
    pub competitor_cents: Option<i64>,
    #[serde(default)]
    pub own_cents: Option<i64>,
    /// How far below ours, percent.
    #[serde(default)]
    pub gap_pct: Option<f64>,
    #[serde(default)]
    pub threshold_pct: Option<f64>,
}

/// The `params` of a `possible_reuse` exception (see `migrations/004_exception_params.sql`).
///
/// The rule: a photo's exception lists the photos stored before it (in the order the server
/// stored the bytes) that it looks like; a photo stored later names it in its own exception,
/// and an exception is never rewritten. So N photos of one scene make at most N open
/// exceptions, an exception head office resolved stays resolved, and whether a photo's op or
/// its bytes came first does not matter (the check runs on the bytes, with the visit from the
/// signed manifest that came with them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReuseParams {
    pub photo_id: String,
    pub sha256: String,
    pub threshold: u32,
    /// All earlier photos of other visits within the threshold.
    pub matches_total: usize,
    /// The closest `photos::REUSE_LISTED` of them, closest first.
    pub matches: Vec<ReuseMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReuseMatch {
    pub sha256: String,
    pub distance: u32,
    pub photo_id: String,
    pub visit_id: String,
    pub device_id: String,
    /// The rep of the matched photo's op, or of its device when the op has not arrived.
    pub user_id: Option<String>,
}

impl ReuseParams {
    /// The one-line `detail` for text-only readers (admin CLI, logs); pages render the params.
    pub fn detail(&self) -> String {
        let closest = self.matches.first().map_or(String::new(), |m| {
            format!(
                "; closest: photo {} (sha256 {}) of visit {} from device {}, perceptual distance {}",
                m.photo_id, m.sha256, m.visit_id, m.device_id, m.distance
            )
        });
        format!(
            "photo {} (sha256 {}) looks like {} earlier photo(s) of other visits{closest}",
            self.photo_id, self.sha256, self.matches_total
        )
    }
}

/// What a customer entry matched (`customer_duplicate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedOn {
    Phone,
    Company,
}

/// `customer_duplicate`: a rep entered a customer another customer already holds a key of; the
/// entry is kept as a linked duplicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDuplicate {
    pub customer_id: String,
    pub duplicate_of: String,
    pub matched_on: MatchedOn,
    /// The rep who entered the duplicate.
    pub entered_by: String,
    /// The original's owner; `None` while it is in the pool.
    #[serde(default)]
    pub owner_id: Option<String>,
}

/// `customer_claim_conflict`: a claim (of a customer or a lead) that did not take because another
/// rep has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimConflict {
    /// `customer` or `lead`.
    pub what: String,
    pub id: String,
    pub claimant_id: String,
    #[serde(default)]
    pub holder_id: Option<String>,
}

/// `stage_evidence_missing`: a stage move applied without the evidence its stage asks for. The
/// labels are head office's own words for the stages and requirements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageEvidenceMissing {
    pub customer_id: String,
    pub from_stage: String,
    pub to_stage: String,
    pub to_label: String,
    /// Requirement ids.
    pub missing: Vec<String>,
    /// Their labels, in the same order.
    pub missing_labels: Vec<String>,
}

/// Why an op on a customer or lead was kept without changing it (`customer_op_not_applied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotApplied {
    /// The server does not have the customer or lead (its creation has not arrived).
    Unknown,
    /// The rep does not hold it (released, claimed by another, a duplicate).
    NotOwner,
    /// The stage move is not allowed from the stage the server has (`stage_move`).
    StageMove,
    /// The lead is not open for this rep (new, lost, converted).
    LeadClosed,
    /// The rep gave the customer up too recently to claim it back (`reclaim_cooldown_days`).
    ReclaimCooldown,
    /// The rep already holds the most customers the settings allow (`max_customers_per_rep`,
    /// 保有量): a phone with older settings, or an altered one, claimed past it.
    LimitReached,
}

/// `customer_op_not_applied`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerOpNotApplied {
    /// The op's kind, e.g. `customer.stage`.
    pub op_kind: String,
    pub id: String,
    pub why: NotApplied,
    /// For a refused stage move: the core's reason (`skips`, `same_stage`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_refusal: Option<String>,
}

/// What was wrong with a check-in's store code (the core's `StoreCodeProblem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreCodeFault {
    Malformed,
    WrongStore,
    UnknownKey,
    BadSignature,
    Expired,
}

/// `store_code_invalid`: the code the check-in carried does not verify for its store at the
/// check-in's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreCodeInvalid {
    pub store_id: String,
    pub problem: StoreCodeFault,
    /// The step the code claims, when it could be read.
    #[serde(default)]
    pub step: Option<i64>,
}

/// An exception's parameters, typed by its code. Stored untagged (the row's `code` says which);
/// [`ExceptionParams::parse`] reads them back by code.
#[derive(Debug, Clone, PartialEq)]
pub enum ExceptionParams {
    OutsideGeofence(OutsideGeofence),
    MockLocation(MockLocation),
    NoFix(NoFix),
    LowAccuracy(LowAccuracy),
    StaleFix(StaleFix),
    ClockJump(ClockJump),
    ClockSkew(ClockSkew),
    Chain(Chain),
    BadSignature(BadSignature),
    Photo(PhotoRef),
    PhotoHashMismatch(PhotoHashMismatch),
    UnknownStore(UnknownStore),
    UnknownVisit(UnknownVisit),
    PriceGap(PriceGap),
    Reuse(ReuseParams),
    CustomerDuplicate(CustomerDuplicate),
    ClaimConflict(ClaimConflict),
    StageEvidenceMissing(StageEvidenceMissing),
    CustomerOpNotApplied(CustomerOpNotApplied),
    StoreCodeInvalid(StoreCodeInvalid),
    Pipeline(PipelineParams),
}

/// The `params` of the pipeline jobs' exceptions (`lead_overdue`, `customer_released`,
/// `customer_stalled`, `pipeline_escalated`, `health_zero`): the customer's or lead's name and
/// the figures the sentence names; a stage by its label, a component by its two labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineParams {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_en: Option<String>,
}

impl ExceptionParams {
    /// The stored parameters of an exception with `code`, or None (a row from before the code
    /// had parameters, or a shape this server does not know): such a row renders with the
    /// code's generic sentence.
    pub fn parse(code: &str, json: &serde_json::Value) -> Option<ExceptionParams> {
        use serde_json::from_value as from;
        let j = json.clone();
        Some(match code {
            "outside_geofence" => Self::OutsideGeofence(from(j).ok()?),
            "mock_location" => Self::MockLocation(from(j).ok()?),
            "no_fix" => Self::NoFix(from(j).ok()?),
            "low_accuracy" => Self::LowAccuracy(from(j).ok()?),
            "stale_fix" => Self::StaleFix(from(j).ok()?),
            "clock_jump" => Self::ClockJump(from(j).ok()?),
            "clock_skew" => Self::ClockSkew(from(j).ok()?),
            "chain_gap" | "chain_fork" | "reordered" | "backdated" => Self::Chain(from(j).ok()?),
            // An op's bad signature carries its seq; a photo's, the photo.
            "bad_signature" if json.get("seq").is_some() => Self::BadSignature(from(j).ok()?),
            "bad_signature" | "photo_missing" | "photo_unreadable" | "code_mismatch" | "unknown_key"
            | "revoked_key" | "malformed_entry" | "not_a_photo" => Self::Photo(from(j).ok()?),
            // On upload it names the two hashes; on stored bytes, the photo.
            "image_hash_mismatch" if json.get("expected_sha256").is_some() => {
                Self::PhotoHashMismatch(from(j).ok()?)
            }
            "image_hash_mismatch" => Self::Photo(from(j).ok()?),
            "unknown_store" => Self::UnknownStore(from(j).ok()?),
            "unknown_visit" => Self::UnknownVisit(from(j).ok()?),
            "price_gap_unexplained" => Self::PriceGap(from(j).ok()?),
            "possible_reuse" => Self::Reuse(from(j).ok()?),
            "customer_duplicate" => Self::CustomerDuplicate(from(j).ok()?),
            "customer_claim_conflict" => Self::ClaimConflict(from(j).ok()?),
            "stage_evidence_missing" => Self::StageEvidenceMissing(from(j).ok()?),
            "customer_op_not_applied" => Self::CustomerOpNotApplied(from(j).ok()?),
            "store_code_invalid" => Self::StoreCodeInvalid(from(j).ok()?),
            "lead_overdue" | "customer_released" | "customer_stalled" | "pipeline_escalated"
            | "health_zero" => Self::Pipeline(from(j).ok()?),
            _ => return None,
        })
    }

    /// The JSON object stored in `exceptions.params`.
    pub fn to_json(&self) -> String {
        let v = match self {
            Self::OutsideGeofence(p) => serde_json::to_string(p),
            Self::MockLocation(p) => serde_json::to_string(p),
            Self::NoFix(p) => serde_json::to_string(p),
            Self::LowAccuracy(p) => serde_json::to_string(p),
            Self::StaleFix(p) => serde_json::to_string(p),
            Self::ClockJump(p) => serde_json::to_string(p),
            Self::ClockSkew(p) => serde_json::to_string(p),
            Self::Chain(p) => serde_json::to_string(p),
            Self::BadSignature(p) => serde_json::to_string(p),
            Self::Photo(p) => serde_json::to_string(p),
            Self::PhotoHashMismatch(p) => serde_json::to_string(p),
            Self::UnknownStore(p) => serde_json::to_string(p),
            Self::UnknownVisit(p) => serde_json::to_string(p),
            Self::PriceGap(p) => serde_json::to_string(p),
            Self::Reuse(p) => serde_json::to_string(p),
            Self::CustomerDuplicate(p) => serde_json::to_string(p),
            Self::ClaimConflict(p) => serde_json::to_string(p),
            Self::StageEvidenceMissing(p) => serde_json::to_string(p),
            Self::CustomerOpNotApplied(p) => serde_json::to_string(p),
            Self::StoreCodeInvalid(p) => serde_json::to_string(p),
            Self::Pipeline(p) => serde_json::to_string(p),
        };
        // Plain structs of strings and numbers always serialize; NaN becomes null.
        v.unwrap_or_else(|_| "{}".to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn params_round_trip_by_code() {
        let cases = [
            (
                "outside_geofence",
                ExceptionParams::OutsideGeofence(OutsideGeofence {
                    action: Action::CheckOut,
                    distance_m: 590.0,
                    radius_m: 150.0,
                    store_id: "s".into(),
                }),
            ),
            (
                "bad_signature",
                ExceptionParams::BadSignature(BadSignature { seq: 7 }),
            ),
            (
                "bad_signature",
                ExceptionParams::Photo(PhotoRef {
                    photo_id: "p".into(),
                    sha256: "ab".into(),
                }),
            ),
            (
                "chain_fork",
                ExceptionParams::Chain(Chain {
                    seq: 3,
                    previous_seq: None,
                    fork: Some(Fork::SeqTaken),
                    other_op_id: Some("o".into()),
                }),
            ),
        ];
        for (code, p) in cases {
            let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
            assert_eq!(ExceptionParams::parse(code, &json), Some(p), "{code}");
        }
        let v: serde_json::Value = serde_json::from_str(r#"{"action":"check_out"}"#).unwrap();
        assert_eq!(ExceptionParams::parse("outside_geofence", &v), None);
        assert_eq!(ExceptionParams::parse("new_code", &v), None);
    }

    #[test]
    fn code_lists_have_no_duplicates() {
        for list in [EXCEPTION_CODES, PHOTO_PROBLEM_CODES, REFUSAL_CODES] {
            let mut seen = std::collections::HashSet::new();
            assert!(list.iter().all(|c| seen.insert(c)));
        }
    }

    #[test]
    fn every_exception_code_has_one_severity() {
        for code in EXCEPTION_CODES {
            let n = EXCEPTION_SEVERITY.iter().filter(|(c, _)| c == code).count();
            assert_eq!(n, 1, "{code}");
        }
        assert_eq!(EXCEPTION_SEVERITY.len(), EXCEPTION_CODES.len());
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        assert_eq!(severity("mock_location"), Severity::Critical);
        assert_eq!(
            Severity::from_level(severity("photo_missing").level()),
            Some(Severity::Info)
        );
    }
}
