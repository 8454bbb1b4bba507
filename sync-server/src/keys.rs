//! Device keys and enrolment codes as text: lowercase hex, strict Ed25519 checks, the one-time
//! code a device enrols with and the hash the database keeps of it. A leaf: the store issues
//! codes and checks keys with these, the request checks and the photo upload verify with them.

use fieldproof_core::evidence::sha256_hex;

pub(crate) use fieldproof_core::hex::is_lower_hex;
// The one implementation of the format's key and signature rules, the core's: a key is the
// canonical encoding of a point not of small order; a signature verifies strictly.
pub(crate) use fieldproof_core::evidence::{strict_public_key, verify_signature};

pub(crate) fn new_enrol_code() -> std::io::Result<String> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let bits = u64::from_le_bytes(bytes);
    // 60 random bits, 12 Crockford characters: easy to read out, impossible to guess in 72 h.
    let chars: String = (0..12)
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect();
    Ok(format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..]))
}

/// Codes are read aloud and typed: case, dashes and spaces do not matter.
pub(crate) fn enrol_code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256_hex(format!("fieldproof-enrol-code-v1\n{normal}").as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn keys_the_format_refuses_are_refused() {
        // The identity point (small order) and a non-canonical encoding of a valid point
        // (y + p for y = 1: the identity again, spelled with the high value).
        let identity = format!("01{}", "00".repeat(31));
        assert!(strict_public_key(&identity).is_none());
        let non_canonical = format!("ee{}7f", "ff".repeat(30));
        assert!(strict_public_key(&non_canonical).is_none());
        let signer = fieldproof_core::evidence::Signer::from_seed("d".into(), [7u8; 32]);
        let key = signer.public_key_hex();
        assert!(strict_public_key(&key).is_some());
        let sig = signer.sign_hex(b"entry");
        assert!(verify_signature(b"entry", &sig, &key));
        assert!(!verify_signature(b"entrY", &sig, &key));
    }

    #[test]
    fn enrol_codes_are_readable_and_normalised() {
        let code = new_enrol_code().unwrap();
        assert_eq!(code.len(), 14);
        assert_eq!(
            enrol_code_hash(&code),
            enrol_code_hash(&code.to_lowercase().replace('-', " "))
        );
        assert_ne!(
            enrol_code_hash(&code),
            enrol_code_hash(&new_enrol_code().unwrap())
        );
    }
}
