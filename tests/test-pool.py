#!/usr/bin/env python3
"""Run the project's Rust test binaries several at a time, as one pool.

    python3 tests/test-pool.py [--plain] [--scaled] [--jobs N] [-- TEST_ARGS...]

--plain   every test binary of the workspace's default members (core, bindings, server, the
          import readers) and of tests/tests/, on SQLite and a photo folder;
--scaled  the server's test binaries and the server-launching ones of tests/tests/ again, on
          PostgreSQL + S3-compatible storage: needs FIELDPROOF_TEST_POSTGRES and
          FIELDPROOF_TEST_S3* set (tests/pg.sh and tests/s3.sh set them; tests/server-scaled.sh
          wraps this script in both).
Both may be given (run-all does): one pool, so a slow fault test on one back end overlaps the
other back end's suites.

Why a pool: most of these binaries wait rather than compute (servers starting, SIGKILLs and
restarts, a fault proxy's delays, sign-in hashing on a small pool). Run one after another, as
`cargo test` does, they used about a quarter of the two cores CI has; several at once finish in
a fraction of the time with the same tests and the same builds.

The binaries are built first by `cargo test --no-run` with the same package selections as
before (the workspace's default members; tests/tests/ by `--test NAME`), so nothing is compiled
twice. Each binary then runs as `cargo test` would run it: from its package's folder, with
CARGO_MANIFEST_DIR and CARGO set. Its output goes to a log printed whole when it ends (so the
kill -9 and fault tests' counts stay in the CI log); a failure is printed again at the end with
its rerun command. A binary still running after --timeout seconds is killed and fails.

Longest first: each binary's time is kept in target/test-pool-times.json for the next run's
order (first runs use the order in SLOW_FIRST).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMES = REPO / "target" / "test-pool-times.json"

# Cargo's package selections (see tests/run-all.sh: the same features, so the same builds).
WORKSPACE = ["--workspace", "--exclude", "fieldproof-tests", "--exclude", "uniffi-bindgen"]
# tests/tests/ that start no server: not run again on PostgreSQL + S3.
CORE_ONLY = {"crash", "simulated_photos"}
# The server's package: its binaries make the scaled pass (with tests/tests/ minus CORE_ONLY).
SERVER_PACKAGE = "fieldproof-server"
# Order on a machine with no recorded times: the long ones first.
SLOW_FIRST = ["replica_faults", "sync_faults", "crash", "e2e", "web", "web_queue", "sync_progress"]
SCALED_ENV = ("FIELDPROOF_TEST_POSTGRES", "FIELDPROOF_TEST_S3")


def cargo_binaries(selection):
    """(package, target name, kind, executable, package folder) of each test binary."""
    built = subprocess.run(
        ["cargo", "test", *selection, "--no-run", "--message-format=json-render-diagnostics"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    if built.returncode != 0:
        # cargo printed the compiler's errors on stderr, above.
        sys.exit(f"test-pool: building the tests failed: cargo test {' '.join(selection)} --no-run")
    out = built.stdout
    found = []
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg["profile"]["test"]:
            continue
        pkg = msg["package_id"]
        manifest = Path(msg["manifest_path"])
        name = msg["target"]["name"]
        kind = msg["target"]["kind"][0]
        package = package_name(pkg, manifest)
        found.append((package, name, kind, msg["executable"], manifest.parent))
    return found


def package_name(package_id, manifest):
    # "path+file:///…/sync-server#fieldproof-server@0.1.0" (cargo ≥ 1.77); older: "name 0.1.0 (…)".
    if "#" in package_id:
        tail = package_id.rsplit("#", 1)[1]
        return tail.split("@", 1)[0] if "@" in tail else manifest.parent.name
    return package_id.split(" ", 1)[0]


class Job:
    def __init__(self, package, name, kind, exe, folder, backend, args):
        self.package, self.name, self.kind, self.exe, self.folder = package, name, kind, exe, folder
        self.backend, self.args = backend, args
        self.key = f"{backend}:{package}:{kind}:{name}"
        self.status, self.seconds, self.log = None, 0.0, ""

    def label(self):
        what = {"lib": "unit tests", "bin": f"{self.name} (its unit tests)"}.get(self.kind, self.name)
        where = "PostgreSQL + S3" if self.backend == "scaled" else "SQLite"
        return f"{self.package} {what} [{where}]"

    def rerun(self):
        env = ""
        if self.backend == "scaled":
            env = "bash tests/pg.sh -- bash tests/s3.sh -- "
        sel = {"lib": "--lib", "bin": f"--bin {self.name}"}.get(self.kind, f"--test {self.name}")
        if self.package == "fieldproof-tests":
            return f"{env}cargo test --test {self.name} -- --nocapture"
        return f"{env}cargo test {' '.join(WORKSPACE)} {sel}"


def run(job, timeout, env_plain, env_scaled, lock, done):
    env = env_scaled if job.backend == "scaled" else env_plain
    env = dict(env, CARGO_MANIFEST_DIR=str(job.folder), CARGO_PKG_NAME=job.package)
    started = time.monotonic()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen(
            [job.exe, *job.args],
            cwd=job.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The whole group: the servers and phones a test started go too.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = f"killed after {timeout} s"
        log.seek(0)
        job.log = log.read()
    job.seconds = time.monotonic() - started
    job.status = "ok" if code == 0 else f"FAILED ({code})"
    with lock:
        print(f"\n--- {job.status}  {job.seconds:6.1f} s  {job.label()}", flush=True)
        print(job.log.rstrip(), flush=True)
        done.append(job)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--scaled", action="store_true")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("FIELDPROOF_TEST_JOBS", "4")))
    ap.add_argument("--timeout", type=int, default=1200)
    ap.add_argument("test_args", nargs="*", help="passed to every test binary (a name filter, …)")
    a = ap.parse_args()
    if not (a.plain or a.scaled):
        ap.error("say --plain, --scaled or both")
    if a.scaled:
        missing = [v for v in SCALED_ENV if not os.environ.get(v)]
        if missing:
            sys.exit(f"test-pool: {', '.join(missing)} not set (run under tests/pg.sh and tests/s3.sh)")

    tests_tests = sorted(p.stem for p in (REPO / "tests" / "tests").glob("*.rs"))
    print("test-pool: building the test binaries (cargo test --no-run)", flush=True)
    workspace = cargo_binaries(WORKSPACE)
    if a.plain:
        # Documentation examples have no binary of their own: cargo runs them (none today, so
        # this costs a second; a new one is not skipped).
        subprocess.run(["cargo", "test", *WORKSPACE, "--doc", "-q"], cwd=REPO, check=True)
    e2e = cargo_binaries([arg for t in tests_tests for arg in ("--test", t)])

    jobs = []
    for package, name, kind, exe, folder in workspace:
        if a.plain:
            jobs.append(Job(package, name, kind, exe, folder, "plain", a.test_args))
        if a.scaled and package == SERVER_PACKAGE:
            jobs.append(Job(package, name, kind, exe, folder, "scaled", a.test_args))
    for package, name, kind, exe, folder in e2e:
        # --nocapture: the crash and fault tests print their counts.
        args = ["--nocapture", *a.test_args]
        if a.plain:
            jobs.append(Job(package, name, kind, exe, folder, "plain", args))
        if a.scaled and name not in CORE_ONLY:
            jobs.append(Job(package, name, kind, exe, folder, "scaled", args))

    try:
        known = json.loads(TIMES.read_text())
    except (OSError, ValueError):
        known = {}

    def expected(job):
        if job.key in known:
            return known[job.key]
        return 1000 - SLOW_FIRST.index(job.name) if job.name in SLOW_FIRST else 0

    jobs.sort(key=expected, reverse=True)

    env_plain = {k: v for k, v in os.environ.items() if not k.startswith("FIELDPROOF_TEST_")}
    env_plain["CARGO"] = os.environ.get("CARGO", "cargo")
    env_scaled = dict(os.environ, CARGO=env_plain["CARGO"])
    print(f"test-pool: {len(jobs)} test binaries, {a.jobs} at a time", flush=True)

    lock, done, queue = threading.Lock(), [], list(jobs)
    started = time.monotonic()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop(0)
            run(job, a.timeout, env_plain, env_scaled, lock, done)

    threads = [threading.Thread(target=worker) for _ in range(max(1, a.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started

    # Only a full run's times steer the next order (a filtered run's are not the binaries' own).
    if not a.test_args:
        known.update({j.key: round(j.seconds, 1) for j in done})
        TIMES.parent.mkdir(exist_ok=True)
        TIMES.write_text(json.dumps(known, indent=1, sort_keys=True))

    print("\ntest-pool: each binary (seconds):")
    for j in sorted(done, key=lambda j: -j.seconds):
        print(f"  {j.seconds:6.1f}  {j.status:<4}  {j.label()}")
    total = sum(j.seconds for j in done)
    print(f"test-pool: {len(done)} binaries, {total:.0f} s one after another, {wall:.0f} s in the pool")
    failed = [j for j in done if j.status != "ok"]
    if failed:
        print(f"\ntest-pool: {len(failed)} failed:", file=sys.stderr)
        for j in failed:
            print(f"  {j.label()}: {j.status}\n    rerun: {j.rerun()}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
