//! One file per page (or family of routes): each handler takes its extractors
//! ([`super::extract`]), reads through [`super::read`] on the blocking pool, and renders with
//! [`super::layout`] and [`super::components`].

pub mod data;
pub mod exceptions;
pub mod gallery;
pub mod health;
pub mod login;
pub mod photo;
pub mod today;
pub mod visit;

use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::response::Response;

/// Add a `Set-Cookie` header.
fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}
