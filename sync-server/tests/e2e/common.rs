//! Test harness: the real `fieldproof-server` binary on 127.0.0.1:0 with a temporary data
//! directory, a small blocking HTTP/1.1 client over `TcpStream`, devices that sign requests
//! like a phone, and real cores that produce signed ops.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fieldproof_core::evidence::{Signer, sha256_hex};
use fieldproof_core::model::*;
use fieldproof_core::sync::wire::{self, PushOp};
use fieldproof_core::{CaptureRequest, CheckInRequest, Core};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_fieldproof-server");

#[path = "../support/s3_env.rs"]
pub mod s3_env;

/// The photo store of the server on `data_dir`, as that server sees it: its data folder, or
/// its prefix of the test bucket when the suite runs on S3 (`FIELDPROOF_TEST_S3`). Keys are
/// the server's (`photos/ab/<sha256>.jpg`, `thumbs/…`, `uploads/…`).
pub fn photo_store(data_dir: &Path) -> std::sync::Arc<dyn fieldproof_server::blobs::BlobStore> {
    use fieldproof_server::blobs::{PhotoLocation, s3};
    match s3_env::test_s3() {
        None => PhotoLocation::DataDir.open(data_dir).expect("photo folder"),
        Some((endpoint, bucket, key, secret)) => s3::open(&s3::S3Settings {
            bucket,
            prefix: s3_env::prefix_for(data_dir),
            endpoint: Some(endpoint),
            region: Some("us-east-1".into()),
            allow_http: true,
            virtual_hosted: false,
            credentials: Some((key, secret)),
        })
        .expect("test bucket"),
    }
}

/// The suite's back end (SQLite, or PostgreSQL under `FIELDPROOF_TEST_POSTGRES`).
#[path = "../support/db.rs"]
pub mod test_db;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn reference_file() -> PathBuf {
    workspace().join("tests/fixtures/reference.json")
}

pub fn test_photo() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/photo-1920x1080.jpg"
    ))
}

pub fn now_ms() -> i64 {
    fieldproof_server::now_ms()
}

// --- HTTP ----------------------------------------------------------------------------------

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} {}", self.status, self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The error code of an error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or("").to_string()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[end + 2 + size + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn read_all(s: &mut TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A reset after the response (the server refused an unread body) keeps what came.
            Err(_) => break,
        }
    }
    raw
}

/// One request on its own connection (`Connection: close`). No input produces a 5xx: one is a
/// test failure.
pub fn http(addr: SocketAddr, method: &str, pq: &str, headers: &[(String, String)], body: &[u8]) -> Resp {
    let resp = http_in_outage(addr, method, pq, headers, body);
    assert!(
        resp.status < 500,
        "{method} {pq} answered {}: {}",
        resp.status,
        resp.text()
    );
    resp
}

/// As [`http`], where a 5xx is expected: the tests that take the server's storage away.
pub fn http_in_outage(
    addr: SocketAddr,
    method: &str,
    pq: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    // A `Host` among `headers` replaces the address (a browser that used another name).
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or_else(|| addr.to_string(), |(_, v)| v.clone());
    let mut req = format!(
        "{method} {pq} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write request head");
    // The server may answer (413) before reading the whole body: keep going to the answer.
    let _ = s.write_all(body);
    let raw = read_all(&mut s);
    parse_response(&raw)
}

pub fn get(addr: SocketAddr, path: &str) -> Resp {
    http(addr, "GET", path, &[], b"")
}

// --- web sign-in -----------------------------------------------------------------------------

pub fn h(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

pub fn set_cookies(r: &Resp) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.clone())
        .collect()
}

pub fn cookie_value(r: &Resp, name: &str) -> Option<String> {
    set_cookies(r).iter().find_map(|c| {
        c.split(';')
            .next()?
            .strip_prefix(&format!("{name}="))
            .map(str::to_string)
    })
}

pub fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + key.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form.
pub fn form(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Sign in through the form; the response and the session cookie (if any).
pub fn sign_in(addr: SocketAddr, user: &str, password: &str) -> (Resp, Option<String>) {
    let form = http(addr, "GET", "/app/login", &[], b"");
    assert_eq!(form.status, 200);
    let token = cookie_value(&form, "fp_login_csrf").unwrap();
    assert_eq!(hidden(&form.text(), "csrf"), token);
    let body = format!("csrf={token}&next=%2Fapp%2Fexceptions&user={user}&password={password}");
    let r = http(
        addr,
        "POST",
        "/app/login",
        &[
            h("Cookie", &format!("fp_login_csrf={token}")),
            h("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    );
    let session = cookie_value(&r, "fp_session");
    (r, session)
}

pub struct Session {
    pub addr: SocketAddr,
    pub cookie: String,
}

impl Session {
    pub fn new(addr: SocketAddr, user: &str, password: &str) -> Session {
        let (r, s) = sign_in(addr, user, password);
        assert_eq!(r.status, 303, "{}", r.text());
        Session {
            addr,
            cookie: format!("fp_session={}", s.unwrap()),
        }
    }
    pub fn get(&self, pq: &str) -> Resp {
        http(self.addr, "GET", pq, &[h("Cookie", &self.cookie)], b"")
    }
    pub fn post(&self, pq: &str, body: &str, extra: &[(String, String)]) -> Resp {
        let mut headers = vec![
            h("Cookie", &self.cookie),
            h("Content-Type", "application/x-www-form-urlencoded"),
        ];
        headers.extend_from_slice(extra);
        http(self.addr, "POST", pq, &headers, body.as_bytes())
    }
    pub fn csrf(&self) -> String {
        hidden(&self.get("/app").text(), "csrf")
    }
}

// --- devices -------------------------------------------------------------------------------

static NONCES: AtomicU64 = AtomicU64::new(0);

pub fn nonce() -> String {
    let n = NONCES.fetch_add(1, Ordering::Relaxed);
    sha256_hex(format!("{}-{}-{n}", std::process::id(), now_ms()).as_bytes())[..32].to_string()
}

#[derive(Clone)]
pub struct Device {
    pub signer: Signer,
}

impl Device {
    pub fn random() -> Device {
        let id = format!("dev-{}", &nonce()[..12]);
        Device {
            signer: Signer::from_seed(id, Signer::generate_seed().unwrap()),
        }
    }

    /// The signing identity of a core's database (test-only: the seed never leaves a phone).
    pub fn of_core_db(db: &Path) -> Device {
        let conn = rusqlite::Connection::open(db).unwrap();
        let (id, seed): (String, Vec<u8>) = conn
            .query_row(
                "SELECT device_id, signing_key FROM device WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        Device {
            signer: Signer::from_seed(id, seed.try_into().unwrap()),
        }
    }

    pub fn id(&self) -> &str {
        &self.signer.device_id
    }

    pub fn sign_headers(
        &self,
        method: &str,
        pq: &str,
        body: &[u8],
        time_ms: i64,
        nonce: &str,
    ) -> Vec<(String, String)> {
        let bytes = wire::request_signing_bytes(method, pq, time_ms, nonce, &sha256_hex(body));
        vec![
            (wire::HEADER_DEVICE.into(), self.id().to_string()),
            (wire::HEADER_TIME.into(), time_ms.to_string()),
            (wire::HEADER_NONCE.into(), nonce.to_string()),
            (
                wire::HEADER_SIGNATURE.into(),
                self.signer.sign_hex(bytes.as_bytes()),
            ),
        ]
    }

    pub fn call(&self, addr: SocketAddr, method: &str, pq: &str, body: &[u8]) -> Resp {
        let headers = self.sign_headers(method, pq, body, now_ms(), &nonce());
        http(addr, method, pq, &headers, body)
    }

    /// As [`Device::call`], where a 5xx is expected (see [`http_in_outage`]).
    pub fn call_in_outage(&self, addr: SocketAddr, method: &str, pq: &str, body: &[u8]) -> Resp {
        let headers = self.sign_headers(method, pq, body, now_ms(), &nonce());
        http_in_outage(addr, method, pq, &headers, body)
    }

    pub fn call_json(&self, addr: SocketAddr, method: &str, pq: &str, body: &Value) -> Resp {
        self.call(addr, method, pq, body.to_string().as_bytes())
    }

    pub fn enrol_request(&self, code: &str) -> Value {
        let pk = self.signer.public_key_hex();
        let proof = wire::enrol_signing_bytes(code, self.id(), &pk);
        json!({"code": code, "device_id": self.id(), "public_key_hex": pk,
               "signature_hex": self.signer.sign_hex(proof.as_bytes())})
    }

    pub fn enrol(&self, addr: SocketAddr, code: &str) -> Resp {
        http(
            addr,
            "POST",
            "/v1/enrol",
            &[],
            self.enrol_request(code).to_string().as_bytes(),
        )
    }

    pub fn push(&self, addr: SocketAddr, ops: &[PushOp]) -> Resp {
        self.call_json(addr, "POST", "/v1/push", &json!({ "ops": ops }))
    }

    pub fn pull_all(&self, addr: SocketAddr) -> Vec<Value> {
        let mut cursor = 0;
        let mut out = Vec::new();
        loop {
            let r = self.call(addr, "GET", &format!("/v1/pull?cursor={cursor}&limit=7"), b"");
            assert_eq!(r.status, 200, "{}", r.text());
            let page = r.json();
            out.extend(page["changes"].as_array().unwrap().iter().cloned());
            cursor = page["cursor"].as_i64().unwrap();
            if !page["has_more"].as_bool().unwrap() {
                return out;
            }
        }
    }
}

// --- the server process --------------------------------------------------------------------

/// Where a test server keeps its data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    /// The suite's: PostgreSQL and S3 when `FIELDPROOF_TEST_POSTGRES` / `FIELDPROOF_TEST_S3` say.
    Suite,
    /// SQLite and photos in the data folder, whatever the suite runs on: for what only a data
    /// folder has (`admin backup`, its files to break).
    DataDir,
    /// The suite's database, photos in the data folder.
    FolderPhotos,
}

impl Backend {
    /// Point `cmd` (a server or admin process on `data_dir`) at this back end.
    fn apply<'c>(self, cmd: &'c mut Command, data_dir: &Path) -> &'c mut Command {
        if self == Backend::DataDir {
            cmd.env_remove("FIELDPROOF_DATABASE");
        } else {
            test_db::env(cmd, data_dir);
        }
        if self == Backend::Suite {
            cmd.envs(s3_env::server_env(data_dir));
        } else {
            cmd.env_remove("FIELDPROOF_PHOTOS");
        }
        cmd
    }
}

pub struct Server {
    pub child: Option<Child>,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub backend: Backend,
}

impl Server {
    pub fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[], None)
    }

    /// On `backend` rather than the suite's.
    pub fn start_on(data_dir: &Path, backend: Backend) -> Server {
        Server::start_full(data_dir, &[], None, &[], backend)
    }

    /// With extra `serve` flags and, if given, an open-file limit (soft and hard, as `ulimit -n`
    /// sets it) on the server process.
    pub fn start_with(data_dir: &Path, args: &[&str], nofile: Option<u32>) -> Server {
        Server::start_env(data_dir, args, nofile, &[])
    }

    /// As [`Server::start_with`], with environment variables set over the test's own (a photo
    /// store of the test's choosing, say).
    pub fn start_env(data_dir: &Path, args: &[&str], nofile: Option<u32>, env: &[(&str, &str)]) -> Server {
        Server::start_full(data_dir, args, nofile, env, Backend::Suite)
    }

    fn start_full(
        data_dir: &Path,
        args: &[&str],
        nofile: Option<u32>,
        env: &[(&str, &str)],
        backend: Backend,
    ) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("server.log"))
            .unwrap();
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), BIN]);
                c
            }
            None => Command::new(BIN),
        };
        backend.apply(&mut cmd, data_dir);
        // The pipeline's scheduler stopped unless a test gives it a clock: its clock file is never
        // written, so it never runs. On the wall clock it would judge the tests' backdated
        // customers and leads (a stall, a deadline) at a moment of its own choosing, racing the
        // test's reads; the scheduler's own tests drive it (tests/pipeline_jobs.rs, and
        // tests/tests/pipeline_replicas.rs with real replicas).
        let stopped_clock = data_dir.join("pipeline-clock-never-written");
        let scheduler: Vec<&std::ffi::OsStr> = if args.contains(&"--pipeline-clock-file") {
            Vec::new()
        } else {
            vec!["--pipeline-clock-file".as_ref(), stopped_clock.as_os_str()]
        };
        let mut child = cmd
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .args(scheduler)
            .envs(env.iter().copied())
            .env("FIELDPROOF_LOG", "info")
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server did not announce its address");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Server {
            child: Some(child),
            addr,
            data_dir: data_dir.to_path_buf(),
            backend,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let mut c = self.child.take().unwrap();
        let start = Instant::now();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s;
            }
            if start.elapsed() > timeout {
                c.kill().unwrap();
                panic!("server did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A `/proc/PID/status` figure of the server process in KiB (`VmRSS`, `VmHWM`, ...).
    pub fn proc_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default()
    }

    pub fn admin(&self, args: &[&str]) -> String {
        admin_ok_on(&self.data_dir, args, self.backend)
    }

    pub fn stats(&self) -> Value {
        serde_json::from_str(&self.admin(&["stats"])).unwrap()
    }

    /// Every exception, as the admin CLI lists them. Each is checked on the way: the server
    /// stored it with parameters of its code's shape, and it reads in Chinese without a word of
    /// English, an id or a hash (whichever test raised it).
    pub fn exceptions(&self) -> Vec<Value> {
        let rows =
            serde_json::from_str::<Vec<Value>>(&self.admin(&["exceptions", "--limit", "1000"])).unwrap();
        for e in &rows {
            let code = e["code"].as_str().unwrap();
            assert!(
                fieldproof_server::codes::EXCEPTION_CODES.contains(&code),
                "{code} is not in codes::EXCEPTION_CODES"
            );
            let params = &e["params"];
            assert!(
                fieldproof_server::codes::ExceptionParams::parse(code, params).is_some(),
                "{code} stored without its parameters: {e}"
            );
            let names = fieldproof_server::messages::NameTable::default();
            let zh = fieldproof_server::messages::render(
                fieldproof_server::i18n::Lang::Zh,
                code,
                Some(params),
                &names,
            );
            for text in [&zh.title, &zh.sentence] {
                assert!(!text.chars().any(|c| c.is_ascii_alphabetic()), "{code}: {text}");
            }
        }
        rows
    }

    /// Issue a code for `user` and enrol a new device with it.
    pub fn enrolled(&self, user: &str) -> Device {
        let d = Device::random();
        self.enrol_as(&d, user);
        d
    }

    pub fn enrol_as(&self, d: &Device, user: &str) {
        let code = self.admin(&["enrol-code", "--user", user]);
        let r = d.enrol(self.addr, code.trim());
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let log = self.log();
        if std::thread::panicking() {
            // The data directory goes with the test: show what the server said.
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- server log (last 40 lines) ---");
            for l in tail.into_iter().rev() {
                eprintln!("{l}");
            }
        } else {
            assert!(!log.contains("panicked"), "server log shows a panic:\n{log}");
        }
    }
}

pub fn admin(data_dir: &Path, args: &[&str]) -> std::process::Output {
    admin_on(data_dir, args, Backend::Suite)
}

/// `admin` on `backend` rather than the suite's.
pub fn admin_on(data_dir: &Path, args: &[&str], backend: Backend) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    backend.apply(&mut cmd, data_dir);
    cmd.arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run admin")
}

pub fn admin_ok(data_dir: &Path, args: &[&str]) -> String {
    admin_ok_on(data_dir, args, Backend::Suite)
}

pub fn admin_ok_on(data_dir: &Path, args: &[&str], backend: Backend) -> String {
    let out = admin_on(data_dir, args, backend);
    assert!(
        out.status.success(),
        "admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A server with the fixture's reference data loaded.
pub fn server() -> (tempfile::TempDir, Server) {
    server_on(Backend::Suite)
}

/// [`server`] on `backend` rather than the suite's.
pub fn server_on(backend: Backend) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    admin_ok_on(dir.path(), &["init"], backend);
    admin_ok_on(
        dir.path(),
        &["load-reference", reference_file().to_str().unwrap()],
        backend,
    );
    let s = Server::start_on(dir.path(), backend);
    (dir, s)
}

// --- phones --------------------------------------------------------------------------------

/// A real core (file database, system clock) with the fixture loaded, and its signing identity.
pub struct Phone {
    pub core: Core,
    pub device: Device,
    _dir: tempfile::TempDir,
}

impl Phone {
    pub fn new() -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("phone.db");
        let core = Core::open(&db).unwrap();
        core.load_reference_json(&std::fs::read_to_string(reference_file()).unwrap())
            .unwrap();
        let device = Device::of_core_db(&db);
        assert_eq!(device.id(), core.device_id());
        Phone {
            core,
            device,
            _dir: dir,
        }
    }

    /// Pending outbox ops as the client would push them.
    pub fn ops(&self) -> Vec<PushOp> {
        self.core
            .pending_ops(10_000)
            .unwrap()
            .into_iter()
            .map(|o| PushOp {
                entry: o.entry.unwrap(),
                signature_hex: o.signature_hex.unwrap(),
            })
            .collect()
    }

    /// Upload one photo's bytes in `chunks` pieces; returns the last status body.
    pub fn upload_photo(&self, addr: SocketAddr, photo_id: &str, chunks: usize) -> Value {
        let ev = self.core.photo_evidence(photo_id).unwrap();
        let bytes = std::fs::read(&ev.path).unwrap();
        let sha = sha256_hex(&bytes);
        let offer = json!({"sha256": sha, "size": bytes.len(), "entry": ev.manifest,
                           "signature_hex": ev.signature_hex});
        let r = self.device.call_json(addr, "POST", "/v1/photos", &offer);
        assert_eq!(r.status, 200, "{}", r.text());
        let mut status = r.json();
        let step = bytes.len().div_ceil(chunks);
        while !status["complete"].as_bool().unwrap() {
            let at = status["offset"].as_u64().unwrap() as usize;
            let end = (at + step).min(bytes.len());
            let r = self.device.call(
                addr,
                "PUT",
                &format!("/v1/photos/{sha}?offset={at}"),
                &bytes[at..end],
            );
            assert_eq!(r.status, 200, "{}", r.text());
            status = r.json();
        }
        status
    }
}

pub fn fix_at(lat: f64, lon: f64) -> LocationFix {
    LocationFix {
        latitude: lat,
        longitude: lon,
        accuracy_m: 10.0,
        provider: LocationProvider::Gps,
        is_mock: false,
        fix_time_ms: now_ms(),
    }
}

/// By store st-001 (shanghai-east).
pub fn fix_st001() -> LocationFix {
    fix_at(31.2304, 121.5200)
}

pub struct VisitOutcome {
    pub visit_id: String,
    pub photo_id: String,
}

/// A whole store check: check in, four answers, a shelf photo, report, complete, check out
/// (9 ops).
pub fn store_check(
    core: &Core,
    user: &str,
    store: &str,
    plan: Option<&str>,
    fix: LocationFix,
) -> VisitOutcome {
    store_check_with_photo(core, user, store, plan, fix, &test_photo())
}

/// [`store_check`] with the shelf photo taken from `photo`.
pub fn store_check_with_photo(
    core: &Core,
    user: &str,
    store: &str,
    plan: Option<&str>,
    fix: LocationFix,
    photo: &Path,
) -> VisitOutcome {
    let v = core
        .check_in(&CheckInRequest {
            user_id: user.into(),
            store_id: store.into(),
            plan_id: plan.map(str::to_string),
            template_id: None,
            fix: Some(fix.clone()),
        })
        .unwrap();
    core.answer(&v.id, "shelf_ok", &AnswerValue::YesNo { value: true }, None)
        .unwrap();
    core.answer(&v.id, "facings", &AnswerValue::Number { value: 6.0 }, None)
        .unwrap();
    core.answer(&v.id, "own_price", &AnswerValue::Price { cents: 400 }, None)
        .unwrap();
    core.answer(
        &v.id,
        "backroom",
        &AnswerValue::Choice {
            choice_id: "high".into(),
        },
        None,
    )
    .unwrap();
    let photo = core
        .capture_photo_file(
            &CaptureRequest {
                visit_id: v.id.clone(),
                item_id: Some("shelf_photo".into()),
                kind: PhotoKind::ShelfOverview,
                fix: Some(fix.clone()),
                utc_offset_minutes: 480,
                retake_request_id: None,
            },
            photo,
        )
        .unwrap();
    core.save_report(
        &v.id,
        &VisitReport {
            notes: "货架整齐, shelf in order".into(),
            objections: vec![],
            next_steps: vec!["reorder".into()],
            follow_up_date: None,
        },
    )
    .unwrap();
    core.complete_visit(&v.id).unwrap();
    core.check_out(&v.id, Some(&fix)).unwrap();
    VisitOutcome {
        visit_id: v.id,
        photo_id: photo.photo.id,
    }
}

pub fn statuses(push: &Value) -> Vec<String> {
    push["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}
