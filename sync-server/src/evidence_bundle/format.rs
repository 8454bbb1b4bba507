//! The bundle's file: a ZIP of `README.txt`, `bundle.json` and `photos/<image_sha256>.jpg`
//! (docs/evidence-bundle.md). These types are `bundle.json`, field for field; the exporter
//! writes them and the verifier reads them, so both sides agree by construction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `bundle.json`'s `format`.
pub const FORMAT: &str = "fieldproof-evidence-bundle";
/// `bundle.json`'s `version`: a verifier refuses a version it does not know.
pub const VERSION: i64 = 1;

/// The members' names in the ZIP.
pub const BUNDLE_JSON: &str = "bundle.json";
pub const README: &str = "README.txt";
pub const PHOTO_DIR: &str = "photos/";

/// At most this many entry bytes (the sum of the entries' lengths): `bundle.json` is written
/// from memory, and a verifier reads it whole.
pub const MAX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;
/// At most this many visits.
pub const MAX_VISITS: usize = 5_000;
/// The largest `bundle.json` a verifier reads (escaped entries, their context and the rest).
pub const MAX_BUNDLE_JSON_BYTES: u64 = 128 * 1024 * 1024;
/// The largest photo file a verifier reads (above any phone's stamped photo).
pub const MAX_PHOTO_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// `bundle.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub version: i64,
    /// Server time of the export (Unix ms).
    pub exported_ms: i64,
    /// The field's time zone, minutes east of UTC: how local dates and times were read.
    pub utc_offset_minutes: i32,
    /// The organisation's name, when the server knows it.
    pub organisation: Option<String>,
    pub exported_by: ExportedBy,
    pub selection: Selection,
    pub visits: Vec<VisitRecord>,
    pub devices: Vec<DeviceRecord>,
    pub chains: Vec<ChainRecord>,
    pub photos: Vec<PhotoRecord>,
    pub summary: Summary,
}

/// Who exported: the role and, for a supervisor, whose team the export was limited to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportedBy {
    /// `admin_cli` (the server's command line), `admin`, `head_office` or `supervisor`.
    pub role: String,
    /// The web user, if any.
    pub user_id: Option<String>,
    /// `None`: every team; a supervisor's reference-data id: that team and its supervisor.
    pub team_of: Option<String>,
}

/// What was asked for; every set field applies.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Selection {
    pub visit_id: Option<String>,
    /// The store's id.
    pub store_id: Option<String>,
    /// The rep's (field user's) id.
    pub rep_id: Option<String>,
    /// Local dates `YYYY-MM-DD`, inclusive: the day a visit started.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A selected visit, for the reader: who, where, when.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VisitRecord {
    pub visit_id: String,
    pub device_id: String,
    pub rep_id: String,
    pub rep_name: String,
    pub store_id: String,
    pub store_code: String,
    pub store_name: String,
    pub started_ms: i64,
}

/// A phone's key as the server enrolled it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceRecord {
    pub device_id: String,
    pub rep_id: String,
    pub rep_name: String,
    /// Ed25519, 64 lower-case hex characters.
    pub public_key_hex: String,
    pub enrolled_ms: i64,
    /// From when the key counts as revoked (entries received from then on are `revoked_key`).
    pub revoked_ms: Option<i64>,
    /// When head office recorded the revocation (may be after `revoked_ms`).
    pub revoked_recorded_ms: Option<i64>,
}

/// One phone's entries in the order the server received them, from the anchor on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChainRecord {
    pub device_id: String,
    pub entries: Vec<EntryRecord>,
}

/// `applied` or `rejected`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Applied,
    Rejected,
}

/// One received entry, whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntryRecord {
    /// The entry: its UTF-8 bytes are exactly the bytes the phone signed.
    pub entry: String,
    /// Ed25519 over `entry`, 128 lower-case hex characters; `None` for an entry rejected
    /// before the server kept rejected entries' signatures.
    pub signature_hex: Option<String>,
    /// SHA-256 of `entry`, for the reader; a verifier computes it again.
    pub entry_hash: String,
    /// The entry's place in the phone's receive order (1, 2, …); `None` for an entry received
    /// before the server numbered them and not numbered since (see the format's document).
    pub recv_index: Option<i64>,
    /// When the server received it (Unix ms, server clock).
    pub received_ms: i64,
    /// The entry's sequence number as the server read it, if it could.
    pub seq: Option<i64>,
    pub status: EntryStatus,
    /// Why it was rejected (a finding's code), for a rejected entry.
    pub reason: Option<String>,
    /// The reason's detail (a malformed entry's case).
    pub detail: Option<String>,
    /// `false`: context (the anchor, or an entry between selected ones), not itself selected.
    pub selected: bool,
}

/// A photo of a selected visit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PhotoRecord {
    pub photo_id: String,
    pub visit_id: String,
    pub device_id: String,
    /// The sequence number of its manifest entry (its `visit.photo` op) in the device's chain.
    pub seq: i64,
    pub op_id: String,
    /// What the manifest names.
    pub image_sha256: String,
    pub evidence_code: String,
    /// `photos/<image_sha256>.jpg`; `None` when the server never received the bytes.
    pub file: Option<String>,
    pub server_verdict: ServerVerdict,
}

/// What the server concluded when it received the photo.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerVerdict {
    pub received: bool,
    pub verified: bool,
    /// Finding codes (docs/evidence-format.md).
    pub problems: Vec<String>,
}

/// Counts a verifier checks against what the bundle holds, and the server's own findings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub visits: usize,
    pub photos: usize,
    /// Photo files in `photos/` (identical bytes are one file).
    pub photo_files: usize,
    /// Entries in all chains, context included.
    pub entries: usize,
    pub selected_entries: usize,
    pub devices: usize,
    /// Per finding code, how many the server recorded on the selection: its photo verdicts, its
    /// rejected entries' reasons and its chain exceptions on the selected visits.
    pub server_findings: BTreeMap<String, usize>,
}

/// The name of a photo's file in the ZIP.
pub fn photo_file(image_sha256: &str) -> String {
    format!("{PHOTO_DIR}{image_sha256}.jpg")
}
