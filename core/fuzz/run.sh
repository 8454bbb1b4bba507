#!/usr/bin/env bash
# Fuzz the capture image pipeline (imaging::process and phash_of_jpeg) for a bounded time.
#
#   bash core/fuzz/run.sh [seconds]        # default 60
#
# Installs cargo-fuzz if missing. Only stable Rust is needed: RUSTC_BOOTSTRAP=1 lets stable
# rustc accept the -Z flags cargo-fuzz passes (sanitizer, coverage). Exits non-zero on a crash,
# leaving the input in core/fuzz/artifacts/capture/.
#
# Coverage guidance reaches the Rust code only: libjpeg-turbo is C, built by cmake with the
# system compiler and not instrumented, so inside it the fuzzer mutates blindly (still under
# the same crash and timeout checks).
set -euo pipefail
secs="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi

mkdir -p corpus/capture
export RUSTC_BOOTSTRAP=1
# The seeds are tiny JPEGs of every kind the pipeline handles (baseline, progressive,
# arithmetic, 4:4:4, grey, CMYK, EXIF orientation); -max_len leaves room to grow them.
exec cargo fuzz run capture corpus/capture seeds -- \
    -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
