//! Device keys and enrolment codes as text: lowercase hex, strict Ed25519 checks, the one-time
//! code a device enrols with and the hash the database keeps of it. A leaf: the store issues
//! codes and checks keys with these, the request checks and the photo upload verify with them.

use ed25519_dalek::{Signature, VerifyingKey};
use fieldproof_core::evidence::sha256_hex;

// The one hex helper, the core's: lower case written, only lower case read.
use fieldproof_core::hex::decode_array as unhex;
pub(crate) use fieldproof_core::hex::is_lower_hex;

pub(crate) fn verifying_key(public_key_hex: &str) -> Option<VerifyingKey> {
    VerifyingKey::from_bytes(&unhex::<32>(public_key_hex)?).ok()
}

/// Strict Ed25519 (no small-order keys, no malleable signatures), as the evidence format asks.
pub(crate) fn verify_strict(key: &VerifyingKey, message: &[u8], signature_hex: &str) -> bool {
    let Some(sig) = unhex::<64>(signature_hex) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&sig)).is_ok()
}

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
