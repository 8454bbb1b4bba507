//! Sync: the client's settings, where the device stands, what a sync did, the supervisor's team mirror.
//!
//! uniffi remote types: the core's own structs described field by field, so a core change that
//! is not mirrored here fails to compile.

use fieldproof_core::{
    RejectedOp, ServerException, SyncOptions, SyncReport, SyncState, TeamVisit, TeamVisitPhoto, User,
};

/// The sync client's settings. Defaults: backoff 200 ms doubling to 5 s, 8 tries per request,
/// 200 ops per push, 500 changes per pull page, 1 MiB photo chunks.
#[uniffi::remote(Record)]
pub struct SyncOptions {
    pub initial_backoff_ms: i64,
    pub max_backoff_ms: i64,
    /// Tries per request, the first included.
    pub max_attempts: i32,
    pub connect_timeout_ms: i64,
    pub request_timeout_ms: i64,
    /// 1..=500.
    pub push_batch: i32,
    /// 1..=1000.
    pub pull_limit: i32,
    /// 1 byte..=4 MiB.
    pub photo_chunk_bytes: i32,
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
    pub pending_ops: i32,
    pub rejected_ops: i32,
    /// Photos whose bytes the server has not confirmed yet.
    pub photos_not_uploaded: i32,
    /// Photos the server refused for good.
    pub photos_failed: i32,
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
    pub pushed: i32,
    /// Operations the server already had (a retry after a lost answer).
    pub duplicates: i32,
    pub rejected: Vec<RejectedOp>,
    pub exceptions: Vec<ServerException>,
    /// Changes applied from the server.
    pub pulled: i32,
    pub photos_sent: i32,
    pub photo_bytes_sent: i64,
    pub bytes_up: i64,
    pub bytes_down: i64,
    pub server_time_ms: i64,
    /// Operations still pending (written during the sync).
    pub pending: i32,
    /// Photos still waiting for their bytes to be confirmed (retried next sync).
    pub photos_not_uploaded: i32,
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
    pub answers: i32,
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
