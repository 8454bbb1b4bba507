//! The sync API's route table: a leaf that the router, the metrics (which label requests by
//! it) and the `openapi.json` check all read, so none of them has to reach up into another.

/// Every route the router serves, as (method, path template). `openapi.json` must describe
/// exactly these (a test checks both ways), and metrics are labelled with them.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/enrol"),
    ("POST", "/v1/push"),
    ("POST", "/v1/photos"),
    ("GET", "/v1/photos/{sha256}"),
    ("PUT", "/v1/photos/{sha256}"),
    ("GET", "/v1/pull"),
    ("GET", "/v1/device/certificate"),
];
