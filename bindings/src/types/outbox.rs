//! The outbox: user actions on their way to the server, and the audit of it.
//!
//! uniffi remote types: the core's own structs described field by field, so a core change that
//! is not mirrored here fails to compile.

use fieldproof_core::{AuditReport, EventTime, OutboxOp, OutboxState, OutboxSummary};

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
    pub attempts: i32,
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
    pub pending: i32,
    pub rejected: i32,
    pub acknowledged: i32,
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
