//! The verdict a photo is shown with: the one read-side rule that turns the verdict stored at
//! upload (cryptographic: signature, image hash, evidence code) into what pages, exports and
//! the supervisors' feed say, once the device's key may have been revoked since.
//!
//! Revocation has a time (docs/evidence-format.md, `evidence::revocation`): a photo whose
//! manifest entry the server received before the key counts as revoked stays verified and says
//! "key revoked later"; one received at or after it is `revoked_key`. The stored verdict is
//! never rewritten, so revoking with an earlier time (a phone lost yesterday afternoon) changes
//! what is shown at once.

use fieldproof_core::evidence::{self, Revocation, VerifyCode};

/// What to select beside a photo (`p`: the `photos` row) to apply [`shown`]: the device's
/// revocation time and when the server received the photo's manifest entry (its op). Join
/// with [`JOINS`].
pub const COLUMNS: &str = "d.revoked_ms, o.received_ms";
/// The joins [`COLUMNS`] reads.
pub const JOINS: &str =
    "LEFT JOIN ops o ON o.op_id = p.op_id LEFT JOIN devices d ON d.device_id = p.device_id";

/// [`shown`]'s revocation rule in SQL, for counts (`p`: the `photos` row): true when the
/// photo's key counts as revoked for it (its manifest received at or after the revocation, or
/// at an unknown time). Kept beside [`shown`] so that the two say the same.
pub const REVOKED_SQL: &str = "EXISTS (SELECT 1 FROM devices d LEFT JOIN ops o ON o.op_id = p.op_id
    WHERE d.device_id = p.device_id AND d.revoked_ms IS NOT NULL
      AND (o.received_ms IS NULL OR o.received_ms >= d.revoked_ms))";

/// A photo's verification as shown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shown {
    pub verified: bool,
    /// Comma-separated finding codes (`problems` as stored, plus `revoked_key` when it applies).
    pub problems: Option<String>,
    /// Verified, and the device's key was revoked after the server received the manifest.
    pub key_revoked_later: bool,
}

/// The shown verdict of a photo from its stored one (`verified`, `problems`), the device's
/// `revoked_ms` and the manifest's `received_ms` (`None`: unknown, which counts as after).
pub fn shown(
    verified: bool,
    problems: Option<&str>,
    revoked_ms: Option<i64>,
    received_ms: Option<i64>,
) -> Shown {
    let mut out = Shown {
        verified,
        problems: problems.filter(|p| !p.is_empty()).map(str::to_string),
        key_revoked_later: false,
    };
    match evidence::revocation(revoked_ms, received_ms) {
        Revocation::NotRevoked => {}
        Revocation::RevokedLater => out.key_revoked_later = verified,
        Revocation::Revoked => {
            let code = VerifyCode::RevokedKey.as_str();
            out.verified = false;
            let already = out
                .problems
                .as_deref()
                .is_some_and(|p| p.split(',').any(|c| c.trim() == code));
            if !already {
                out.problems = Some(match out.problems.take() {
                    Some(p) => format!("{code},{p}"),
                    None => code.to_string(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocation_is_shown_by_when_the_manifest_arrived() {
        assert_eq!(
            shown(true, None, None, Some(5)),
            Shown {
                verified: true,
                ..Shown::default()
            }
        );
        let later = shown(true, None, Some(10), Some(5));
        assert!(later.verified && later.key_revoked_later && later.problems.is_none());
        let at = shown(true, None, Some(10), Some(10));
        assert!(!at.verified && !at.key_revoked_later);
        assert_eq!(at.problems.as_deref(), Some("revoked_key"));
        // Unknown receipt time counts as after; a photo already failing keeps its findings.
        assert_eq!(
            shown(true, None, Some(10), None).problems.as_deref(),
            Some("revoked_key")
        );
        let both = shown(false, Some("image_hash_mismatch"), Some(10), Some(20));
        assert_eq!(both.problems.as_deref(), Some("revoked_key,image_hash_mismatch"));
        // An unverified photo received before revocation is not "verified, key revoked later".
        assert!(!shown(false, Some("code_mismatch"), Some(10), Some(5)).key_revoked_later);
        assert_eq!(
            shown(false, Some("revoked_key"), Some(10), Some(20))
                .problems
                .as_deref(),
            Some("revoked_key")
        );
    }
}
