//! The rotating store code of QR check-in (扫码签到): a store (or a customer's linked store)
//! shows a code the rep's phone scans and verifies offline, proving the rep stood in front of
//! the store's screen within the last minute or so.
//!
//! Each store has an Ed25519 key issued by the server; phones hold only the public keys, so a
//! rep cannot mint codes (a shared HMAC secret would let them). The code is
//! `fpsc1:{store}:{kid}:{step}:{sig}` with `step = ⌊unix_ms / 30 000⌋` and `sig` the Ed25519
//! signature (128 lower-case hex) over `fieldproof-store-code-v1\n{store}\n{kid}\n{step}`. It is
//! valid while its step is within one of the current step (by the wall clock plus the server
//! offset): a photographed code is refused a minute later at the latest. `docs/evidence-format.md` has it too.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::hex;

/// How long one code is shown before the next.
pub const STORE_CODE_STEP_MS: i64 = 30_000;

const PREFIX: &str = "fpsc1:";

/// A store's public check-in key, as the server publishes it (change kind `store_key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreKey {
    pub store_id: String,
    /// Key id: codes name the key that signed them, so a key can be rotated.
    pub kid: String,
    /// Ed25519 public key, 64 lower-case hex.
    pub public_key_hex: String,
    /// A retired key verifies nothing any more.
    #[serde(default)]
    pub retired: bool,
}

/// A code that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCodeCheck {
    /// The code as scanned; the check-in records it, so the server verifies it again.
    pub text: String,
    pub store_id: String,
    pub kid: String,
    pub step: i64,
    /// The code's step minus the current one: -1, 0 or 1.
    pub steps_off: i64,
}

/// Why a scanned code is refused. Each is its own error code (`store_code_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum StoreCodeProblem {
    /// Not a store code at all (another QR code, a cut-off scan).
    #[error("not a store check-in code")]
    Malformed,
    /// Another store's code.
    #[error("the code is another store's")]
    WrongStore,
    /// No current key of the store has that id (not synced yet, or retired).
    #[error("the code's key is not known for this store")]
    UnknownKey,
    /// The signature does not verify: a forged or altered code.
    #[error("the code's signature does not verify")]
    BadSignature,
    /// More than one step (30 s) from now: an old code, e.g. a photo of the screen.
    #[error("the code is not current")]
    Expired,
}

/// The step a moment falls in.
pub fn store_code_step(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(STORE_CODE_STEP_MS)
}

/// The bytes a store key signs for one step.
fn signing_bytes(store_id: &str, kid: &str, step: i64) -> String {
    format!("fieldproof-store-code-v1\n{store_id}\n{kid}\n{step}")
}

/// The signature (128 lower-case hex) of the store's code for `step`, by the key with this seed
/// (the server's; phones never hold one).
pub fn sign_store_code(seed: &[u8; 32], store_id: &str, kid: &str, step: i64) -> String {
    let key = SigningKey::from_bytes(seed);
    hex::encode(&key.sign(signing_bytes(store_id, kid, step).as_bytes()).to_bytes())
}

/// The text the QR code carries.
pub fn format_store_code(store_id: &str, kid: &str, step: i64, signature_hex: &str) -> String {
    format!("{PREFIX}{store_id}:{kid}:{step}:{signature_hex}")
}

/// Check a scanned code for `store_id` against the store's keys at `now_ms` (the phone's wall
/// clock corrected by the server offset). The checks go from what the code is to when it is:
/// malformed, another store's, unknown key, bad signature, expired.
pub fn verify_store_code(
    text: &str,
    store_id: &str,
    keys: &[StoreKey],
    now_ms: i64,
) -> Result<StoreCodeCheck, StoreCodeProblem> {
    let body = text
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(StoreCodeProblem::Malformed)?;
    // From the right: a store id may itself hold a colon, a key id and a step never do.
    let mut parts = body.rsplitn(4, ':');
    let (Some(sig), Some(step), Some(kid), Some(code_store)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(StoreCodeProblem::Malformed);
    };
    let step: i64 = match step.parse() {
        Ok(s) if step.bytes().all(|b| b.is_ascii_digit()) => s,
        _ => return Err(StoreCodeProblem::Malformed),
    };
    let signature = hex::decode_array::<64>(sig).ok_or(StoreCodeProblem::Malformed)?;
    if kid.is_empty() || code_store.is_empty() {
        return Err(StoreCodeProblem::Malformed);
    }
    if code_store != store_id {
        return Err(StoreCodeProblem::WrongStore);
    }
    let key = keys
        .iter()
        .find(|k| k.store_id == store_id && k.kid == kid && !k.retired)
        .and_then(|k| hex::decode_array::<32>(&k.public_key_hex))
        .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
        .ok_or(StoreCodeProblem::UnknownKey)?;
    // verify_strict: no small-order keys, no malleable signatures (as for entries).
    key.verify_strict(
        signing_bytes(store_id, kid, step).as_bytes(),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| StoreCodeProblem::BadSignature)?;
    let steps_off = step.saturating_sub(store_code_step(now_ms));
    if steps_off.abs() > 1 {
        return Err(StoreCodeProblem::Expired);
    }
    Ok(StoreCodeCheck {
        text: text.trim().to_string(),
        store_id: store_id.to_string(),
        kid: kid.to_string(),
        step,
        steps_off,
    })
}

/// The public key (64 hex) of a store key's seed, as the server publishes it.
pub fn store_key_public_hex(seed: &[u8; 32]) -> String {
    hex::encode(SigningKey::from_bytes(seed).verifying_key().as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SEED: [u8; 32] = [7; 32];
    const NOW: i64 = 1_796_000_000_000;

    fn keys() -> Vec<StoreKey> {
        vec![
            StoreKey {
                store_id: "st-201".into(),
                kid: "k1".into(),
                public_key_hex: store_key_public_hex(&SEED),
                retired: false,
            },
            StoreKey {
                store_id: "st-202".into(),
                kid: "k1".into(),
                public_key_hex: store_key_public_hex(&[9; 32]),
                retired: false,
            },
        ]
    }

    fn code(store: &str, kid: &str, at_ms: i64) -> String {
        let step = store_code_step(at_ms);
        format_store_code(store, kid, step, &sign_store_code(&SEED, store, kid, step))
    }

    #[test]
    fn a_current_code_verifies_and_the_neighbouring_steps_too() {
        let text = code("st-201", "k1", NOW);
        assert!(text.starts_with("fpsc1:st-201:k1:59866666:"), "{text}");
        let ok = verify_store_code(&text, "st-201", &keys(), NOW).unwrap();
        assert_eq!(
            (ok.store_id.as_str(), ok.kid.as_str(), ok.step, ok.steps_off),
            ("st-201", "k1", store_code_step(NOW), 0)
        );
        assert_eq!(ok.text, text);
        // The previous and the next step still pass (clocks and screens lag).
        let prev = verify_store_code(&code("st-201", "k1", NOW - 30_000), "st-201", &keys(), NOW).unwrap();
        assert_eq!(prev.steps_off, -1);
        let next = verify_store_code(&code("st-201", "k1", NOW + 30_000), "st-201", &keys(), NOW).unwrap();
        assert_eq!(next.steps_off, 1);
    }

    #[test]
    fn refusals_are_named() {
        let k = keys();
        let check = |text: &str| verify_store_code(text, "st-201", &k, NOW).err();
        // A photo of the screen from 90 s ago, or a code from the future.
        assert_eq!(
            check(&code("st-201", "k1", NOW - 90_000)),
            Some(StoreCodeProblem::Expired)
        );
        assert_eq!(
            check(&code("st-201", "k1", NOW - 120_000)),
            Some(StoreCodeProblem::Expired)
        );
        assert_eq!(
            check(&code("st-201", "k1", NOW + 90_000)),
            Some(StoreCodeProblem::Expired)
        );
        // Another store's genuine code.
        let other = {
            let step = store_code_step(NOW);
            format_store_code(
                "st-202",
                "k1",
                step,
                &sign_store_code(&[9; 32], "st-202", "k1", step),
            )
        };
        assert_eq!(
            verify_store_code(&other, "st-202", &k, NOW).unwrap().store_id,
            "st-202"
        );
        assert_eq!(check(&other), Some(StoreCodeProblem::WrongStore));
        // A flipped signature byte; a code signed by a key that is not the store's.
        let good = code("st-201", "k1", NOW);
        let mut flipped = hex::decode(&good[good.len() - 128..]).unwrap();
        flipped[10] ^= 0x01;
        let forged = format!("{}{}", &good[..good.len() - 128], hex::encode(&flipped));
        assert_eq!(check(&forged), Some(StoreCodeProblem::BadSignature));
        let step = store_code_step(NOW);
        let minted = format_store_code(
            "st-201",
            "k1",
            step,
            &sign_store_code(&[1; 32], "st-201", "k1", step),
        );
        assert_eq!(check(&minted), Some(StoreCodeProblem::BadSignature));
        // A step changed after signing.
        let moved = good.replace(&format!(":{step}:"), &format!(":{}:", step + 1));
        assert_eq!(check(&moved), Some(StoreCodeProblem::BadSignature));
        // A key this phone does not hold, or one retired.
        assert_eq!(
            check(&code("st-201", "k2", NOW)),
            Some(StoreCodeProblem::UnknownKey)
        );
        let mut retired = keys();
        retired[0].retired = true;
        assert_eq!(
            verify_store_code(&good, "st-201", &retired, NOW).err(),
            Some(StoreCodeProblem::UnknownKey)
        );
        assert_eq!(
            verify_store_code(&good, "st-201", &[], NOW).err(),
            Some(StoreCodeProblem::UnknownKey)
        );
        // Not a store code.
        let sig = &good[good.len() - 128..];
        for bad in [
            "",
            "https://example.com/",
            "fpsc1:",
            "fpsc1:st-201:k1:59866666",
            &format!("fpsc2:st-201:k1:{step}:{sig}"),
            &format!("fpsc1:st-201:k1:-{step}:{sig}"),
            &format!("fpsc1:st-201:k1:+{step}:{sig}"),
            &format!("fpsc1:st-201:k1:x:{sig}"),
            &format!("fpsc1:st-201:k1:{step}:{}", sig.to_uppercase()),
            &format!("fpsc1:st-201:k1:{step}:{}", &sig[2..]),
            &format!("fpsc1::k1:{step}:{sig}"),
            &format!("fpsc1:st-201::{step}:{sig}"),
            "fpsc1:st-201:k1:99999999999999999999999:00",
        ] {
            assert_eq!(check(bad), Some(StoreCodeProblem::Malformed), "{bad}");
        }
    }

    #[test]
    fn a_store_id_with_a_colon_still_reads() {
        let step = store_code_step(NOW);
        let text = format_store_code(
            "sh:201",
            "k1",
            step,
            &sign_store_code(&SEED, "sh:201", "k1", step),
        );
        let key = StoreKey {
            store_id: "sh:201".into(),
            ..keys()[0].clone()
        };
        assert_eq!(
            verify_store_code(&text, "sh:201", &[key], NOW).unwrap().step,
            step
        );
    }
}
