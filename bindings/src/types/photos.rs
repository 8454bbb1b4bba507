//! Photo capture: what the app knows at the shutter, what the capture returns, a photo's evidence.
//!
//! uniffi remote types: the core's own structs described field by field, so a core change that
//! is not mirrored here fails to compile.

use fieldproof_core::content_credentials::{CredentialLocation, DeviceCertificate};
use fieldproof_core::{CaptureOutcome, CaptureRequest, Flag, LocationFix, Photo, PhotoEvidence, PhotoKind};

/// How much of the location a photo's Content Credentials (C2PA) say; the signed Fieldproof
/// manifest keeps the exact fix either way.
#[uniffi::remote(Enum)]
pub enum CredentialLocation {
    /// The fix as measured.
    Exact,
    /// Rounded to 0.01° (about 1 km). The default.
    Coarse,
    /// No location.
    Omitted,
}

/// The X.509 certificate chain the organisation's CA issued for this device's key (PEM: the
/// device's certificate, then the CA's), and when it arrived.
#[uniffi::remote(Record)]
pub struct DeviceCertificate {
    pub chain_pem: String,
    pub received_ms: i64,
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
