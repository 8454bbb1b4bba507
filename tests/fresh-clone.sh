#!/usr/bin/env bash
# The repository carries everything its tests read: clone the committed HEAD into an empty
# temporary folder (no sibling folders, nothing of this working tree) and run there the Kotlin
# bindings test, the Python bindings tests and the evidence benchmark's quick mode. They must
# find their data (tests/data) inside the clone, and leave the clone's `git status` clean.
#
#   bash tests/fresh-clone.sh
#
# Uncommitted changes of this working tree are not in the clone (it says so when there are some).
#
# Cost: the clone builds into this repository's target directory (or $CARGO_TARGET_DIR), so the
# registry dependencies are reused and only the workspace's own crates are compiled (after the
# earlier steps of tests/run-all.sh have built the same dependencies). They are built with
# CARGO_INCREMENTAL=0, which gives their rlibs and binaries their own artifact names, so the
# clone's artifacts (whose compiled-in paths point into the deleted clone) do not replace this
# tree's. Two kinds of file are shared by name: what cargo copies to target/debug/ (put back by
# the next cargo build here, which every script runs before using them) and fieldproof-ffi's
# cdylib/staticlib, which have no hash in their names: the script touches bindings/src/lib.rs
# here at the end (its mtime only; git sees no change), so the next build relinks this tree's.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$(mkdir -p "${CARGO_TARGET_DIR:-$repo/target}" && cd "${CARGO_TARGET_DIR:-$repo/target}" && pwd)"

die() {
    echo "fresh-clone: $*" >&2
    exit 1
}
step() { printf '\n==> fresh clone: %s\n' "$*"; }

head="$(git -C "$repo" rev-parse HEAD)"
if [[ -n "$(git -C "$repo" status --porcelain)" ]]; then
    echo "fresh-clone: note: this working tree has uncommitted changes; the clone tests HEAD ${head:0:12}" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/fieldproof-fresh-clone.XXXXXX")"
trap 'rm -rf "$work"; touch "$repo/bindings/src/lib.rs"' EXIT
clone="$work/fieldproof"

started=$SECONDS
step "git clone ${head:0:12} into $clone"
git clone -q --no-checkout "$repo" "$clone"
git -C "$clone" checkout -q --detach "$head"
[[ "$(ls -A "$work")" == fieldproof ]] || die "the clone's folder has siblings: $(ls -A "$work")"
[[ -f "$clone/tests/data/photo-1920x1080.jpg" && -f "$clone/tests/data/photo-4000x3000.jpg" ]] ||
    die "the clone has no tests/data photos"

export CARGO_TARGET_DIR="$target" CARGO_INCREMENTAL=0
status=0
run() {
    local t0=$SECONDS
    step "$*"
    if (cd "$clone" && "$@"); then
        echo "fresh clone: $* passed in $((SECONDS - t0)) s"
    else
        echo "fresh clone: $* FAILED" >&2
        status=1
    fi
}
run bash android/jvm-test/run.sh
run bash tests/python/run.sh
run bash bench/evidence.sh --quick

step "git status in the clone"
dirty="$(git -C "$clone" status --porcelain)"
if [[ -n "$dirty" ]]; then
    printf '%s\n' "$dirty" >&2
    echo "fresh clone: the suites left the clone's tree changed (above)" >&2
    status=1
fi
((status == 0)) || die "failed"
echo "fresh clone: all passed in $((SECONDS - started)) s"
