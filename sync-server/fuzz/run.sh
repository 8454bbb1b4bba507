#!/usr/bin/env bash
# Fuzz the head-office import's readers (XLSX through zip/calamine, CSV through csv-core) for a
# bounded time.
#
#   bash sync-server/fuzz/run.sh [seconds]        # default 60
#
# Runs through tests/fuzz.sh, which every fuzz crate shares: it needs cargo-fuzz (installed by
# .ci/run, see the README), uses this crate's committed Cargo.lock as it is, builds into
# target/fuzz/ (sharing the sanitizer builds of core/fuzz's dependencies) and exits non-zero on
# a crash, a leak, a timeout or an allocation past the limits, leaving the input in
# sync-server/fuzz/artifacts/import/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The seeds: a small valid workbook and CSV, and small hostile ones (a far cell, a lying
# <dimension>, a huge uniqueCount) for the mutations to start from. -malloc_limit_mb makes any
# single allocation over 256 MiB a failure: with the default limits an import never needs one.
exec bash "$here/../../tests/fuzz.sh" "$here" import "${1:-60}" "$here/seeds" -- \
    -max_len=65536 -timeout=20 -malloc_limit_mb=256
