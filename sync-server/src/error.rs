//! The server's one error type. Every failure a request can meet is a variant with a stable
//! code; [`ApiError::status`] and [`ApiError::body`] are the single place where it becomes an
//! HTTP status and the `wire::ErrorBody` JSON, so no route can answer with a different shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fieldproof_core::sync::wire::{ApiErrorDetail, ErrorBody, PhotoStatus};

use crate::clock::now_ms;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    // --- 400: the request cannot be read ------------------------------------------------------
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    #[error("the request body did not arrive within {seconds} s")]
    BodyTimeout { seconds: u64 },

    // --- 401/403: who is asking ---------------------------------------------------------------
    #[error("{0}")]
    MissingSignature(String),
    #[error("no enrolled device with this id")]
    UnknownDevice,
    #[error("the request signature does not verify over this request")]
    BadRequestSignature,
    #[error(
        "x-fp-time is {skew_ms} ms from the server clock (limit 300000 ms); read /healthz and sign with server-corrected time"
    )]
    StaleRequest { skew_ms: i64 },
    #[error("this nonce was already used by this device")]
    ReplayedRequest,
    #[error("this device was revoked by head office")]
    DeviceRevoked,
    #[error("unknown enrolment code")]
    InvalidEnrolCode,
    #[error("this enrolment code was already used")]
    EnrolCodeUsed,
    #[error("this enrolment code has expired")]
    EnrolCodeExpired,
    #[error("the enrolment signature does not verify with the presented key")]
    BadEnrolSignature,
    #[error("op {index} of the batch is signed for device {entry_device:?}, not the signing device")]
    DeviceMismatch { index: usize, entry_device: String },

    // --- 404/405/409 --------------------------------------------------------------------------
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("device {0:?} is already enrolled with another key")]
    DeviceAlreadyEnrolled(String),
    #[error("the upload is at offset {}, not {requested}", status.offset)]
    OffsetMismatch { requested: u64, status: PhotoStatus },

    // --- 413 ----------------------------------------------------------------------------------
    #[error("request body larger than this route's limit of {limit} bytes")]
    BodyTooLarge { limit: u64 },
    #[error("{count} ops in one push; at most {max}")]
    TooManyOps { count: usize, max: usize },
    #[error("photo of {size} bytes; at most {max}")]
    PhotoTooLarge { size: u64, max: u64 },

    // --- 422: readable but wrong --------------------------------------------------------------
    #[error("{0}")]
    ManifestMismatch(String),
    #[error("the manifest signature does not verify with the device key")]
    BadSignature,
    #[error("the uploaded bytes hash to {actual}, not {expected}; the partial upload was discarded")]
    PhotoHashMismatch { expected: String, actual: String },
    #[error("{0}")]
    Unprocessable(String),

    // --- 5xx: bugs and outages (clients retry) ------------------------------------------------
    #[error("the database is busy; retry")]
    Busy,
    /// The photo store (the data folder's disk, or the bucket) failed: an outage the client
    /// retries, never a bug in the request.
    #[error("photo storage is unavailable; retry ({0})")]
    StorageUnavailable(String),
    #[error("the server is serving its limit of {cap} connections; retry")]
    TooManyConnections { cap: usize },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidInput(_) => "invalid_input",
            ApiError::BodyRead(_) => "body_read_failed",
            ApiError::BodyTimeout { .. } => "body_timeout",
            ApiError::MissingSignature(_) => "missing_signature",
            ApiError::UnknownDevice => "unknown_device",
            ApiError::BadRequestSignature => "bad_request_signature",
            ApiError::StaleRequest { .. } => "stale_request",
            ApiError::ReplayedRequest => "replayed_request",
            ApiError::DeviceRevoked => "device_revoked",
            ApiError::InvalidEnrolCode => "invalid_enrol_code",
            ApiError::EnrolCodeUsed => "enrol_code_used",
            ApiError::EnrolCodeExpired => "enrol_code_expired",
            ApiError::BadEnrolSignature => "bad_enrol_signature",
            ApiError::DeviceMismatch { .. } => "device_mismatch",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::DeviceAlreadyEnrolled(_) => "device_already_enrolled",
            ApiError::OffsetMismatch { .. } => "offset_mismatch",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::TooManyOps { .. } => "too_many_ops",
            ApiError::PhotoTooLarge { .. } => "photo_too_large",
            ApiError::ManifestMismatch(_) => "manifest_mismatch",
            ApiError::BadSignature => "bad_signature",
            ApiError::PhotoHashMismatch { .. } => "photo_hash_mismatch",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Busy => "busy",
            ApiError::StorageUnavailable(_) => "storage_unavailable",
            ApiError::TooManyConnections { .. } => "too_many_connections",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_)
            | ApiError::InvalidQuery(_)
            | ApiError::InvalidInput(_)
            | ApiError::BodyRead(_) => StatusCode::BAD_REQUEST,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::MissingSignature(_)
            | ApiError::UnknownDevice
            | ApiError::BadRequestSignature
            | ApiError::StaleRequest { .. }
            | ApiError::ReplayedRequest
            | ApiError::InvalidEnrolCode
            | ApiError::EnrolCodeUsed
            | ApiError::EnrolCodeExpired
            | ApiError::BadEnrolSignature => StatusCode::UNAUTHORIZED,
            ApiError::DeviceRevoked | ApiError::DeviceMismatch { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::DeviceAlreadyEnrolled(_) | ApiError::OffsetMismatch { .. } => StatusCode::CONFLICT,
            ApiError::BodyTooLarge { .. } | ApiError::TooManyOps { .. } | ApiError::PhotoTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::ManifestMismatch(_)
            | ApiError::BadSignature
            | ApiError::PhotoHashMismatch { .. }
            | ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Busy | ApiError::StorageUnavailable(_) | ApiError::TooManyConnections { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ApiErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
            },
            server_time_ms: now_ms(),
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::db::Error> for ApiError {
    fn from(e: crate::db::Error) -> Self {
        // Another process (the admin CLI, another server) holding the write lock past the busy
        // timeout is an outage the client retries, not a bug.
        if e.is_busy() {
            return ApiError::Busy;
        }
        // The database restarting or failing over: 503 (the phone retries; the store opens
        // new connections for the next request), not a server bug.
        if e.is_unreachable() {
            return ApiError::StorageUnavailable(format!("database: {e}"));
        }
        ApiError::Internal(format!("storage: {e}"))
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::Internal(format!("file: {e}"))
    }
}

impl From<crate::blobs::BlobError> for ApiError {
    fn from(e: crate::blobs::BlobError) -> Self {
        ApiError::StorageUnavailable(e.to_string())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(format!("json: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
        } else {
            tracing::debug!(code = self.code(), error = %self, "request refused");
        }
        // A 409 offset mismatch carries the upload's status beside the error, so the client can
        // read either shape from it and resume from `offset`.
        let body = match &self {
            ApiError::OffsetMismatch { status: photo, .. } => {
                let mut v = serde_json::to_value(self.body()).unwrap_or_default();
                if let (Some(obj), Ok(serde_json::Value::Object(extra))) =
                    (v.as_object_mut(), serde_json::to_value(photo))
                {
                    for (k, val) in extra {
                        obj.entry(k).or_insert(val);
                    }
                }
                v
            }
            _ => serde_json::to_value(self.body()).unwrap_or_default(),
        };
        (status, axum::Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// The core passes these refusals to apps by name (`fieldproof_core::SERVER_CODES`); each
    /// must be one this server sends, or the apps branch on a code that never comes.
    #[test]
    fn the_cores_list_of_server_codes_is_what_the_server_sends() {
        let source = include_str!("error.rs");
        let start = source.find("pub fn code(&self)").unwrap();
        let body = &source[start..start + source[start..].find("\n    }\n").unwrap()];
        let sent: Vec<&str> = body
            .split("=> \"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        for code in fieldproof_core::SERVER_CODES {
            assert!(
                sent.contains(code),
                "the core expects {code}, which the server never sends"
            );
        }
    }
}
