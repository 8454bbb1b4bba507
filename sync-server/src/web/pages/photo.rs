//! `GET /app/photos/{sha256}` (the photo) and `GET /app/thumbs/{sha256}` (its preview), for
//! viewers whose scope holds the photo, with caching headers.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::body::blocking;
use crate::error::ApiError;
use crate::photos::thumbs;
use crate::store::Store;
use crate::web::extract::SignedIn;
use crate::web::read::photos::photo_visible;
use crate::web::redirect;

/// Both image routes name their bytes by content hash, so a browser may keep them for good
/// (`private`: they are behind sign-in, so no shared cache may store them).
const IMMUTABLE: &str = "private, max-age=31536000, immutable";

#[derive(Clone, Copy, PartialEq, Eq)]
enum ImageKind {
    Photo,
    Thumb,
}

enum Served {
    Bytes(Vec<u8>),
    /// The browser's copy is current (`If-None-Match`).
    NotModified,
    /// No preview can be made of these bytes (the decoder refuses them): show the photo
    /// itself, which a browser may still render.
    Full,
}

pub async fn full(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    headers: HeaderMap,
    sha: Result<Path<String>, PathRejection>,
) -> Response {
    image(store, who, &headers, sha, ImageKind::Photo).await
}

pub async fn thumb(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    headers: HeaderMap,
    sha: Result<Path<String>, PathRejection>,
) -> Response {
    image(store, who, &headers, sha, ImageKind::Thumb).await
}

async fn image(
    store: Arc<Store>,
    who: SignedIn,
    headers: &HeaderMap,
    sha: Result<Path<String>, PathRejection>,
    kind: ImageKind,
) -> Response {
    let SignedIn { user, page } = who;
    let sha = match sha {
        Ok(Path(sha)) if crate::auth::is_lower_hex(&sha, 64) => sha,
        _ => return page.not_found(),
    };
    // A preview's tag names its size too, so previews made another way never match.
    let etag = match kind {
        ImageKind::Photo => format!("\"{sha}\""),
        ImageKind::Thumb => format!("\"t{}-{sha}\"", thumbs::EDGE),
    };
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let scope = user.scope().map(str::to_string);
    let s = store.clone();
    let sha2 = sha.clone();
    let data = blocking(move || {
        if !photo_visible(&*s.reader()?, &sha2, scope.as_deref())? {
            return Err(ApiError::NotFound("photo".into()));
        }
        if fresh {
            return Ok(Served::NotModified);
        }
        match kind {
            ImageKind::Photo => match crate::blobs::read_photo(&*s.blobs, &sha2)? {
                Some(b) => Ok(Served::Bytes(b)),
                None => Err(ApiError::NotFound("photo bytes".into())),
            },
            ImageKind::Thumb => match thumbs::read_or_make(&*s.blobs, &sha2) {
                Ok(b) => Ok(Served::Bytes(b)),
                Err(thumbs::ThumbError::NoPhoto) => Err(ApiError::NotFound("photo bytes".into())),
                Err(thumbs::ThumbError::Store(e)) => Err(e.into()),
                Err(e) => {
                    tracing::warn!(sha256 = %sha2, error = %e, "no thumbnail: sending the photo");
                    Ok(Served::Full)
                }
            },
        }
    })
    .await;
    let cached = |mut r: Response| {
        let h = r.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(ETAG, v);
        }
        h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        r
    };
    match data {
        Ok(Served::Bytes(bytes)) => {
            cached(([(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"))], bytes).into_response())
        }
        Ok(Served::NotModified) => cached(StatusCode::NOT_MODIFIED.into_response()),
        Ok(Served::Full) => {
            // Not cached: a later preview (a better decoder) replaces it.
            let mut r = redirect(&format!("/app/photos/{sha}"));
            r.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => page.error(&e),
    }
}
