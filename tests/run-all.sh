#!/usr/bin/env bash
# Every test of the project, as CI runs it: formatting, lints, the Rust tests (unit, property,
# migration, evidence, the server's API/security/web/Excel tests, kill -9 crash test, end-to-end
# sync against the real server binary with a fault-injecting proxy and server kills), the
# generated Kotlin bindings on the JVM, the generated Python bindings under pytest, the
# head-office pages in headless Chromium, bounded fuzz runs of the photo pipeline and of the
# import's XLSX/CSV readers, an aarch64 cross-build with the core's tests under qemu, and the demo.
#
#   bash tests/run-all.sh
#
# Needs what .ci/run installs: cmake + nasm (libjpeg-turbo), a CJK font (fonts-wqy-microhei), a
# JDK, JNA (Debian libjna-java), kotlinc (npm kotlin-compiler), pytest (pip), the aarch64 cross
# toolchain (rustup target, gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu, qemu-user), chromium +
# playwright-core (npm, tests/browser), and ../shared/testdata beside the repository. cargo-fuzz
# is installed by core/fuzz/run.sh (and sync-server/fuzz/run.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (core, bindings, server)"
cargo test --workspace --exclude fieldproof-tests

step "cargo test (kill -9 crash test, end-to-end sync with faults; they print their counts)"
cargo test -p fieldproof-tests -- --nocapture

step "Kotlin bindings on the JVM (android/jvm-test)"
bash android/jvm-test/run.sh

step "Python bindings under pytest (tests/python)"
bash tests/python/run.sh

step "head-office pages in headless Chromium (tests/browser; screenshots in tests/browser/artifacts)"
bash tests/browser/run.sh

step "fuzz the photo capture pipeline for 60 s (cargo fuzz, libFuzzer + ASan)"
bash core/fuzz/run.sh 60

step "fuzz the head-office import's readers (XLSX, CSV) for 30 s (cargo fuzz, libFuzzer + ASan)"
bash sync-server/fuzz/run.sh 30

step "cross-build for 64-bit ARM and run the core's tests under qemu"
bash tests/cross-aarch64.sh all

step "demo"
cargo run -q --bin fieldproof-demo -- --dir "$(mktemp -d)" --no-serve >/dev/null

printf '\nall suites passed in %d s\n' "$((SECONDS - started))"
