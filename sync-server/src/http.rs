//! The HTTP face of [`Store`]: routes, request signing, size limits and JSON errors.
//!
//! Bodies are read by hand with each route's limit (axum's extractors would answer a bad body
//! in plain text), JSON is decoded with the path of the offending field, and everything that
//! touches SQLite or the disk runs on the blocking pool.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fieldproof_core::sync::wire::{
    EnrolRequest, Health, PhotoOffer, PhotoStatus, PullResponse, PushRequest, PushResponse,
};
use futures_util::FutureExt;
use serde::de::DeserializeOwned;

use crate::auth::{self, Authenticated, SignedHeaders};
use crate::body::{blocking, read_body};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::keys::is_lower_hex;
use crate::store::Store;
use crate::{photos, pull};

pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

pub fn app(store: Arc<Store>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/enrol", post(enrol))
        .route("/v1/push", post(push))
        .route("/v1/photos", post(photo_offer))
        .route("/v1/photos/{sha256}", get(photo_status).put(photo_chunk))
        .route("/v1/pull", get(pull))
        .route(
            fieldproof_core::sync::wire::DEVICE_CERTIFICATE_PATH,
            get(device_certificate),
        )
        .merge(crate::web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(store.clone(), track))
        .with_state(store)
}

async fn track(State(store): State<Arc<Store>>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let started = Instant::now();
    // Last resort: a panic in a handler becomes a 500 with the JSON body, not a dropped
    // connection. Handlers do their work in spawn_blocking, whose panics arrive as errors.
    let response = match std::panic::AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(r) => r,
        Err(_) => ApiError::Internal("request handler panicked".into()).into_response(),
    };
    let status = response.status().as_u16();
    store.metrics.record_request(&method, route.as_deref(), status);
    tracing::info!(
        method = %method,
        route = route.as_deref().unwrap_or("-"),
        status,
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path() == "/" {
        return crate::web::redirect("/app");
    }
    if uri.path().starts_with("/app/") {
        // The web pages answer in HTML; the sync API in JSON.
        return (
            axum::http::StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
            "<!doctype html><title>404</title><p>Not found · 未找到</p><p><a href=\"/app\">/app</a></p>",
        )
            .into_response();
    }
    ApiError::NotFound("no such route; see /openapi.json".into()).into_response()
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        server_time_ms: now_ms(),
    })
}

/// Readiness (a load balancer's check), beside `/healthz`'s liveness: 200 when the database
/// answers and the photo store takes a write, else 503 naming the part that failed. The reason
/// goes to the log, never into the answer.
async fn readyz(State(store): State<Arc<Store>>) -> Response {
    let ready = crate::maintenance::readiness(store).await;
    let status = if ready.ready() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        )],
        Json(ready),
    )
        .into_response()
}

async fn metrics(State(store): State<Arc<Store>>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        store.metrics.render(),
    )
}

async fn openapi() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        OPENAPI,
    )
}

/// Decode JSON, naming the field (as a path) as well as the line and column of a problem.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            ApiError::MalformedJson(format!("invalid JSON body: {inner}"))
        } else {
            ApiError::MalformedJson(format!("invalid JSON body at `{path}`: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::MalformedJson(format!("invalid JSON body: {e}")))?;
    Ok(value)
}

/// A sync route's body: its own size limit, the server's body timeout.
async fn route_body(store: &Store, parts: &Parts, body: Body, limit: u64) -> ApiResult<Bytes> {
    read_body(body, &parts.headers, limit, store.limits.body_timeout).await
}

fn path_and_query(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_string(), |pq| pq.as_str().to_string())
}

/// The signing headers, checked for form and freshness, and the device for existence, before a
/// byte of the body is read: nobody without an enrolled device id makes the server buffer 8 MiB.
async fn signed_headers(store: &Arc<Store>, parts: &Parts) -> ApiResult<SignedHeaders> {
    let h = auth::parse_headers(&parts.headers)?;
    auth::check_fresh(h.time_ms, now_ms())?;
    let (store, device) = (store.clone(), h.device_id.clone());
    blocking(move || auth::check_device_known(&store, &device)).await?;
    Ok(h)
}

/// Authenticate, then spend the nonce (for every signed route but push, which records it in
/// the batch's own transaction).
fn authenticate_and_consume(
    store: &Store,
    method: &str,
    pq: &str,
    h: &SignedHeaders,
    body: &[u8],
) -> ApiResult<Authenticated> {
    let now = now_ms();
    let auth = auth::authenticate(store, method, pq, h, body, now)?;
    auth::consume_nonce(store, &auth, now)?;
    Ok(auth)
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn sha_from_path(parts: &Parts) -> ApiResult<String> {
    let sha = parts
        .uri
        .path()
        .strip_prefix("/v1/photos/")
        .unwrap_or_default()
        .to_string();
    if !is_lower_hex(&sha, 64) {
        return Err(ApiError::InvalidInput(
            "the photo's sha256 in the path must be 64 lowercase hex characters".into(),
        ));
    }
    Ok(sha)
}

async fn enrol(
    State(store): State<Arc<Store>>,
    req: Request,
) -> ApiResult<Json<fieldproof_core::sync::wire::EnrolResponse>> {
    let (parts, body) = req.into_parts();
    let bytes = route_body(&store, &parts, body, store.limits.max_other_bytes).await?;
    let enrol: EnrolRequest = parse_json(&bytes)?;
    blocking(move || auth::enrol(&store, &enrol, now_ms()))
        .await
        .map(Json)
}

async fn push(State(store): State<Arc<Store>>, req: Request) -> ApiResult<Json<PushResponse>> {
    let (parts, body) = req.into_parts();
    let h = signed_headers(&store, &parts).await?;
    let bytes = route_body(&store, &parts, body, store.limits.max_push_bytes).await?;
    let pq = path_and_query(&parts);
    let method = parts.method.as_str().to_owned();
    blocking(move || {
        let now = now_ms();
        let auth = auth::authenticate(&store, &method, &pq, &h, &bytes, now)?;
        let push: PushRequest = match parse_json(&bytes) {
            Ok(p) => p,
            Err(e) => {
                let _ = auth::consume_nonce(&store, &auth, now);
                return Err(e);
            }
        };
        crate::ingest::push_signed(&store, &auth, &push, now)
    })
    .await
    .map(Json)
}

async fn photo_offer(State(store): State<Arc<Store>>, req: Request) -> ApiResult<Json<PhotoStatus>> {
    let (parts, body) = req.into_parts();
    let h = signed_headers(&store, &parts).await?;
    let bytes = route_body(&store, &parts, body, store.limits.max_other_bytes).await?;
    let pq = path_and_query(&parts);
    let method = parts.method.as_str().to_owned();
    blocking(move || {
        let auth = authenticate_and_consume(&store, &method, &pq, &h, &bytes)?;
        let offer: PhotoOffer = parse_json(&bytes)?;
        photos::offer(&store, &auth.device_id, &offer, now_ms())
    })
    .await
    .map(Json)
}

async fn photo_chunk(State(store): State<Arc<Store>>, req: Request) -> ApiResult<Json<PhotoStatus>> {
    let (parts, body) = req.into_parts();
    let h = signed_headers(&store, &parts).await?;
    let sha = sha_from_path(&parts)?;
    let offset = query_param(parts.uri.query(), "offset")
        .ok_or_else(|| ApiError::InvalidQuery("query parameter `offset` is required".into()))?
        .parse::<u64>()
        .map_err(|e| ApiError::InvalidQuery(format!("query parameter `offset`: {e}")))?;
    let bytes = route_body(&store, &parts, body, store.limits.max_chunk_bytes).await?;
    let pq = path_and_query(&parts);
    let method = parts.method.as_str().to_owned();
    blocking(move || {
        let auth = authenticate_and_consume(&store, &method, &pq, &h, &bytes)?;
        photos::chunk(&store, &auth.device_id, &sha, offset, &bytes, now_ms())
    })
    .await
    .map(Json)
}

async fn photo_status(State(store): State<Arc<Store>>, req: Request) -> ApiResult<Json<PhotoStatus>> {
    let (parts, body) = req.into_parts();
    let h = signed_headers(&store, &parts).await?;
    let sha = sha_from_path(&parts)?;
    let bytes = route_body(&store, &parts, body, store.limits.max_other_bytes).await?;
    let pq = path_and_query(&parts);
    let method = parts.method.as_str().to_owned();
    blocking(move || {
        authenticate_and_consume(&store, &method, &pq, &h, &bytes)?;
        photos::status(&store, &sha, now_ms())
    })
    .await
    .map(Json)
}

/// `GET /v1/device/certificate`: the device's certificate chain for Content Credentials, issued
/// now for a device enrolled before the server issued them.
async fn device_certificate(
    State(store): State<Arc<Store>>,
    req: Request,
) -> ApiResult<Json<fieldproof_core::sync::wire::DeviceCertificateResponse>> {
    let (parts, body) = req.into_parts();
    let h = signed_headers(&store, &parts).await?;
    let bytes = route_body(&store, &parts, body, store.limits.max_other_bytes).await?;
    let pq = path_and_query(&parts);
    let method = parts.method.as_str().to_owned();
    blocking(move || {
        let auth = authenticate_and_consume(&store, &method, &pq, &h, &bytes)?;
        let chain = crate::org_ca::device_chain(&store, &auth.device_id, now_ms())?;
        Ok(fieldproof_core::sync::wire::DeviceCertificateResponse {
            certificate_chain_pem: chain,
        })
    })
    .await
    .map(Json)
}

async fn pull(State(store): State<Arc<Store>>, req: Request) -> ApiResult<Json<PullResponse>> {
    let (parts, body) = req.into_parts();
    let h = signed_headers(&store, &parts).await?;
    let query = parts.uri.query();
    let cursor = match query_param(query, "cursor") {
        None | Some("") => 0,
        Some(c) => c.parse::<i64>().ok().filter(|c| *c >= 0).ok_or_else(|| {
            ApiError::InvalidQuery(format!(
                "query parameter `cursor` {c:?} is not a non-negative integer"
            ))
        })?,
    };
    let limit = match query_param(query, "limit") {
        None | Some("") => 500,
        Some(l) => l.parse::<u32>().ok().filter(|l| *l >= 1).ok_or_else(|| {
            ApiError::InvalidQuery(format!(
                "query parameter `limit` {l:?} is not an integer from 1 to 1000"
            ))
        })?,
    };
    let bytes = route_body(&store, &parts, body, store.limits.max_other_bytes).await?;
    let pq = path_and_query(&parts);
    let method = parts.method.as_str().to_owned();
    blocking(move || {
        let auth = authenticate_and_consume(&store, &method, &pq, &h, &bytes)?;
        pull::changes_after(&store, &auth.device_id, cursor, limit, now_ms())
    })
    .await
    .map(Json)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::routes::ROUTES;
    use http_body_util::BodyExt;

    #[test]
    fn json_errors_name_the_field_and_position() {
        let e = parse_json::<PushRequest>(br#"{"ops": [{"entry": 5, "signature_hex": "x"}]}"#).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("ops[0].entry"), "{msg}");
        assert!(msg.contains("line 1 column"), "{msg}");
        let e = parse_json::<PushRequest>(b"{\"ops\": [").unwrap_err();
        assert_eq!(e.code(), "malformed_json");
        let e = parse_json::<PushRequest>(br#"{"ops": []} x"#).unwrap_err();
        assert!(e.to_string().contains("trailing"), "{e}");
        let e = parse_json::<PushRequest>(br#"{}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `ops`"), "{e}");
    }

    #[test]
    fn query_parameters_are_found_by_name() {
        assert_eq!(query_param(Some("cursor=10&limit=5"), "limit"), Some("5"));
        assert_eq!(query_param(Some("offset"), "offset"), Some(""));
        assert_eq!(query_param(None, "offset"), None);
    }

    #[test]
    fn openapi_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
        let paths = doc["paths"].as_object().unwrap();
        for (method, path) in ROUTES {
            let op = &paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} missing from openapi.json"))[method.to_lowercase()];
            assert!(op.is_object(), "{method} {path} missing from openapi.json");
            assert!(op["responses"].is_object(), "{method} {path} has no responses");
        }
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                if ["get", "put", "post", "delete", "patch", "head", "options"].contains(&method.as_str()) {
                    assert!(
                        ROUTES
                            .iter()
                            .any(|(m, p)| m.eq_ignore_ascii_case(method) && p == path),
                        "openapi.json describes {method} {path}, which the router does not serve"
                    );
                }
            }
        }
    }

    /// Every limit the server enforces is in `openapi.json`, with the value it enforces.
    #[test]
    fn openapi_states_every_limit_the_server_enforces() {
        use fieldproof_core::sync::wire::{MAX_PULL_LIMIT, MAX_PUSH_OPS, MAX_REQUEST_SKEW_MS};
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let l = crate::limits::Limits::default();
        let x = &doc["info"]["x-limits"];
        let expect = [
            ("header_timeout_seconds", l.header_timeout.as_secs()),
            ("body_timeout_seconds", l.body_timeout.as_secs()),
            ("max_connections", l.max_connections as u64),
            ("max_connections_per_ip", l.max_connections_per_ip as u64),
            ("max_request_skew_ms", MAX_REQUEST_SKEW_MS as u64),
            ("max_push_ops", MAX_PUSH_OPS as u64),
            ("max_pull_limit", u64::from(MAX_PULL_LIMIT)),
            ("max_photo_bytes", l.max_photo_bytes),
            ("max_chunk_bytes", l.max_chunk_bytes),
            ("max_other_body_bytes", l.max_other_bytes),
            ("max_push_body_bytes", l.max_push_bytes),
        ];
        for (name, value) in expect {
            assert_eq!(x[name].as_u64(), Some(value), "info.x-limits.{name}");
        }
        assert_eq!(
            x.as_object().unwrap().len(),
            expect.len(),
            "no stale limit in x-limits"
        );
        // Each route's body limit.
        for (method, path, limit) in [
            ("post", "/v1/enrol", l.max_other_bytes),
            ("post", "/v1/push", l.max_push_bytes),
            ("post", "/v1/photos", l.max_other_bytes),
            ("get", "/v1/photos/{sha256}", l.max_other_bytes),
            ("put", "/v1/photos/{sha256}", l.max_chunk_bytes),
            ("get", "/v1/pull", l.max_other_bytes),
        ] {
            let op = &doc["paths"][path][method];
            assert_eq!(op["x-max-body-bytes"].as_u64(), Some(limit), "{method} {path}");
            assert!(op["responses"]["408"].is_object(), "{method} {path} has no 408");
        }
        for (method, path) in ROUTES {
            let op = &doc["paths"][*path][method.to_lowercase()];
            let d = op["responses"]["503"]["description"].as_str().unwrap_or("");
            assert!(d.contains("too_many_connections"), "{method} {path}: 503 {d:?}");
        }
        // Field limits.
        let s = &doc["components"]["schemas"];
        let code = &s["EnrolRequest"]["properties"]["code"];
        assert_eq!(code["minLength"].as_u64(), Some(1));
        assert_eq!(code["maxLength"].as_u64(), Some(auth::MAX_ENROL_CODE_LEN as u64));
        let device = &s["EnrolRequest"]["properties"]["device_id"];
        assert_eq!(device["maxLength"].as_u64(), Some(auth::MAX_DEVICE_ID_LEN as u64));
        let header = &doc["components"]["parameters"]["Device"]["schema"];
        assert_eq!(header["maxLength"].as_u64(), Some(auth::MAX_DEVICE_ID_LEN as u64));
        assert_eq!(
            s["PushRequest"]["properties"]["ops"]["maxItems"].as_u64(),
            Some(MAX_PUSH_OPS as u64)
        );
        assert_eq!(
            s["PhotoOffer"]["properties"]["size"]["maximum"].as_u64(),
            Some(l.max_photo_bytes)
        );
        let pull = doc["paths"]["/v1/pull"]["get"]["parameters"].as_array().unwrap();
        let limit = pull.iter().find(|p| p["name"] == "limit").unwrap();
        assert_eq!(
            limit["schema"]["maximum"].as_u64(),
            Some(u64::from(MAX_PULL_LIMIT))
        );
    }

    /// The router serves every listed route (none falls through to the 404 fallback).
    #[tokio::test]
    async fn router_serves_every_listed_route() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let app = app(store);
        for (method, path) in ROUTES {
            let uri = path.replace("{sha256}", &"a".repeat(64));
            let req = Request::builder()
                .method(*method)
                .uri(&uri)
                .body(Body::empty())
                .unwrap();
            let resp = app.clone().oneshot(req).await.unwrap();
            let status = resp.status();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            let text = String::from_utf8_lossy(&body);
            let fell_through = serde_json::from_slice::<serde_json::Value>(&body).is_ok_and(|v| {
                v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("no such route"))
            });
            assert!(
                !fell_through,
                "{method} {path} fell through to the fallback: {status} {text}"
            );
            assert!(status.as_u16() < 500, "{method} {path}: {status} {text}");
        }
    }
}
