//! Request bodies read by hand, with a size limit and a deadline, and storage work run on the
//! blocking pool: the pieces the sync routes (`http`) and the web pages (`web`) share. A leaf
//! below both, so the pages never reach into the sync router.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use http_body_util::BodyExt;

use crate::error::{ApiError, ApiResult};

/// Past a route's limit, up to this much more is read and thrown away so the client, still
/// writing, gets to read the 413 instead of a reset connection.
pub(crate) const DRAIN_MAX: u64 = 16 * 1024 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Run storage work on the blocking pool; a panic there is a 500, not a lost connection.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(ApiError::Internal("request handler panicked".into())),
        Err(_) => Err(ApiError::Internal("request handler was cancelled".into())),
    }
}

pub(crate) async fn drain(mut body: Body) {
    let work = async {
        let mut seen = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len() as u64;
                if seen > DRAIN_MAX {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, work).await;
}

/// Read a whole body, refusing it (413) past `limit` bytes and abandoning it (408) when it has
/// not arrived whole within `timeout` (a stalled or trickling client).
pub(crate) async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: u64,
    timeout: Duration,
) -> ApiResult<Bytes> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u64>().ok());
    if let Some(n) = declared
        && n > limit
    {
        if n <= limit + DRAIN_MAX {
            drain(body).await;
        }
        return Err(ApiError::BodyTooLarge { limit });
    }
    let read = async move {
        let mut body = body;
        let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ApiError::BodyRead(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if (buf.len() + data.len()) as u64 > limit {
                    drain(body).await;
                    return Err(ApiError::BodyTooLarge { limit });
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(buf))
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::BodyTimeout {
            seconds: timeout.as_secs(),
        }),
    }
}
