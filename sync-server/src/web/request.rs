//! What the pages read from a request and answer with: percent-encoded links, cookies,
//! redirects, the same-origin check for forms, the client's address, safe `next=` targets. A
//! leaf under every page and extractor (the router in `web/mod.rs` is above them all).

use axum::body::Body;
use axum::http::header::{COOKIE, HOST, LOCATION, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, StatusCode, request::Parts};
use axum::response::Response;

/// Percent-encode for a URL query value or path segment (the pages' links): the one encoder.
pub use crate::url_text::url_enc;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn next_targets_stay_on_site() {
        assert_eq!(safe_next("/app/exceptions?x=1"), "/app/exceptions?x=1");
        assert_eq!(safe_next("//evil.example/app"), "/app");
        assert_eq!(safe_next("https://evil.example"), "/app");
        assert_eq!(safe_next("/application"), "/app");
    }
}
