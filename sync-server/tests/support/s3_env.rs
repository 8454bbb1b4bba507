//! The photo store a test server runs on. Plainly, the data folder; with `FIELDPROOF_TEST_S3`
//! set (`tests/s3.sh` prints it: an S3-compatible endpoint, with `FIELDPROOF_TEST_S3_BUCKET`,
//! `FIELDPROOF_TEST_S3_KEY`, `FIELDPROOF_TEST_S3_SECRET`), a bucket, each data folder its own
//! prefix there, so tests running at once never see each other's photos and a server restarted
//! on the same folder finds its own again. Std only: included with `#[path]` by the server's
//! tests and by the end-to-end crate.

#![allow(dead_code)]

use std::hash::{Hash, Hasher};
use std::path::Path;

/// The S3 endpoint, bucket, key and secret of the test bucket, when the suite runs on S3.
pub fn test_s3() -> Option<(String, String, String, String)> {
    let endpoint = std::env::var("FIELDPROOF_TEST_S3")
        .ok()
        .filter(|v| !v.is_empty())?;
    let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_string());
    Some((
        endpoint,
        var("FIELDPROOF_TEST_S3_BUCKET", "fieldproof-test"),
        var("FIELDPROOF_TEST_S3_KEY", "fieldproof"),
        var("FIELDPROOF_TEST_S3_SECRET", "fieldproof-secret"),
    ))
}

/// The prefix of `data_dir`'s photos in the test bucket: the same folder, the same prefix.
pub fn prefix_for(data_dir: &Path) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    let name = data_dir
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
        })
        .unwrap_or_default();
    format!("tests/{name}-{:016x}", h.finish())
}

/// The environment of a server (or admin command) on `data_dir`: empty on disk; the photo
/// store flags' variables on S3.
pub fn server_env(data_dir: &Path) -> Vec<(String, String)> {
    let Some((endpoint, bucket, key, secret)) = test_s3() else {
        return Vec::new();
    };
    vec![
        (
            "FIELDPROOF_PHOTOS".into(),
            format!("s3://{bucket}/{}", prefix_for(data_dir)),
        ),
        ("FIELDPROOF_S3_ENDPOINT".into(), endpoint),
        ("FIELDPROOF_S3_ALLOW_HTTP".into(), "true".into()),
        ("FIELDPROOF_S3_REGION".into(), "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), key),
        ("AWS_SECRET_ACCESS_KEY".into(), secret),
    ]
}
