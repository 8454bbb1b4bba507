//! The core's public error. Every variant has a stable reason code (`Error::code`) that apps and
//! the FFI match on; the message is for logs and developers, not for parsing.

use std::path::PathBuf;

use crate::customers::{DuplicateMatch, StageMoveRefusal, StoreCodeProblem};
use crate::model::MissingItem;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // --- bad input (nothing was written) --------------------------------------------------
    #[error("invalid location fix: {0}")]
    InvalidLocation(String),
    #[error("answer to item {item_id} must be of kind {expected}, got {got}")]
    WrongValueKind {
        item_id: String,
        expected: &'static str,
        got: &'static str,
    },
    #[error("invalid answer to item {item_id}: {reason}")]
    InvalidAnswer { item_id: String, reason: String },
    #[error("item {item_id} is hidden by its show-if condition")]
    ItemHidden { item_id: String },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("photo refused: {0}")]
    Image(#[from] crate::imaging::ImageError),
    #[error("reference data refused, nothing loaded: {record}: {reason}")]
    BadReferenceData { record: String, reason: String },
    /// A count, limit or size given as a negative number (the FFI's numbers are signed so
    /// Kotlin and Swift callers can pass plain `Int`s).
    #[error("{what} must not be negative, got {value}")]
    NegativeNumber { what: &'static str, value: i64 },

    // --- unknown ids ----------------------------------------------------------------------
    #[error("unknown {what}: {id}")]
    NotFound { what: &'static str, id: String },

    // --- refused by the visit flow ---------------------------------------------------------
    #[error("user {user_id} already has an open visit {visit_id}")]
    VisitAlreadyOpen { user_id: String, visit_id: String },
    #[error("visit {visit_id} is {status} and can no longer be changed")]
    VisitNotEditable { visit_id: String, status: &'static str },
    #[error("visit {visit_id} cannot be completed yet: {} thing(s) missing", missing.len())]
    CompletionLocked {
        visit_id: String,
        missing: Vec<MissingItem>,
    },
    #[error("visit {visit_id} is not completed yet")]
    NotCompleted { visit_id: String },
    #[error("check-in refused: {distance_m:.0} m outside the store's geofence (block mode)")]
    OutsideGeofence { distance_m: f64 },
    #[error("check-in refused: no location fix and the geofence is in block mode")]
    FixRequired,
    #[error("not allowed: {0}")]
    NotAllowed(String),
    #[error("no check template for this visit: {0}")]
    NoTemplate(String),
    #[error("retake request {request_id} is {state}: no photo is owed for it")]
    RetakeNotOpen { request_id: String, state: &'static str },
    #[error("retake request {request_id} is for another rep or store than visit {visit_id}")]
    RetakeNotForVisit { request_id: String, visit_id: String },
    #[error("photo {photo_id} is not a photo of this supervisor's team")]
    PhotoNotInTeam { photo_id: String },
    #[error("a {verdict} decision needs a reason")]
    ReasonRequired { verdict: &'static str },

    // --- refused by the pipeline (customers and leads) -------------------------------------
    /// The stage's evidence is not all there: `missing` lists it (as for `CompletionLocked`).
    #[error("customer {customer_id} cannot enter stage {to} yet: {} thing(s) missing", missing.len())]
    StageLocked {
        customer_id: String,
        to: String,
        missing: Vec<MissingItem>,
    },
    /// The move itself is not allowed (skips a stage, leaves 成交/流失, lacks its reason…).
    #[error("stage move refused: {why}")]
    StageNotAllowed {
        customer_id: String,
        why: StageMoveRefusal,
    },
    /// The customer entered is one that exists already (same phone or company).
    #[error("customer matches {} on {:?}", matched.customer_id, matched.matched_on)]
    DuplicateCustomer { matched: DuplicateMatch },
    #[error("customer {customer_id} is owned by another rep")]
    CustomerOwnedByOther {
        customer_id: String,
        owner_name: Option<String>,
    },
    #[error("customer {customer_id} is not this rep's")]
    NotCustomerOwner { customer_id: String },
    #[error("lead {lead_id} cannot be claimed now")]
    LeadNotClaimable { lead_id: String },
    /// The rep released (or lost) this customer recently and may claim it again from `until_ms`.
    #[error("customer {customer_id} cannot be claimed again before {until_ms}")]
    ClaimCooldown { customer_id: String, until_ms: i64 },
    /// The rep already holds the most customers head office allows (保有量).
    #[error("the rep holds {held} customers, the most allowed is {max}")]
    CustomerLimit { held: i64, max: u32 },
    /// A scanned store check-in code was refused.
    #[error("store code refused: {0}")]
    StoreCode(StoreCodeProblem),

    // --- sync (`Core::enrol`, `Core::sync`) ---------------------------------------------------
    #[error("this device is not enrolled with a server")]
    NotEnrolled,
    #[error("a sync or enrolment is already running on this core")]
    SyncInProgress,
    /// The app cancelled the sync (`SyncCancel::cancel`). What the server answered before is
    /// recorded; the rest stays pending and the next sync carries on from there.
    #[error("the sync was cancelled")]
    SyncCancelled,
    /// Transient failures (no connection, reset, timeout, truncated or unparsable answer, 5xx)
    /// outlasted the retries. Nothing was lost: unanswered ops stay pending.
    #[error("network: {detail}")]
    Network { detail: String },
    /// The server answered with a 4xx error body (or a non-JSON 4xx). `code` is the server's
    /// own reason code as sent; [`Error::code`] maps the known ones to stable codes.
    #[error("server refused (HTTP {status} {code}): {message}")]
    ServerRefused {
        status: u16,
        code: String,
        message: String,
    },
    /// The server's answer does not fit the protocol (result count, cursor going backwards...).
    /// Nothing of that answer was applied.
    #[error("server answer breaks the sync protocol: {0}")]
    SyncProtocol(String),

    // --- storage ---------------------------------------------------------------------------
    #[error("database schema version {found} is newer than this app supports ({supported})")]
    DatabaseTooNew { found: i64, supported: i64 },
    #[error("database file is corrupt; moved aside to {}", quarantined_to.display())]
    DatabaseCorrupt { quarantined_to: PathBuf },
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),

    // --- the device key at rest (`CoreOptions::sealer`); the open wrote nothing -----------------
    /// The database's signing key is sealed by the platform keystore: open it with the sealer.
    #[error("the device key is sealed by the platform keystore; open the database with a key sealer")]
    KeySealerRequired,
    /// Sealing a new or plain key failed, or the sealed form did not unseal to the same key. The
    /// key stays as it was (plain, or not made yet).
    #[error("the key sealer could not seal the device key: {0}")]
    KeySealFailed(String),
    /// The sealer failed to unseal the key (keystore locked or its key gone), or handed back a key
    /// that is not this device's.
    #[error("the key sealer could not unseal the device key: {0}")]
    KeyUnsealFailed(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Stable reason code for apps. Never reworded once shipped.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidLocation(_) => "invalid_location",
            Error::WrongValueKind { .. } => "wrong_value_kind",
            Error::InvalidAnswer { .. } => "invalid_answer",
            Error::ItemHidden { .. } => "item_hidden",
            Error::InvalidInput(_) => "invalid_input",
            Error::BadReferenceData { .. } => "bad_reference_data",
            Error::NegativeNumber { .. } => "negative_number",
            Error::Image(e) => e.code(),
            Error::NotFound { what, .. } => match *what {
                "user" => "unknown_user",
                "store" => "unknown_store",
                "visit" => "unknown_visit",
                "item" => "unknown_item",
                "template" => "unknown_template",
                "plan" => "unknown_plan",
                "choice" => "unknown_choice",
                "photo" => "unknown_photo",
                "retake_request" => "unknown_retake_request",
                "customer" => "unknown_customer",
                "lead" => "unknown_lead",
                _ => "not_found",
            },
            Error::VisitAlreadyOpen { .. } => "visit_already_open",
            Error::VisitNotEditable { .. } => "visit_not_editable",
            Error::CompletionLocked { .. } => "completion_locked",
            Error::NotCompleted { .. } => "visit_not_completed",
            Error::OutsideGeofence { .. } => "outside_geofence",
            Error::FixRequired => "fix_required",
            Error::NotAllowed(_) => "not_allowed",
            Error::NoTemplate(_) => "no_template",
            Error::RetakeNotOpen { .. } => "retake_not_open",
            Error::RetakeNotForVisit { .. } => "retake_not_for_visit",
            Error::PhotoNotInTeam { .. } => "photo_not_in_team",
            Error::ReasonRequired { .. } => "reason_required",
            Error::StageLocked { .. } => "stage_locked",
            Error::StageNotAllowed { .. } => "stage_not_allowed",
            Error::DuplicateCustomer { .. } => "duplicate_customer",
            Error::CustomerOwnedByOther { .. } => "customer_owned_by_other",
            Error::NotCustomerOwner { .. } => "not_customer_owner",
            Error::LeadNotClaimable { .. } => "lead_not_claimable",
            Error::ClaimCooldown { .. } => "claim_cooldown",
            Error::CustomerLimit { .. } => "customer_limit_reached",
            Error::StoreCode(problem) => match problem {
                StoreCodeProblem::Malformed => "store_code_malformed",
                StoreCodeProblem::WrongStore => "store_code_wrong_store",
                StoreCodeProblem::UnknownKey => "store_code_unknown_key",
                StoreCodeProblem::BadSignature => "store_code_invalid",
                StoreCodeProblem::Expired => "store_code_expired",
            },
            Error::NotEnrolled => "not_enrolled",
            Error::SyncInProgress => "sync_in_progress",
            Error::SyncCancelled => "sync_cancelled",
            Error::Network { .. } => "network",
            Error::ServerRefused { code, .. } => server_code(code),
            Error::SyncProtocol(_) => "sync_protocol",
            Error::DatabaseTooNew { .. } => "database_too_new",
            Error::DatabaseCorrupt { .. } => "database_corrupt",
            Error::Storage(e) if is_corruption(e) => "database_corrupt",
            Error::Storage(_) => "storage",
            Error::Io(_) => "io",
            Error::KeySealerRequired => "key_sealer_required",
            Error::KeySealFailed(_) => "key_seal_failed",
            Error::KeyUnsealFailed(_) => "key_unseal_failed",
            Error::Internal(_) => "internal",
        }
    }

    /// `value` as an unsigned number, or [`Error::NegativeNumber`] naming `what`.
    pub(crate) fn non_negative(what: &'static str, value: i32) -> Result<u32> {
        u32::try_from(value).map_err(|_| Error::NegativeNumber {
            what,
            value: i64::from(value),
        })
    }

    pub(crate) fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound { what, id: id.into() }
    }
}

/// The server's reason codes (`docs/sync-protocol.md`) that [`Error::code`] passes through for
/// [`Error::ServerRefused`]; any other is `server_refused` (the raw code stays in the variant).
/// `code()` returns `&'static str`, so a code a newer server invents cannot leak through it.
pub const SERVER_CODES: &[&str] = &[
    "missing_signature",
    "unknown_device",
    "bad_request_signature",
    "stale_request",
    "replayed_request",
    "device_revoked",
    "device_mismatch",
    "device_already_enrolled",
    "invalid_enrol_code",
    "enrol_code_expired",
    "enrol_code_used",
    "bad_enrol_signature",
    "body_too_large",
    "malformed_json",
    "too_many_ops",
    "manifest_mismatch",
    "bad_signature",
    "photo_too_large",
    "offset_mismatch",
    "photo_hash_mismatch",
];

/// Every code [`Error::code`] can return: the one list of the codes apps see. The Kotlin
/// `ErrorCodes`, the iOS message tables and the integration guide's table are checked against it
/// (a test fails when they drift); the server checks its refusal codes against
/// [`SERVER_CODES`].
pub const ERROR_CODES: &[&str] = &[
    // The core's own refusals.
    "invalid_location",
    "wrong_value_kind",
    "invalid_answer",
    "item_hidden",
    "invalid_input",
    "bad_reference_data",
    "negative_number",
    "unknown_user",
    "unknown_store",
    "unknown_visit",
    "unknown_item",
    "unknown_template",
    "unknown_plan",
    "unknown_choice",
    "unknown_photo",
    "unknown_retake_request",
    "unknown_customer",
    "unknown_lead",
    "not_found",
    "visit_already_open",
    "visit_not_editable",
    "completion_locked",
    "visit_not_completed",
    "outside_geofence",
    "fix_required",
    "not_allowed",
    "no_template",
    "retake_not_open",
    "retake_not_for_visit",
    "photo_not_in_team",
    "reason_required",
    // Customers and leads.
    "stage_locked",
    "stage_not_allowed",
    "duplicate_customer",
    "customer_owned_by_other",
    "not_customer_owner",
    "lead_not_claimable",
    "claim_cooldown",
    "customer_limit_reached",
    "store_code_malformed",
    "store_code_wrong_store",
    "store_code_unknown_key",
    "store_code_invalid",
    "store_code_expired",
    // Photos (`imaging::ImageError::code`).
    "image_empty",
    "not_jpeg",
    "image_corrupt",
    "image_too_large",
    "image_too_many_bytes",
    "unsupported_image",
    "bad_font",
    // Sync; a server's refusal is one of `SERVER_CODES` or `server_refused`.
    "not_enrolled",
    "sync_in_progress",
    "sync_cancelled",
    "network",
    "server_refused",
    "sync_protocol",
    // Storage and keys.
    "database_too_new",
    "database_corrupt",
    "storage",
    "io",
    "key_sealer_required",
    "key_seal_failed",
    "key_unseal_failed",
    "internal",
];

fn server_code(code: &str) -> &'static str {
    SERVER_CODES
        .iter()
        .copied()
        .find(|c| *c == code)
        .unwrap_or("server_refused")
}

pub(crate) fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

impl From<StoreCodeProblem> for Error {
    fn from(p: StoreCodeProblem) -> Error {
        Error::StoreCode(p)
    }
}

impl From<crate::migrations::TooNew> for Error {
    fn from(e: crate::migrations::TooNew) -> Error {
        Error::DatabaseTooNew {
            found: e.found,
            supported: e.supported,
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        // Only our own rows are parsed as JSON after load; a failure means a bug or a damaged row.
        Error::Internal(format!("stored JSON unreadable: {e}"))
    }
}

#[cfg(test)]
mod code_list_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn known(code: &str) -> bool {
        ERROR_CODES.contains(&code) || SERVER_CODES.contains(&code)
    }

    /// The words between `=> "` and `"` in the body of `fn code` of a source file.
    fn returned_codes(source: &str) -> Vec<&str> {
        let start = source.find("pub fn code(&self)").unwrap();
        let end = start + source[start..].find("\n    }\n").unwrap();
        source[start..end]
            .split("=> \"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect()
    }

    #[test]
    fn every_code_the_core_returns_is_listed_once() {
        let mut returned = returned_codes(include_str!("error.rs"));
        returned.extend(returned_codes(include_str!("imaging/mod.rs")));
        for code in &returned {
            assert!(ERROR_CODES.contains(code), "{code} is missing from ERROR_CODES");
        }
        for code in ERROR_CODES {
            assert!(
                returned.contains(code) || *code == "server_refused",
                "{code} is listed but never returned"
            );
            assert_eq!(
                ERROR_CODES.iter().filter(|c| *c == code).count(),
                1,
                "{code} twice"
            );
        }
    }

    #[test]
    fn the_apps_copies_name_only_listed_codes() {
        let kotlin = include_str!("../../android/fieldproof/src/main/kotlin/dev/fieldproof/sdk/Errors.kt");
        for line in kotlin
            .lines()
            .filter(|l| l.trim_start().starts_with("const val "))
        {
            let code = line.split('"').nth(1).unwrap();
            assert!(
                known(code),
                "ErrorCodes (Kotlin) names {code}, which the core never returns"
            );
        }
        let keys = |strings: &'static str| -> Vec<&'static str> {
            strings
                .lines()
                .filter_map(|l| l.strip_prefix("\"error."))
                .map(|rest| &rest[..rest.find('"').unwrap()])
                .filter(|k| *k != "other")
                .collect()
        };
        let en = keys(include_str!(
            "../../ios/Sources/Fieldproof/Resources/en.lproj/Localizable.strings"
        ));
        let zh = keys(include_str!(
            "../../ios/Sources/Fieldproof/Resources/zh-Hans.lproj/Localizable.strings"
        ));
        assert_eq!(
            en, zh,
            "the iOS messages must cover the same codes in both languages"
        );
        for code in en {
            assert!(
                known(code),
                "Localizable.strings has a message for {code}, which the core never returns"
            );
        }
    }
}
