#!/usr/bin/env bash
# Fuzz the capture image pipeline (imaging::process and phash_of_jpeg) for a bounded time.
#
#   bash core/fuzz/run.sh [seconds]        # default 60
#
# Runs through tests/fuzz.sh, which every fuzz crate shares: it needs cargo-fuzz (installed by
# .ci/run, see the README), uses this crate's committed Cargo.lock as it is (a stale lock fails,
# it is never rewritten), builds into target/fuzz/ and exits non-zero on a crash, leaving the
# input in core/fuzz/artifacts/capture/.
#
# Coverage guidance reaches the Rust code only: libjpeg-turbo is C, built by cmake with the
# system compiler and not instrumented, so inside it the fuzzer mutates blindly (still under
# the same crash and timeout checks).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The seeds are tiny JPEGs of every kind the pipeline handles (baseline, progressive,
# arithmetic, 4:4:4, grey, CMYK, EXIF orientation); -max_len leaves room to grow them.
exec bash "$here/../../tests/fuzz.sh" "$here" capture "${1:-60}" "$here/seeds" -- -max_len=8192
