//! The head-office web pages, served by the sync server itself under `/app/...`:
//! server-rendered HTML (no JS framework, inline CSS, charts as inline SVG), every string in
//! English and Simplified Chinese ([`i18n`]), everything behind sign-in ([`auth`]) except
//! `/app/login`.
//!
//! These routes are not in [`crate::ROUTES`] / `openapi.json`: those describe the phones' JSON
//! sync contract, which this HTML is no part of. [`WEB_ROUTES`] lists them instead (a test checks
//! that the router serves each one); metrics count them under `route="other"`.

// Page handlers return the finished error page as their `Err` (a `Response`): it is built once
// per failed request, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod auth;
mod health;
pub mod i18n;
mod pages;
mod transfer;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::store::Store;
use auth::WebUser;
use i18n::Lang;

/// Every web route, as (method, path template).
pub const WEB_ROUTES: &[(&str, &str)] = &[
    ("GET", "/app"),
    ("GET", "/app/login"),
    ("POST", "/app/login"),
    ("GET", "/app/login/link"),
    ("POST", "/app/logout"),
    ("GET", "/app/exceptions"),
    ("POST", "/app/exceptions/{id}/resolve"),
    ("GET", "/app/visits/{id}"),
    ("GET", "/app/photos/{sha256}"),
    ("GET", "/app/thumbs/{sha256}"),
    ("GET", "/app/gallery"),
    ("GET", "/app/health"),
    ("GET", "/app/data"),
    ("GET", "/app/export.xlsx"),
    ("GET", "/app/export/{file}"),
    ("POST", "/app/import"),
    ("GET", "/app/import/template.xlsx"),
];

pub fn routes() -> Router<Arc<Store>> {
    Router::new()
        .route("/app", get(pages::today))
        .route("/app/login", get(pages::login_form).post(pages::login))
        .route("/app/login/link", get(pages::sign_in_link))
        .route("/app/logout", post(pages::logout))
        .route("/app/exceptions", get(pages::exceptions))
        .route("/app/exceptions/{id}/resolve", post(pages::resolve))
        .route("/app/visits/{id}", get(pages::visit))
        .route("/app/photos/{sha256}", get(pages::photo))
        .route("/app/thumbs/{sha256}", get(pages::thumb))
        .route("/app/gallery", get(pages::gallery))
        .route("/app/health", get(health::health))
        .route("/app/data", get(transfer::data))
        .route("/app/export.xlsx", get(transfer::export_xlsx))
        .route("/app/export/{file}", get(transfer::export_csv))
        .route("/app/import/template.xlsx", get(transfer::import_template))
        // The import handler bounds its own body (size and time); axum's default 2 MB cap on
        // Multipart would refuse uploads long before the import's limit.
        .route(
            "/app/import",
            post(transfer::import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// HTML-escape text or an attribute value (always quoted with `"`).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode for a URL query value.
pub fn url_enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn url_dec(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) if hex.bytes().all(|c| c.is_ascii_hexdigit()) => {
                        out.push(v);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=x+y` → map (first value of each name wins).
pub fn parse_form(s: &str) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for kv in s.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        m.entry(url_dec(k)).or_insert_with(|| url_dec(v));
    }
    m
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What every page needs from its request.
pub struct Ctx {
    pub lang: Lang,
    /// `?lang=` was given: remember it in the cookie.
    pub remember_lang: bool,
    pub query: HashMap<String, String>,
    pub path: String,
    pub secure: bool,
    pub token: Option<String>,
    pub user: Option<WebUser>,
}

impl Ctx {
    pub async fn new(store: &Arc<Store>, parts: &Parts) -> Result<Ctx, Response> {
        let query = parse_form(parts.uri.query().unwrap_or(""));
        let from_query = query.get("lang").and_then(|l| Lang::parse(l));
        let lang = from_query
            .or_else(|| cookie(parts, "lang").and_then(Lang::parse))
            .unwrap_or_else(|| {
                Lang::from_accept_language(
                    parts
                        .headers
                        .get("accept-language")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or(""),
                )
            });
        let secure = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
        let token = cookie(parts, auth::SESSION_COOKIE).map(str::to_string);
        let user = match &token {
            Some(t) => {
                let (s, t) = (store.clone(), t.clone());
                crate::http::blocking(move || auth::session_user(&s, &t, crate::now_ms()))
                    .await
                    .map_err(|e| error_page(lang, &e))?
            }
            None => None,
        };
        Ok(Ctx {
            lang,
            remember_lang: from_query.is_some(),
            query,
            path: parts.uri.path().to_string(),
            secure,
            token,
            user,
        })
    }

    /// The signed-in user, or a redirect to the sign-in page.
    pub async fn signed_in(store: &Arc<Store>, parts: &Parts) -> Result<(Ctx, WebUser), Response> {
        let ctx = Ctx::new(store, parts).await?;
        match ctx.user.clone() {
            Some(u) => Ok((ctx, u)),
            None => {
                let next = parts.uri.path_and_query().map_or("/app", |p| p.as_str());
                Err(redirect(&format!("/app/login?next={}", url_enc(next))))
            }
        }
    }

    pub fn q(&self, name: &str) -> &str {
        self.query.get(name).map_or("", |s| s.trim())
    }

    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        self.lang.t(key)
    }

    /// This page in the other language.
    fn switch_href(&self) -> String {
        let mut q: Vec<String> = self
            .query
            .iter()
            .filter(|(k, _)| k.as_str() != "lang")
            .map(|(k, v)| format!("{}={}", url_enc(k), url_enc(v)))
            .collect();
        q.sort();
        q.push(format!("lang={}", self.lang.other().code()));
        format!("{}?{}", self.path, q.join("&"))
    }

    /// A whole page: layout, navigation, language switch, sign-out.
    pub fn page(&self, status: StatusCode, title: &str, body: &str) -> Response {
        let lang = self.lang;
        let mut nav = String::new();
        if let Some(u) = &self.user {
            let links = [
                ("/app", "nav_today"),
                ("/app/exceptions", "nav_exceptions"),
                ("/app/gallery", "nav_gallery"),
                ("/app/health", "nav_health"),
                ("/app/data", "nav_data"),
            ];
            for (href, key) in links {
                let cur = if self.path == href { " class=\"cur\"" } else { "" };
                nav.push_str(&format!("<a href=\"{href}\"{cur}>{}</a>", esc(lang.t(key))));
            }
            let role_key = match u.role {
                auth::WebRole::Admin => "role_admin",
                auth::WebRole::HeadOffice => "role_head_office",
                auth::WebRole::Supervisor => "role_supervisor",
            };
            nav.push_str(&format!(
                "<span class=\"who\">{} · {}</span><form method=\"post\" action=\"/app/logout\" class=\"inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button id=\"sign-out\">{}</button></form>",
                esc(&u.name),
                esc(lang.t(role_key)),
                esc(&u.csrf),
                esc(lang.t("sign_out"))
            ));
        }
        let html = format!(
            "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · {app}</title><style>{CSS}</style></head><body>\
             <header><strong>{app}</strong><nav>{nav}</nav>\
             <a id=\"lang-switch\" href=\"{switch}\">{switch_text}</a></header>\
             <main><h1>{title}</h1>{body}</main></body></html>",
            code = lang.code(),
            title = esc(title),
            app = esc(lang.t("app_name")),
            switch = esc(&self.switch_href()),
            switch_text = esc(lang.t("switch_lang")),
        );
        let mut resp = (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
            html,
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
        h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
        if self.remember_lang {
            let c = format!("lang={}; Path=/app; Max-Age=31536000; SameSite=Lax", lang.code());
            if let Ok(v) = HeaderValue::from_str(&c) {
                h.append(SET_COOKIE, v);
            }
        }
        resp
    }

    pub fn not_found(&self) -> Response {
        let body = format!(
            "<p>{}</p><p><a href=\"/app\">{}</a></p>",
            esc(self.t("not_found_text")),
            esc(self.t("back"))
        );
        self.page(StatusCode::NOT_FOUND, self.t("not_found"), &body)
    }

    pub fn bad_request(&self, text: &str) -> Response {
        let body = format!(
            "<p>{}</p><p><a href=\"/app\">{}</a></p>",
            esc(text),
            esc(self.t("back"))
        );
        self.page(StatusCode::BAD_REQUEST, self.t("bad_request"), &body)
    }

    pub fn forbidden(&self) -> Response {
        let body = format!("<p>{}</p>", esc(self.t("csrf_failed")));
        self.page(StatusCode::FORBIDDEN, self.t("forbidden"), &body)
    }

    /// The page for a failed request. Whatever the client sent wrong is a 4xx page in the
    /// reader's language (413 too large, 408 too slow, 400 unreadable); only the server's own
    /// failures are a 5xx, and only those are logged as errors.
    pub fn error(&self, e: &ApiError) -> Response {
        let back = format!("<p><a href=\"/app\">{}</a></p>", esc(self.t("back")));
        match e {
            ApiError::NotFound(_) => self.not_found(),
            ApiError::InvalidInput(m) | ApiError::InvalidQuery(m) => self.bad_request(m),
            ApiError::BodyTooLarge { limit } => {
                let text = self
                    .t("too_large_text")
                    .replace("{kib}", &limit.div_ceil(1024).to_string());
                let body = format!("<p>{}</p>{back}", esc(&text));
                self.page(StatusCode::PAYLOAD_TOO_LARGE, self.t("too_large"), &body)
            }
            ApiError::BodyTimeout { .. } => {
                let body = format!("<p>{}</p>{back}", esc(self.t("timed_out_text")));
                self.page(StatusCode::REQUEST_TIMEOUT, self.t("timed_out"), &body)
            }
            e if e.status().is_client_error() => {
                let body = format!("<p>{}</p>{back}", esc(self.t("bad_form_text")));
                self.page(e.status(), self.t("bad_request"), &body)
            }
            _ => {
                tracing::error!(error = %e, "web page failed");
                let body = format!("<p>{}</p>", esc(self.t("error_text")));
                self.page(e.status(), self.t("error"), &body)
            }
        }
    }
}

fn error_page(lang: Lang, e: &ApiError) -> Response {
    tracing::error!(error = %e, "web session lookup failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
        format!(
            "<!doctype html><title>error</title><p>{}</p>",
            esc(lang.t("error_text"))
        ),
    )
        .into_response()
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

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI','PingFang SC','Noto Sans CJK SC',sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{display:flex;gap:1rem;align-items:center;background:#243b53;color:#fff;padding:.6rem 1rem;flex-wrap:wrap}
header a{color:#d9e2ec;text-decoration:none;margin-right:.8rem}header a.cur{color:#fff;font-weight:600;border-bottom:2px solid #f0b429}
header nav{flex:1;display:flex;align-items:center;flex-wrap:wrap}.who{margin:0 .6rem;color:#bcccdc}
main{padding:1rem 1.5rem;max-width:1200px}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0}th,td{border-bottom:1px solid #e4e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}
th{background:#eef2f7}form.inline{display:inline}button,input,select{font:inherit;padding:.25rem .5rem}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;font-size:.8rem;font-weight:600;color:#fff}
.b-verified{background:#2f855a}.b-tampered{background:#c53030}.b-unknown_key{background:#b7791f}.b-not_received,.b-unverified{background:#718096}
.code{display:inline-block;background:#fde8e8;color:#9b1c1c;border-radius:.3rem;padding:0 .35rem;margin:1px;font-size:.82rem}
.ok{color:#2f855a}.bad{color:#c53030}.muted{color:#7b8794}.err{background:#fde8e8;padding:.5rem;border-left:4px solid #c53030}
.cards{display:flex;flex-wrap:wrap;gap:1rem}.card{background:#fff;padding:.6rem;border:1px solid #e4e7eb;border-radius:.4rem}
.pair{display:flex;gap:1rem;align-items:flex-start;background:#fff;padding:.6rem;margin:.5rem 0;border:1px solid #e4e7eb}
img.thumb{max-width:260px;max-height:200px;min-width:120px;min-height:90px;object-fit:contain;display:block}.pager{display:flex;gap:1rem;align-items:center}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{color:#52606d}dd{margin:0;word-break:break-all}
.login{max-width:22rem;background:#fff;padding:1rem;border:1px solid #e4e7eb}.login label{display:block;margin:.5rem 0}.login input{width:100%;box-sizing:border-box}
";

// --- dates: pages show and pick days in the field's time zone ------------------------------------

/// Minutes east of UTC of the days the pages show (`FIELDPROOF_TZ_OFFSET_MINUTES`, default
/// 480 = China Standard Time, where the field works).
pub fn tz_offset_ms() -> i64 {
    static OFF: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *OFF.get_or_init(|| {
        std::env::var("FIELDPROOF_TZ_OFFSET_MINUTES")
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|m| m.abs() <= 14 * 60)
            .unwrap_or(480)
            * 60_000
    })
}

/// `YYYY-MM-DD` → the day number (days since 1970-01-01), refusing impossible dates.
pub fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: i64 = s.get(5..7)?.parse().ok()?;
    let d: i64 = s.get(8..10)?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let n = fieldproof_core::clock::days_from_civil(y, m, d);
    (fieldproof_core::clock::civil_from_days(n) == (y, m, d)).then_some(n)
}

pub fn day_string(day: i64) -> String {
    let (y, m, d) = fieldproof_core::clock::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The local day of a Unix-ms instant.
pub fn day_of(ms: i64) -> i64 {
    (ms + tz_offset_ms()).div_euclid(86_400_000)
}

/// [start, end) Unix ms of a local day.
pub fn day_bounds(day: i64) -> (i64, i64) {
    let start = day * 86_400_000 - tz_offset_ms();
    (start, start + 86_400_000)
}

pub fn fmt_time(ms: i64) -> String {
    let local = (ms + tz_offset_ms()).rem_euclid(86_400_000) / 60_000;
    format!("{:02}:{:02}", local / 60, local % 60)
}

pub fn fmt_datetime(ms: i64) -> String {
    format!("{} {}", day_string(day_of(ms)), fmt_time(ms))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("联华超市"), "联华超市");
        assert_eq!(esc(""), "");
    }

    #[test]
    fn forms_decode() {
        let f = parse_form("a=1&b=x+y&c=%E4%B8%AD&d=%zz&e&a=2&f=%4");
        assert_eq!(f["a"], "1");
        assert_eq!(f["b"], "x y");
        assert_eq!(f["c"], "中");
        assert_eq!(f["d"], "%zz");
        assert_eq!(f["e"], "");
        assert_eq!(f["f"], "%4");
        assert_eq!(url_dec(&url_enc("a b/中?&=")), "a b/中?&=");
    }

    #[test]
    fn dates_round_trip_and_refuse_nonsense() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        let d = parse_day("2026-11-23").unwrap();
        assert_eq!(day_string(d), "2026-11-23");
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "20261123",
            "2026-1-23",
            "",
            "abcd-ef-gh",
            "2026-11-2x",
            "２０２６-11-23",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
        let (s, e) = day_bounds(d);
        assert_eq!(day_of(s), d);
        assert_eq!(day_of(e - 1), d);
        assert_eq!(day_of(e), d + 1);
    }

    #[test]
    fn next_targets_stay_on_site() {
        assert_eq!(safe_next("/app/exceptions?x=1"), "/app/exceptions?x=1");
        assert_eq!(safe_next("//evil.example/app"), "/app");
        assert_eq!(safe_next("https://evil.example"), "/app");
        assert_eq!(safe_next("/application"), "/app");
    }
}
