//! Push ingest throughput, in process (`Store::push`) and over HTTP (the real router on a
//! loopback socket), with every signature checked.
//!
//!     cargo bench -p fieldproof-server --bench ingest [-- OPS_PER_DEVICE DEVICES BATCH]
//!
//! Each device's ops are a signed chain of realistic visits (check-in with a fix, answers,
//! report, complete, check-out), made up front with the evidence module the way a phone makes
//! them; the clock starts when the first batch is sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use fieldproof_core::evidence::{EntryHeader, GENESIS_HASH, Signer, entry_bytes, sha256_hex};
use fieldproof_core::model::EventTime;
use fieldproof_core::sync::wire::{self, PushOp, PushRequest};
use fieldproof_server::{Store, now_ms};
use serde_json::json;

const REFERENCE: &str = include_str!("../../tests/fixtures/reference.json");

fn device_ops(signer: &Signer, user: &str, n: usize) -> Vec<PushOp> {
    let mut out = Vec::with_capacity(n);
    let mut prev = GENESIS_HASH.to_string();
    let t0 = now_ms() - 3_600_000;
    let mut visit = String::new();
    for i in 0..n {
        let seq = i as i64 + 1;
        let time = EventTime {
            wall_ms: t0 + i as i64,
            boot_ms: 1_000_000 + i as i64,
            hlc: (t0 + i as i64) << 16,
            server_offset_ms: Some(0),
        };
        let op_id = format!("{}-{seq}", signer.device_id);
        // Visits of 10 ops: check-in, 7 answers, report, complete.
        let (kind, payload) = match i % 10 {
            0 => {
                visit = format!("v-{}-{seq}", signer.device_id);
                let fix = json!({"latitude": 31.2304, "longitude": 121.52, "accuracy_m": 10.0, "provider": "gps",
                                 "is_mock": false, "fix_time_ms": time.wall_ms});
                (
                    "visit.check_in",
                    json!({"visit_id": visit, "kind": "store_check", "user_id": user,
                    "store_id": "st-001", "template_id": "tpl-store-check", "template_version": 1,
                    "plan_id": null, "fix": fix, "geofence": "verified", "distance_m": -5.0, "flags": [], "time": time}),
                )
            }
            1..=7 => (
                "visit.answer",
                json!({"visit_id": visit, "item_id": format!("item-{}", i % 10),
                    "value": {"kind": "number", "value": i as f64}, "note": null, "revision": 1, "raised": [],
                    "cleared": [], "time": time}),
            ),
            8 => (
                "visit.report",
                json!({"visit_id": visit, "report": {"notes": "shelf in order, 货架整齐",
                    "objections": [], "next_steps": ["reorder"], "follow_up_date": null}, "time": time}),
            ),
            _ => (
                "visit.complete",
                json!({"visit_id": visit, "score": {"total": 80.0, "sections": []}, "time": time}),
            ),
        };
        let entry = entry_bytes(
            &EntryHeader {
                device_id: &signer.device_id,
                seq,
                op_id: &op_id,
                kind,
                entity_id: &visit,
                time,
                prev_hash: &prev,
            },
            &payload,
        );
        prev = sha256_hex(entry.as_bytes());
        out.push(PushOp {
            signature_hex: signer.sign_hex(entry.as_bytes()),
            entry,
        });
    }
    out
}

/// One signed `POST /v1/push` on a fresh connection (a phone rarely keeps one open between
/// syncs). Returns the status, the time to the full answer, and the bytes sent and received.
fn http_push(addr: SocketAddr, signer: &Signer, body: &[u8], nonce: u64) -> (u16, f64, usize, usize) {
    let nonce = sha256_hex(format!("{}-{nonce}", signer.device_id).as_bytes())[..32].to_string();
    let started = Instant::now();
    let time = now_ms();
    let sig = signer.sign_hex(
        wire::request_signing_bytes("POST", "/v1/push", time, &nonce, &sha256_hex(body)).as_bytes(),
    );
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /v1/push HTTP/1.1\r\nHost: b\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nx-fp-device: {}\r\nx-fp-time: {time}\r\nx-fp-nonce: {nonce}\r\nx-fp-signature: {sig}\r\n\r\n",
        body.len(),
        signer.device_id
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let status = String::from_utf8_lossy(&resp[9..12]).parse().unwrap();
    (
        status,
        started.elapsed().as_secs_f64(),
        head.len() + body.len(),
        resp.len(),
    )
}

type Device = (Signer, Vec<Vec<PushOp>>);

fn make(tag: &str, n_devices: usize, per_device: usize, batch: usize) -> Vec<Device> {
    (0..n_devices)
        .map(|d| {
            let signer = Signer::from_seed(format!("bench-{tag}-{d}"), Signer::generate_seed().unwrap());
            let ops = device_ops(&signer, "rep-li", per_device);
            (signer, ops.chunks(batch).map(<[PushOp]>::to_vec).collect())
        })
        .collect()
}

fn fresh_store(devices: &[Device]) -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    for (s, _) in devices {
        store
            .enrol_device("rep-li", &s.device_id, &s.public_key_hex(), now_ms())
            .unwrap();
    }
    (dir, store)
}

fn count(devices: &[Device]) -> usize {
    devices
        .iter()
        .map(|(_, b)| b.iter().map(Vec::len).sum::<usize>())
        .sum()
}

/// Every device pushes its batches in order; `workers` devices at a time.
fn in_process(store: &Store, devices: &[Device], workers: usize) -> f64 {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((signer, batches)) = devices.get(i) else {
                        break;
                    };
                    for b in batches {
                        let r = store
                            .push(&signer.device_id, &PushRequest { ops: b.clone() }, now_ms())
                            .unwrap();
                        assert!(r.results.iter().all(|r| r.status == wire::OpStatus::Applied));
                    }
                }
            });
        }
    });
    started.elapsed().as_secs_f64()
}

struct HttpRun {
    secs: f64,
    latencies: Vec<f64>,
    bytes_up: usize,
    bytes_down: usize,
}

/// The real router on a loopback socket; `workers` client threads, each taking the next device
/// and pushing its batches in order over HTTP.
fn over_http(store: Arc<Store>, devices: &[Device], workers: usize) -> HttpRun {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(fieldproof_server::serve_on(listener, store, async {
        let _ = stopped.await;
    }));
    let bodies: Vec<(Signer, Vec<Vec<u8>>)> = devices
        .iter()
        .map(|(s, batches)| {
            (
                s.clone(),
                batches
                    .iter()
                    .map(|b| serde_json::to_vec(&PushRequest { ops: b.clone() }).unwrap())
                    .collect(),
            )
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new((Vec::new(), 0usize, 0usize));
    let started = Instant::now();
    std::thread::scope(|sc| {
        for _ in 0..workers {
            sc.spawn(|| {
                let mut mine = (Vec::new(), 0, 0);
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((signer, batches)) = bodies.get(i) else {
                        break;
                    };
                    for (n, body) in batches.iter().enumerate() {
                        let (status, secs, up, down) = http_push(addr, signer, body, n as u64);
                        assert_eq!(status, 200);
                        mine.0.push(secs);
                        mine.1 += up;
                        mine.2 += down;
                    }
                }
                let mut r = results.lock().unwrap();
                r.0.extend(mine.0);
                r.1 += mine.1;
                r.2 += mine.2;
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
    let (mut latencies, bytes_up, bytes_down) = results.into_inner().unwrap();
    latencies.sort_by(f64::total_cmp);
    HttpRun {
        secs,
        latencies,
        bytes_up,
        bytes_down,
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize] * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; numbers are ours.
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let per_device = args.first().copied().unwrap_or(2_500);
    let n_devices = args.get(1).copied().unwrap_or(8);
    let batch = args.get(2).copied().unwrap_or(200);
    let morning_devices = args.get(3).copied().unwrap_or(500);
    let morning_ops = args.get(4).copied().unwrap_or(200);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!("machine: {cores} cores; batches of {batch} ops; every signature and chain link checked");

    // What the signature and link checks alone cost (the CPU floor of ingest).
    {
        let (signer, batches) = &make("floor", 1, per_device, batch)[0];
        let entries: Vec<fieldproof_core::evidence::SignedEntry> = batches
            .iter()
            .flatten()
            .map(|o| fieldproof_core::evidence::SignedEntry {
                entry: o.entry.clone(),
                signature_hex: o.signature_hex.clone(),
            })
            .collect();
        let started = Instant::now();
        let findings = fieldproof_core::evidence::verify_chain(&entries, &signer.public_key_hex(), None);
        assert!(findings.is_empty());
        let secs = started.elapsed().as_secs_f64();
        println!(
            "floor: verify_chain alone, one thread: {} entries in {secs:.2} s = {:.0} entries/s",
            entries.len(),
            entries.len() as f64 / secs
        );
    }

    // 1. N devices at once: in process (the reference) and over HTTP, same volume, same run.
    let devices = make("lib", n_devices, per_device, batch);
    let total = count(&devices);
    let (_d1, store) = fresh_store(&devices);
    let lib_secs = in_process(&store, &devices, n_devices);
    assert_eq!(store.stats().unwrap().ops as usize, total);
    let lib_rate = total as f64 / lib_secs;
    println!(
        "in-process Store::push, {n_devices} devices at once: {total} ops in {lib_secs:.2} s = {lib_rate:.0} ops/s"
    );

    let devices = make("http", n_devices, per_device, batch);
    let (_d2, store) = fresh_store(&devices);
    let run = over_http(store.clone(), &devices, n_devices);
    assert_eq!(store.stats().unwrap().ops as usize, total);
    let http_rate = total as f64 / run.secs;
    println!(
        "HTTP POST /v1/push, {n_devices} devices at once: {total} ops in {:.2} s = {http_rate:.0} ops/s = {:.2}x in-process; push of {batch} ops p50 {:.1} ms p99 {:.1} ms",
        run.secs,
        http_rate / lib_rate,
        pct(&run.latencies, 0.5),
        pct(&run.latencies, 0.99)
    );

    // 2. A morning sync: many phones, one push each, arriving together (64 in flight).
    let devices = make("morning", morning_devices, morning_ops, batch);
    let total = count(&devices);
    let (_d3, store) = fresh_store(&devices);
    let run = over_http(store.clone(), &devices, 64);
    let stats = store.stats().unwrap();
    assert_eq!(stats.ops as usize, total);
    println!(
        "morning sync: {morning_devices} devices x {morning_ops} ops = {total} ops over HTTP in {:.2} s = {:.0} ops/s; push p50 {:.1} ms p99 {:.1} ms; on the wire {:.0} B up + {:.0} B down per op",
        run.secs,
        total as f64 / run.secs,
        pct(&run.latencies, 0.5),
        pct(&run.latencies, 0.99),
        run.bytes_up as f64 / total as f64,
        run.bytes_down as f64 / total as f64
    );
    println!("exceptions recorded: {:?}", stats.exceptions_by_code);
}
