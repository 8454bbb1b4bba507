#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The client without a server: backoff, request signing, URL rules, options, and syncs that
//! cannot reach anyone (nothing lost, nothing changed, the running flag released).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use super::*;
use crate::clock::ManualClock;
use crate::{CheckInRequest, CoreOptions};

const REFERENCE_JSON: &str = include_str!("../../../../tests/fixtures/reference.json");

fn fast() -> SyncOptions {
    SyncOptions {
        initial_backoff_ms: 1,
        max_backoff_ms: 4,
        max_attempts: 3,
        connect_timeout_ms: 2_000,
        request_timeout_ms: 2_000,
        ..SyncOptions::default()
    }
}

fn core_with_ops(clock: &ManualClock) -> Core {
    let core = Core::open_with(
        None,
        CoreOptions {
            clock: Arc::new(clock.clone()),
            ..CoreOptions::default()
        },
    )
    .unwrap();
    core.load_reference_json(REFERENCE_JSON).unwrap();
    core.check_in(&CheckInRequest {
        user_id: "rep-li".into(),
        store_id: "st-001".into(),
        plan_id: None,
        template_id: None,
        fix: None,
    })
    .unwrap();
    core.set_sync_options(fast()).unwrap();
    core
}

fn enrol_at(core: &Core, url: &str) {
    let user = crate::queries::user(&core.lock().conn, "rep-li")
        .unwrap()
        .unwrap();
    let mut inner = core.lock();
    let tx = inner.conn.transaction().unwrap();
    local::store_enrolment(&tx, url, &user, 1).unwrap();
    tx.commit().unwrap();
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn backoff_doubles_from_200_ms_to_5_s_with_jitter() {
    let o = SyncOptions::default();
    let base: Vec<u64> = (1..=7)
        .map(|r| o.backoff(r, 0.999_999).as_millis() as u64)
        .collect();
    assert_eq!(base, [199, 399, 799, 1599, 3199, 4999, 4999]);
    let low: Vec<u64> = (1..=7).map(|r| o.backoff(r, 0.0).as_millis() as u64).collect();
    assert_eq!(low, [100, 200, 400, 800, 1600, 2500, 2500]);
    for r in 1..=40 {
        let d = o.backoff(r, random_unit());
        assert!(d <= Duration::from_millis(5_000), "retry {r}: {d:?}");
        assert!(d >= Duration::from_millis(100), "retry {r}: {d:?}");
    }
    // Eight tries wait at most 0.2+0.4+0.8+1.6+3.2+5+5 s in between.
    let worst: u64 = (1..o.max_attempts)
        .map(|r| o.backoff(r, 0.999_999).as_millis() as u64)
        .sum();
    assert!(worst <= 16_200, "{worst}");
    let u: Vec<f64> = (0..1000).map(|_| random_unit()).collect();
    assert!(u.iter().all(|x| (0.0..1.0).contains(x)));
    assert!(u.iter().any(|x| *x < 0.1) && u.iter().any(|x| *x > 0.9));
}

#[test]
fn requests_are_signed_over_method_path_time_nonce_and_body() {
    let clock = ManualClock::new(1_700_000_000_000, 5_000);
    let core = core_with_ops(&clock);
    let mut net = Net::new("https://sync.example.test", &fast(), &core.signer, &clock, None).unwrap();
    net.offset_ms = -42_000;
    let body = br#"{"ops":[]}"#;
    let headers = net.sign(&reqwest::Method::POST, "/v1/push", body).unwrap();
    let h = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(h(wire::HEADER_DEVICE), core.device_id());
    assert_eq!(
        h(wire::HEADER_TIME),
        "1699999958000",
        "device time corrected by the server offset"
    );
    let nonce = h(wire::HEADER_NONCE);
    assert_eq!(nonce.len(), 32);
    assert!(
        nonce
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    let sig = h(wire::HEADER_SIGNATURE);
    assert_eq!(sig.len(), 128);

    let text = format!(
        "fieldproof-request-v1\nPOST\n/v1/push\n1699999958000\n{nonce}\n{}",
        evidence::sha256_hex(body)
    );
    let key = VerifyingKey::from_bytes(&unhex(&core.device_public_key()).try_into().unwrap()).unwrap();
    let signature = Signature::from_bytes(&unhex(&sig).try_into().unwrap());
    key.verify(text.as_bytes(), &signature).unwrap();
    // Not over another path or body.
    let other = text.replace("/v1/push", "/v1/pull");
    assert!(key.verify(other.as_bytes(), &signature).is_err());

    // Every try has its own nonce; a GET signs the empty body's hash.
    let again = net
        .sign(&reqwest::Method::GET, "/v1/pull?cursor=0&limit=500", b"")
        .unwrap();
    assert_ne!(again[2].1, nonce);
    let get_text = format!(
        "fieldproof-request-v1\nGET\n/v1/pull?cursor=0&limit=500\n1699999958000\n{}\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        again[2].1
    );
    let get_sig = Signature::from_bytes(&unhex(&again[3].1).try_into().unwrap());
    key.verify(get_text.as_bytes(), &get_sig).unwrap();
}

#[test]
fn server_urls_must_be_https_except_to_this_machine() {
    assert_eq!(
        normalize_server_url(" https://sync.example.com/ ").unwrap(),
        "https://sync.example.com"
    );
    assert_eq!(
        normalize_server_url("https://example.com/fieldproof").unwrap(),
        "https://example.com/fieldproof"
    );
    for ok in ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9000"] {
        assert_eq!(normalize_server_url(ok).unwrap(), ok);
    }
    for bad in [
        "",
        "sync.example.com",
        "http://sync.example.com",
        "http://10.0.2.2:8080",
        "ftp://example.com",
        "https://user:pw@example.com",
        "https://example.com/?x=1",
    ] {
        assert_eq!(
            normalize_server_url(bad).unwrap_err().code(),
            "invalid_input",
            "{bad}"
        );
    }
}

#[test]
fn options_out_of_range_are_refused() {
    let core = Core::open_in_memory().unwrap();
    assert_eq!(core.sync_options(), SyncOptions::default());
    for bad in [
        SyncOptions {
            max_attempts: 0,
            ..SyncOptions::default()
        },
        SyncOptions {
            push_batch: 501,
            ..SyncOptions::default()
        },
        SyncOptions {
            pull_limit: 0,
            ..SyncOptions::default()
        },
        SyncOptions {
            photo_chunk_bytes: 5 * 1024 * 1024,
            ..SyncOptions::default()
        },
        SyncOptions {
            initial_backoff_ms: 10_000,
            ..SyncOptions::default()
        },
    ] {
        assert_eq!(core.set_sync_options(bad).unwrap_err().code(), "invalid_input");
    }
    assert_eq!(core.sync_options(), SyncOptions::default());
    core.set_sync_options(fast()).unwrap();
    assert_eq!(core.sync_options(), fast());
}

#[tokio::test]
async fn sync_before_enrolment_is_not_enrolled() {
    let core = core_with_ops(&ManualClock::new(1_700_000_000_000, 0));
    let e = core.sync().await.unwrap_err();
    assert_eq!(e.code(), "not_enrolled");
    assert_eq!(core.outbox_summary().unwrap().pending, 1);
}

#[tokio::test]
async fn sync_against_a_closed_port_is_a_network_error_and_loses_nothing() {
    let clock = ManualClock::new(1_700_000_000_000, 0);
    let core = core_with_ops(&clock);
    enrol_at(&core, &format!("http://127.0.0.1:{}", closed_port()));
    let before = (
        core.table_row_counts().unwrap(),
        core.outbox_summary().unwrap(),
        core.pending_ops(100).unwrap(),
        core.sync_state().unwrap(),
    );
    let started = Instant::now();
    let e = core.sync().await.unwrap_err();
    assert_eq!(e.code(), "network", "{e}");
    assert!(e.to_string().contains("3 tries"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Again: the running flag was released, and still nothing changed.
    assert_eq!(core.sync().await.unwrap_err().code(), "network");
    assert_eq!(
        (
            core.table_row_counts().unwrap(),
            core.outbox_summary().unwrap(),
            core.pending_ops(100).unwrap(),
            core.sync_state().unwrap(),
        ),
        before
    );
    assert!(core.audit().unwrap().is_clean());
}

#[tokio::test]
async fn enrol_against_a_closed_port_stores_nothing() {
    let core = core_with_ops(&ManualClock::new(1_700_000_000_000, 0));
    let e = core
        .enrol(&format!("http://127.0.0.1:{}", closed_port()), "K7QF-2M9X")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "network");
    assert!(!core.sync_state().unwrap().enrolled);
    assert_eq!(
        core.enrol("http://sync.example.com", "K7QF")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    assert_eq!(
        core.enrol("https://sync.example.com", "  ")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
}

#[tokio::test]
async fn a_second_sync_while_one_runs_is_refused_at_once() {
    let clock = ManualClock::new(1_700_000_000_000, 0);
    let core = core_with_ops(&clock);
    // Accepts connections (the kernel's backlog) and never answers: the first sync hangs in
    // its request until the timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    enrol_at(&core, &format!("http://{}", silent.local_addr().unwrap()));
    core.set_sync_options(SyncOptions {
        max_attempts: 1,
        request_timeout_ms: 1_500,
        ..fast()
    })
    .unwrap();
    let first = core.sync();
    let second = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let r = core.sync().await;
        (r, started.elapsed())
    };
    let (first, (second, waited)) = tokio::join!(first, second);
    assert_eq!(second.unwrap_err().code(), "sync_in_progress");
    assert!(
        waited < Duration::from_millis(100),
        "refused without waiting: {waited:?}"
    );
    assert_eq!(first.unwrap_err().code(), "network");
    assert!(
        core.sync_rt.begin().is_ok(),
        "the flag is released after the first"
    );
    assert_eq!(core.outbox_summary().unwrap().pending, 1);
}

#[tokio::test]
async fn a_dropped_sync_future_releases_the_flag() {
    let core = core_with_ops(&ManualClock::new(1_700_000_000_000, 0));
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    enrol_at(&core, &format!("http://{}", silent.local_addr().unwrap()));
    let cancelled = tokio::time::timeout(Duration::from_millis(200), core.sync()).await;
    assert!(
        cancelled.is_err(),
        "timed out while waiting for the silent server"
    );
    assert!(core.sync_rt.begin().is_ok());
}

/// Records every progress event.
#[derive(Default)]
struct Events(std::sync::Mutex<Vec<crate::sync::SyncProgress>>);

impl SyncObserver for Events {
    fn on_progress(&self, progress: &crate::sync::SyncProgress) {
        self.0.lock().unwrap().push(progress.clone());
    }
}

#[tokio::test]
async fn a_sync_cancelled_before_it_starts_does_nothing() {
    let core = core_with_ops(&ManualClock::new(1_700_000_000_000, 0));
    enrol_at(&core, &format!("http://127.0.0.1:{}", closed_port()));
    let before = (core.outbox_summary().unwrap(), core.sync_state().unwrap());
    let cancel = SyncCancel::new();
    cancel.cancel();
    let events = Events::default();
    let e = core.sync_with(Some(&events), Some(&cancel)).await.unwrap_err();
    assert_eq!(e.code(), "sync_cancelled");
    assert!(events.0.lock().unwrap().is_empty(), "no step ran");
    assert_eq!(
        (core.outbox_summary().unwrap(), core.sync_state().unwrap()),
        before
    );
    assert!(core.sync_rt.begin().is_ok(), "the running flag is released");
}

#[tokio::test]
async fn cancel_cuts_a_retry_pause_short() {
    let core = core_with_ops(&ManualClock::new(1_700_000_000_000, 0));
    enrol_at(&core, &format!("http://127.0.0.1:{}", closed_port()));
    // Without the cancel this sync would wait 2 × 5 s between its three tries.
    core.set_sync_options(SyncOptions {
        initial_backoff_ms: 5_000,
        max_backoff_ms: 5_000,
        ..fast()
    })
    .unwrap();
    let cancel = SyncCancel::new();
    let events = Events::default();
    let started = Instant::now();
    let (result, ()) = tokio::join!(core.sync_with(Some(&events), Some(&cancel)), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    assert_eq!(result.unwrap_err().code(), "sync_cancelled");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The first event came before any request, with the totals: one pending op, no photo.
    let events = events.0.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].phase, crate::sync::SyncPhase::Pushing);
    assert_eq!((events[0].ops_sent, events[0].ops_total), (0, 1));
    assert_eq!(core.outbox_summary().unwrap().pending, 1);
    assert!(core.audit().unwrap().is_clean());
}

#[tokio::test]
async fn cancel_abandons_a_request_in_flight() {
    let core = core_with_ops(&ManualClock::new(1_700_000_000_000, 0));
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    enrol_at(&core, &format!("http://{}", silent.local_addr().unwrap()));
    core.set_sync_options(SyncOptions {
        request_timeout_ms: 30_000,
        ..fast()
    })
    .unwrap();
    let cancel = SyncCancel::new();
    let started = Instant::now();
    let (result, ()) = tokio::join!(core.sync_with(None, Some(&cancel)), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    assert_eq!(result.unwrap_err().code(), "sync_cancelled");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(cancel.waiting.lock().unwrap().is_empty(), "no waker left behind");
    // The next sync is not blocked by the cancelled one.
    assert!(core.sync_rt.begin().is_ok());
}
