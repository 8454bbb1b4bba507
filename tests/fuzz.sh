#!/usr/bin/env bash
# Run one cargo-fuzz target of one fuzz crate for a bounded time. Every fuzz crate of the
# repository (core/fuzz, ...) is run through this script, from its own run.sh.
#
#   bash tests/fuzz.sh FUZZ_DIR TARGET SECONDS [SEED_DIR...] [-- LIBFUZZER_FLAG...]
#   e.g. bash tests/fuzz.sh core/fuzz capture 60 core/fuzz/seeds -- -max_len=8192
#
# - Needs cargo-fuzz $CARGO_FUZZ_VERSION (below), installed by .ci/run:
#   `cargo install cargo-fuzz --version 0.13.2 --locked`. This script installs nothing.
# - The fuzz crate is its own workspace with its own, committed Cargo.lock. The run uses it as it
#   is (checked with --locked first) and fails if the lock file would change: a stale lock fails
#   here, with how to refresh it, instead of being rewritten silently.
# - Builds into target/fuzz/ at the repository root (one build directory for every fuzz crate,
#   so they share their dependencies' sanitizer builds). The corpus grows in FUZZ_DIR/corpus/TARGET
#   and a crashing input is left in FUZZ_DIR/artifacts/TARGET/ (cargo-fuzz's layout; both are in
#   the fuzz crate's .gitignore). Exits non-zero on a crash, a leak or a timeout.
# - Only stable Rust is needed: RUSTC_BOOTSTRAP=1 lets stable rustc accept the -Z flags
#   cargo-fuzz passes (sanitizer, coverage).
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2

die() {
    echo "fuzz.sh: $*" >&2
    exit 1
}
(($# >= 3)) || die "usage: fuzz.sh FUZZ_DIR TARGET SECONDS [SEED_DIR...] [-- LIBFUZZER_FLAG...]"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
dir="$1" target="$2" secs="$3"
shift 3
seeds=()
while (($#)) && [[ "$1" != -- ]]; do
    [[ -d "$1" ]] || die "no seed folder $1"
    seeds+=("$(cd "$1" && pwd)")
    shift
done
[[ "${1:-}" == -- ]] && shift
[[ -f "$dir/Cargo.toml" && -f "$dir/Cargo.lock" ]] || die "$dir is not a fuzz crate with a committed Cargo.lock"
[[ "$secs" =~ ^[0-9]+$ ]] || die "SECONDS must be a number, not $secs"
dir="$(cd "$dir" && pwd)"

have="$(cargo fuzz --version 2>/dev/null || true)"
[[ -n "$have" ]] ||
    die "cargo-fuzz missing: cargo install cargo-fuzz --version $CARGO_FUZZ_VERSION --locked (.ci/run does)"
[[ "$have" == "cargo-fuzz $CARGO_FUZZ_VERSION" ]] ||
    echo "fuzz.sh: note: $have, CI uses $CARGO_FUZZ_VERSION" >&2

lock="$dir/Cargo.lock"
if ! cargo metadata --locked --format-version 1 --manifest-path "$dir/Cargo.toml" >/dev/null; then
    rel="${dir#"$repo"/}"
    die "$rel/Cargo.lock is out of date with $rel/Cargo.toml (or the crates it uses by path). Refresh it
    from the workspace's lock, so it keeps the same versions, and commit it:
        cp Cargo.lock $rel/Cargo.lock && cargo metadata --format-version 1 --manifest-path $rel/Cargo.toml >/dev/null"
fi
before="$(sha256sum "$lock")"

mkdir -p "$dir/corpus/$target"
status=0
RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir "$dir" --target-dir "$repo/target/fuzz" "$target" \
    "$dir/corpus/$target" "${seeds[@]}" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$@" || status=$?

[[ "$(sha256sum "$lock")" == "$before" ]] || die "the fuzz run changed ${lock#"$repo"/}"
exit "$status"
