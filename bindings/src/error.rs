//! The one error the apps see, and the one place core errors become it.

use fieldproof_core::{DuplicateMatch, MissingItem};

/// The one error the apps see. `code` is the core's stable reason code (`wrong_value_kind`,
/// `unknown_visit`, `completion_locked`, `visit_already_open`, `database_corrupt`, …): match on
/// it. `detail` is for logs and developers, never for parsing or for showing as is.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldproofError {
    /// The input was refused before anything was written (bad fix, wrong answer kind, hidden
    /// item, empty text, bad reference data, a negative limit (`negative_number`)…).
    #[error("{code}: {detail}")]
    InvalidInput { code: String, detail: String },
    /// An id that does not exist (`unknown_user`, `unknown_store`, `unknown_visit`,
    /// `unknown_item`, `unknown_template`, `unknown_plan`, `unknown_choice`).
    #[error("{code}: {detail}")]
    NotFound { code: String, detail: String },
    /// The visit flow or the pipeline refused the action (`visit_already_open`,
    /// `completion_locked`, `outside_geofence`, `not_allowed`, `stage_locked`,
    /// `stage_not_allowed`, `not_customer_owner`…). Nothing was written. `missing` lists what
    /// keeps a visit from completion (`completion_locked`) or a customer from its next stage
    /// (`stage_locked`), and is empty otherwise.
    #[error("{code}: {detail}")]
    Refused {
        code: String,
        detail: String,
        missing: Vec<MissingItem>,
    },
    /// Someone else's hold on a customer or lead refused the action; nothing was written.
    /// `duplicate_customer`: `duplicates` names the customer the entry matches (its owner's name,
    /// never their phone numbers; a list, so the error stays small); `customer_owned_by_other`: `owner_name`; `claim_cooldown`:
    /// the rep may claim it again from `until_ms`; `lead_not_claimable`.
    #[error("{code}: {detail}")]
    Conflict {
        code: String,
        detail: String,
        duplicates: Vec<DuplicateMatch>,
        owner_name: Option<String>,
        until_ms: Option<i64>,
    },
    /// The database or the file system failed (`database_corrupt`, `database_too_new`,
    /// `storage`, `io`), or a bug (`internal`); or the device key could not be opened at open:
    /// `key_sealer_required` (the key is sealed and no sealer was given), `key_unseal_failed`,
    /// `key_seal_failed` (nothing was written).
    #[error("{code}: {detail}")]
    Storage { code: String, detail: String },
    /// Enrolment or sync did not finish: `not_enrolled`, `sync_in_progress`, `sync_cancelled`
    /// (the app cancelled it; the next sync resumes), `network` (retries
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
            | E::NegativeNumber { .. }
            | E::ReasonRequired { .. }
            | E::Image(_) => FieldproofError::InvalidInput { code, detail },
            E::NotFound { .. } => FieldproofError::NotFound { code, detail },
            E::CompletionLocked { missing, .. } => FieldproofError::Refused {
                code,
                detail,
                missing,
            },
            E::StageLocked { missing, .. } => FieldproofError::Refused {
                code,
                detail,
                missing,
            },
            E::StoreCode(_) => FieldproofError::InvalidInput { code, detail },
            E::DuplicateCustomer { matched } => FieldproofError::Conflict {
                code,
                detail,
                duplicates: vec![matched],
                owner_name: None,
                until_ms: None,
            },
            E::CustomerOwnedByOther { owner_name, .. } => FieldproofError::Conflict {
                code,
                detail,
                duplicates: Vec::new(),
                owner_name,
                until_ms: None,
            },
            E::ClaimCooldown { until_ms, .. } => FieldproofError::Conflict {
                code,
                detail,
                duplicates: Vec::new(),
                owner_name: None,
                until_ms: Some(until_ms),
            },
            E::LeadNotClaimable { .. } => FieldproofError::Conflict {
                code,
                detail,
                duplicates: Vec::new(),
                owner_name: None,
                until_ms: None,
            },
            E::StageNotAllowed { .. }
            | E::NotCustomerOwner { .. }
            | E::CustomerLimit { .. }
            | E::VisitAlreadyOpen { .. }
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
            | E::SyncCancelled
            | E::Network { .. }
            | E::ServerRefused { .. }
            | E::SyncProtocol(_) => FieldproofError::Sync { code, detail },
        }
    }
}

/// A call's work panicked (a bug) or its task was torn down: reported, never unwound across the
/// FFI into the app.
impl From<tokio::task::JoinError> for FieldproofError {
    fn from(e: tokio::task::JoinError) -> Self {
        FieldproofError::Storage {
            code: "internal".to_string(),
            detail: format!("the call's work did not finish: {e}"),
        }
    }
}
