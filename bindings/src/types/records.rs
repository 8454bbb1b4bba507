//! Field records: visits, answers, photos, reports, reviews, retakes, and what the visit screen shows.
//!
//! uniffi remote types: the core's own structs described field by field, so a core change that
//! is not mirrored here fails to compile.

use fieldproof_core::{
    Answer, AnswerOutcome, AnswerValue, CheckInRequest, CheckTemplate, DayPlanEntry, DueFollowUp, EventTime,
    Flag, FlagCode, GeofenceVerdict, LocationFix, LocationProvider, MissingItem, MissingKind, Objection,
    ObjectionKind, OpenException, Photo, PhotoKind, PhotoReview, PhotoReviewVerdict, PlanStatus,
    RetakeRequest, RetakeState, Review, ReviewVerdict, Score, SectionScore, Store, TemplateKind, Visit,
    VisitDetail, VisitReport, VisitStatus, VisitSummary,
};

/// Which location provider produced a fix.
#[uniffi::remote(Enum)]
pub enum LocationProvider {
    Gps,
    Network,
    Fused,
    Unknown,
}

/// A location fix as the phone's location service reports it.
#[uniffi::remote(Record)]
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

/// The outcome of the geofence check at check-in.
#[uniffi::remote(Enum)]
pub enum GeofenceVerdict {
    /// Distance minus accuracy within the store's radius.
    Verified,
    Outside,
    NoFix,
    /// Geofence mode is off for this store/template.
    NotChecked,
}

/// Reason codes the UI shows next to a visit. Stable: apps and the server match on them.
#[uniffi::remote(Enum)]
pub enum FlagCode {
    NoFix,
    OutsideGeofence,
    MockLocation,
    LowAccuracy,
    StaleFix,
    PriceGapUnexplained,
    ClockJump,
    SupervisorFlag,
    PossibleReuse,
}

/// A rule's finding on a visit.
#[uniffi::remote(Record)]
pub struct Flag {
    pub code: FlagCode,
    /// The item the flag is about, where there is one (price gaps).
    pub item_id: Option<String>,
    /// Human-readable detail for head office (no personal data).
    pub detail: String,
}

/// Where a visit is in its flow.
#[uniffi::remote(Enum)]
pub enum VisitStatus {
    InProgress,
    Completed,
    CheckedOut,
    Cancelled,
}

/// When something happened, as the device saw it.
#[uniffi::remote(Record)]
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

/// A store visit (a rep's store check or a supervisor's inspection).
#[uniffi::remote(Record)]
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

/// A typed answer. The kind must match the item's kind (`wrong_value_kind` otherwise).
#[uniffi::remote(Enum)]
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

/// The current answer to one item.
#[uniffi::remote(Record)]
pub struct Answer {
    pub item_id: String,
    pub value: AnswerValue,
    /// Free note on the answer; on a price item it is the negotiation note (议价说明).
    pub note: Option<String>,
    pub answered_at_ms: i64,
    /// How many times the answer was given (1 = never corrected).
    pub revision: i32,
}

/// What a customer objected to.
#[uniffi::remote(Enum)]
pub enum ObjectionKind {
    Price,
    Delivery,
    Qualification,
    Other,
}

/// One objection in a visit report.
#[uniffi::remote(Record)]
pub struct Objection {
    pub kind: ObjectionKind,
    pub detail: String,
}

/// The rep's visit report (拜访报告).
#[uniffi::remote(Record)]
pub struct VisitReport {
    pub notes: String,
    #[uniffi(default)]
    pub objections: Vec<Objection>,
    #[uniffi(default)]
    pub next_steps: Vec<String>,
    /// `YYYY-MM-DD`.
    #[uniffi(default)]
    pub follow_up_date: Option<String>,
}

/// What a photo shows.
#[uniffi::remote(Enum)]
pub enum PhotoKind {
    ShelfOverview,
    CompetitorCloseUp,
    DisplayMeasurement,
    Other,
    /// A paper document: a signed form, a contract (a customer's stage evidence).
    Document,
}

/// A stored photo.
#[uniffi::remote(Record)]
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

/// What kind of thing is missing before a visit can be completed.
#[uniffi::remote(Enum)]
pub enum MissingKind {
    Answer,
    Photo,
    Report,
    /// A retake a supervisor asked for at this store: capture with `retake_request_id`.
    RetakePhoto,
    /// Stage evidence: a customer photo for the requirement `item_id` names.
    EvidencePhoto,
    /// Stage evidence: a follow-up of the requirement's channel and outcome.
    EvidenceFollowUp,
    /// Stage evidence: a customer field to fill in.
    EvidenceField,
    /// The stage move needs a reason.
    Reason,
}

/// What still keeps a visit from being completed ("the next step stays locked").
#[uniffi::remote(Record)]
pub struct MissingItem {
    pub kind: MissingKind,
    /// The check item; `None` for the report.
    pub item_id: Option<String>,
    /// The item's label; for a retake, the supervisor's reason.
    pub label: String,
    /// For `RetakePhoto`: pass it as `CaptureRequest.retake_request_id`.
    #[uniffi(default)]
    pub retake_request_id: Option<String>,
}

/// One section's score.
#[uniffi::remote(Record)]
pub struct SectionScore {
    pub section_id: String,
    pub title: String,
    /// 0–100, or null when the section has nothing scored.
    pub score: Option<f64>,
    pub weight: f64,
}

/// A visit's weighted score.
#[uniffi::remote(Record)]
pub struct Score {
    /// 0–100, or null when nothing is scored.
    pub total: Option<f64>,
    pub sections: Vec<SectionScore>,
}

/// A supervisor's verdict on a visit.
#[uniffi::remote(Enum)]
pub enum ReviewVerdict {
    Accept,
    Flag,
}

/// A supervisor's review of a visit.
#[uniffi::remote(Record)]
pub struct Review {
    pub id: String,
    pub visit_id: String,
    pub reviewer_id: String,
    pub verdict: ReviewVerdict,
    pub comment: String,
    pub reviewed_at_ms: i64,
}

/// Everything about one visit, for the visit screen and the supervisor.
#[uniffi::remote(Record)]
pub struct VisitDetail {
    pub visit: Visit,
    pub store: Store,
    pub template: CheckTemplate,
    /// In template order.
    pub answers: Vec<Answer>,
    /// Items currently hidden by show-if conditions.
    pub hidden_item_ids: Vec<String>,
    pub photos: Vec<Photo>,
    pub report: Option<VisitReport>,
    pub score: Score,
    /// Empty once the visit is no longer in progress.
    pub missing: Vec<MissingItem>,
    pub reviews: Vec<Review>,
}

/// A day-plan stop's status.
#[uniffi::remote(Enum)]
pub enum PlanStatus {
    NotStarted,
    InProgress,
    Completed,
    Cancelled,
}

/// One stop of a rep's day plan.
#[uniffi::remote(Record)]
pub struct DayPlanEntry {
    pub plan_id: String,
    pub sequence: i32,
    /// The plan's time window, local `HH:MM`, when it has one.
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    pub store: Store,
    pub template_id: String,
    pub status: PlanStatus,
    /// The latest visit for this stop, if any.
    pub visit_id: Option<String>,
    /// Retakes the rep owes at this store (open or overdue): required photos of its next visit.
    pub retakes: Vec<RetakeRequest>,
    /// Follow-ups due with the rep's customers linked to this store.
    pub follow_ups_due: Vec<DueFollowUp>,
}

/// A supervisor's decision on one photo.
#[uniffi::remote(Enum)]
pub enum PhotoReviewVerdict {
    Approve,
    Reject,
    Retake,
}

/// A photo review made on this phone.
#[uniffi::remote(Record)]
pub struct PhotoReview {
    pub id: String,
    pub photo_id: String,
    pub visit_id: String,
    pub reviewer_id: String,
    pub verdict: PhotoReviewVerdict,
    pub reason: Option<String>,
    pub reviewed_at_ms: i64,
}

/// Where a retake request stands.
#[uniffi::remote(Enum)]
pub enum RetakeState {
    Open,
    Overdue,
    Done,
    Cancelled,
}

/// A supervisor asked for a photo to be taken again (重拍要求).
#[uniffi::remote(Record)]
pub struct RetakeRequest {
    pub id: String,
    pub photo_id: String,
    pub visit_id: String,
    pub store_id: String,
    pub rep_id: String,
    pub photo_kind: PhotoKind,
    pub item_id: Option<String>,
    pub reason: String,
    pub requested_by: String,
    pub requested_at_ms: i64,
    /// Store-local `YYYY-MM-DD`.
    pub due_date: String,
    pub state: RetakeState,
    /// The new photo (taken here, or linked by the server).
    pub new_photo_id: Option<String>,
}

/// An open flag anywhere, for the exceptions list (异常).
#[uniffi::remote(Record)]
pub struct OpenException {
    pub visit_id: String,
    pub store_id: String,
    pub user_id: String,
    pub flag: Flag,
    pub raised_at_ms: i64,
}

/// One line of a store's visit history.
#[uniffi::remote(Record)]
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

/// What the visit screen needs after an answer.
#[uniffi::remote(Record)]
pub struct AnswerOutcome {
    /// What still keeps the visit from completion.
    pub missing: Vec<MissingItem>,
    /// Items hidden by show-if conditions.
    pub hidden_item_ids: Vec<String>,
    /// The visit's open flags.
    pub flags: Vec<Flag>,
}

/// A check-in.
#[uniffi::remote(Record)]
pub struct CheckInRequest {
    pub user_id: String,
    pub store_id: String,
    /// The plan line being visited, if any.
    #[uniffi(default)]
    pub plan_id: Option<String>,
    /// Overrides the plan's or the default template.
    #[uniffi(default)]
    pub template_id: Option<String>,
    /// Null when the phone has no fix (flagged `no_fix`; refused in block mode).
    #[uniffi(default)]
    pub fix: Option<LocationFix>,
}
