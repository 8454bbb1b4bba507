//! Evidence verification records: keys, signed entries, verdicts and chain findings.
//!
//! uniffi remote types: the core's own structs described field by field, so a core change that
//! is not mirrored here fails to compile.

use fieldproof_core::evidence::{ChainFinding, ChainHead, KnownKey, PhotoVerdict, SignedEntry, VerifyCode};

/// A device public key as a verifier knows it.
#[uniffi::remote(Record)]
pub struct KnownKey {
    pub device_id: String,
    pub public_key_hex: String,
    /// Revoked from this server time on (Unix ms): entries received from then on are
    /// `revoked_key`, earlier ones stay valid ("key revoked later").
    pub revoked_ms: Option<i64>,
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
    pub key_revoked_later: bool,
}

#[uniffi::remote(Record)]
pub struct ChainFinding {
    pub index: i32,
    pub seq: Option<i64>,
    pub code: VerifyCode,
}
