#!/usr/bin/env bash
# Fuzz the head-office import's readers (XLSX through zip/calamine, CSV through csv-core) for a
# bounded time.
#
#   bash sync-server/fuzz/run.sh [seconds]        # default 60
#
# Installs cargo-fuzz if missing. Only stable Rust is needed: RUSTC_BOOTSTRAP=1 lets stable
# rustc accept the -Z flags cargo-fuzz passes (sanitizer, coverage), as in core/fuzz/run.sh.
# Exits non-zero on a crash, a leak, a timeout or an allocation past the limits, leaving the
# input in sync-server/fuzz/artifacts/import/.
set -euo pipefail
secs="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi

mkdir -p corpus/import
export RUSTC_BOOTSTRAP=1
# The seeds: a small valid workbook and CSV, and small hostile ones (a far cell, a lying
# <dimension>, a huge uniqueCount) for the mutations to start from. -malloc_limit_mb makes any
# single allocation over 256 MiB a failure: with the default limits an import never needs one.
exec cargo fuzz run import corpus/import seeds -- \
    -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=256 \
    -print_final_stats=1
