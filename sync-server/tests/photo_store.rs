//! The photo store under the upload protocol: the data folder, or with `FIELDPROOF_TEST_S3`
//! (`tests/s3.sh`) a real S3-compatible bucket. What the server acknowledged is in the store
//! after a SIGKILL, bytes that do not hash to their name are never stored, and a store that
//! stops answering is a retryable 503, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "e2e/common.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use fieldproof_core::evidence::sha256_hex;
use serde_json::json;

fn photo_key(sha: &str) -> String {
    format!("photos/{}/{sha}.jpg", &sha[..2])
}

/// A phone with one store check pushed; its photo's bytes, hash and offer.
fn pushed_visit(s: &Server) -> (Phone, Vec<u8>, String, serde_json::Value) {
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    let v = store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    let r = phone.device.push(s.addr, &phone.ops());
    assert_eq!(r.status, 200, "{}", r.text());
    let ev = phone.core.photo_evidence(&v.photo_id).unwrap();
    let bytes = std::fs::read(&ev.path).unwrap();
    let sha = sha256_hex(&bytes);
    let offer =
        json!({"sha256": sha, "size": bytes.len(), "entry": ev.manifest, "signature_hex": ev.signature_hex});
    (phone, bytes, sha, offer)
}

/// The store's contract as the server uses it, in process, on the store this run tests.
#[test]
fn the_store_keeps_upload_offsets_and_stores_whole_photos() {
    let dir = tempfile::tempdir().unwrap();
    let store = photo_store(dir.path());
    // The store this run is about: the bucket when the suite runs on S3.
    assert_eq!(
        store.describe().starts_with("s3://"),
        common::s3_env::test_s3().is_some(),
        "{}",
        store.describe()
    );
    store.check().unwrap();
    let bytes = b"a shelf, then another shelf".to_vec();
    let sha = sha256_hex(&bytes);
    assert_eq!(store.upload_len(&sha).unwrap(), 0);
    assert!(store.upload_read(&sha).unwrap().is_empty());
    store.upload_append(&sha, 0, &bytes[..8]).unwrap();
    assert_eq!(store.upload_len(&sha).unwrap(), 8);
    store.upload_append(&sha, 8, &bytes[8..]).unwrap();
    assert_eq!(store.upload_len(&sha).unwrap(), bytes.len() as u64);
    assert_eq!(store.upload_read(&sha).unwrap(), bytes);
    assert!(!store.exists(&photo_key(&sha)).unwrap());
    store.upload_store(&sha, &bytes).unwrap();
    assert_eq!(store.get(&photo_key(&sha)).unwrap(), Some(bytes.clone()));
    assert_eq!(
        store.upload_len(&sha).unwrap(),
        0,
        "the upload is gone once stored"
    );
    assert_eq!(store.photo_hashes().unwrap(), vec![sha.clone()]);
    // Absent things: none, not errors.
    assert_eq!(store.get(&photo_key(&"0".repeat(64))).unwrap(), None);
    store.upload_discard(&"0".repeat(64)).unwrap();
    store.delete(&photo_key(&sha)).unwrap();
    assert!(store.photo_hashes().unwrap().is_empty());
}

/// Kill -9 after two acknowledged chunks: both are in the store (read directly, the server
/// dead), the restarted server resumes there, and the completed photo is stored whole and
/// re-hashes to its name (`admin check-photos`), its upload gone.
#[test]
fn a_killed_server_resumes_an_upload_from_the_chunks_it_acknowledged() {
    let (dir, mut s) = server();
    let (phone, bytes, sha, offer) = pushed_visit(&s);
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.json()["offset"], 0, "{}", r.text());
    let quarter = bytes.len() / 4;
    for at in [0, quarter] {
        let r = phone.device.call(
            s.addr,
            "PUT",
            &format!("/v1/photos/{sha}?offset={at}"),
            &bytes[at..at + quarter],
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    s.kill9();
    let store = photo_store(dir.path());
    assert_eq!(store.upload_len(&sha).unwrap(), 2 * quarter as u64);
    assert_eq!(store.upload_read(&sha).unwrap(), bytes[..2 * quarter]);

    let s = Server::start(dir.path());
    let r = phone
        .device
        .call(s.addr, "GET", &format!("/v1/photos/{sha}"), b"");
    assert_eq!(r.json()["offset"], 2 * quarter, "{}", r.text());
    let r = phone.device.call(
        s.addr,
        "PUT",
        &format!("/v1/photos/{sha}?offset={}", 2 * quarter),
        &bytes[2 * quarter..],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["complete"], true);
    assert_eq!(s.stats()["photos_verified"], 1);
    assert_eq!(store.get(&photo_key(&sha)).unwrap(), Some(bytes));
    assert_eq!(store.upload_len(&sha).unwrap(), 0);
    let check: serde_json::Value = serde_json::from_str(&s.admin(&["check-photos"])).unwrap();
    assert_eq!(check, json!({"intact": [sha], "damaged": []}));
}

/// Bytes that do not hash to the offered name: refused at the last chunk, nothing stored, the
/// upload discarded.
#[test]
fn bytes_that_do_not_match_their_hash_leave_nothing_stored() {
    let (dir, s) = server();
    let (phone, mut bytes, sha, offer) = pushed_visit(&s);
    phone.device.call_json(s.addr, "POST", "/v1/photos", &offer);
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    let r = phone
        .device
        .call(s.addr, "PUT", &format!("/v1/photos/{sha}?offset=0"), &bytes);
    assert_eq!((r.status, r.code().as_str()), (422, "photo_hash_mismatch"));
    let store = photo_store(dir.path());
    assert!(!store.exists(&photo_key(&sha)).unwrap());
    assert_eq!(store.upload_len(&sha).unwrap(), 0);
    assert!(store.photo_hashes().unwrap().is_empty());
    assert_eq!(s.stats()["photos_received"], 0);
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A bucket nobody answers for: photo requests are 503 `storage_unavailable` (the phone
/// retries), everything else keeps working, and nothing panics (checked on drop).
#[test]
fn a_bucket_that_does_not_answer_is_a_retryable_503() {
    let dir = tempfile::tempdir().unwrap();
    admin_ok(dir.path(), &["init"]);
    admin_ok(
        dir.path(),
        &["load-reference", reference_file().to_str().unwrap()],
    );
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let s = Server::start_env(
        dir.path(),
        &["--photos", "s3://nobody-home/photos"],
        None,
        &[
            ("FIELDPROOF_S3_ENDPOINT", &endpoint),
            ("FIELDPROOF_S3_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ],
    );
    let (phone, bytes, sha, offer) = pushed_visit(&s);
    let r = phone
        .device
        .call_in_outage(s.addr, "POST", "/v1/photos", offer.to_string().as_bytes());
    assert_eq!(
        (r.status, r.code().as_str()),
        (503, "storage_unavailable"),
        "{}",
        r.text()
    );
    let r = phone
        .device
        .call(s.addr, "PUT", &format!("/v1/photos/{sha}?offset=0"), &bytes);
    // The offer was not taken, so there is no upload to append to.
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"), "{}", r.text());
    assert_eq!(get(s.addr, "/healthz").status, 200);
    assert_eq!(s.stats()["ops"], 9, "the visit itself was stored");
}

/// `s3s-fs` on `port` over `root` (`tests/s3.sh` says where the binary is).
fn start_s3s_fs(bin: &str, root: &std::path::Path, port: u16) -> Child {
    let mut child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", "stopkey", "--secret-key", "stopsecret"])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start s3s-fs");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("s3s-fs did not listen on {port}");
}

/// The bucket stops between two chunks: the chunk is refused 503 `storage_unavailable`, and
/// once the bucket is back the upload resumes at the acknowledged offset and completes. Needs
/// the `s3s-fs` binary, which `tests/s3.sh` names in `FIELDPROOF_TEST_S3FS`.
#[test]
fn a_bucket_stopped_mid_upload_refuses_then_resumes() {
    let Some(bin) = std::env::var("FIELDPROOF_TEST_S3FS")
        .ok()
        .filter(|b| !b.is_empty())
    else {
        eprintln!("skipped: no FIELDPROOF_TEST_S3FS (run under tests/s3.sh)");
        return;
    };
    let bucket_root = tempfile::tempdir().unwrap();
    std::fs::create_dir(bucket_root.path().join("stopping")).unwrap();
    let port = closed_port();
    let mut bucket = start_s3s_fs(&bin, bucket_root.path(), port);

    let dir = tempfile::tempdir().unwrap();
    admin_ok(dir.path(), &["init"]);
    admin_ok(
        dir.path(),
        &["load-reference", reference_file().to_str().unwrap()],
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let s = Server::start_env(
        dir.path(),
        &["--photos", "s3://stopping/p"],
        None,
        &[
            ("FIELDPROOF_S3_ENDPOINT", &endpoint),
            ("FIELDPROOF_S3_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", "stopkey"),
            ("AWS_SECRET_ACCESS_KEY", "stopsecret"),
        ],
    );
    let (phone, bytes, sha, offer) = pushed_visit(&s);
    let r = phone.device.call_json(s.addr, "POST", "/v1/photos", &offer);
    assert_eq!(r.status, 200, "{}", r.text());
    let half = bytes.len() / 2;
    let r = phone.device.call(
        s.addr,
        "PUT",
        &format!("/v1/photos/{sha}?offset=0"),
        &bytes[..half],
    );
    assert_eq!(r.status, 200, "{}", r.text());

    bucket.kill().unwrap();
    bucket.wait().unwrap();
    let r = phone.device.call_in_outage(
        s.addr,
        "PUT",
        &format!("/v1/photos/{sha}?offset={half}"),
        &bytes[half..],
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (503, "storage_unavailable"),
        "{}",
        r.text()
    );

    let mut bucket = start_s3s_fs(&bin, bucket_root.path(), port);
    let r = phone
        .device
        .call(s.addr, "GET", &format!("/v1/photos/{sha}"), b"");
    assert_eq!(r.json()["offset"], half, "{}", r.text());
    let r = phone.device.call(
        s.addr,
        "PUT",
        &format!("/v1/photos/{sha}?offset={half}"),
        &bytes[half..],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["complete"], true);
    assert_eq!(s.stats()["photos_verified"], 1);
    drop(s);
    bucket.kill().unwrap();
    bucket.wait().unwrap();
}
