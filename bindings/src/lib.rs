//! fieldproof-ffi: the thin uniffi facade the Android and iOS apps call.
//!
//! No business logic lives here. The core's model types cross the boundary as uniffi *remote
//! types* (the mirrors below list exactly the fields of the core types, so a core change that is
//! not mirrored fails to compile), every core error becomes one [`FieldproofError`] in
//! [`From<fieldproof_core::Error>`], and [`FieldproofCore`] forwards each public `Core` method.

use std::sync::Arc;

use fieldproof_core::evidence::{ChainFinding, ChainHead, KnownKey, PhotoVerdict, SignedEntry, VerifyCode};
use fieldproof_core::{
    Answer, AnswerOutcome, AnswerValue, AuditReport, CheckInRequest, CheckItem, CheckSection, CheckTemplate,
    Choice, DayPlanEntry, EventTime, Flag, FlagCode, GeofenceMode, GeofenceVerdict, ItemKind, LoadSummary,
    LocationFix, LocationProvider, MissingItem, MissingKind, Objection, ObjectionKind, OpenException,
    OutboxOp, OutboxState, OutboxSummary, Photo, PhotoKind, PhotoReview, PhotoReviewVerdict, PlanStatus,
    PlannedVisit, Product, ReferenceData, RejectedOp, RetakeRequest, RetakeState, Review, ReviewVerdict,
    Role, Score, SectionScore, ServerException, ShowIf, Store, SyncOptions, SyncReport, SyncState, TeamVisit,
    TeamVisitPhoto, TemplateKind, TemplateRules, User, Visit, VisitDetail, VisitReport, VisitStatus,
    VisitSummary,
};
use fieldproof_core::{CaptureOutcome, CaptureRequest, PhotoEvidence};

uniffi::setup_scaffolding!();

mod key_sealer;
pub use key_sealer::{KeySealer, KeySealerError};

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The one error the apps see. `code` is the core's stable reason code (`wrong_value_kind`,
/// `unknown_visit`, `completion_locked`, `visit_already_open`, `database_corrupt`, …): match on
/// it. `detail` is for logs and developers, never for parsing or for showing as is.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldproofError {
    /// The input was refused before anything was written (bad fix, wrong answer kind, hidden
    /// item, empty text, bad reference data…).
    #[error("{code}: {detail}")]
    InvalidInput { code: String, detail: String },
    /// An id that does not exist (`unknown_user`, `unknown_store`, `unknown_visit`,
    /// `unknown_item`, `unknown_template`, `unknown_plan`, `unknown_choice`).
    #[error("{code}: {detail}")]
    NotFound { code: String, detail: String },
    /// The visit flow refused the action (`visit_already_open`, `completion_locked`,
    /// `outside_geofence`, `not_allowed`…). Nothing was written. `missing` lists what keeps a
    /// visit from completion for `completion_locked` and is empty otherwise.
    #[error("{code}: {detail}")]
    Refused {
        code: String,
        detail: String,
        missing: Vec<MissingItem>,
    },
    /// The database or the file system failed (`database_corrupt`, `database_too_new`,
    /// `storage`, `io`, `internal`), or the device key could not be opened: `key_sealer_required`
    /// (the key is sealed and no sealer was given), `key_unseal_failed`, `key_seal_failed`.
    #[error("{code}: {detail}")]
    Storage { code: String, detail: String },
    /// Enrolment or sync did not finish: `not_enrolled`, `sync_in_progress`, `network` (retries
    /// exhausted: try later), `sync_protocol`, or the server's refusal (`device_revoked`,
    /// `unknown_device`, `stale_request`, `replayed_request`, `device_already_enrolled`,
    /// `invalid_enrol_code`, ...; `server_refused` for a code this version does not know).
    /// What finished before the error stays done; nothing is lost.
    #[error("{code}: {detail}")]
    Sync { code: String, detail: String },
}

impl From<fieldproof_core::Error> for FieldproofError {
    fn from(e: fieldproof_core::Error) -> Self {
        use fieldproof_core::Error as E;
        let code = e.code().to_string();
        let detail = e.to_string();
        match e {
            E::InvalidLocation(_)
            | E::WrongValueKind { .. }
            | E::InvalidAnswer { .. }
            | E::ItemHidden { .. }
            | E::InvalidInput(_)
            | E::BadReferenceData { .. }
            | E::ReasonRequired { .. }
            | E::Image(_) => FieldproofError::InvalidInput { code, detail },
            E::NotFound { .. } => FieldproofError::NotFound { code, detail },
            E::CompletionLocked { missing, .. } => FieldproofError::Refused {
                code,
                detail,
                missing,
            },
            E::VisitAlreadyOpen { .. }
            | E::VisitNotEditable { .. }
            | E::NotCompleted { .. }
            | E::OutsideGeofence { .. }
            | E::FixRequired
            | E::NotAllowed(_)
            | E::NoTemplate(_)
            | E::RetakeNotOpen { .. }
            | E::RetakeNotForVisit { .. }
            | E::PhotoNotInTeam { .. } => FieldproofError::Refused {
                code,
                detail,
                missing: Vec::new(),
            },
            E::DatabaseTooNew { .. }
            | E::DatabaseCorrupt { .. }
            | E::Storage(_)
            | E::Io(_)
            | E::Internal(_)
            | E::KeySealerRequired
            | E::KeySealFailed(_)
            | E::KeyUnsealFailed(_) => FieldproofError::Storage { code, detail },
            E::NotEnrolled
            | E::SyncInProgress
            | E::Network { .. }
            | E::ServerRefused { .. }
            | E::SyncProtocol(_) => FieldproofError::Sync { code, detail },
        }
    }
}

type Result<T, E = FieldproofError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------------
// The core
// ---------------------------------------------------------------------------------------------

/// One core per phone database. Every action is one SQLite transaction that writes its rows, its
/// outbox operation and its flags together; a refused action writes nothing. Safe to call from
/// any thread; calls are serialised inside. Calls do disk I/O: keep them off the UI thread.
#[derive(Debug, uniffi::Object)]
pub struct FieldproofCore {
    inner: fieldproof_core::Core,
}

#[uniffi::export]
impl FieldproofCore {
    /// Open (create, migrate) the database file at `path`. Photos are kept in `<path>.photos/`.
    /// With a `sealer` the device's signing key is kept sealed by the platform keystore (see
    /// [`KeySealer`]; a database holding a plain key is sealed now); without one it is stored as
    /// is. A sealed database opened without its sealer fails with `key_sealer_required`, a sealer
    /// that fails or returns another key with `key_unseal_failed` (`key_seal_failed` when sealing
    /// fails); nothing is written then.
    #[uniffi::constructor(default(sealer = None))]
    pub fn open(path: String, sealer: Option<Arc<dyn KeySealer>>) -> Result<Arc<Self>> {
        let options = fieldproof_core::CoreOptions {
            sealer: key_sealer::AppSealer::for_core(sealer),
            ..fieldproof_core::CoreOptions::default()
        };
        Ok(Arc::new(FieldproofCore {
            inner: fieldproof_core::Core::open_with(Some(std::path::Path::new(&path)), options)?,
        }))
    }

    /// Open a fresh in-memory database (tests, previews). Photos go to a new temporary folder,
    /// removed when the core is dropped.
    #[uniffi::constructor]
    pub fn open_in_memory() -> Result<Arc<Self>> {
        Ok(Arc::new(FieldproofCore {
            inner: fieldproof_core::Core::open_in_memory()?,
        }))
    }

    /// This installation's id, made on first open.
    pub fn device_id(&self) -> String {
        self.inner.device_id().to_string()
    }

    /// The device's Ed25519 public key (64 hex characters), for enrolment. The private key never
    /// leaves the device database.
    pub fn device_public_key(&self) -> String {
        self.inner.device_public_key()
    }

    /// The folder photo files are written to.
    pub fn photo_dir(&self) -> String {
        self.inner.photo_dir().to_string_lossy().into_owned()
    }

    /// Load head-office reference data. Validated as a whole; nothing is written if any record is bad.
    pub fn load_reference_data(&self, data: ReferenceData) -> Result<LoadSummary> {
        Ok(self.inner.load_reference_data(&data)?)
    }

    /// The same from the JSON document the server sends.
    pub fn load_reference_json(&self, json: String) -> Result<LoadSummary> {
        Ok(self.inner.load_reference_json(&json)?)
    }

    /// Remember the server's clock (every sync response carries it, Unix ms) for later clock checks.
    pub fn record_server_time(&self, server_wall_ms: i64) -> Result<()> {
        Ok(self.inner.record_server_time(server_wall_ms)?)
    }

    /// A rep's plan for one local date (`YYYY-MM-DD`), in route order, with each stop's status.
    pub fn day_plan(&self, rep_id: String, date: String) -> Result<Vec<DayPlanEntry>> {
        Ok(self.inner.day_plan(&rep_id, &date)?)
    }

    /// Stores in a territory (all stores when `territory` is null), by code.
    pub fn stores(&self, territory: Option<String>) -> Result<Vec<Store>> {
        Ok(self.inner.stores(territory.as_deref())?)
    }

    /// Check in at a store: resolves the template (explicit, the plan's, or the default), runs the
    /// location rules, and opens the visit. Refused (`visit_already_open`) when the user already
    /// has an open visit, and (`outside_geofence`, `no_fix`) when the geofence is in block mode
    /// and the fix is outside or missing.
    pub fn check_in(&self, request: CheckInRequest) -> Result<Visit> {
        Ok(self.inner.check_in(&request)?)
    }

    /// Answer (or correct) one item. Returns what is still missing, which items are hidden and
    /// the visit's open flags (a price gap shows at once).
    pub fn answer(
        &self,
        visit_id: String,
        item_id: String,
        value: AnswerValue,
        note: Option<String>,
    ) -> Result<AnswerOutcome> {
        Ok(self.inner.answer(&visit_id, &item_id, &value, note.as_deref())?)
    }

    /// Capture a shelf photo from the camera's JPEG bytes: orient, downscale, burn the
    /// watermark, encode, hash, sign, store, chain. Flags reuse of a photo from another visit.
    pub fn capture_photo(&self, request: CaptureRequest, jpeg: Vec<u8>) -> Result<CaptureOutcome> {
        Ok(self.inner.capture_photo(&request, &jpeg)?)
    }

    /// The same from a JPEG file the camera wrote (read with the size limit).
    pub fn capture_photo_file(&self, request: CaptureRequest, path: String) -> Result<CaptureOutcome> {
        Ok(self
            .inner
            .capture_photo_file(&request, std::path::Path::new(&path))?)
    }

    /// Use this CJK font file (TTF/OTF/TTC) for the watermark, so Chinese store and rep names
    /// render. `face` picks a face of a collection: Android's
    /// `/system/fonts/NotoSansCJK-Regular.ttc` has Simplified Chinese at face 2. Without a CJK
    /// font such names are left off the watermark, never drawn as boxes.
    pub fn set_cjk_font_file(&self, path: String, face: u32) -> Result<()> {
        Ok(self.inner.set_cjk_font_file(std::path::Path::new(&path), face)?)
    }

    /// Long-edge limit for stored photos in pixels (`None`: full size). Default 2048.
    pub fn set_photo_max_long_edge(&self, max_long_edge: Option<u32>) {
        self.inner.set_photo_max_long_edge(max_long_edge)
    }

    /// A photo's evidence for export or a verifier: file path, signed manifest, signature, key.
    pub fn photo_evidence(&self, photo_id: String) -> Result<PhotoEvidence> {
        Ok(self.inner.photo_evidence(&photo_id)?)
    }

    /// Verify one of this device's photos: the file as it is now against its signed manifest.
    pub fn verify_photo(&self, photo_id: String) -> Result<PhotoVerdict> {
        Ok(self.inner.verify_photo(&photo_id)?)
    }

    /// Save (or revise) the visit report. The latest revision is the report; all are kept.
    pub fn save_report(&self, visit_id: String, report: VisitReport) -> Result<()> {
        Ok(self.inner.save_report(&visit_id, &report)?)
    }

    /// Complete the store check and fix its score. Refused with `completion_locked`, carrying the
    /// exact `missing` list, while a required answer, photo or the report is missing.
    pub fn complete_visit(&self, visit_id: String) -> Result<Visit> {
        Ok(self.inner.complete_visit(&visit_id)?)
    }

    /// Leave the store. Only a completed visit can be checked out (`visit_not_completed`
    /// otherwise); an unfinished one is cancelled instead.
    pub fn check_out(&self, visit_id: String, fix: Option<LocationFix>) -> Result<Visit> {
        Ok(self.inner.check_out(&visit_id, fix.as_ref())?)
    }

    /// Abandon a visit (store closed, manager absent…). The reason is required.
    pub fn cancel_visit(&self, visit_id: String, reason: String) -> Result<Visit> {
        Ok(self.inner.cancel_visit(&visit_id, &reason)?)
    }

    /// A supervisor accepts or flags a rep's finished visit. Flagging needs a comment and raises
    /// `supervisor_flag`; a later acceptance clears it. Only the rep's own supervisor may review
    /// (`not_allowed` otherwise).
    pub fn review_visit(
        &self,
        reviewer_id: String,
        visit_id: String,
        verdict: ReviewVerdict,
        comment: String,
    ) -> Result<Review> {
        Ok(self
            .inner
            .review_visit(&reviewer_id, &visit_id, verdict, &comment)?)
    }

    /// The rep's retake requests (newest first), each with its state on `date` (local
    /// `YYYY-MM-DD`): open, overdue (open past its due day), done (photo taken here or received
    /// by the server) or cancelled. The day plan lists the ones owed at each stop.
    pub fn retake_requests(&self, rep_id: String, date: String) -> Result<Vec<RetakeRequest>> {
        Ok(self.inner.retake_requests(&rep_id, &date)?)
    }

    /// A supervisor's decision on a team photo (from `team_visits`): approve, reject with a
    /// reason, or ask the rep for a retake with a reason. One signed op; the server applies it
    /// and sends the retake down to the rep. Refused here with `unknown_photo`,
    /// `photo_not_in_team`, `reason_required`.
    pub fn review_photo(
        &self,
        reviewer_id: String,
        photo_id: String,
        verdict: PhotoReviewVerdict,
        reason: Option<String>,
    ) -> Result<PhotoReview> {
        Ok(self
            .inner
            .review_photo(&reviewer_id, &photo_id, verdict, reason.as_deref())?)
    }

    /// One visit with its open flags.
    pub fn visit(&self, visit_id: String) -> Result<Visit> {
        Ok(self.inner.visit(&visit_id)?)
    }

    /// The user's open visit (in progress or completed, not yet checked out), if any.
    pub fn open_visit(&self, user_id: String) -> Result<Option<Visit>> {
        Ok(self.inner.open_visit(&user_id)?)
    }

    /// Everything about one visit, for the visit screen and the supervisor.
    pub fn visit_detail(&self, visit_id: String) -> Result<VisitDetail> {
        Ok(self.inner.visit_detail(&visit_id)?)
    }

    /// Past and current visits at a store, newest first.
    pub fn store_history(&self, store_id: String, limit: u32) -> Result<Vec<VisitSummary>> {
        Ok(self.inner.store_history(&store_id, limit)?)
    }

    /// Every open flag on this device, newest first (异常).
    pub fn open_exceptions(&self, limit: u32) -> Result<Vec<OpenException>> {
        Ok(self.inner.open_exceptions(limit)?)
    }

    /// Operations waiting for the server, oldest first.
    pub fn pending_ops(&self, limit: u32) -> Result<Vec<OutboxOp>> {
        Ok(self.inner.pending_ops(limit)?)
    }

    /// Counts of outbox operations by state, and the last sequence number handed out.
    pub fn outbox_summary(&self) -> Result<OutboxSummary> {
        Ok(self.inner.outbox_summary()?)
    }

    /// SQLite's full consistency check of the database file: `["ok"]` when healthy.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        Ok(self.inner.integrity_check()?)
    }

    /// Rows per table, by table name: for diagnostics screens, and for tests that prove a refused
    /// action wrote nothing.
    pub fn table_row_counts(&self) -> Result<Vec<TableRowCount>> {
        Ok(self
            .inner
            .table_row_counts()?
            .into_iter()
            .map(|(table, rows)| TableRowCount { table, rows })
            .collect())
    }

    /// Check the invariants that make "nothing is lost" provable: contiguous outbox sequence,
    /// every action's rows with its operation and every operation with its rows. Clean when
    /// `problems` is empty.
    pub fn audit(&self) -> Result<AuditReport> {
        Ok(self.inner.audit()?)
    }

    /// Whether this device is enrolled, as whom, with which server, and how far sync got.
    pub fn sync_state(&self) -> Result<SyncState> {
        Ok(self.inner.sync_state()?)
    }

    /// Operations the server refused for good, oldest first, with the reason. Never resent; the
    /// app shows them.
    pub fn rejected_ops(&self) -> Result<Vec<RejectedOp>> {
        Ok(self.inner.rejected_ops()?)
    }

    /// A supervisor's read-only mirror of the team's visits (filled by sync), newest first;
    /// `rep_id` narrows it to one rep.
    pub fn team_visits(&self, rep_id: Option<String>, limit: u32) -> Result<Vec<TeamVisit>> {
        Ok(self.inner.team_visits(rep_id.as_deref(), limit)?)
    }

    /// The sync client's retry and size settings.
    pub fn sync_options(&self) -> SyncOptions {
        self.inner.sync_options()
    }

    /// Change the sync client's settings (`invalid_input` when out of range).
    pub fn set_sync_options(&self, options: SyncOptions) -> Result<()> {
        Ok(self.inner.set_sync_options(options)?)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl FieldproofCore {
    /// Enrol this device with the server at `server_url` (https; plain http only to a loopback
    /// address) using head office's one-time code. Returns the user the device now acts for.
    pub async fn enrol(&self, server_url: String, code: String) -> Result<User> {
        Ok(self.inner.enrol(&server_url, &code).await?)
    }

    /// Push every pending operation (photos first), then pull this user's changes. A second call
    /// while one runs fails at once with `sync_in_progress`. Cancelling is safe: what was
    /// answered is kept, the rest is sent again next time (and comes back as duplicates).
    pub async fn sync(&self) -> Result<SyncReport> {
        Ok(self.inner.sync().await?)
    }
}

/// One table's row count. An FFI-side record: the core returns `(String, i64)` tuples, which
/// uniffi cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TableRowCount {
    pub table: String,
    pub rows: i64,
}

// ---------------------------------------------------------------------------------------------
// Reference data (remote types: the core's own structs, described to uniffi)
// ---------------------------------------------------------------------------------------------

/// A user's role.
#[uniffi::remote(Enum)]
pub enum Role {
    Rep,
    Supervisor,
}

/// A rep or a supervisor.
#[uniffi::remote(Record)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// A rep's territory; a supervisor may leave it empty.
    #[uniffi(default)]
    pub territory: Option<String>,
    /// The supervisor whose team this rep is on.
    #[uniffi(default)]
    pub supervisor_id: Option<String>,
}

/// How a geofence miss is treated. Set by head office per store or per template.
#[uniffi::remote(Enum)]
pub enum GeofenceMode {
    /// No check at all.
    Off,
    /// Check in anyway, flag the visit (the default).
    Flag,
    /// Refuse the check-in.
    Block,
}

/// A store (门店).
#[uniffi::remote(Record)]
pub struct Store {
    pub id: String,
    pub code: String,
    /// Often Chinese (门店名称).
    pub name: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub geofence_radius_m: f64,
    pub territory: String,
    /// Overrides the template's geofence mode when set.
    #[uniffi(default)]
    pub geofence_mode: Option<GeofenceMode>,
}

/// A SKU, ours or a competitor's.
#[uniffi::remote(Record)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub brand: String,
    /// A competitor's SKU (竞品 SKU) rather than one of ours.
    #[uniffi(default)]
    pub is_competitor: bool,
    /// Reference shelf price in minor units (fen, cents).
    #[uniffi(default)]
    pub reference_price_cents: Option<i64>,
}

/// What a check template is for.
#[uniffi::remote(Enum)]
pub enum TemplateKind {
    /// A rep's store check (门店巡检) during a visit.
    StoreCheck,
    /// A supervisor's scored inspection of a store.
    Inspection,
}

/// The kind of a check item; an answer's kind must match it.
#[uniffi::remote(Enum)]
pub enum ItemKind {
    YesNo,
    Number,
    Price,
    Choice,
    Text,
    Photo,
}

/// One option of a choice item.
#[uniffi::remote(Record)]
pub struct Choice {
    pub id: String,
    pub label: String,
    /// Score of this choice in [0, 1].
    pub score: f64,
}

/// An item is shown only when an earlier item's answer equals `equals`.
#[uniffi::remote(Record)]
pub struct ShowIf {
    pub item_id: String,
    pub equals: AnswerValue,
}

/// One question of a check template.
#[uniffi::remote(Record)]
pub struct CheckItem {
    pub id: String,
    pub label: String,
    pub kind: ItemKind,
    pub required: bool,
    /// Weight in the section score; 0 means "recorded, not scored".
    pub weight: f64,
    #[uniffi(default)]
    pub show_if: Option<ShowIf>,
    /// For price items: the SKU being priced.
    #[uniffi(default)]
    pub product_id: Option<String>,
    /// For a competitor's price item: the item holding our own price to compare with.
    #[uniffi(default)]
    pub compare_to_item_id: Option<String>,
    /// For choice items.
    #[uniffi(default)]
    pub choices: Vec<Choice>,
    /// For number items: the value that scores full marks (e.g. facings on the shelf).
    #[uniffi(default)]
    pub target: Option<f64>,
    /// For photo items: how many photos complete the item (default 1).
    #[uniffi(default)]
    pub min_photos: Option<u32>,
}

/// A weighted section of a check template.
#[uniffi::remote(Record)]
pub struct CheckSection {
    pub id: String,
    pub title: String,
    pub weight: f64,
    pub items: Vec<CheckItem>,
}

/// Rule parameters head office sets per template.
#[uniffi::remote(Record)]
pub struct TemplateRules {
    /// Competitor price below own price by more than this fraction needs a negotiation note.
    pub price_gap_threshold: f64,
    #[uniffi(default)]
    pub geofence_mode: Option<GeofenceMode>,
    /// A fix less accurate than this is flagged `low_accuracy`.
    pub max_accuracy_m: f64,
    /// Whether the visit report must be written before the visit can be completed.
    pub require_report: bool,
}

/// A versioned check form. A published (id, version) never changes; visits pin the version.
#[uniffi::remote(Record)]
pub struct CheckTemplate {
    pub id: String,
    pub version: u32,
    pub name: String,
    pub kind: TemplateKind,
    /// The template used for an unplanned visit.
    pub is_default: bool,
    pub rules: TemplateRules,
    pub sections: Vec<CheckSection>,
}

/// One line of a rep's visit plan: who visits which store on which day.
#[uniffi::remote(Record)]
pub struct PlannedVisit {
    pub id: String,
    pub rep_id: String,
    pub store_id: String,
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    pub template_id: String,
    /// Position in the day's route.
    pub sequence: u32,
    /// The planned time window, local `HH:MM` start and end (both or neither).
    #[uniffi(default = None)]
    pub window_start: Option<String>,
    #[uniffi(default = None)]
    pub window_end: Option<String>,
}

/// Everything head office sends down in one load. Loaded as a whole or not at all.
#[uniffi::remote(Record)]
pub struct ReferenceData {
    #[uniffi(default)]
    pub users: Vec<User>,
    #[uniffi(default)]
    pub stores: Vec<Store>,
    #[uniffi(default)]
    pub products: Vec<Product>,
    #[uniffi(default)]
    pub templates: Vec<CheckTemplate>,
    #[uniffi(default)]
    pub plans: Vec<PlannedVisit>,
}

/// How many records of each kind a reference-data load wrote.
#[uniffi::remote(Record)]
pub struct LoadSummary {
    pub users: u32,
    pub stores: u32,
    pub products: u32,
    pub templates: u32,
    pub plans: u32,
}

// ---------------------------------------------------------------------------------------------
// Field records
// ---------------------------------------------------------------------------------------------

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
    pub template_version: u32,
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
    pub revision: u32,
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
    pub width: Option<u32>,
    pub height: Option<u32>,
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
    pub sequence: u32,
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

/// Where an outbox operation is on its way to the server.
#[uniffi::remote(Enum)]
pub enum OutboxState {
    /// Waiting to be sent.
    Pending,
    /// The server refused it; kept for the user to see, never silently dropped.
    Rejected,
    /// The server has it.
    Acknowledged,
}

/// One user action waiting to reach the server.
#[uniffi::remote(Record)]
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
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The signed chain entry (canonical JSON): what the signature covers.
    pub entry: Option<String>,
    /// SHA-256 of `entry`, lowercase hex: the next entry's `prev_hash`.
    pub entry_hash: Option<String>,
    /// Ed25519 signature over `entry`, lowercase hex.
    pub signature_hex: Option<String>,
}

/// Outbox counts by state.
#[uniffi::remote(Record)]
pub struct OutboxSummary {
    pub pending: u32,
    pub rejected: u32,
    pub acknowledged: u32,
    /// Highest sequence number handed out so far (0 before the first action).
    pub last_seq: i64,
}

/// The result of `audit()`: clean when `problems` is empty.
#[uniffi::remote(Record)]
pub struct AuditReport {
    /// Operations in the outbox.
    pub ops: i64,
    pub problems: Vec<String>,
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

// ---------------------------------------------------------------------------------------------
// Evidence verification, for anyone holding evidence (a supervisor's phone, the server)
// ---------------------------------------------------------------------------------------------

/// Verify a photo file against its signed manifest with the verifier's device keys. Reason
/// codes: `unknown_key`, `revoked_key`, `bad_signature`, `image_hash_mismatch`, `code_mismatch`.
#[uniffi::export]
pub fn verify_photo_evidence(image: Vec<u8>, manifest: SignedEntry, keys: Vec<KnownKey>) -> PhotoVerdict {
    fieldproof_core::evidence::verify_photo(&image, &manifest, &keys)
}

/// Verify a run of one device's chain entries in the order received. Findings: `bad_signature`,
/// `chain_gap`, `chain_fork`, `reordered`, `backdated`, `malformed_entry`.
#[uniffi::export]
pub fn verify_evidence_chain(
    entries: Vec<SignedEntry>,
    public_key_hex: String,
    after: Option<ChainHead>,
) -> Vec<ChainFinding> {
    fieldproof_core::evidence::verify_chain(&entries, &public_key_hex, after.as_ref())
}

/// What the app knows when the shutter fires.
#[uniffi::remote(Record)]
pub struct CaptureRequest {
    pub visit_id: String,
    #[uniffi(default)]
    pub item_id: Option<String>,
    pub kind: PhotoKind,
    #[uniffi(default)]
    pub fix: Option<LocationFix>,
    /// The device's UTC offset now, in minutes (the watermark shows local time).
    pub utc_offset_minutes: i32,
    /// The retake request this photo answers (`MissingItem.retake_request_id`).
    #[uniffi(default)]
    pub retake_request_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct CaptureOutcome {
    pub photo: Photo,
    /// Flags this capture raised (`possible_reuse`, `mock_location`, `clock_jump`).
    pub flags: Vec<Flag>,
}

/// A photo's evidence as a third party needs it.
#[uniffi::remote(Record)]
pub struct PhotoEvidence {
    pub photo_id: String,
    pub path: String,
    /// The signed manifest: canonical JSON, see docs/evidence-format.md.
    pub manifest: String,
    pub signature_hex: String,
    pub device_id: String,
    pub public_key_hex: String,
}

/// A device public key as a verifier knows it.
#[uniffi::remote(Record)]
pub struct KnownKey {
    pub device_id: String,
    pub public_key_hex: String,
    pub revoked: bool,
}

/// One signed entry: the exact bytes and the Ed25519 signature over them.
#[uniffi::remote(Record)]
pub struct SignedEntry {
    pub entry: String,
    pub signature_hex: String,
}

/// Where a verifier already is in a device's chain.
#[uniffi::remote(Record)]
pub struct ChainHead {
    pub seq: i64,
    pub entry_hash: String,
    pub hlc: i64,
}

#[uniffi::remote(Enum)]
pub enum VerifyCode {
    BadSignature,
    ImageHashMismatch,
    CodeMismatch,
    UnknownKey,
    RevokedKey,
    MalformedEntry,
    NotAPhoto,
    ChainGap,
    ChainFork,
    Reordered,
    Backdated,
}

#[uniffi::remote(Record)]
pub struct PhotoVerdict {
    pub verified: bool,
    pub problems: Vec<VerifyCode>,
    pub device_id: Option<String>,
    pub evidence_code: Option<String>,
    pub image_sha256: String,
}

#[uniffi::remote(Record)]
pub struct ChainFinding {
    pub index: u32,
    pub seq: Option<i64>,
    pub code: VerifyCode,
}

// ---------------------------------------------------------------------------------------------
// Sync
// ---------------------------------------------------------------------------------------------

/// The sync client's settings. Defaults: backoff 200 ms doubling to 5 s, 8 tries per request,
/// 200 ops per push, 500 changes per pull page, 1 MiB photo chunks.
#[uniffi::remote(Record)]
pub struct SyncOptions {
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Tries per request, the first included.
    pub max_attempts: u32,
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
    /// 1..=500.
    pub push_batch: u32,
    /// 1..=1000.
    pub pull_limit: u32,
    /// 1 byte..=4 MiB.
    pub photo_chunk_bytes: u32,
}

/// Where this device stands with the server.
#[uniffi::remote(Record)]
pub struct SyncState {
    pub enrolled: bool,
    pub server_url: Option<String>,
    /// The user this device acts for, as the server last described it.
    pub user: Option<User>,
    pub enrolled_at_ms: Option<i64>,
    /// Last change-feed position applied (0: nothing pulled yet).
    pub pull_cursor: i64,
    /// Device time when the last pull page was applied.
    pub last_sync_ms: Option<i64>,
    pub last_server_time_ms: Option<i64>,
    /// Server clock minus device clock, learned at the last sync.
    pub server_offset_ms: Option<i64>,
    pub pending_ops: u32,
    pub rejected_ops: u32,
    /// Photos whose bytes the server has not confirmed yet.
    pub photos_not_uploaded: u32,
    /// Photos the server refused for good.
    pub photos_failed: u32,
}

/// An operation the server refused for good.
#[uniffi::remote(Record)]
pub struct RejectedOp {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    pub entity_id: String,
    /// `bad_signature`, `malformed_entry`, `conflicting_duplicate`, or `unsigned_op` (written
    /// before the database signed its operations; it can never be sent).
    pub reason: String,
    pub exceptions: Vec<String>,
    pub rejected_at_ms: Option<i64>,
}

/// An exception the server recorded against an operation it stored.
#[uniffi::remote(Record)]
pub struct ServerException {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    /// `outside_geofence`, `chain_gap`, `possible_reuse`, `clock_skew`, ...
    pub code: String,
}

/// What one sync did.
#[uniffi::remote(Record)]
pub struct SyncReport {
    /// Operations the server stored now.
    pub pushed: u32,
    /// Operations the server already had (a retry after a lost answer).
    pub duplicates: u32,
    pub rejected: Vec<RejectedOp>,
    pub exceptions: Vec<ServerException>,
    /// Changes applied from the server.
    pub pulled: u32,
    pub photos_sent: u32,
    pub photo_bytes_sent: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub server_time_ms: i64,
    /// Operations still pending (written during the sync).
    pub pending: u32,
    /// Photos still waiting for their bytes to be confirmed (retried next sync).
    pub photos_not_uploaded: u32,
}

/// A rep's visit as their supervisor's phone sees it.
#[uniffi::remote(Record)]
pub struct TeamVisit {
    pub visit_id: String,
    pub rep_id: String,
    pub store_id: String,
    /// `store_check` or `inspection`.
    pub kind: String,
    /// `in_progress`, `completed`, `checked_out`, `cancelled`.
    pub status: String,
    pub started_wall_ms: i64,
    pub ended_wall_ms: Option<i64>,
    /// `inside`, `outside`, `no_fix`, `not_checked`.
    pub geofence: String,
    pub exceptions: Vec<String>,
    pub photos: Vec<TeamVisitPhoto>,
    pub answers: u32,
    pub report_summary: Option<String>,
}

/// One photo of a team visit, as the server verified it.
#[uniffi::remote(Record)]
pub struct TeamVisitPhoto {
    pub photo_id: String,
    pub sha256: String,
    pub evidence_code: String,
    pub photo_kind: String,
    pub verified: bool,
    /// The latest review (`approve`, `reject`, `retake`), if any.
    #[uniffi(default)]
    pub review: Option<String>,
}
