//! Percent-encoding of one value for a URL (a query value or a path segment): the pages'
//! links, the export's filter string, the enrolment QR code's payload, and the end-to-end
//! tests' form posts. A std-only leaf: the test crate, which does not link the server, includes
//! this file with `#[path]`, so it must stay free of the crate's other modules.

/// Every byte but the unreserved ones (RFC 3986: letters, digits, `-_.~`) as `%XX`; UTF-8
/// text byte by byte. Good in a query value, a path segment and a form body alike.
pub fn url_enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::url_enc;

    #[test]
    fn url_values_are_percent_encoded() {
        assert_eq!(url_enc("a b/中?&="), "a%20b%2F%E4%B8%AD%3F%26%3D");
        assert_eq!(url_enc("visit-1_a.b~"), "visit-1_a.b~");
        assert_eq!(url_enc(""), "");
    }
}
