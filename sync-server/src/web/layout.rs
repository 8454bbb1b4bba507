//! The page frame: head, header with the menu for the user's role, language switch and
//! sign-out; the CSS (one sheet, inline: the CSP allows no other source); the error pages.
//!
//! Narrow screens (a supervisor's phone, 390 px): the header wraps into rows, tables marked
//! `.rows` become one card per row (each cell labelled by its `data-label`), charts and photos
//! scale down; nothing is wider than the screen.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

use super::auth::{WebRole, WebUser};
use super::cookie;
use super::i18n::{Lang, PageText};
use super::url_enc;
use crate::calendar::Calendar;
use crate::error::ApiError;
use axum::http::request::Parts;

/// Written out rather than maud's `DOCTYPE` (`<!DOCTYPE html>`): the same thing, in the
/// lower case the pages have always sent.
pub const DOCTYPE_HTML: &str = "<!doctype html>";

/// The menu: (link, page-string key) for what `user` may use. Supervisors may export their
/// team's data but not import, so their entry says only "export".
pub fn menu(user: &WebUser) -> Vec<(&'static str, &'static str)> {
    let mut m = vec![
        ("/app", "nav_today"),
        ("/app/exceptions", "nav_exceptions"),
        ("/app/gallery", "nav_gallery"),
        ("/app/map", "nav_map"),
        ("/app/retakes", "nav_retakes"),
        ("/app/health", "nav_health"),
        ("/app/plan", "nav_plan"),
        ("/app/ranking", "nav_ranking"),
        // Customers and leads.
        ("/app/leads", "nav_leads"),
        ("/app/pipeline", "nav_pipeline"),
        ("/app/customers", "nav_customers"),
        ("/app/pool", "nav_pool"),
    ];
    m.push(if user.sees_all() {
        ("/app/data", "nav_data")
    } else {
        ("/app/data", "nav_export")
    });
    // People and structure: head office's (and admins'); supervisors manage nobody.
    if user.sees_all() {
        m.extend([
            ("/app/people", "nav_people"),
            ("/app/accounts", "nav_accounts"),
            ("/app/structure", "nav_structure"),
            ("/app/devices", "nav_devices"),
            ("/app/alerts", "nav_alerts"),
            ("/app/routing", "nav_routing"),
            ("/app/pipeline-settings", "nav_pipeline_settings"),
        ]);
    }
    m
}

fn role_key(role: WebRole) -> &'static str {
    match role {
        WebRole::Admin => "role_admin",
        WebRole::HeadOffice => "role_head_office",
        WebRole::Supervisor => "role_supervisor",
    }
}

/// An HTML answer with the headers every page carries.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut resp = (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
        markup.into_string(),
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    resp
}

/// Every page's Content-Security-Policy: nothing but this site's images and forms, and the
/// inline style sheet; no script at all.
const CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/// Let this page's images come from `sources` too (the map's tile server, when head office
/// configured one): only the page that shows them, only images.
pub fn allow_images_from(resp: &mut Response, sources: &[String]) {
    if sources.is_empty() {
        return;
    }
    let policy = CSP.replace("img-src 'self'", &format!("img-src 'self' {}", sources.join(" ")));
    // The sources were checked when the server started (`geo::TileSource`); one that still
    // cannot be a header leaves the strict policy in place.
    if let Ok(v) = HeaderValue::from_str(&policy) {
        resp.headers_mut().insert("content-security-policy", v);
    }
}

/// Who is asking and how to answer them: what every page needs from its request, signed in or
/// not (the sign-in page).
#[derive(Clone)]
pub struct Viewer {
    pub lang: Lang,
    /// The store's calendar: the days and times the page shows and picks.
    pub cal: Calendar,
    /// `?lang=` was given: remember it in the cookie.
    pub remember_lang: bool,
    /// The request's path and its query pairs (first value of each name): the language
    /// switch links to the same page.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The path with its query as sent: where a form on the page comes back to.
    pub here: String,
    /// Came through HTTPS (the reverse proxy's `X-Forwarded-Proto`): cookies get `Secure`.
    pub secure: bool,
    /// The session cookie's token, when one was sent.
    pub token: Option<String>,
    pub user: Option<WebUser>,
}

impl Viewer {
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        self.lang.t(key)
    }

    /// The language of a request without looking up its session: `?lang=`, the `lang`
    /// cookie, then `Accept-Language`.
    pub(super) fn lang_of(parts: &Parts, query: &[(String, String)]) -> (Lang, bool) {
        let from_query = query
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        let lang = from_query
            .or_else(|| cookie(&parts.headers, "lang").and_then(Lang::parse))
            .unwrap_or_else(|| {
                Lang::from_accept_language(
                    parts
                        .headers
                        .get("accept-language")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or(""),
                )
            });
        (lang, from_query.is_some())
    }
}

impl Viewer {
    /// This page in the other language: the same path and query (sorted), `lang` replaced.
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

    /// A whole page: the frame around `body` under the heading `title`.
    pub fn page(&self, status: StatusCode, title: &str, body: Markup) -> Response {
        let t = |k| self.t(k);
        let markup = html! {
            (PreEscaped(DOCTYPE_HTML))
            html lang=(self.lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · " (t("app_name")) }
                    style { (PreEscaped(CSS)) }
                }
                body {
                    header {
                        strong.brand { (t("app_name")) }
                        @if let Some(u) = &self.user {
                            nav {
                                @for (href, key) in menu(u) {
                                    @if self.path == href {
                                        a.cur href=(href) aria-current="page" { (t(key)) }
                                    } @else {
                                        a href=(href) { (t(key)) }
                                    }
                                }
                            }
                            span.who { (u.name) " · " (t(role_key(u.role))) }
                            form.inline method="post" action="/app/logout" {
                                input type="hidden" name="csrf" value=(u.csrf);
                                button id="sign-out" { (t("sign_out")) }
                            }
                        }
                        a id="lang-switch" href=(self.switch_href()) { (t("switch_lang")) }
                    }
                    main {
                        h1 { (title) }
                        (body)
                    }
                }
            }
        };
        let mut resp = html_response(status, markup);
        if self.remember_lang {
            let c = format!(
                "lang={}; Path=/app; Max-Age=31536000; SameSite=Lax",
                self.lang.code()
            );
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(SET_COOKIE, v);
            }
        }
        resp
    }

    fn message_page(&self, status: StatusCode, title_key: &str, text: &str) -> Response {
        let body = html! {
            p.err { (text) }
            p { a href="/app" { (self.t("back")) } }
        };
        self.page(status, self.t(title_key), body)
    }

    pub fn not_found(&self) -> Response {
        self.message_page(StatusCode::NOT_FOUND, "not_found", self.t("not_found_text"))
    }

    pub fn bad_request(&self, text: &str) -> Response {
        self.message_page(StatusCode::BAD_REQUEST, "bad_request", text)
    }

    pub fn forbidden(&self) -> Response {
        self.message_page(StatusCode::FORBIDDEN, "forbidden", self.t("csrf_failed"))
    }

    /// A refusal page: a catalogue message (`code` + `params`, [`crate::i18n::MESSAGES`]) in
    /// the reader's language, under the heading of `status` (403 "forbidden", else "bad request").
    pub fn refused(&self, status: StatusCode, code: &str, params: &[(&str, String)]) -> Response {
        let title = if status == StatusCode::FORBIDDEN {
            "forbidden"
        } else {
            "bad_request"
        };
        self.message_page(status, title, &self.lang.message(code, params))
    }

    /// The page for a failed request. Whatever the client sent wrong is a 4xx page in the
    /// reader's language (413 too large, 408 too slow, 400 unreadable); only the server's own
    /// failures are a 5xx, and only those are logged as errors.
    pub fn error(&self, e: &ApiError) -> Response {
        match e {
            ApiError::NotFound(_) => self.not_found(),
            ApiError::InvalidInput(m) | ApiError::InvalidQuery(m) => self.bad_request(m),
            ApiError::BodyTooLarge { limit } => {
                let text = self
                    .t("too_large_text")
                    .replace("{kib}", &limit.div_ceil(1024).to_string());
                self.message_page(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &text)
            }
            ApiError::BodyTimeout { .. } => {
                self.message_page(StatusCode::REQUEST_TIMEOUT, "timed_out", self.t("timed_out_text"))
            }
            e if e.status().is_client_error() => {
                self.message_page(e.status(), "bad_request", self.t("bad_form_text"))
            }
            // An outage of the database or the photo store, not a bug: the reader tries again.
            ApiError::Busy | ApiError::StorageUnavailable(_) => {
                tracing::warn!(error = %e, "web page: storage unavailable");
                self.message_page(e.status(), "unavailable", self.t("unavailable_text"))
            }
            _ => {
                tracing::error!(error = %e, "web page failed");
                self.message_page(e.status(), "error", self.t("error_text"))
            }
        }
    }
}

const CSS: &str = "
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI','PingFang SC','Noto Sans CJK SC',sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{display:flex;gap:.4rem 1rem;align-items:center;background:#243b53;color:#fff;padding:.6rem 1rem;flex-wrap:wrap}
header a{color:#d9e2ec;text-decoration:none;padding:.2rem 0}header a.cur{color:#fff;font-weight:600;border-bottom:2px solid #f0b429}
header nav{flex:1;display:flex;align-items:center;flex-wrap:wrap;gap:.2rem .9rem}.who{color:#bcccdc}
main{padding:1rem 1.5rem;max-width:1200px}h1{font-size:1.4rem;overflow-wrap:anywhere}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0}th,td{border-bottom:1px solid #e4e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.92rem;overflow-wrap:break-word}
th{background:#eef2f7}form.inline{display:inline}button,input,select{font:inherit;padding:.25rem .5rem;max-width:100%}
form.filters{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:flex-end}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;font-size:.8rem;font-weight:600;color:#fff}
.b-verified{background:#2f855a}.b-verified_revoked_later{background:#276749;white-space:normal}.b-revoked_key{background:#b7791f}.b-tampered{background:#c53030}.b-unknown_key{background:#b7791f}.b-not_received,.b-unverified{background:#718096}
.code{display:inline-block;background:#fde8e8;color:#9b1c1c;border-radius:.3rem;padding:0 .35rem;margin:1px;font-size:.82rem}
.code.closed{background:#eef2f7;color:#7b8794;text-decoration:line-through}.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.ok{color:#2f855a}.bad{color:#c53030}.muted{color:#7b8794}.err{background:#fde8e8;padding:.5rem;border-left:4px solid #c53030}
.nowrap,.code{white-space:nowrap}.exports{overflow-wrap:anywhere}
/* Long text (hashes, ids) may break anywhere; names keep a readable width (CJK breaks between any two characters). */
td.long{overflow-wrap:anywhere;min-width:14em}td.name{min-width:8em}
.cards{display:flex;flex-wrap:wrap;gap:1rem}.card{background:#fff;padding:.6rem;border:1px solid #e4e7eb;border-radius:.4rem;max-width:100%}
img.thumb{max-width:260px;max-height:200px;min-width:120px;min-height:90px;object-fit:contain;display:block}
.pager{display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem}dt{color:#52606d}dd{margin:0;overflow-wrap:anywhere}
form.resolve{display:flex;flex-wrap:wrap;gap:.3rem}form.resolve input{flex:1;min-width:8rem}
svg{max-width:100%;height:auto}
/* The day's map: tiles (when configured) and the drawing scale together with the page's width. */
.map{position:relative;width:100%;max-width:960px;aspect-ratio:960/600;overflow:hidden;background:#eef2f7;border:1px solid #cbd2d9}
.map img.tile{position:absolute;width:26.6667%;height:42.6667%;max-width:none;user-select:none}.map svg{position:absolute;inset:0;width:100%;height:100%}
.map-legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:.4rem 0;font-size:.88rem;align-items:center}.map-legend svg{vertical-align:middle}
.map-credit{font-size:.78rem;color:#52606d;margin:.2rem 0}
.bigcode{font:700 2rem/1.2 ui-monospace,monospace;letter-spacing:.08em;overflow-wrap:anywhere}.qr svg{width:240px;display:block}
form.row-edit{display:flex;flex-wrap:wrap;gap:.3rem}form.row-edit input{flex:1;min-width:7rem}fieldset{border:1px solid #e4e7eb}
nav.daynav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;margin:.3rem 0 .8rem}nav.daynav form{margin:0}
details.tech{margin:.4rem 0;font-size:.85rem;color:#52606d}details.tech summary{cursor:pointer}details.tech dd{overflow-wrap:anywhere;font-family:ui-monospace,monospace}
.reuse{background:#fff;padding:.6rem;margin:.5rem 0;border:1px solid #e4e7eb}.reuse p{margin:.3rem 0}h3{font-size:1rem;margin:1rem 0 .3rem}
.msg-photos{display:flex;flex-wrap:wrap;gap:.6rem}.msg-photos figure{margin:0;max-width:100%}.msg-photos figcaption{font-size:.85rem;color:#52606d}
/* Exceptions: state chips; a closed one is muted with its title struck through. */
.state{display:inline-block;border-radius:.8rem;padding:0 .45rem;font-size:.8rem;white-space:nowrap}
.st-open{background:#fde8e8;color:#9b1c1c}.st-assigned{background:#fefcbf;color:#744210}
.st-resolved,.st-dismissed{background:#e4e7eb;color:#52606d;text-decoration:line-through}
tr.closed,.pair.closed{color:#7b8794;background:#f8f9fb}tr.closed img.thumb,.pair.closed img.thumb{opacity:.6}
.code.closed{background:#e4e7eb;color:#52606d;text-decoration:line-through}
.badges{display:inline-flex;flex-wrap:wrap;gap:.2rem;align-items:center}.b-verified.b-flagged,.b-verified_revoked_later.b-flagged{background:#b7791f}
.flag{display:inline-block;background:#fde8e8;color:#9b1c1c;border-radius:.3rem;padding:0 .35rem;font-size:.8rem}
.thumbs{display:flex;flex-wrap:wrap;gap:.4rem}.thumbs figure{margin:0}.thumbs img.thumb{max-width:96px;max-height:72px;min-width:0;min-height:0}
table.exceptions td.long{min-width:19em}
.thumbs figcaption{font-size:.78rem;color:#52606d}
details.tech summary,details.history summary,details.more summary{cursor:pointer;color:#52606d;font-size:.85rem}
details.tech dl{display:block;font-size:.8rem}details.tech dt{margin-top:.25rem}details.tech dd{overflow-wrap:anywhere;color:#3e4c59}
details.history ol{margin:.2rem 0;padding-left:1.2rem;font-size:.85rem}.comment{overflow-wrap:anywhere}
p.sentence{margin:0 0 .3rem}form.assign,form.reopen{display:flex;flex-wrap:wrap;gap:.3rem;margin:.3rem 0}form.reopen input{flex:1;min-width:8rem}
button.secondary{background:#fff;border:1px solid #9aa5b1}
nav.tabs{display:flex;flex-wrap:wrap;gap:.3rem;margin:.3rem 0 .6rem}nav.tabs a{padding:.2rem .6rem;border:1px solid #cbd2d9;border-radius:1rem;text-decoration:none;color:#243b53;background:#fff}
nav.tabs a.cur{background:#243b53;color:#fff}nav.tabs .n{font-weight:600}
details.more{flex-basis:100%}details.more .fields{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:flex-end;margin-top:.4rem}
label.search input{min-width:14rem}
form.bulk{position:sticky;bottom:0;z-index:2;display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;background:#fff;border:1px solid #cbd2d9;box-shadow:0 -2px 6px rgba(0,0,0,.08);padding:.5rem;margin:.5rem 0}
form.bulk input[name=comment]{flex:1;min-width:10rem}form.bulk .buttons,form.bulk .assign{display:flex;flex-wrap:wrap;gap:.3rem}
.notice{background:#e3f9e5;padding:.5rem;border-left:4px solid #2f855a}th a.sort{color:inherit}
td.pick input{width:1.3rem;height:1.3rem}th.pick{white-space:nowrap}
.login{max-width:22rem;background:#fff;padding:1rem;border:1px solid #e4e7eb}.login label{display:block;margin:.5rem 0}.login input{width:100%}
/* Photo review with retakes: a decision's chip, the form, a retake with both photos. */
.rv-approve,.rt-done{background:#e3f9e5;color:#276749}.rv-reject,.rt-overdue{background:#fde8e8;color:#9b1c1c}.rv-retake,.rt-open{background:#fefcbf;color:#744210}
.rt-cancelled{background:#e4e7eb;color:#52606d;text-decoration:line-through}p.review{margin:.3rem 0;overflow-wrap:anywhere}
form.review{display:flex;flex-wrap:wrap;gap:.3rem;margin:.3rem 0}form.review input[name=reason]{flex:1;min-width:8rem}
/* Settings as JSON (routing rules, stages, the health model) and a problem beside its field. */
textarea.json{display:block;width:100%;min-height:12rem;font:.85rem/1.35 ui-monospace,monospace;margin:.4rem 0}
.field-err{display:block;font-size:.85rem}
.retake{background:#fff;padding:.6rem;margin:.5rem 0;border:1px solid #e4e7eb}.retake.closed{color:#7b8794}.retake p{margin:.3rem 0;overflow-wrap:anywhere}
/* Customers and leads: health grades, the red warning, the store's QR check-in code. */
.grade{display:inline-block;min-width:1.5rem;text-align:center;border-radius:.3rem;font-weight:700;color:#fff}.g-A{background:#2f855a}.g-B{background:#b7791f}.g-C{background:#c53030}
.flag.warn{background:#c53030;color:#fff}.trend{white-space:nowrap}.store-qr svg{width:min(100%,420px);display:block}
@media (max-width:700px){
main{padding:.8rem}header{padding:.5rem .8rem}header nav{flex-basis:100%;order:3}
table.rows,table.rows tbody,table.rows tr,table.rows td{display:block;width:100%}
table.rows thead{display:none}table.rows{background:none}
table.rows tr{background:#fff;border:1px solid #e4e7eb;border-radius:.4rem;margin:.5rem 0;padding:.3rem 0}
table.rows td{border:0;position:relative;padding:.2rem .6rem .2rem 7.4rem;min-height:1.6rem}
table.rows td::before{content:attr(data-label);color:#52606d;font-size:.85rem;position:absolute;left:.6rem;width:6.4rem;overflow-wrap:anywhere}
table.rows td:empty{display:none}
table.rows td.act,table.rows td.long{padding-left:.6rem}table.rows td.act::before,table.rows td.long::before{position:static;display:block;width:auto}
label.search,label.search input{min-width:0;width:100%}form.bulk input[name=comment]{min-width:0;flex-basis:100%}table.rows td.long,table.rows td.name{min-width:0}.code{white-space:normal}
dl{grid-template-columns:minmax(0,7rem) minmax(0,1fr)}
img.thumb{max-width:100%}
.msg-photos figure{flex:0 1 calc(50% - .3rem)}.msg-photos img.thumb{min-width:0;width:100%}
}
";
