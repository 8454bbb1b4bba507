#!/usr/bin/env bash
# Every test of the project, as CI runs it: formatting, lints, the Rust tests (unit, property,
# migration, evidence, the server's API/security/web/Excel tests, kill -9 crash test, end-to-end
# sync against the real server binary with a fault-injecting proxy and server kills), the server
# suite (and the replica fault test) a second time on PostgreSQL + S3-compatible storage, that the
# committed generated Kotlin and Swift are current, the generated Kotlin bindings on the JVM, the
# generated Python bindings under pytest, the head-office pages in headless Chromium, the
# Kotlin/Python tests and the evidence benchmark's quick mode again in a fresh clone of HEAD in an
# empty folder, bounded fuzz runs of the photo pipeline and of the import's XLSX/CSV readers,
# aarch64 and armv7 cross-builds with the core's tests under qemu, the demo; and last, that the
# suites left the working tree as they found it (on a clean clone: `git status --porcelain` empty).
#
#   bash tests/run-all.sh          under an hour on 2 cores from a cold build, ~15 min warm (README)
#
# Needs what .ci/run installs (the README lists it): cmake + nasm (libjpeg-turbo), a CJK font
# (fonts-wqy-microhei), a JDK, JNA (Debian libjna-java), kotlinc (npm kotlin-compiler), pytest
# and cryptography (pip), the aarch64 and armv7 cross toolchains (rustup targets,
# gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu, libc6-dev-arm64-cross, gcc-arm-linux-gnueabihf,
# g++-arm-linux-gnueabihf, libc6-dev-armhf-cross, qemu-user, file), chromium + playwright-core
# (npm, tests/browser),
# libjpeg-turbo-progs + imagemagick + time + bc (bench/evidence.sh), cargo-fuzz 0.13.2 (cargo
# install), postgresql (apt) and s3s-fs 0.14.1 (cargo install) for tests/server-scaled.sh.
# Test data: tests/data in this repository; nothing outside the repository is read.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Each step's time, printed as the next one starts and listed at the end (CI's budget is 60 min).
started=$SECONDS
step_name=""
step_started=$SECONDS
timings=()
step_done() {
    [[ -z "$step_name" ]] && return
    timings+=("$(printf '%5d s  %s' "$((SECONDS - step_started))" "$step_name")")
    printf '(%s: %d s)\n' "$step_name" "$((SECONDS - step_started))"
}
step() {
    step_done
    step_name="$*"
    step_started=$SECONDS
    printf '\n==> %s\n' "$*"
}

# The working tree (tracked and untracked files, not ignored ones) as a git tree id, through a
# throw-away index: the last step compares it with the state at the start.
tree_state() {
    local idx
    idx="$(mktemp)"
    rm -f "$idx"
    GIT_INDEX_FILE="$idx" git add -A
    GIT_INDEX_FILE="$idx" git write-tree
    rm -f "$idx"
}
start_tree="$(tree_state)"
if [[ -n "$(git status --porcelain)" ]]; then
    echo "run-all: note: the working tree has uncommitted changes; the last step checks that the suites did not add to them" >&2
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The FFI library built as the JVM and Python scripts build it (the default members' libraries,
# no -p; see android/jvm-test/run.sh), so the test steps reuse the core and its dependencies.
step "the committed generated Kotlin and Swift match fieldproof-ffi (bindings/check-generated.sh; the debug build the Kotlin step uses)"
cargo build --lib
bash bindings/check-generated.sh --lib target/debug/libfieldproof_ffi.so

# Every Rust test binary: the workspace's default members and tests/tests/ on SQLite and a photo
# folder, and the server's suite (sync-server/tests, its unit tests, the server-launching tests of
# tests/tests/ with the replica fault test) again on PostgreSQL + S3-compatible storage, in one
# pool several binaries at a time (tests/test-pool.py: most of them wait on servers, kills and
# proxies rather than compute, so one after another they used a quarter of the cores).
# Its builds keep cargo's package selection at the workspace's default members (no -p;
# uniffi-bindgen, a non-default member with no tests, excluded) and tests/tests/ by `--test NAME`:
# cargo resolves dependency features over the selected packages, so `-p fieldproof-tests` or `-p
# fieldproof-server` here would compile tokio, hyper, reqwest, serde, libjpeg-turbo, the core and
# the server a second time with other features.
step "cargo test: every test binary on SQLite (core, bindings, server, kill -9 crash test, end-to-end sync with faults), and the server suite again on PostgreSQL + S3 (throwaway PostgreSQL 15 and s3s-fs), several binaries at a time"
bash tests/pg.sh -- bash tests/s3.sh -- python3 tests/test-pool.py --plain --scaled

step "Kotlin bindings on the JVM (android/jvm-test)"
bash android/jvm-test/run.sh

step "Python bindings under pytest (tests/python)"
bash tests/python/run.sh

step "head-office pages in headless Chromium (tests/browser; screenshots in tests/browser/artifacts)"
bash tests/browser/run.sh

step "a fresh clone of HEAD in an empty folder: Kotlin, Python, evidence benchmark --quick find their data"
bash tests/fresh-clone.sh

step "fuzz the photo capture pipeline for 60 s (cargo fuzz, libFuzzer + ASan; the committed lock, unchanged)"
bash core/fuzz/run.sh 60

step "fuzz the head-office import's readers (XLSX, CSV) for 30 s (cargo fuzz, libFuzzer + ASan)"
bash sync-server/fuzz/run.sh 30

step "cross-build for 64-bit ARM (the FFI library in the test profile) and run the core's tests under qemu"
bash tests/cross-arm.sh aarch64 all --dev

step "cross-build for 32-bit ARM, NEON (armeabi-v7a's stand-in; test profile) and run the core's tests under qemu"
bash tests/cross-arm.sh armv7 all --dev

step "demo: --help prints its usage (and runs nothing), then the whole demo"
[[ "$(cargo run -q --bin fieldproof-demo -- --help)" == "Usage: fieldproof-demo"* ]]
cargo run -q --bin fieldproof-demo -- --dir "$(mktemp -d)" --no-serve >/dev/null

step "the suites left the working tree as they found it (git status --porcelain)"
end_tree="$(tree_state)"
if [[ "$end_tree" != "$start_tree" ]]; then
    echo "run-all: the suites changed the working tree; commit what belongs in the repository, write" >&2
    echo "generated files under target/ or .gitignore them:" >&2
    git diff --name-status "$start_tree" "$end_tree" >&2
    git status --porcelain >&2
    exit 1
fi
git status --porcelain
echo "clean"

step_done
printf '\nsteps:\n'
printf '%s\n' "${timings[@]}"
printf '\nall suites passed in %d s\n' "$((SECONDS - started))"
