//! What the pages read from a request and answer with: percent-encoded links, cookies,
//! redirects, the same-origin check for forms, the client's address, safe `next=` targets. A
//! leaf under every page and extractor (the router in `web/mod.rs` is above them all).

use axum::body::Body;
use axum::http::header::{COOKIE, HOST, LOCATION, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, StatusCode, request::Parts};
use axum::response::Response;

/// Percent-encode for a URL query value or path segment (the pages' links): the one encoder.
pub use crate::url_text::url_enc;

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn redirect(to: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// A POST is accepted only from this site: an `Origin` header, when present, must name the
/// `Host` the request was sent to (the CSRF token is checked by the caller).
pub fn same_origin(parts: &Parts) -> bool {
    let Some(origin) = parts.headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let bare = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("\u{0}");
    !host.is_empty() && bare.eq_ignore_ascii_case(host)
}

/// The client's address for sign-in throttling: the TCP peer, or with `trust_forwarded_for`
/// (behind a reverse proxy) the last hop the proxy appended to `X-Forwarded-For`.
pub fn client_ip(parts: &Parts, trust_forwarded_for: bool) -> Option<std::net::IpAddr> {
    if trust_forwarded_for
        && let Some(ip) = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse::<std::net::IpAddr>().ok())
            .next_back()
    {
        return Some(ip);
    }
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// A `next=` target: only a path on this site under /app (no `//host` open redirect).
pub fn safe_next(next: &str) -> &str {
    if (next == "/app" || next.starts_with("/app/") || next.starts_with("/app?"))
        && !next.contains("//")
        && !next.contains('\\')
    {
        next
    } else {
        "/app"
    }
}

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
