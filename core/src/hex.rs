//! Bytes as hex text: hashes, keys, signatures, nonces and tokens, on the phone and on the
//! server. One spelling per value: written in lower case, and only lower case is read back.
//! Hashes and keys are compared, stored and indexed as text (a device id is its key's hex, a
//! photo is found by its SHA-256), so an upper-case spelling of the same bytes would be a
//! different value; refusing it at the edge keeps every stored copy comparable
//! (docs/evidence-format.md: "lowercase hex"). A leaf: no other module of the crate.

/// Lower-case hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// `s` is exactly `len` lower-case hex digits.
pub fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The bytes of lower-case hex text; `None` for an odd length, upper case or any other
/// character.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    if !is_lower_hex(s, s.len()) || !s.len().is_multiple_of(2) {
        return None;
    }
    Some(
        s.as_bytes()
            .chunks_exact(2)
            .map(|p| (digit(p[0]) << 4) | digit(p[1]))
            .collect(),
    )
}

/// Exactly `N` bytes of lower-case hex (a 32-byte key, a 64-byte signature).
pub fn decode_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    if !is_lower_hex(s, 2 * N) {
        return None;
    }
    decode(s)?.try_into().ok()
}

/// One checked lower-case hex digit's value.
fn digit(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        _ => b - b'a' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let text = encode(&all);
        assert_eq!(text.len(), 512);
        assert!(is_lower_hex(&text, 512));
        assert_eq!(decode(&text), Some(all));
        assert_eq!(encode(&[0, 1, 0xab, 0xff]), "0001abff");
    }

    #[test]
    fn reads_only_the_canonical_spelling() {
        assert_eq!(decode("abff"), Some(vec![0xab, 0xff]));
        // Upper or mixed case is the same number but not the same stored value.
        assert_eq!(decode("ABFF"), None);
        assert_eq!(decode("aBff"), None);
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("0g"), None);
        assert_eq!(decode(" 0a"), None);
        assert_eq!(decode("٠١"), None);
        assert_eq!(decode(""), Some(vec![]));
        assert!(!is_lower_hex("AB", 2));
        assert!(!is_lower_hex("ab", 4));
    }

    #[test]
    fn arrays_have_exactly_their_length() {
        assert_eq!(decode_array::<2>("abff"), Some([0xab, 0xff]));
        assert_eq!(decode_array::<2>("abffab"), None);
        assert_eq!(decode_array::<2>("ab"), None);
        assert_eq!(decode_array::<2>("ABFF"), None);
    }
}
