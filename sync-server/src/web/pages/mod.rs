//! One file per page (or family of routes): each handler takes its extractors
//! ([`super::extract`]), reads through [`super::read`] on the blocking pool, and renders with
//! [`super::layout`] and [`super::components`].

pub mod accounts;
pub mod alerts;
pub mod data;
pub mod devices;
pub mod evidence;
pub mod exceptions;
pub mod gallery;
pub mod health;
pub mod login;
pub mod map;
pub mod password;
pub mod people;
pub mod photo;
pub mod pipeline_settings;
pub mod plan;
pub mod ranking;
pub mod rep;
pub mod retakes;
pub mod routing;
pub mod store_profile;
pub mod structure;
pub mod today;
pub mod visit;
// Customers and leads (issue 15).
pub mod customers;
pub mod leads;
pub mod pipeline;
pub mod pool;
pub mod store_code;

use std::sync::Arc;

use crate::db::Connection;
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::response::Response;

use super::read::names::Names;
use crate::body::blocking;
use crate::error::ApiResult;
use crate::store::Store;

/// Add a `Set-Cookie` header.
fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// A page's data and the names of the people and stores it shows, read together from one
/// reader connection on the blocking pool.
struct WithNames<T> {
    names: Names,
    data: T,
}

async fn read_with_names<T: Send + 'static>(
    store: &Arc<Store>,
    read: impl FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
) -> ApiResult<WithNames<T>> {
    let s = store.clone();
    blocking(move || {
        let c = s.reader()?;
        Ok(WithNames {
            names: Names::load(&c)?,
            data: read(&c)?,
        })
    })
    .await
}
