//! The sync protocol's messages, shared by the core's sync client and `fieldproof-server`, so
//! the two cannot drift. JSON over HTTP; `docs/sync-protocol.md` is the prose version.
//!
//! Everything here is plain data plus the two byte strings that get signed (a request, an
//! enrolment). No I/O.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::customers::{CustomerState, LeadState, NewCustomer, StoreKey};
use crate::model::User;
use code::Code;

pub mod code;
pub mod payload;

/// Path prefix of every API route.
pub const API_PREFIX: &str = "/v1";

/// Request-signing headers (lower case, as HTTP/2 and axum see them).
pub const HEADER_DEVICE: &str = "x-fp-device";
pub const HEADER_TIME: &str = "x-fp-time";
pub const HEADER_NONCE: &str = "x-fp-nonce";
pub const HEADER_SIGNATURE: &str = "x-fp-signature";

/// A signed request is accepted if its time is within this much of the server's clock.
pub const MAX_REQUEST_SKEW_MS: i64 = 5 * 60 * 1000;
/// Most ops in one push.
pub const MAX_PUSH_OPS: usize = 500;
/// Most changes in one pull page.
pub const MAX_PULL_LIMIT: u32 = 1000;
/// Largest photo chunk in one `PUT /v1/photos/{sha256}`.
pub const MAX_PHOTO_CHUNK: usize = 4 * 1024 * 1024;

/// The bytes a device signs for each request: method, path with query, time, nonce and the
/// body's SHA-256, one per line. `path_and_query` is exactly what the request line carries
/// (e.g. `/v1/pull?cursor=10&limit=500`).
pub fn request_signing_bytes(
    method: &str,
    path_and_query: &str,
    time_ms: i64,
    nonce: &str,
    body_sha256_hex: &str,
) -> String {
    format!(
        "fieldproof-request-v1\n{}\n{path_and_query}\n{time_ms}\n{nonce}\n{body_sha256_hex}",
        method.to_ascii_uppercase()
    )
}

/// The bytes a device signs to prove, at enrolment, that it holds the key it presents.
pub fn enrol_signing_bytes(code: &str, device_id: &str, public_key_hex: &str) -> String {
    format!("fieldproof-enrol-v1\n{code}\n{device_id}\n{public_key_hex}")
}

/// Every error response: `{"error": {...}, "server_time_ms": ...}` with the HTTP status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ApiErrorDetail,
    pub server_time_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorDetail {
    /// Stable reason code, e.g. `replayed_request`, `device_revoked`, `malformed_json`.
    pub code: String,
    /// For people: names the problem (for malformed JSON, the field and position).
    pub message: String,
}

// --- enrolment ---------------------------------------------------------------------------------

/// `POST /v1/enrol` (not request-signed: the device is not known yet; the body proves the key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time code head office issued for this user.
    pub code: String,
    pub device_id: String,
    /// Ed25519 public key, 64 lowercase hex.
    pub public_key_hex: String,
    /// Signature over [`enrol_signing_bytes`], 128 lowercase hex.
    pub signature_hex: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The user this device now acts for.
    pub user: User,
    pub server_time_ms: i64,
    /// The X.509 certificate the organisation's CA issued for this device's key, then the CA's
    /// own (PEM): photos carry Content Credentials (C2PA) signed under it. Empty from a server
    /// that has none to give (an older one: then the field is missing, hence the default).
    #[serde(default)]
    pub certificate_chain_pem: String,
}

/// `GET /v1/device/certificate` (signed): the device's certificate chain, issued now if the
/// device was enrolled before the server issued certificates.
pub const DEVICE_CERTIFICATE_PATH: &str = "/v1/device/certificate";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceCertificateResponse {
    /// As [`EnrolResponse::certificate_chain_pem`].
    pub certificate_chain_pem: String,
}

// --- push --------------------------------------------------------------------------------------

/// One outbox op as uploaded: the signed chain entry (canonical JSON, which carries device id,
/// seq, op id, kind, entity id, time, prev hash and payload) and its signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushOp {
    pub entry: String,
    pub signature_hex: String,
}

/// `POST /v1/push`: ops of the signing device only, in sequence order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub ops: Vec<PushOp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Stored now.
    Applied,
    /// Already stored, byte for byte (a retried or replayed push). Nothing changed.
    Duplicate,
    /// Refused for good; `reason` says why. The device keeps it visible and moves on.
    Rejected,
}

/// The answer for one op, in the same position as the op in the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpResult {
    /// `None` only when the entry could not be parsed at all.
    pub op_id: Option<String>,
    pub seq: Option<i64>,
    pub status: OpStatus,
    /// For `rejected`: `bad_signature`, `malformed_entry`, `conflicting_duplicate`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Exception codes the server recorded against this op (it stores the op anyway):
    /// `chain_gap`, `outside_geofence`, `mock_location`, `clock_jump`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<OpResult>,
    pub server_time_ms: i64,
}

// --- photos ------------------------------------------------------------------------------------

/// `POST /v1/photos`: announce a photo before sending its bytes. The manifest (the signed entry
/// of the photo's `visit.photo` op) must name this hash and size and verify with the device key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoOffer {
    pub sha256: String,
    pub size: u64,
    pub entry: String,
    pub signature_hex: String,
}

/// Where an upload stands. Answer to the offer, each chunk, and `GET /v1/photos/{sha256}`; a
/// `409 offset_mismatch` carries it too, so the device resumes from `offset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoStatus {
    pub sha256: String,
    pub size: u64,
    /// Bytes the server holds; the next chunk must start here.
    pub offset: u64,
    /// All bytes received and their SHA-256 checked.
    pub complete: bool,
    pub server_time_ms: i64,
}

// --- pull --------------------------------------------------------------------------------------

/// What one change carries. Reference kinds are the core's reference types; `team_visit` is a
/// [`TeamVisit`] (supervisors only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    User,
    Store,
    Product,
    Template,
    Plan,
    TeamVisit,
    /// A [`RetakeChange`]: to the rep it is for, and their supervisor.
    Retake,
    /// A [`CustomerChange`]: to its owner (the whole record), and to its territory while in the
    /// pool or as a status only (no phones, no contacts).
    Customer,
    /// A [`LeadChange`]: to the rep it is assigned to, and to its territory while in the pool.
    Lead,
    /// A [`CustomerKeyChange`]: the hashed phone and company keys of every customer a phone
    /// must not enter twice (其他业务员的客户 as hashes only).
    CustomerKey,
    /// A [`StoreKeyChange`]: a store's public QR check-in key, like the store itself.
    StoreKey,
    /// The [`crate::customers::PipelineConfig`]: to everyone; `id` is its version.
    PipelineConfig,
    /// A kind this core does not know: a newer server's. Skipped, and the cursor moves past
    /// it, so a server can add kinds without stopping older phones' pulls. Never sent.
    #[serde(other)]
    Newer,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Position in the server's change feed; strictly increasing within a pull.
    pub seq: i64,
    pub kind: ChangeKind,
    pub id: String,
    /// The whole record as it is now (upsert).
    pub body: Value,
}

/// `GET /v1/pull?cursor=<last seq seen, 0 at first>&limit=<1..=1000>`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Pass this back as `cursor` next time (the last change's seq, or the cursor sent).
    pub cursor: i64,
    pub has_more: bool,
    pub server_time_ms: i64,
}

/// A rep's visit as their supervisor's phone sees it: enough to review it with no signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Geofence verdict at check-in, spelled as on the rep's phone (`GeofenceVerdict::as_str`):
    /// `verified`, `outside`, `no_fix`, `not_checked`.
    pub geofence: String,
    /// Open exception codes on this visit, server's and device's.
    pub exceptions: Vec<String>,
    pub photos: Vec<TeamVisitPhoto>,
    pub answers: i32,
    pub report_summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamVisitPhoto {
    pub photo_id: String,
    pub sha256: String,
    pub evidence_code: String,
    pub photo_kind: String,
    /// The server verified bytes, manifest and signature.
    pub verified: bool,
    /// The latest review of the photo (`approve`, `reject`, `retake`), web or phone; `None`
    /// while nobody reviewed it.
    #[serde(default)]
    pub review: Option<String>,
}

/// A supervisor's or head office's request that a rep take a photo again, as the feed carries
/// it (change kind `retake`, scoped to the rep). Sent again on every state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetakeChange {
    pub id: String,
    /// The photo to replace and its visit.
    pub photo_id: String,
    pub visit_id: String,
    pub store_id: String,
    pub rep_id: String,
    /// The replaced photo's kind (`shelf_overview`, ...) and check item.
    pub photo_kind: String,
    #[serde(default)]
    pub item_id: Option<String>,
    pub reason: String,
    /// Who asked, by name (a web user or a supervisor).
    pub requested_by: String,
    pub requested_at_ms: i64,
    /// Store-local `YYYY-MM-DD`.
    pub due_date: String,
    /// `open`, `done` or `cancelled` (overdue is derived from the due day).
    pub state: String,
    /// The photo that fulfilled it (`done`).
    #[serde(default)]
    pub fulfilled_photo_id: Option<String>,
}

/// A customer as the feed carries it (change kind `customer`). The territory's copy of an owned
/// customer has no phones and no contacts (PIPL); the owner's copy has everything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerChange {
    pub id: String,
    /// As entered (the territory's copy without phones and contacts), at the top level.
    #[serde(flatten)]
    pub customer: NewCustomer,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub owner_name: Option<String>,
    pub state: Code<CustomerState>,
    #[serde(default)]
    pub duplicate_of: Option<String>,
    pub stage: String,
    pub stage_entered_ms: i64,
    #[serde(default)]
    pub claimed_ms: Option<i64>,
    #[serde(default)]
    pub last_interaction_ms: Option<i64>,
    #[serde(default)]
    pub release_due_ms: Option<i64>,
    #[serde(default)]
    pub health_grade: Option<String>,
    #[serde(default)]
    pub health_score: Option<f64>,
    pub created_ms: i64,
}

/// A lead as the feed carries it (change kind `lead`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadChange {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub budget_cents: Option<i64>,
    #[serde(default)]
    pub source: Option<String>,
    pub state: Code<LeadState>,
    #[serde(default)]
    pub assigned_rep: Option<String>,
    #[serde(default)]
    pub assigned_ms: Option<i64>,
    #[serde(default)]
    pub deadline_ms: Option<i64>,
    #[serde(default)]
    pub claimed_ms: Option<i64>,
    #[serde(default)]
    pub customer_id: Option<String>,
    pub created_ms: i64,
}

/// One hashed key of a customer (`customers::dedupe_keys`), so a phone finds a duplicate
/// offline without holding other reps' phone numbers (change kind `customer_key`; `id` is the
/// key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerKeyChange {
    /// 64 lower-case hex.
    pub key: String,
    pub customer_id: String,
    #[serde(default)]
    pub owner_name: Option<String>,
    pub state: Code<CustomerState>,
}

/// A store's public QR check-in key (change kind `store_key`; `id` is `{store_id}:{kid}`).
pub type StoreKeyChange = StoreKey;

// --- health ------------------------------------------------------------------------------------

/// `GET /healthz`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub server_time_ms: i64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn signing_bytes_are_line_separated_and_method_is_upper_case() {
        assert_eq!(
            request_signing_bytes("post", "/v1/push", 1700000000000, "ab12", "e3b0"),
            "fieldproof-request-v1\nPOST\n/v1/push\n1700000000000\nab12\ne3b0"
        );
        assert_eq!(
            enrol_signing_bytes("K7QF", "dev", "00ff"),
            "fieldproof-enrol-v1\nK7QF\ndev\n00ff"
        );
    }

    #[test]
    fn pipeline_change_kinds_read_by_name_and_unknown_ones_stay_newer() {
        for (kind, word) in [
            (ChangeKind::Customer, "customer"),
            (ChangeKind::Lead, "lead"),
            (ChangeKind::CustomerKey, "customer_key"),
            (ChangeKind::StoreKey, "store_key"),
            (ChangeKind::PipelineConfig, "pipeline_config"),
            (ChangeKind::Retake, "retake"),
        ] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{word}\""));
            assert_eq!(
                serde_json::from_str::<ChangeKind>(&format!("\"{word}\"")).unwrap(),
                kind
            );
        }
        // A kind a still newer server adds is skipped as before.
        assert_eq!(
            serde_json::from_str::<ChangeKind>("\"customer_contract\"").unwrap(),
            ChangeKind::Newer
        );
    }

    #[test]
    fn pipeline_change_bodies_read_tolerantly() {
        // A territory's copy: no phones, no contacts; a state this build does not know is kept.
        let c: CustomerChange = serde_json::from_value(serde_json::json!({
            "id": "c-1", "name": "王经理", "state": "frozen", "stage": "demo",
            "stage_entered_ms": 5, "created_ms": 1, "vip": true
        }))
        .unwrap();
        assert_eq!(c.state.as_str(), "frozen");
        assert!(c.customer.phones.is_empty() && c.owner_id.is_none());
        let l: LeadChange = serde_json::from_value(serde_json::json!({
            "id": "l-1", "name": "李总", "state": "assigned", "assigned_rep": "rep-li",
            "deadline_ms": 7_200_000, "created_ms": 0
        }))
        .unwrap();
        assert_eq!(l.state, Code::Known(LeadState::Assigned));
        let k: CustomerKeyChange = serde_json::from_value(serde_json::json!({
            "key": "ab", "customer_id": "c-1", "state": "owned", "owner_name": "李雷"
        }))
        .unwrap();
        assert_eq!(k.state, Code::Known(CustomerState::Owned));
        let s: StoreKeyChange = serde_json::from_value(serde_json::json!({
            "store_id": "st-1", "kid": "k1", "public_key_hex": "00"
        }))
        .unwrap();
        assert!(!s.retired);
        let cfg: crate::customers::PipelineConfig =
            serde_json::from_value(serde_json::json!({"version": 3, "stall_days": 9, "newer": 1})).unwrap();
        assert_eq!((cfg.version, cfg.stall_days, cfg.release_days), (3, 9, 7));
    }

    #[test]
    fn op_results_omit_empty_fields() {
        let r = OpResult {
            op_id: Some("o".into()),
            seq: Some(1),
            status: OpStatus::Applied,
            reason: None,
            exceptions: vec![],
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"op_id":"o","seq":1,"status":"applied"}"#
        );
    }
}
