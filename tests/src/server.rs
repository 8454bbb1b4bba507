//! The real `fieldproof-server` binary as the end-to-end tests, the benchmark and the demo use
//! it: started on loopback with a data folder (and, when the test command runs the suite on
//! PostgreSQL, a database of its own there), administered through its own `admin` commands,
//! killed with SIGKILL and restarted on the same port.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The photo store of a test server: its data folder, or its own prefix of the test bucket
/// when the suite runs on S3 (`FIELDPROOF_TEST_S3`, see `tests/s3.sh`).
#[path = "../../sync-server/tests/support/s3_env.rs"]
pub mod s3_env;

/// Where cargo put `fieldproof-server` for the profile this program was built with; builds it
/// if it is not there yet (a fresh checkout running one test crate alone).
pub fn server_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/deps/<test>  or  target/<profile>/<bin>
    let mut candidates = Vec::new();
    if let Some(dir) = exe.parent() {
        candidates.push(dir.join("fieldproof-server"));
        if let Some(up) = dir.parent() {
            candidates.push(up.join("fieldproof-server"));
        }
    }
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let release = exe.components().any(|c| c.as_os_str() == "release");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args([
        "build",
        "-q",
        "-p",
        "fieldproof-server",
        "--bin",
        "fieldproof-server",
    ]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("cargo build -p fieldproof-server failed".into());
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| "fieldproof-server not found after building it".into())
}

/// A running server process. Killed (SIGKILL) when dropped.
pub struct ServerProcess {
    bin: PathBuf,
    data_dir: PathBuf,
    child: Option<Child>,
    addr: SocketAddr,
    extra_env: Vec<(String, String)>,
}

impl ServerProcess {
    /// Start on an ephemeral loopback port with `data_dir` (created if missing), on the
    /// suite's back ends: SQLite in the folder, or, when `FIELDPROOF_TEST_POSTGRES` is set, a
    /// fresh PostgreSQL database of its own (kept across restarts); photos as `s3_env` says.
    pub fn start(data_dir: &Path) -> Result<ServerProcess, String> {
        let tag = data_dir
            .file_name()
            .map_or_else(|| "server".into(), |n| n.to_string_lossy().into_owned());
        match crate::storage::fresh_database(&tag)? {
            Some(url) => ServerProcess::start_with(data_dir, "127.0.0.1:0", &[("FIELDPROOF_DATABASE", &url)]),
            None => ServerProcess::start_with(data_dir, "127.0.0.1:0", &[]),
        }
    }

    /// Start with `env` (`FIELDPROOF_DATABASE`, `FIELDPROOF_PHOTOS`, …); without a database
    /// there, SQLite in `data_dir`, whatever the test command's switches.
    pub fn start_with(data_dir: &Path, addr: &str, env: &[(&str, &str)]) -> Result<ServerProcess, String> {
        let mut s = ServerProcess {
            bin: server_binary()?,
            data_dir: data_dir.to_path_buf(),
            child: None,
            addr: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
            extra_env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        s.spawn(addr)?;
        Ok(s)
    }

    fn spawn(&mut self, addr: &str) -> Result<(), String> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["serve", "--addr", addr, "--data-dir"])
            .arg(&self.data_dir)
            .env("FIELDPROOF_DATA_DIR", &self.data_dir)
            .envs(s3_env::server_env(&self.data_dir))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if std::env::var_os("FIELDPROOF_SERVER_LOG").is_some() {
            cmd.stderr(Stdio::inherit());
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| format!("spawn server: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut sent = false;
            while let Some(Ok(line)) = lines.next() {
                if !sent && let Some(rest) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(rest.trim().to_string());
                    sent = true;
                }
            }
        });
        let bound = rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "server did not print its address within 30 s".to_string())?;
        self.addr = bound.parse().map_err(|e| format!("address {bound}: {e}"))?;
        self.child = Some(child);
        Ok(())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no shutdown hook runs, whatever was not durable is gone.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait: the graceful path.
    pub fn terminate(&mut self) -> Result<std::process::ExitStatus, String> {
        let Some(mut c) = self.child.take() else {
            return Err("not running".into());
        };
        let pid = c.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = c.try_wait().map_err(|e| e.to_string())? {
                return Ok(st);
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                return Err("server did not stop within 20 s of SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start again on the same port (after `kill9` or `terminate`). Retries the bind for a
    /// moment: the old socket may still be closing.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill9();
        let addr = self.addr.to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn(&addr) {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Run `fieldproof-server admin <args>` on this server's data folder; stdout on success.
    /// The server's own environment (its database and photo store) is the command's too.
    pub fn admin(&self, args: &[&str]) -> Result<String, String> {
        let env: Vec<(&str, &str)> = self
            .extra_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        admin_with(&self.bin, &self.data_dir, &env, args)
    }

    /// The `fieldproof-server` binary this process runs (for its other commands, `verify`).
    pub fn binary(&self) -> &Path {
        &self.bin
    }

    /// A one-time enrolment code for `user_id`.
    pub fn enrol_code(&self, user_id: &str) -> Result<String, String> {
        let out = self.admin(&["enrol-code", "--user", user_id])?;
        out.lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.rsplit(' ').next().unwrap_or(l).to_string())
            .ok_or_else(|| "enrol-code printed nothing".into())
    }

    /// The PostgreSQL database this server runs on (`FIELDPROOF_DATABASE`), if not SQLite.
    pub fn database_url(&self) -> Option<&str> {
        self.extra_env
            .iter()
            .find(|(k, v)| k == "FIELDPROOF_DATABASE" && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The server's records, read back from whichever database it runs on.
    pub fn records(&self) -> Result<crate::storage::ServerDb, String> {
        match self.database_url() {
            Some(url) => crate::storage::ServerDb::postgres(url),
            None => crate::storage::ServerDb::sqlite(&self.data_dir.join("fieldproof.db")),
        }
    }

    /// The photos its photo store holds (the data folder, or its bucket prefix), each read back
    /// and re-hashed by the server's own `admin check-photos`: an error names a photo whose
    /// bytes do not hash to its name, or one stored twice.
    pub fn stored_photos(&self) -> Result<std::collections::BTreeSet<String>, String> {
        check_photos_answer(&self.admin(&["check-photos"])?)
    }

    /// `admin stats` parsed as JSON.
    pub fn stats(&self) -> Result<serde_json::Value, String> {
        let out = self.admin(&["stats"])?;
        serde_json::from_str(&out).map_err(|e| format!("admin stats: {e}: {out}"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn admin(bin: &Path, data_dir: &Path, args: &[&str]) -> Result<String, String> {
    admin_with(bin, data_dir, &[], args)
}

/// [`admin`] with more environment (`FIELDPROOF_DATABASE`, `FIELDPROOF_PHOTOS`, …).
pub fn admin_with(
    bin: &Path,
    data_dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Result<String, String> {
    let out = Command::new(bin)
        .arg("admin")
        .args(args)
        .env("FIELDPROOF_DATA_DIR", data_dir)
        .envs(s3_env::server_env(data_dir))
        .envs(env.iter().copied())
        .output()
        .map_err(|e| format!("admin {args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "admin {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The photos an `admin check-photos` answer (`{"intact": [...], "damaged": [...]}`) lists,
/// once each; an error names a damaged photo or one listed twice.
pub fn check_photos_answer(out: &str) -> Result<std::collections::BTreeSet<String>, String> {
    let v: serde_json::Value = serde_json::from_str(out).map_err(|e| format!("check-photos: {e}: {out}"))?;
    let names = |k: &str| -> Result<Vec<String>, String> {
        v[k].as_array()
            .ok_or_else(|| format!("check-photos without {k}: {out}"))?
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("not a hash in {k}: {s}"))
            })
            .collect()
    };
    if let Some(bad) = names("damaged")?.first() {
        return Err(format!("stored photo {bad} does not hash to its name"));
    }
    let mut found = std::collections::BTreeSet::new();
    for sha in names("intact")? {
        if !found.insert(sha.clone()) {
            return Err(format!("photo {sha} stored twice"));
        }
    }
    Ok(found)
}
