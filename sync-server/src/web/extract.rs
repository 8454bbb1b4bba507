//! What a page handler takes from its request, as axum extractors: who is asking
//! ([`Viewer`], [`SignedIn`]), the page's typed query string ([`PageQuery`]) and a signed-in
//! form with its CSRF check ([`SignedForm`]). Every refusal is already the page to send: the
//! sign-in redirect, or a 4xx page in the reader's language (never axum's plain-text
//! rejections).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};

use super::auth::{self, WebRole, WebUser};
use super::{cookie, parse_day, redirect, url_enc};
use crate::body::{blocking, read_body};
use crate::error::ApiResult;
use crate::people::{AccountRole, Manager};
use crate::store::Store;
use axum::http::StatusCode;

/// The most a page's form (a comment, a sign-in) may send.
pub const FORM_LIMIT: u64 = 64 * 1024;

// Built here from the request; defined with the page frame it renders (layout.rs).
pub use super::layout::Viewer;

impl FromRequestParts<Arc<Store>> for Viewer {
    type Rejection = Response;

    /// Looked up once per request: later extractors (a bad query's page) reuse it.
    async fn from_request_parts(parts: &mut Parts, store: &Arc<Store>) -> Result<Viewer, Response> {
        if let Some(v) = parts.extensions.get::<Viewer>() {
            return Ok(v.clone());
        }
        // The language switch's pairs; an unreadable query string keeps none (the page's own
        // query extractor refuses it).
        let mut query: Vec<(String, String)> = Vec::new();
        if let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri) {
            for (k, v) in pairs {
                if !query.iter().any(|(seen, _)| *seen == k) {
                    query.push((k, v));
                }
            }
        }
        let (lang, remember_lang) = Viewer::lang_of(parts, &query);
        let secure = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
        let token = cookie(&parts.headers, auth::SESSION_COOKIE).map(str::to_string);
        let mut viewer = Viewer {
            lang,
            cal: store.calendar(),
            remember_lang,
            path: parts.uri.path().to_string(),
            query,
            here: parts
                .uri
                .path_and_query()
                .map_or("/app", |p| p.as_str())
                .to_string(),
            secure,
            token: token.clone(),
            user: None,
        };
        if let Some(t) = token {
            let s = store.clone();
            viewer.user = blocking(move || auth::session_user(&s, &t, crate::clock::now_ms()))
                .await
                .map_err(|e| viewer.error(&e))?;
        }
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

/// A signed-in request: the user and the page's [`Viewer`]. Without a session: a redirect to
/// the sign-in page, which comes back here afterwards.
pub struct SignedIn {
    pub user: WebUser,
    pub page: Viewer,
}

impl FromRequestParts<Arc<Store>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, store: &Arc<Store>) -> Result<SignedIn, Response> {
        let page = Viewer::from_request_parts(parts, store).await?;
        match page.user.clone() {
            Some(user) => Ok(SignedIn { user, page }),
            None => {
                let next = parts.uri.path_and_query().map_or("/app", |p| p.as_str());
                Err(redirect(&format!("/app/login?next={}", url_enc(next))))
            }
        }
    }
}

impl SignedIn {
    /// Who manages people on the people pages: admins and head office ([`crate::people`]
    /// decides what each may do). Anyone else (a supervisor) gets a 403 page in their language
    /// before anything is read or changed.
    pub fn manager(&self) -> Result<Manager<'_>, Response> {
        let role = match self.user.role {
            WebRole::Admin => AccountRole::Admin,
            WebRole::HeadOffice => AccountRole::HeadOffice,
            WebRole::Supervisor => {
                let e = crate::people::PeopleError::NotAllowed;
                return Err(self.page.refused(StatusCode::FORBIDDEN, e.code(), &e.params()));
            }
        };
        Ok(Manager {
            id: &self.user.id,
            role,
        })
    }
}

/// A page's query string as `T` (axum's [`Query`]); unreadable → a 400 page in the reader's
/// language naming what was wrong when a field's parser says so (its error text is a page-
/// string key such as `bad_date`), else a general "this link's parameters are not valid".
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<Arc<Store>> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, store: &Arc<Store>) -> Result<Self, Response> {
        match Query::<T>::try_from_uri(&parts.uri) {
            Ok(Query(q)) => Ok(PageQuery(q)),
            Err(rejection) => {
                let page = Viewer::from_request_parts(parts, store).await?;
                let text = rejection.body_text();
                let key = text.rsplit(": ").next().unwrap_or("");
                // Else the field serde names ("…query string: status: unknown variant…"), when
                // the table has a `bad_<field>` string for it.
                let field = text
                    .split(": ")
                    .nth(1)
                    .map(|f| format!("bad_{f}"))
                    .unwrap_or_default();
                let text = [key, field.as_str()]
                    .into_iter()
                    .map(|k| (k, page.t(k)))
                    .find(|(k, said)| !k.is_empty() && said != k)
                    .map_or_else(|| page.t("bad_query"), |(_, said)| said);
                Err(page.bad_request(text))
            }
        }
    }
}

/// A signed-in form POST: the session, the body (at most [`FORM_LIMIT`], within the body
/// timeout), the CSRF check (same origin and the session's token in the `csrf` field: 403
/// before any other field is looked at), then the fields as `T` (400 when unreadable).
pub struct SignedForm<T> {
    pub who: SignedIn,
    pub form: T,
}

#[derive(Deserialize, Default)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned> FromRequest<Arc<Store>> for SignedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, store: &Arc<Store>) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let who = SignedIn::from_request_parts(&mut parts, store).await?;
        let bytes = form_bytes(store, &parts, body)
            .await
            .map_err(|e| who.page.error(&e))?;
        let token = serde_urlencoded::from_bytes::<CsrfField>(&bytes).unwrap_or_default();
        if !super::same_origin(&parts) || !auth::same_token(&token.csrf, &who.user.csrf) {
            return Err(who.page.forbidden());
        }
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(form) => Ok(SignedForm { who, form }),
            Err(_) => Err(who.page.bad_request(who.page.t("bad_form_text"))),
        }
    }
}

/// A form POST before sign-in (the sign-in form itself): the body within the limits, the
/// fields as `T`, and the request's parts for the handler's own checks.
pub struct OpenForm<T> {
    pub page: Viewer,
    pub parts: Parts,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<Arc<Store>> for OpenForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, store: &Arc<Store>) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let page = Viewer::from_request_parts(&mut parts, store).await?;
        let bytes = form_bytes(store, &parts, body)
            .await
            .map_err(|e| page.error(&e))?;
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(form) => Ok(OpenForm { page, parts, form }),
            Err(_) => Err(page.bad_request(page.t("bad_form_text"))),
        }
    }
}

async fn form_bytes(store: &Store, parts: &Parts, body: Body) -> ApiResult<axum::body::Bytes> {
    read_body(body, &parts.headers, FORM_LIMIT, store.limits().body_timeout).await
}

// --- field parsers: their error text is the page-string key of what was wrong ------------------

/// `date=YYYY-MM-DD` as a day number; empty or absent → `None`.
pub fn opt_day<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let s = String::deserialize(d)?;
    match s.trim() {
        "" => Ok(None),
        s => parse_day(s).map(Some).ok_or_else(|| D::Error::custom("bad_date")),
    }
}

/// `page=N`, N ≥ 1; empty or absent → `None` (the first page).
pub fn opt_page<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let s = String::deserialize(d)?;
    match s.trim() {
        "" => Ok(None),
        s => match s.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(D::Error::custom("bad_page")),
        },
    }
}

/// A text filter, trimmed; empty means "all".
pub fn trimmed<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(String::deserialize(d)?.trim().to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Q {
        #[serde(default, deserialize_with = "opt_day")]
        date: Option<i64>,
        #[serde(default, deserialize_with = "opt_page")]
        page: Option<u32>,
        #[serde(default, deserialize_with = "trimmed")]
        rep: String,
    }

    fn q(s: &str) -> Result<Q, String> {
        let uri: axum::http::Uri = format!("/x?{s}").parse().unwrap();
        Query::<Q>::try_from_uri(&uri)
            .map(|Query(q)| q)
            .map_err(|e| e.body_text())
    }

    #[test]
    fn query_fields_parse_or_name_the_problem() {
        let ok = q("date=2026-11-23&page=2&rep=+rep-li+&lang=en").unwrap();
        assert_eq!(ok.date, parse_day("2026-11-23"));
        assert_eq!((ok.page, ok.rep.as_str()), (Some(2), "rep-li"));
        let empty = q("date=&page=").unwrap();
        assert_eq!((empty.date, empty.page), (None, None));
        assert!(q("date=2026-02-30").unwrap_err().ends_with(": bad_date"));
        assert!(q("page=0").unwrap_err().ends_with(": bad_page"));
        assert!(q("page=x").unwrap_err().ends_with(": bad_page"));
    }

    #[test]
    fn form_bodies_decode() {
        #[derive(Deserialize)]
        struct F {
            comment: String,
        }
        let f: F = serde_urlencoded::from_bytes(b"csrf=ab&comment=%E5%B7%B2+ok").unwrap();
        assert_eq!(f.comment, "已 ok");
        let t: CsrfField = serde_urlencoded::from_bytes(b"comment=x").unwrap();
        assert_eq!(t.csrf, "");
    }
}
