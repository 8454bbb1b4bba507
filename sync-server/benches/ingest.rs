//! Push ingest throughput, in process (`ingest::push`) and over HTTP (the real router on a
//! loopback socket), with every signature checked; on SQLite and on PostgreSQL; a morning
//! sync through one server and through three replicas; photo uploads to disk and to an
//! S3-compatible bucket.
//!
//!     bash tests/pg.sh -- bash tests/s3.sh -- cargo bench -p fieldproof-server --bench ingest \
//!         [-- OPS_PER_DEVICE DEVICES BATCH MORNING_DEVICES MORNING_OPS PHOTO_DEVICES PHOTOS_EACH]
//!
//! Without the two wrappers (no `FIELDPROOF_TEST_POSTGRES` / `FIELDPROOF_TEST_S3`) only the
//! SQLite and disk figures are measured. `BENCH_QUICK=1`: small volumes, a smoke run.
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
use fieldproof_core::sync::wire::{self, PhotoOffer, PushOp, PushRequest};
use fieldproof_server::db::Database;
use fieldproof_server::{Store, now_ms};
use serde_json::json;

// The tests' switch for the photo store (`FIELDPROOF_TEST_S3*` → the server's `--photos s3://…`
// and its variables), std only.
#[path = "../tests/support/s3_env.rs"]
mod s3_env;

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

/// One signed request on a fresh connection (a phone rarely keeps one open between syncs).
/// Returns the status, the whole answer, and the bytes sent.
fn signed_request(
    addr: SocketAddr,
    signer: &Signer,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    nonce: &str,
) -> (u16, Vec<u8>, usize) {
    let nonce = sha256_hex(format!("{}-{nonce}", signer.device_id).as_bytes())[..32].to_string();
    let time = now_ms();
    let sig = signer.sign_hex(
        wire::request_signing_bytes(method, path_and_query, time, &nonce, &sha256_hex(body)).as_bytes(),
    );
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: b\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nx-fp-device: {}\r\nx-fp-time: {time}\r\nx-fp-nonce: {nonce}\r\nx-fp-signature: {sig}\r\n\r\n",
        body.len(),
        signer.device_id
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let status = String::from_utf8_lossy(&resp[9..12]).parse().unwrap();
    (status, resp, head.len() + body.len())
}

/// One signed `POST /v1/push`. Returns the status, the time to the full answer, and the bytes
/// sent and received.
fn http_push(addr: SocketAddr, signer: &Signer, body: &[u8], nonce: u64) -> (u16, f64, usize, usize) {
    let started = Instant::now();
    let (status, resp, up) = signed_request(addr, signer, "POST", "/v1/push", body, &nonce.to_string());
    (status, started.elapsed().as_secs_f64(), up, resp.len())
}

/// A photo as a phone uploads it: distinct bytes (the test photo with a tail after its end
/// marker, which decoders ignore: same pixels, so each is also a possible reuse of the
/// others) and its signed `visit.photo` manifest.
fn photo_offer(signer: &Signer, base: &[u8], n: usize) -> (Vec<u8>, PhotoOffer) {
    let mut bytes = base.to_vec();
    bytes.extend_from_slice(format!("bench-photo-{}-{n}", signer.device_id).as_bytes());
    let sha = sha256_hex(&bytes);
    let t = now_ms() - 60_000;
    let time = EventTime {
        wall_ms: t,
        boot_ms: 1_000_000 + n as i64,
        hlc: t << 16,
        server_offset_ms: Some(0),
    };
    let photo_id = format!("p-{}-{n}", signer.device_id);
    let visit = format!("v-{}-photos", signer.device_id);
    let payload = json!({"photo_id": photo_id, "visit_id": visit, "store_id": "st-001", "user_id": "rep-li",
        "item_id": "shelf_photo", "photo_kind": "shelf_overview", "image_sha256": sha, "original_sha256": sha,
        "byte_len": bytes.len(),
        "evidence_code": fieldproof_core::evidence::evidence_code(&sha, &signer.device_id, &photo_id),
        "location": null, "time": time});
    let entry = entry_bytes(
        &EntryHeader {
            device_id: &signer.device_id,
            seq: n as i64 + 1,
            op_id: &format!("{}-photo-{n}", signer.device_id),
            kind: "visit.photo",
            entity_id: &visit,
            time,
            prev_hash: GENESIS_HASH,
        },
        &payload,
    );
    let offer = PhotoOffer {
        sha256: sha.clone(),
        size: bytes.len() as u64,
        signature_hex: signer.sign_hex(entry.as_bytes()),
        entry,
    };
    (bytes, offer)
}

/// A device's signer and its photos (the JPEG bytes and the signed offer of each).
type DevicePhotos = (Signer, Vec<(Vec<u8>, PhotoOffer)>);

/// Upload every photo over HTTP as the phone does: offer, then chunks of `chunk` bytes, each
/// a signed request on its own connection; `workers` devices at once. Returns the seconds.
fn upload_photos(addr: SocketAddr, photos: &[DevicePhotos], chunk: usize, workers: usize) -> f64 {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|sc| {
        for _ in 0..workers {
            sc.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((signer, list)) = photos.get(i) else {
                        break;
                    };
                    for (n, (bytes, offer)) in list.iter().enumerate() {
                        let body = serde_json::to_vec(offer).unwrap();
                        let (status, resp, _) =
                            signed_request(addr, signer, "POST", "/v1/photos", &body, &format!("offer-{n}"));
                        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
                        for (c, part) in bytes.chunks(chunk).enumerate() {
                            let pq = format!("/v1/photos/{}?offset={}", offer.sha256, c * chunk);
                            let (status, resp, _) =
                                signed_request(addr, signer, "PUT", &pq, part, &format!("chunk-{n}-{c}"));
                            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
                        }
                    }
                }
            });
        }
    });
    started.elapsed().as_secs_f64()
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

/// Where a benchmark server keeps its data: the database, and the photos.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Db {
    Sqlite,
    Postgres,
}

/// `replicas` stores on one fresh database (photos in the data folder), reference data loaded
/// and every device enrolled.
fn fresh_stores(devices: &[Device], db: Db, replicas: usize) -> (tempfile::TempDir, Vec<Arc<Store>>) {
    let dir = tempfile::tempdir().unwrap();
    let database = match db {
        Db::Sqlite => None,
        Db::Postgres => Some(fresh_postgres_database()),
    };
    let stores: Vec<Arc<Store>> = (0..replicas)
        .map(|i| {
            // SQLite replicas share the first one's folder (one database file); PostgreSQL
            // replicas have their own folders and one database.
            let folder = if database.is_some() { i } else { 0 };
            let data_dir = dir.path().join(format!("replica-{folder}"));
            Arc::new(open_store(&data_dir, database.as_deref()))
        })
        .collect();
    let store = &stores[0];
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    for (s, _) in devices {
        store
            .enrol_device("rep-li", &s.device_id, &s.public_key_hex(), now_ms())
            .unwrap();
    }
    (dir, stores)
}

fn fresh_store(devices: &[Device]) -> (tempfile::TempDir, Arc<Store>) {
    let (dir, mut stores) = fresh_stores(devices, Db::Sqlite, 1);
    (dir, stores.remove(0))
}

/// A new database on the PostgreSQL server `FIELDPROOF_TEST_POSTGRES` names; its URL.
fn fresh_postgres_database() -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let server = std::env::var("FIELDPROOF_TEST_POSTGRES").unwrap();
    let name = format!(
        "bench_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

fn open_store(data_dir: &std::path::Path, database: Option<&str>) -> Store {
    let db = Database::from_flag(database, data_dir, "fieldproof.db").unwrap();
    Store::open_in(
        data_dir,
        db,
        fieldproof_server::Limits::default(),
        &fieldproof_server::blobs::PhotoLocation::DataDir,
    )
    .unwrap()
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
                        let r = fieldproof_server::ingest::push(
                            store,
                            &signer.device_id,
                            &PushRequest { ops: b.clone() },
                            now_ms(),
                        )
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

/// Replicas: each store serves the real router on its own loopback socket (one runtime for
/// all, as the machine's two cores are shared anyway).
struct Replicas {
    rt: tokio::runtime::Runtime,
    addrs: Vec<SocketAddr>,
    running: Vec<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
}

impl Replicas {
    fn start(stores: &[Arc<Store>]) -> Replicas {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut addrs = Vec::new();
        let mut running = Vec::new();
        for store in stores {
            let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
            addrs.push(listener.local_addr().unwrap());
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = rt.spawn(fieldproof_server::serve_on(listener, store.clone(), async {
                let _ = stopped.await;
            }));
            running.push((stop, server));
        }
        Replicas { rt, addrs, running }
    }

    fn stop(self) {
        for (stop, server) in self.running {
            let _ = stop.send(());
            self.rt.block_on(server).unwrap().unwrap();
        }
    }
}

/// `workers` client threads, each taking the next device and pushing its batches in order
/// over HTTP; each push goes to the next replica in turn (a round-robin load balancer), so a
/// device's batches land on every replica.
fn over_http(stores: &[Arc<Store>], devices: &[Device], workers: usize) -> HttpRun {
    let replicas = Replicas::start(stores);
    let addrs = &replicas.addrs;
    let turn = std::sync::atomic::AtomicUsize::new(0);
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
                        let t = turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let addr = addrs[t % addrs.len()];
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
    replicas.stop();
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

/// A real `fieldproof-server serve` on `data_dir` (SQLite) with `--photos photos`, listening on
/// a free loopback port; `env`: the bucket's address and keys for `s3://…`.
struct ServerProcess {
    child: std::process::Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(data_dir: &std::path::Path, photos: &str, env: &[(String, String)]) -> ServerProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fieldproof-server"))
            .env_remove("FIELDPROOF_DATABASE")
            .env_remove("FIELDPROOF_PHOTOS")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "warn")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--photos")
            .arg(photos)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("the server exited before listening").unwrap();
            if let Some(a) = line.trim().strip_prefix("listening on http://") {
                break a.parse().unwrap();
            }
        };
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        ServerProcess { child, addr }
    }

    /// SIGTERM, as systemd stops it, and wait for it to finish.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.is_ok_and(|s| s.success()));
        assert!(self.child.wait().unwrap().success());
    }
}

/// The photo files under the data folder's `photos/`.
fn photos_on_disk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                photos_on_disk(&p)
            } else {
                usize::from(p.extension().is_some_and(|x| x == "jpg"))
            }
        })
        .sum()
}

/// Whether the shared back ends are there (the same switches as the tests:
/// `bash tests/pg.sh -- bash tests/s3.sh -- cargo bench …` sets them).
fn have(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.trim().is_empty())
}

/// Push every device's batches over HTTP to `replicas` stores on `db`; print and return ops/s.
fn ingest_run(label: &str, devices: &[Device], db: Db, replicas: usize, workers: usize) -> (f64, HttpRun) {
    let total = count(devices);
    let (_dir, stores) = fresh_stores(devices, db, replicas);
    let run = over_http(&stores, devices, workers);
    let stats = stores[0].stats().unwrap();
    assert_eq!(stats.ops as usize, total);
    let rate = total as f64 / run.secs;
    println!(
        "{label}: {total} ops in {:.2} s = {rate:.0} ops/s; push p50 {:.1} ms p99 {:.1} ms",
        run.secs,
        pct(&run.latencies, 0.5),
        pct(&run.latencies, 0.99)
    );
    (rate, run)
}

fn main() {
    // `cargo bench` passes `--bench`; numbers are ours. BENCH_QUICK=1: a smoke run in seconds.
    let quick = have("BENCH_QUICK");
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let arg = |i: usize, full: usize, small: usize| {
        args.get(i).copied().unwrap_or(if quick { small } else { full })
    };
    let per_device = arg(0, 2_500, 200);
    let n_devices = arg(1, 8, 4);
    let batch = arg(2, 200, 100);
    let morning_devices = arg(3, 2_000, 50);
    let morning_ops = arg(4, 200, 50);
    let photo_devices = arg(5, 8, 2);
    let photos_per_device = arg(6, 25, 3);
    let postgres = have("FIELDPROOF_TEST_POSTGRES");
    let s3 = have("FIELDPROOF_TEST_S3");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!("machine: {cores} cores; batches of {batch} ops; every signature and chain link checked");
    if !postgres || !s3 {
        println!(
            "PostgreSQL {}, S3 {}: run under tests/pg.sh and tests/s3.sh for the back-end comparisons",
            if postgres {
                "on"
            } else {
                "off (FIELDPROOF_TEST_POSTGRES unset)"
            },
            if s3 {
                "on"
            } else {
                "off (FIELDPROOF_TEST_S3 unset)"
            }
        );
    }

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

    // 1. N devices at once: in process (the reference) and over HTTP, same volume, same run;
    //    then over HTTP on PostgreSQL.
    let devices = make("ingest", n_devices, per_device, batch);
    let total = count(&devices);
    let (_d1, store) = fresh_store(&devices);
    let lib_secs = in_process(&store, &devices, n_devices);
    assert_eq!(store.stats().unwrap().ops as usize, total);
    let lib_rate = total as f64 / lib_secs;
    println!(
        "in-process ingest::push on SQLite, {n_devices} devices at once: {total} ops in {lib_secs:.2} s = {lib_rate:.0} ops/s"
    );
    let (sqlite_rate, run) = ingest_run(
        &format!("HTTP POST /v1/push on SQLite, {n_devices} devices at once"),
        &devices,
        Db::Sqlite,
        1,
        n_devices,
    );
    println!(
        "  = {:.2}x in-process; on the wire {:.0} B up + {:.0} B down per op",
        sqlite_rate / lib_rate,
        run.bytes_up as f64 / total as f64,
        run.bytes_down as f64 / total as f64
    );
    if postgres {
        let (pg_rate, _) = ingest_run(
            &format!("HTTP POST /v1/push on PostgreSQL, {n_devices} devices at once"),
            &devices,
            Db::Postgres,
            1,
            n_devices,
        );
        println!(
            "  PostgreSQL / SQLite = {:.2}x (goal >= 0.5x and >= 10,000 ops/s)",
            pg_rate / sqlite_rate
        );
    }

    // 2. A morning sync: many phones, one push each, arriving together (64 in flight), through
    //    one server and through three replicas behind a round-robin balancer.
    let devices = make("morning", morning_devices, morning_ops, batch);
    let label = |db: &str, n: usize| {
        format!(
            "morning sync on {db}, {n} replica(s): {morning_devices} devices x {morning_ops} ops over HTTP"
        )
    };
    let (_, run) = ingest_run(&label("SQLite", 1), &devices, Db::Sqlite, 1, 64);
    let total = count(&devices);
    println!(
        "  on the wire {:.0} B up + {:.0} B down per op",
        run.bytes_up as f64 / total as f64,
        run.bytes_down as f64 / total as f64
    );
    if postgres {
        ingest_run(&label("PostgreSQL", 1), &devices, Db::Postgres, 1, 64);
        ingest_run(&label("PostgreSQL", 3), &devices, Db::Postgres, 3, 64);
    }

    // 3. Photo uploads: offer + 256 KiB chunks + the server's checks (hash, signature,
    //    perceptual hash, reuse search, preview), 4 devices uploading at once; to the data
    //    folder's disk and to the S3-compatible bucket, the same photos.
    let base = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/photo-1920x1080.jpg"
    ))
    .unwrap();
    let signers: Vec<Signer> = (0..photo_devices)
        .map(|d| Signer::from_seed(format!("bench-photos-{d}"), Signer::generate_seed().unwrap()))
        .collect();
    let photos: Vec<DevicePhotos> = signers
        .iter()
        .map(|s| {
            (
                s.clone(),
                (0..photos_per_device).map(|n| photo_offer(s, &base, n)).collect(),
            )
        })
        .collect();
    let n_photos = photo_devices * photos_per_device;
    let mb = photos
        .iter()
        .flat_map(|(_, l)| l)
        .map(|(b, _)| b.len())
        .sum::<usize>() as f64
        / 1e6;
    let enrolled: Vec<Device> = signers.iter().map(|s| (s.clone(), Vec::new())).collect();
    let mut disk_rate = None;
    for (where_, on_s3) in [("disk", false), ("S3", true)] {
        if on_s3 && !s3 {
            continue;
        }
        // The data folder made in process (reference data, devices), then served by the real
        // binary with `--photos`: `data-dir`, or `s3://bucket/prefix` with the bucket's
        // variables, exactly as the tests switch it.
        let (dir, store) = fresh_store(&enrolled);
        drop(store);
        let data_dir = dir.path().join("replica-0");
        let env = if on_s3 {
            s3_env::server_env(&data_dir)
        } else {
            Vec::new()
        };
        let photos_flag = env
            .iter()
            .find(|(k, _)| k == "FIELDPROOF_PHOTOS")
            .map_or("data-dir".to_string(), |(_, v)| v.clone());
        let server = ServerProcess::start(&data_dir, &photos_flag, &env);
        let secs = upload_photos(server.addr, &photos, 256 * 1024, 4);
        server.stop();
        let stats = open_store(&data_dir, None).stats().unwrap();
        assert_eq!(
            (stats.photo_blobs as usize, stats.uploads_in_progress),
            (n_photos, 0)
        );
        // Where the bytes went: all in the folder, or none of them there.
        let on_disk = photos_on_disk(&data_dir.join("photos"));
        assert_eq!(on_disk, if on_s3 { 0 } else { n_photos }, "photos on disk");
        let rate = mb / secs;
        println!(
            "photo upload to {where_} ({photos_flag}): {n_photos} photos ({mb:.0} MB) in {secs:.2} s = {:.1} photos/s, {rate:.1} MB/s{}",
            n_photos as f64 / secs,
            disk_rate.map_or(String::new(), |d: f64| format!(" = {:.2}x disk", rate / d))
        );
        if !on_s3 {
            disk_rate = Some(rate);
        }
    }
}
