//! The field-sales domain as the apps see it: head-office reference data (users, stores, products,
//! check templates, visit plans) and the field records (visits, answers, photos, reports, reviews).
//!
//! Every type here is plain data (no I/O), serialisable, and mirrored one-to-one by the FFI crate.

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Reference data (owned by head office, loaded through `Core::load_reference_data`)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Rep,
    Supervisor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// A rep's territory; a supervisor may leave it empty.
    #[serde(default)]
    pub territory: Option<String>,
    /// The supervisor whose team this rep is on.
    #[serde(default)]
    pub supervisor_id: Option<String>,
}

/// How a geofence miss is treated. Set by head office per store or per template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeofenceMode {
    /// No check at all.
    Off,
    /// Check in anyway, flag the visit (the default).
    Flag,
    /// Refuse the check-in.
    Block,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Store {
    pub id: String,
    pub code: String,
    /// Often Chinese (门店名称).
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub geofence_radius_m: f64,
    pub territory: String,
    /// Overrides the template's geofence mode when set.
    #[serde(default)]
    pub geofence_mode: Option<GeofenceMode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub brand: String,
    /// A competitor's SKU (竞品 SKU) rather than one of ours.
    #[serde(default)]
    pub is_competitor: bool,
    /// Reference shelf price in minor units (fen, cents).
    #[serde(default)]
    pub reference_price_cents: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// A rep's store check (门店巡检) during a visit.
    StoreCheck,
    /// A supervisor's scored inspection of a store.
    Inspection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    YesNo,
    Number,
    Price,
    Choice,
    Text,
    Photo,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::YesNo => "yes_no",
            ItemKind::Number => "number",
            ItemKind::Price => "price",
            ItemKind::Choice => "choice",
            ItemKind::Text => "text",
            ItemKind::Photo => "photo",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub label: String,
    /// Score of this choice in [0, 1].
    #[serde(default)]
    pub score: f64,
}

/// An item is shown only when an earlier item's answer equals `equals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowIf {
    pub item_id: String,
    pub equals: AnswerValue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckItem {
    pub id: String,
    pub label: String,
    pub kind: ItemKind,
    #[serde(default)]
    pub required: bool,
    /// Weight in the section score; 0 means "recorded, not scored".
    #[serde(default)]
    pub weight: f64,
    #[serde(default)]
    pub show_if: Option<ShowIf>,
    /// For price items: the SKU being priced.
    #[serde(default)]
    pub product_id: Option<String>,
    /// For a competitor's price item: the item holding our own price to compare with.
    #[serde(default)]
    pub compare_to_item_id: Option<String>,
    /// For choice items.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// For number items: the value that scores full marks (e.g. facings on the shelf).
    #[serde(default)]
    pub target: Option<f64>,
    /// For photo items: how many photos complete the item (default 1).
    #[serde(default)]
    pub min_photos: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckSection {
    pub id: String,
    pub title: String,
    #[serde(default = "one")]
    pub weight: f64,
    pub items: Vec<CheckItem>,
}

fn one() -> f64 {
    1.0
}

/// Rule parameters head office sets per template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateRules {
    /// Competitor price below own price by more than this fraction needs a negotiation note.
    #[serde(default = "default_price_gap")]
    pub price_gap_threshold: f64,
    #[serde(default)]
    pub geofence_mode: Option<GeofenceMode>,
    /// A fix less accurate than this is flagged `low_accuracy`.
    #[serde(default = "default_max_accuracy")]
    pub max_accuracy_m: f64,
    /// Whether the visit report must be written before the visit can be completed.
    #[serde(default = "yes")]
    pub require_report: bool,
}

fn default_price_gap() -> f64 {
    0.15
}
fn default_max_accuracy() -> f64 {
    100.0
}
fn yes() -> bool {
    true
}

impl Default for TemplateRules {
    fn default() -> Self {
        TemplateRules {
            price_gap_threshold: default_price_gap(),
            geofence_mode: None,
            max_accuracy_m: default_max_accuracy(),
            require_report: true,
        }
    }
}

/// A versioned check form. A published (id, version) never changes; visits pin the version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckTemplate {
    pub id: String,
    pub version: i32,
    pub name: String,
    pub kind: TemplateKind,
    /// The template used for an unplanned visit.
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub rules: TemplateRules,
    pub sections: Vec<CheckSection>,
}

impl CheckTemplate {
    pub fn items(&self) -> impl Iterator<Item = (&CheckSection, &CheckItem)> {
        self.sections
            .iter()
            .flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }

    pub fn item(&self, item_id: &str) -> Option<&CheckItem> {
        self.items().map(|(_, i)| i).find(|i| i.id == item_id)
    }
}

/// One line of a rep's visit plan: who visits which store on which day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedVisit {
    pub id: String,
    pub rep_id: String,
    pub store_id: String,
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    pub template_id: String,
    /// Position in the day's route.
    #[serde(default)]
    pub sequence: i32,
    /// The time window the stop is planned for, local `HH:MM` start and end (both or neither;
    /// start before end). A check-in after the end is late on head office's figures. Absent in
    /// data from before windows existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_end: Option<String>,
}

/// Everything head office sends down in one load. Loaded as a whole or not at all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReferenceData {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub stores: Vec<Store>,
    #[serde(default)]
    pub products: Vec<Product>,
    #[serde(default)]
    pub templates: Vec<CheckTemplate>,
    #[serde(default)]
    pub plans: Vec<PlannedVisit>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadSummary {
    pub users: i32,
    pub stores: i32,
    pub products: i32,
    pub templates: i32,
    pub plans: i32,
}

// ---------------------------------------------------------------------------------------------
// Field records
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationProvider {
    Gps,
    Network,
    Fused,
    /// Also what a provider a newer app names reads as.
    #[serde(other)]
    Unknown,
}

/// A location fix as the phone's location service reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationFix {
    pub latitude: f64,
    pub longitude: f64,
    /// Horizontal accuracy radius in metres (68 % confidence on both platforms).
    pub accuracy_m: f64,
    pub provider: LocationProvider,
    /// Android `Location.isMock()` / iOS `sourceInformation.isSimulatedBySoftware`.
    pub is_mock: bool,
    /// When the fix was taken, Unix milliseconds (device clock).
    pub fix_time_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeofenceVerdict {
    /// Distance minus accuracy within the store's radius.
    Verified,
    Outside,
    NoFix,
    /// Geofence mode is off for this store/template.
    NotChecked,
}

impl GeofenceVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            GeofenceVerdict::Verified => "verified",
            GeofenceVerdict::Outside => "outside",
            GeofenceVerdict::NoFix => "no_fix",
            GeofenceVerdict::NotChecked => "not_checked",
        }
    }
}

/// Reason codes the UI shows next to a visit. The strings are stable: apps and the server match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagCode {
    NoFix,
    OutsideGeofence,
    MockLocation,
    LowAccuracy,
    StaleFix,
    PriceGapUnexplained,
    ClockJump,
    SupervisorFlag,
    /// A photo perceptually too close to a photo of another visit (重复照片).
    PossibleReuse,
}

impl FlagCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagCode::NoFix => "no_fix",
            FlagCode::OutsideGeofence => "outside_geofence",
            FlagCode::MockLocation => "mock_location",
            FlagCode::LowAccuracy => "low_accuracy",
            FlagCode::StaleFix => "stale_fix",
            FlagCode::PriceGapUnexplained => "price_gap_unexplained",
            FlagCode::ClockJump => "clock_jump",
            FlagCode::SupervisorFlag => "supervisor_flag",
            FlagCode::PossibleReuse => "possible_reuse",
        }
    }

    pub fn parse(s: &str) -> Option<FlagCode> {
        ALL_FLAG_CODES.iter().copied().find(|c| c.as_str() == s)
    }
}

pub const ALL_FLAG_CODES: [FlagCode; 9] = [
    FlagCode::NoFix,
    FlagCode::OutsideGeofence,
    FlagCode::MockLocation,
    FlagCode::LowAccuracy,
    FlagCode::StaleFix,
    FlagCode::PriceGapUnexplained,
    FlagCode::ClockJump,
    FlagCode::SupervisorFlag,
    FlagCode::PossibleReuse,
];

/// A rule's finding on a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub code: FlagCode,
    /// The item the flag is about, where there is one (price gaps).
    pub item_id: Option<String>,
    /// Human-readable detail for head office (no personal data).
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    InProgress,
    Completed,
    CheckedOut,
    Cancelled,
}

impl VisitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitStatus::InProgress => "in_progress",
            VisitStatus::Completed => "completed",
            VisitStatus::CheckedOut => "checked_out",
            VisitStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<VisitStatus> {
        [
            VisitStatus::InProgress,
            VisitStatus::Completed,
            VisitStatus::CheckedOut,
            VisitStatus::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Open visits block a new check-in by the same user.
    pub fn is_open(self) -> bool {
        matches!(self, VisitStatus::InProgress | VisitStatus::Completed)
    }
}

/// When something happened, as the device saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTime {
    /// Device wall clock, Unix milliseconds (may be wrong or tampered with).
    pub wall_ms: i64,
    /// Milliseconds since boot, counting deep sleep; cannot be set by the user.
    pub boot_ms: i64,
    /// Hybrid logical clock: orders events even when the wall clock goes backwards.
    pub hlc: i64,
    /// Last known server time minus device time, if the device has ever synced.
    pub server_offset_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub id: String,
    pub kind: TemplateKind,
    pub user_id: String,
    pub store_id: String,
    pub template_id: String,
    pub template_version: i32,
    pub plan_id: Option<String>,
    pub status: VisitStatus,
    pub check_in_time: EventTime,
    pub check_in_fix: Option<LocationFix>,
    pub geofence: GeofenceVerdict,
    /// Distance from the store minus fix accuracy, metres (negative: well inside).
    pub distance_m: Option<f64>,
    /// Open flags on the visit.
    pub flags: Vec<Flag>,
    pub completed_at_ms: Option<i64>,
    pub checked_out_at_ms: Option<i64>,
    pub check_out_fix: Option<LocationFix>,
    /// Total score 0–100, fixed at completion.
    pub score: Option<f64>,
    pub cancel_reason: Option<String>,
}

/// A typed answer. The kind must match the item's kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerValue {
    YesNo {
        value: bool,
    },
    Number {
        value: f64,
    },
    /// Minor units (fen, cents): prices are never floats.
    Price {
        cents: i64,
    },
    Choice {
        choice_id: String,
    },
    Text {
        value: String,
    },
}

impl AnswerValue {
    pub fn kind(&self) -> ItemKind {
        match self {
            AnswerValue::YesNo { .. } => ItemKind::YesNo,
            AnswerValue::Number { .. } => ItemKind::Number,
            AnswerValue::Price { .. } => ItemKind::Price,
            AnswerValue::Choice { .. } => ItemKind::Choice,
            AnswerValue::Text { .. } => ItemKind::Text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub item_id: String,
    pub value: AnswerValue,
    /// Free note on the answer; on a price item it is the negotiation note (议价说明).
    pub note: Option<String>,
    pub answered_at_ms: i64,
    /// How many times the answer was given (1 = never corrected).
    pub revision: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionKind {
    Price,
    Delivery,
    Qualification,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objection {
    pub kind: ObjectionKind,
    pub detail: String,
}

/// The rep's visit report (拜访报告).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitReport {
    pub notes: String,
    pub objections: Vec<Objection>,
    pub next_steps: Vec<String>,
    /// `YYYY-MM-DD`.
    pub follow_up_date: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoKind {
    ShelfOverview,
    CompetitorCloseUp,
    DisplayMeasurement,
    Other,
    /// A paper document: a signed form, a contract (stage evidence of a customer).
    Document,
}

impl PhotoKind {
    /// The kind its stored key names (`shelf_overview`, …); a key this core does not know is
    /// `Other`.
    pub fn from_key(s: &str) -> PhotoKind {
        match s {
            "shelf_overview" => PhotoKind::ShelfOverview,
            "competitor_close_up" => PhotoKind::CompetitorCloseUp,
            "display_measurement" => PhotoKind::DisplayMeasurement,
            "document" => PhotoKind::Document,
            _ => PhotoKind::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    pub id: String,
    pub visit_id: String,
    pub item_id: Option<String>,
    pub kind: PhotoKind,
    /// SHA-256 of the stored file, lowercase hex.
    pub sha256: String,
    pub byte_len: i64,
    /// Absolute path of the file now. The database keeps only the file name, so the photos
    /// survive the app container moving (iOS restores and updates do that).
    pub path: String,
    pub taken_at_ms: i64,
    /// SHA-256 of the camera's JPEG before stamping.
    pub original_sha256: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// 64-bit perceptual hash of the unstamped image, 16 hex characters.
    pub phash: Option<String>,
    /// The code burned into the photo (防伪码), `XXXX-XXXX`.
    pub evidence_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingKind {
    Answer,
    Photo,
    Report,
    /// A photo a supervisor sent back for a retake at this store ([`RetakeRequest`]).
    RetakePhoto,
    /// Stage evidence (`customers`): a `customer.photo` for the requirement `item_id` names.
    EvidencePhoto,
    /// Stage evidence: a follow-up of the requirement's channel and outcome since entering the
    /// current stage.
    EvidenceFollowUp,
    /// Stage evidence: a customer field to fill in.
    EvidenceField,
    /// The move needs a reason (going back, or to `lost`).
    Reason,
}

/// What still keeps a visit from being completed ("the next step stays locked").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingItem {
    pub kind: MissingKind,
    /// The check item; `None` for the report (and for a retake of a photo of no item).
    pub item_id: Option<String>,
    /// The item's label; for a retake, the supervisor's reason.
    pub label: String,
    /// For [`MissingKind::RetakePhoto`]: the request to pass as
    /// `CaptureRequest::retake_request_id`.
    #[serde(default)]
    pub retake_request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionScore {
    pub section_id: String,
    pub title: String,
    /// 0–100, or `None` when the section has nothing scored.
    pub score: Option<f64>,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub total: Option<f64>,
    pub sections: Vec<SectionScore>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewVerdict {
    Accept,
    Flag,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub id: String,
    pub visit_id: String,
    pub reviewer_id: String,
    pub verdict: ReviewVerdict,
    pub comment: String,
    pub reviewed_at_ms: i64,
}

/// Everything about one visit, for the visit screen and the supervisor.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitDetail {
    pub visit: Visit,
    pub store: Store,
    pub template: CheckTemplate,
    pub answers: Vec<Answer>,
    /// Items currently hidden by show-if conditions.
    pub hidden_item_ids: Vec<String>,
    pub photos: Vec<Photo>,
    pub report: Option<VisitReport>,
    pub score: Score,
    pub missing: Vec<MissingItem>,
    pub reviews: Vec<Review>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    NotStarted,
    InProgress,
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DayPlanEntry {
    pub plan_id: String,
    pub sequence: i32,
    /// The plan's time window, local `HH:MM`, when it has one.
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    pub store: Store,
    pub template_id: String,
    pub status: PlanStatus,
    pub visit_id: Option<String>,
    /// Retakes this rep still owes at this store (open or overdue): each is a required photo of
    /// the store's next visit.
    pub retakes: Vec<RetakeRequest>,
    /// Follow-ups due on or before the day with the rep's customers linked to this store
    /// (`NewCustomer::store_id`): the visit is the moment for them.
    pub follow_ups_due: Vec<crate::customer_flow::DueFollowUp>,
}

/// A supervisor's decision on one photo (照片审核).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoReviewVerdict {
    Approve,
    /// Not acceptable; the reason says why. Nothing more is asked of the rep.
    Reject,
    /// The rep must take the photo again at the store's next visit (重拍).
    Retake,
}

impl PhotoReviewVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoReviewVerdict::Approve => "approve",
            PhotoReviewVerdict::Reject => "reject",
            PhotoReviewVerdict::Retake => "retake",
        }
    }

    pub fn parse(s: &str) -> Option<PhotoReviewVerdict> {
        [
            PhotoReviewVerdict::Approve,
            PhotoReviewVerdict::Reject,
            PhotoReviewVerdict::Retake,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A photo review made on this phone (a supervisor's), as recorded in its outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoReview {
    pub id: String,
    pub photo_id: String,
    pub visit_id: String,
    pub reviewer_id: String,
    pub verdict: PhotoReviewVerdict,
    /// Required for `reject` and `retake`.
    pub reason: Option<String>,
    pub reviewed_at_ms: i64,
}

/// Where a retake request stands, as this phone knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetakeState {
    /// Waiting for the new photo; its due day has not passed.
    Open,
    /// Still waiting and past its due day.
    Overdue,
    /// The new photo is taken (on this phone, or the server says it arrived).
    Done,
    /// The supervisor withdrew it (a later decision on the photo).
    Cancelled,
}

/// A supervisor asked for a photo to be taken again (重拍要求), pulled from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct RetakeRequest {
    pub id: String,
    /// The photo to replace, and its visit.
    pub photo_id: String,
    pub visit_id: String,
    pub store_id: String,
    pub rep_id: String,
    pub photo_kind: PhotoKind,
    /// The check item of the photo to replace, if it had one.
    pub item_id: Option<String>,
    pub reason: String,
    /// Who asked, by name.
    pub requested_by: String,
    pub requested_at_ms: i64,
    /// Store-local `YYYY-MM-DD`: the rep's next planned visit of the store, or 3 days on.
    pub due_date: String,
    pub state: RetakeState,
    /// The new photo: the one taken on this phone, or the one the server linked.
    pub new_photo_id: Option<String>,
}

/// An open flag anywhere, for the exceptions list (异常).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenException {
    pub visit_id: String,
    pub store_id: String,
    pub user_id: String,
    pub flag: Flag,
    pub raised_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VisitSummary {
    pub visit_id: String,
    pub kind: TemplateKind,
    pub user_id: String,
    pub status: VisitStatus,
    pub checked_in_at_ms: i64,
    pub geofence: GeofenceVerdict,
    pub score: Option<f64>,
    /// Codes of the visit's open flags.
    pub flag_codes: Vec<FlagCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting to be sent.
    Pending,
    /// The server refused it; kept for the user to see, never silently dropped.
    Rejected,
    /// The server has it.
    Acknowledged,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Rejected => "rejected",
            OutboxState::Acknowledged => "acknowledged",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxState> {
        [
            OutboxState::Pending,
            OutboxState::Rejected,
            OutboxState::Acknowledged,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// One user action waiting to reach the server.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxOp {
    /// Per-device sequence number: contiguous from 1, never reused.
    pub seq: i64,
    pub op_id: String,
    /// e.g. `visit.check_in`, `visit.answer`.
    pub kind: String,
    pub entity_id: String,
    /// An op that must reach the server first (a photo before the record that needs it).
    pub depends_on: Option<String>,
    pub time: EventTime,
    /// Canonical JSON of the action.
    pub payload_json: String,
    pub state: OutboxState,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// The signed chain entry (canonical JSON): what the signature covers. `None` only for ops
    /// written before the database had signed evidence.
    pub entry: Option<String>,
    /// SHA-256 of `entry`, lowercase hex: the next entry's `prev_hash`.
    pub entry_hash: Option<String>,
    /// Ed25519 signature over `entry`, lowercase hex.
    pub signature_hex: Option<String>,
}
