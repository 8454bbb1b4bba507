#!/usr/bin/env bash
# The server suite a second time, on the scaled-out back ends: PostgreSQL for the database and an
# S3-compatible server for the photos. Every test under sync-server/tests/ (and the server's own
# unit tests) and every server-launching test in tests/tests/ (end-to-end sync, fault test,
# replica fault test, retakes, progress, demo, the move to PostgreSQL) runs with
# FIELDPROOF_TEST_POSTGRES and FIELDPROOF_TEST_S3 set; tests/run-all.sh runs them plainly
# (SQLite, photo folder) before.
#
#   bash tests/server-scaled.sh [TESTNAME_FILTER...]     extra arguments go to the test binaries
#
# tests/pg.sh starts a throwaway PostgreSQL (Debian's postgresql 15, initdb in a temporary
# folder, a free loopback port) and tests/s3.sh a throwaway s3s-fs (cargo install s3s-fs
# --version 0.14.1 --features binary) over a temporary folder; each runs the command after `--`
# with the variables set and stops its server afterwards. Each test creates its own database and
# its own key prefix.
#
# Build cost: none after run-all's test step, which runs this same pool with --plain --scaled:
# the builds select the same packages (see tests/test-pool.py), so the test binaries are reused.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if [[ "${1:-}" != --inner ]]; then
    for helper in tests/pg.sh tests/s3.sh; do
        [[ -f "$helper" ]] || { echo "server-scaled: $helper is missing" >&2; exit 1; }
    done
    exec bash tests/pg.sh -- bash tests/s3.sh -- bash tests/server-scaled.sh --inner "$@"
fi
shift

# Both set, or this run would quietly be a second SQLite run.
missing=()
for var in FIELDPROOF_TEST_POSTGRES FIELDPROOF_TEST_S3; do
    [[ -n "${!var:-}" ]] || missing+=("$var")
done
if ((${#missing[@]})); then
    echo "server-scaled: ${missing[*]} not set by tests/pg.sh / tests/s3.sh" >&2
    exit 1
fi
echo "server-scaled: PostgreSQL at ${FIELDPROOF_TEST_POSTGRES%%\?*}, S3 at $FIELDPROOF_TEST_S3 (bucket ${FIELDPROOF_TEST_S3_BUCKET:-?})"

# The server's binaries and tests/tests/ without the two that start no server (crash,
# simulated_photos), several at a time; tests/test-pool.py says how.
exec python3 tests/test-pool.py --scaled "$@"
