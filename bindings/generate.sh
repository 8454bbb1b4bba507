#!/usr/bin/env bash
# Build fieldproof-ffi for this host and generate its bindings with the pinned uniffi-bindgen.
#
#   bash bindings/generate.sh kotlin|swift|python   → target/bindings/<language>/
#
# Python gets the library copied next to the generated module (uniffi's Python loads it from
# its own folder). Honours CARGO_TARGET_DIR.
set -euo pipefail

lang="${1:?usage: generate.sh kotlin|swift|python}"
case "$lang" in kotlin | swift | python) ;; *) echo "generate.sh: unknown language $lang" >&2; exit 2 ;; esac
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
cd "$repo"

echo "== cargo build -p fieldproof-ffi" >&2
cargo build -p fieldproof-ffi >&2
lib="$target/debug/libfieldproof_ffi.so"
[[ -f "$lib" ]] || { echo "generate.sh: library not built: $lib" >&2; exit 1; }

out="$target/bindings/$lang"
echo "== generate $lang into $out" >&2
rm -rf "$out"
cargo run -q -p uniffi-bindgen -- generate "$lib" --language "$lang" --out-dir "$out" --no-format >&2
if [[ "$lang" == python ]]; then
    cp "$lib" "$out/"
fi
echo "$out"
