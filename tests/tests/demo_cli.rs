#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The demo's command line: `--help` prints the usage and exits 0 without running the demo; a
//! wrong argument fails with the usage, before anything is started. And the demo's ending: with
//! `--no-serve` no link that nothing answers; every command it prints runs as printed (the
//! built server binary standing in for `cargo run -p fieldproof-server --`); "serve it again"
//! binds the port of the printed links.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fieldproof_tests::server::server_binary;

const DEMO: &str = env!("CARGO_BIN_EXE_fieldproof-demo");

#[test]
fn help_prints_usage_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    for flag in ["--help", "-h"] {
        let started = Instant::now();
        let out = Command::new(DEMO)
            .args(["--dir", demo_dir.to_str().unwrap(), flag])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{flag}: {:?}", out.status);
        assert!(stdout.starts_with("Usage: fieldproof-demo"), "{flag}: {stdout}");
        assert!(stdout.contains("--no-serve"), "{flag}: {stdout}");
        // The demo itself starts a server and prints its folder; help does neither.
        assert!(
            !stdout.contains("Fieldproof demo"),
            "{flag} ran the demo: {stdout}"
        );
        assert!(!demo_dir.exists(), "{flag} created the demo's folder");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{flag} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn wrong_arguments_fail_with_usage() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let d = demo_dir.to_str().unwrap();
    for (args, says) in [
        (vec!["--bogus"], "unknown argument \"--bogus\""),
        (vec!["--dir", d, "extra"], "unknown argument \"extra\""),
        (vec!["--dir"], "--dir needs a folder"),
        (vec!["--dir", "--no-serve"], "--dir needs a folder"),
        (
            vec!["--dir", d, "--serve", "--no-serve"],
            "--serve and --no-serve together",
        ),
    ] {
        let out = Command::new(DEMO).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(stderr.contains("Usage: fieldproof-demo"), "{args:?}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!demo_dir.exists(), "{args:?} created the demo's folder");
    }
}

/// How the demo's hints name the server; the test runs them with the built binary instead.
const SERVER_CMD: &str = "cargo run -p fieldproof-server -- ";

/// The printed hint commands (what follows `SERVER_CMD`), split into words as a shell would
/// (plain words and single-quoted ones: all the demo prints).
fn hints(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(SERVER_CMD).map(|(_, rest)| shell_words(rest)))
        .collect()
}

fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let (mut word, mut quoted, mut any) = (String::new(), false, false);
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    assert!(!quoted, "unbalanced quote in {s:?}");
    if any {
        words.push(word);
    }
    words
}

/// `cargo run -p fieldproof-server --` runs the one binary of that package, from anywhere in
/// the repository.
fn assert_server_cmd_names_the_server_package() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sync-server/Cargo.toml");
    let text = std::fs::read_to_string(manifest).unwrap();
    assert!(text.contains("\nname = \"fieldproof-server\"\n"), "package name");
    assert_eq!(
        text.matches("[[bin]]").count(),
        1,
        "cargo run needs exactly one binary"
    );
}

/// The status code of a GET on loopback, and the response.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, text)
}

/// The port of the first `http://127.0.0.1:PORT/...` after `marker` on a line containing it.
fn port_after(stdout: &str, marker: &str) -> u16 {
    let line = stdout
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no {marker:?} in {stdout}"));
    let rest = line
        .split("http://127.0.0.1:")
        .nth(1)
        .unwrap_or_else(|| panic!("no link in {line:?}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The port in a printed `serve ... --addr 127.0.0.1:PORT` hint.
fn serve_port(words: &[String]) -> u16 {
    let at = words
        .iter()
        .position(|w| w == "--addr")
        .expect("serve hint without --addr");
    words[at + 1]
        .strip_prefix("127.0.0.1:")
        .expect("loopback")
        .parse()
        .unwrap()
}

/// Run a printed `serve` hint with the built binary; its child, once it says it listens on
/// `port`. The old server's socket may still be closing: retried for a moment.
fn serve_as_printed(words: &[String], port: u16) -> Child {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut child = Command::new(server_binary().unwrap())
            .args(words)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        if first.trim() == format!("listening on http://127.0.0.1:{port}") {
            return child;
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            Instant::now() < deadline,
            "serve hint {words:?} never listened on {port}: {first:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn stop(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "the served-again server exited with {status:?}");
}

/// Run every printed `admin` hint with the built binary: each succeeds and answers something.
fn run_admin_hints(all: &[Vec<String>]) -> usize {
    let mut ran = 0;
    for words in all.iter().filter(|w| w[0] == "admin") {
        let out = Command::new(server_binary().unwrap())
            .args(words)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{words:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        if words.iter().any(|w| w == "exceptions") {
            let open: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert!(
                !open.as_array().unwrap().is_empty(),
                "the demo's open exceptions: {stdout}"
            );
        }
        ran += 1;
    }
    ran
}

#[test]
fn no_serve_prints_no_dead_link_and_every_printed_command_works() {
    assert_server_cmd_names_the_server_package();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(DEMO)
        .args(["--dir", dir.path().to_str().unwrap(), "--no-serve"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ending = &stdout[stdout.find("\nWhere to look:").expect("where to look")..];
    for dead in [
        "/app/login/link",
        "token=",
        "24 h",
        "/healthz",
        "Serving until",
        "later:",
    ] {
        assert!(!ending.contains(dead), "--no-serve printed {dead:?}:\n{ending}");
    }
    assert!(ending.contains("The server has stopped"), "{ending}");
    // No hint relies on a `fieldproof-server` on PATH.
    for line in ending.lines().filter(|l| l.contains("fieldproof-server ")) {
        assert!(
            line.contains(SERVER_CMD),
            "a hint that does not run from the repository: {line}"
        );
    }

    let all = hints(ending);
    assert_eq!(run_admin_hints(&all), 1, "{all:?}");
    let serves: Vec<_> = all.iter().filter(|w| w[0] == "serve").collect();
    assert_eq!(
        serves.len(),
        2,
        "serve it again, and how to see the page: {all:?}"
    );
    assert_eq!(serves[0], serves[1]);
    // The sign-in page it points to is on the port the command binds.
    let port = port_after(ending, "/app/login");
    assert_eq!(serve_port(serves[0]), port);
    let server = serve_as_printed(serves[0], port);
    let (code, page) = get(port, "/app/login");
    assert_eq!(code, 200, "{page}");
    stop(server);
}

/// Ctrl-C for a process group (the demo and its server): sent when dropped, so a failing test
/// leaves no server behind.
struct CtrlC(u32);

impl Drop for CtrlC {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", "--", &format!("-{}", self.0)])
            .status();
    }
}

#[test]
fn serving_demo_links_and_serve_again_share_one_port() {
    let dir = tempfile::tempdir().unwrap();
    // Its own process group, so that one SIGINT reaches the demo and its server, as Ctrl-C would.
    let mut demo = Command::new(DEMO)
        .args(["--dir", dir.path().to_str().unwrap(), "--serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let group = CtrlC(demo.id());
    let lines = BufReader::new(demo.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in lines.lines() {
            let Ok(line) = line else { break };
            text.push_str(&line);
            text.push('\n');
            if line.starts_with("Serving until Ctrl-C") {
                break;
            }
        }
        let _ = tx.send(text);
    });
    let stdout = rx
        .recv_timeout(Duration::from_secs(300))
        .expect("the demo did not start serving within 300 s");
    let ending = stdout[stdout.find("\nWhere to look:").expect("where to look")..].to_string();

    let link_port = port_after(&ending, "/app/login/link?token=");
    let later_port = port_after(&ending, "later:");
    let health_port = port_after(&ending, "/healthz");
    let all = hints(&ending);
    let serves: Vec<_> = all.iter().filter(|w| w[0] == "serve").collect();
    assert_eq!(serves.len(), 1, "{all:?}");
    let again = serve_port(serves[0]);
    assert_eq!(
        (link_port, later_port, health_port),
        (again, again, again),
        "{ending}"
    );

    // The printed link opens the page while the demo serves.
    let link = ending
        .lines()
        .filter(|l| l.contains("/app/login/link?token="))
        .find_map(|l| l.trim().strip_prefix(&format!("http://127.0.0.1:{again}")))
        .expect("the sign-in link");
    let (code, page) = get(again, link);
    assert_eq!(code, 200, "{page}");
    assert_eq!(run_admin_hints(&all), 1, "{all:?}");

    // Ctrl-C, then the printed command serves the same data on the same port.
    drop(group);
    let _ = demo.wait();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", again)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the demo's server did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let server = serve_as_printed(serves[0], again);
    let (code, page) = get(again, "/app/login");
    assert_eq!(code, 200, "{page}");
    stop(server);
}
