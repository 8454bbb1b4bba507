#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The demo's command line: `--help` prints the usage and exits 0 without running the demo; a
//! wrong argument fails with the usage, before anything is started.

use std::process::Command;
use std::time::{Duration, Instant};

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
