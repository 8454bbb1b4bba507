//! Sync with `fieldproof-server`: the shared wire messages ([`wire`]), the local side of sync
//! (enrolment state, applying the server's answers and pull pages, the supervisor's team-visit
//! mirror; always built, it is only SQLite) and, with the `sync-client` feature, the device's
//! HTTP client ([`client`]: `Core::enrol`, `Core::sync`).

#[cfg(feature = "sync-client")]
pub mod client;
pub(crate) mod local;
pub mod wire;

use crate::model::User;

/// Where this device stands with the server (`Core::sync_state`).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncState {
    pub enrolled: bool,
    pub server_url: Option<String>,
    /// The user this device acts for, as the server last described it.
    pub user: Option<User>,
    pub enrolled_at_ms: Option<i64>,
    /// Last change-feed position applied (0: nothing pulled yet).
    pub pull_cursor: i64,
    /// Device wall time when the last pull page was applied.
    pub last_sync_ms: Option<i64>,
    pub last_server_time_ms: Option<i64>,
    /// Server clock minus device clock, learned at the last sync.
    pub server_offset_ms: Option<i64>,
    pub pending_ops: i32,
    pub rejected_ops: i32,
    /// Photos whose op is not rejected and whose bytes the server has not confirmed yet.
    pub photos_not_uploaded: i32,
    /// Photos the server refused for good (see `last_error` in the logs / rejected list).
    pub photos_failed: i32,
}

/// An op the server refused for good. Kept and shown, never resent, never blocking others.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedOp {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    pub entity_id: String,
    /// The server's reason (`bad_signature`, `malformed_entry`, `conflicting_duplicate`), or
    /// `unsigned_op` for an op written before the database signed its ops (it cannot be sent).
    pub reason: String,
    pub exceptions: Vec<String>,
    /// Device wall time when the answer was recorded.
    pub rejected_at_ms: Option<i64>,
}

/// An exception the server recorded against an op it stored (outside the geofence, chain gap,
/// possible reuse...): the op is kept, head office reviews it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerException {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    pub code: String,
}

/// What one `Core::sync` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncReport {
    /// Ops the server stored now (`applied`).
    pub pushed: i32,
    /// Ops the server already had (a retry after a lost answer).
    pub duplicates: i32,
    pub rejected: Vec<RejectedOp>,
    pub exceptions: Vec<ServerException>,
    /// Changes applied from the server's feed.
    pub pulled: i32,
    /// Photos whose bytes this sync sent and the server confirmed.
    pub photos_sent: i32,
    pub photo_bytes_sent: i64,
    /// Request and response body bytes, retries included.
    pub bytes_up: i64,
    pub bytes_down: i64,
    /// The server's clock at its last answer.
    pub server_time_ms: i64,
    /// Ops still pending afterwards (written during the sync).
    pub pending: i32,
    /// Photos still waiting for their bytes to be confirmed (retried next sync).
    pub photos_not_uploaded: i32,
}
