//! fieldproof-core: the offline-first field-sales core.
//!
//! One [`Core`] per phone database. Every user action (check in, answer, photo, report, complete,
//! check out, cancel, review; enter a customer, follow up, move a stage, claim, release) is one SQLite transaction that writes its rows, its outbox operation
//! and its flags together: kill the process at any instant and the action happened completely or
//! not at all. Reads never write. No FFI in here: `bindings/` wraps this crate for Kotlin/Swift.

mod capture;
pub mod clock;
pub mod content_credentials;
mod customer_flow;
pub mod customers;
pub mod db;
mod device_key;
mod error;
pub mod evidence;
pub mod hex;
pub mod imaging;
pub mod migrations;
pub mod model;
mod outbox;
mod photo_review;
mod queries;
mod reference;
pub mod reference_check;
mod retakes;
pub mod rules;
pub mod sync;
mod visits;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rusqlite::Connection;

pub use capture::{CaptureOutcome, CaptureRequest, PhotoEvidence};
pub use clock::{Clock, ManualClock, SystemClock};
pub use customer_flow::{
    CustomerDetail, CustomerList, CustomerPhoto, CustomerUpdate, DueFollowUp, LeadList, PipelineDay,
};
pub use customers::{
    Contact, Customer, CustomerPhotoRequest, CustomerState, DuplicateMatch, EvidenceOnHand, EvidenceRef,
    FollowUp, FollowUpChannel, FollowUpOutcome, FollowUpRequest, Lead, LeadState, MatchOn, NewCustomer,
    PipelineConfig, RequirementKind, StageChange, StageDef, StageMoveRefusal, StageRequirement, StageStep,
    StoreCodeCheck, StoreCodeProblem, StoreKey,
};
pub use device_key::{SealError, SeedSealer};
pub use error::{ERROR_CODES, Error, Result, SERVER_CODES};
pub use model::*;
pub use outbox::{AuditReport, OutboxSummary};
pub use photo_review::MAX_REASON_CHARS as MAX_REVIEW_REASON_CHARS;
#[cfg(feature = "sync-client")]
pub use sync::client::{SyncCancel, SyncObserver, SyncOptions};
pub use sync::wire::{RetakeChange, TeamVisit, TeamVisitPhoto};
pub use sync::{RejectedOp, ServerException, SyncPhase, SyncProgress, SyncReport, SyncState};
pub use visits::{AnswerOutcome, CheckInRequest};

/// Upper bound on one photo handed to the core; a 12 MP phone JPEG is 3–8 MB.
pub const MAX_PHOTO_BYTES: usize = 32 * 1024 * 1024;

/// Default long-edge limit of stored photos, pixels.
pub const DEFAULT_PHOTO_LONG_EDGE: u32 = 2048;

pub struct CoreOptions {
    pub clock: Arc<dyn Clock>,
    /// Where photo files live. Default: `<database>.photos/` beside a file database, a fresh
    /// temporary folder for an in-memory one.
    pub photo_dir: Option<PathBuf>,
    /// A CJK font (TTF/OTF, or face 0 of a TTC) for the watermark; see [`Core::set_cjk_font`].
    pub cjk_font: Option<Vec<u8>>,
    /// Keeps the device's signing key sealed by the platform keystore (see [`SeedSealer`]).
    /// `None`: the key is stored as is, as before sealing existed. Given for a database holding a
    /// plain key, that key is sealed during the open. A database whose key is sealed cannot be
    /// opened without it (`key_sealer_required`).
    pub sealer: Option<Arc<dyn SeedSealer>>,
}

impl Default for CoreOptions {
    fn default() -> Self {
        CoreOptions {
            clock: Arc::new(SystemClock),
            photo_dir: None,
            cjk_font: None,
            sealer: None,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) conn: Connection,
    /// Published template versions are immutable, so a parsed copy never goes stale.
    pub(crate) templates: HashMap<(String, i32), Arc<CheckTemplate>>,
}

pub struct Core {
    inner: Mutex<Inner>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) photo_dir: PathBuf,
    /// The photo folder was made for an in-memory database and goes with it.
    owns_photo_dir: bool,
    pub(crate) signer: evidence::Signer,
    pub(crate) fonts: RwLock<imaging::Fonts>,
    pub(crate) photo_options: RwLock<imaging::ProcessOptions>,
    /// How much location a photo's Content Credentials carry (`set_credential_location`).
    pub(crate) credential_location: RwLock<content_credentials::CredentialLocation>,
    #[cfg(feature = "sync-client")]
    pub(crate) sync_rt: sync::client::SyncRuntime,
}

impl Drop for Core {
    fn drop(&mut self) {
        if self.owns_photo_dir {
            // Best effort: a leftover temporary folder is harmless.
            let _ = std::fs::remove_dir_all(&self.photo_dir);
        }
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("device_id", &self.signer.device_id)
            .field("photo_dir", &self.photo_dir)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Open (create, migrate) the database file with the system clock.
    pub fn open(path: impl AsRef<Path>) -> Result<Core> {
        Core::open_with(Some(path.as_ref()), CoreOptions::default())
    }

    pub fn open_in_memory() -> Result<Core> {
        Core::open_with(None, CoreOptions::default())
    }

    /// `path: None` opens an in-memory database.
    pub fn open_with(path: Option<&Path>, options: CoreOptions) -> Result<Core> {
        let conn = match path {
            Some(p) => db::open_file(p)?,
            None => db::open_memory()?,
        };
        let owns_photo_dir = options.photo_dir.is_none() && path.is_none();
        let photo_dir = match (options.photo_dir, path) {
            (Some(d), _) => d,
            (None, Some(p)) => {
                let mut s = p.as_os_str().to_owned();
                s.push(".photos");
                PathBuf::from(s)
            }
            (None, None) => std::env::temp_dir().join(format!("fieldproof-photos-{}", uuid::Uuid::new_v4())),
        };
        std::fs::create_dir_all(&photo_dir)?;
        let signer = device_key::open_device_key(&conn, options.clock.as_ref(), options.sealer.as_deref())?;
        let fonts = match options.cjk_font {
            Some(bytes) => imaging::Fonts::with_cjk(bytes)?,
            None => imaging::Fonts::bundled(),
        };
        // Evidence photos need to show the shelf, not every grain: 2048 px keeps uploads small.
        let photo_options = imaging::ProcessOptions {
            max_long_edge: Some(DEFAULT_PHOTO_LONG_EDGE),
            ..imaging::ProcessOptions::default()
        };
        tracing::info!(schema = db::SCHEMA_VERSION, "fieldproof core opened");
        Ok(Core {
            inner: Mutex::new(Inner {
                conn,
                templates: HashMap::new(),
            }),
            clock: options.clock,
            photo_dir,
            owns_photo_dir,
            signer,
            fonts: RwLock::new(fonts),
            photo_options: RwLock::new(photo_options),
            credential_location: RwLock::new(content_credentials::CredentialLocation::default()),
            #[cfg(feature = "sync-client")]
            sync_rt: sync::client::SyncRuntime::default(),
        })
    }

    /// This installation's id, made on first open.
    pub fn device_id(&self) -> &str {
        &self.signer.device_id
    }

    /// The device's Ed25519 public key (64 hex characters), for enrolment. The private key never
    /// leaves the device: it is in the database, sealed by the platform keystore when a sealer is
    /// given, and in memory while the core is open.
    pub fn device_public_key(&self) -> String {
        self.signer.public_key_hex()
    }

    pub fn photo_dir(&self) -> &Path {
        &self.photo_dir
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written action: the transaction
        // was rolled back when it unwound. The connection itself is still usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Load head-office reference data. Validated as a whole; nothing is written if any record is bad.
    pub fn load_reference_data(&self, data: &ReferenceData) -> Result<LoadSummary> {
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let summary = reference::load(&tx, data)?;
        tx.commit()?;
        tracing::info!(
            users = summary.users,
            stores = summary.stores,
            templates = summary.templates,
            plans = summary.plans,
            "reference data loaded"
        );
        Ok(summary)
    }

    /// The same from the JSON document the server sends.
    pub fn load_reference_json(&self, json: &str) -> Result<LoadSummary> {
        let data = reference::parse(json).map_err(Error::from)?;
        self.load_reference_data(&data)
    }

    /// Remember the server's clock (every sync response carries it) for later clock checks.
    pub fn record_server_time(&self, server_wall_ms: i64) -> Result<()> {
        let offset = server_wall_ms - self.clock.wall_ms();
        sync::local::set_server_offset(&self.lock().conn, offset)
    }
}
