#!/usr/bin/env bash
# Build fieldproof-ffi for this host and generate its bindings with the pinned uniffi-bindgen.
#
#   bash bindings/generate.sh kotlin|swift|python [--release] [--lib PATH]
#                                                  → target/bindings/<language>/ (path printed)
#
#   --release    build and read the release library (target/release) instead of the debug one
#   --lib PATH   generate from this already-built library and build nothing but the bindgen:
#                a host library (.so / .dylib), or for Swift also a static archive for another
#                target (e.g. target/aarch64-apple-ios/release/libfieldproof_ffi.a; the bindgen
#                reads the metadata uniffi put in it, which is the same on every target)
#
# The host library is libfieldproof_ffi.dylib on macOS and libfieldproof_ffi.so on Linux.
# Python gets the library copied next to the generated module (uniffi's Python loads it from
# its own folder). Honours CARGO_TARGET_DIR.
set -euo pipefail

usage="usage: generate.sh kotlin|swift|python [--release] [--lib PATH]"
lang="${1:?$usage}"
shift
case "$lang" in kotlin | swift | python) ;; *) echo "generate.sh: unknown language $lang ($usage)" >&2; exit 2 ;; esac
profile=debug
lib=""
while (($#)); do
    case "$1" in
        --release) profile=release ;;
        --lib)
            [[ $# -ge 2 ]] || { echo "generate.sh: --lib needs a path ($usage)" >&2; exit 2; }
            lib="$2"
            shift
            ;;
        *) echo "generate.sh: unknown argument $1 ($usage)" >&2; exit 2 ;;
    esac
    shift
done

# Relative to where the caller stands, not to the repository.
[[ -z "$lib" || "$lib" == /* ]] || lib="$PWD/$lib"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
cd "$repo"

case "$(uname -s)" in
    Darwin) host_lib=libfieldproof_ffi.dylib ;;
    Linux) host_lib=libfieldproof_ffi.so ;;
    *) echo "generate.sh: unsupported build host $(uname -s) (macOS or Linux); pass --lib PATH" >&2; exit 2 ;;
esac

if [[ -n "$lib" ]]; then
    [[ -f "$lib" ]] || { echo "generate.sh: --lib: no such file: $lib" >&2; exit 1; }
else
    echo "== cargo build -p fieldproof-ffi ($profile)" >&2
    if [[ "$profile" == release ]]; then
        cargo build -p fieldproof-ffi --release >&2
    else
        cargo build -p fieldproof-ffi >&2
    fi
    lib="$target/$profile/$host_lib"
    [[ -f "$lib" ]] || { echo "generate.sh: library not built: $lib" >&2; exit 1; }
fi
# Kotlin and Python load the library by a name the bindgen takes from a shared library's file name
# (an archive gives none, and the code would look for another name): Swift alone links it.
if [[ "$lang" != swift && "$lib" == *.a ]]; then
    echo "generate.sh: $lang needs a host shared library (.so / .dylib) to name, not the archive $lib" >&2
    exit 2
fi

out="$target/bindings/$lang"
echo "== generate $lang from $lib into $out" >&2
rm -rf "$out"
cargo run -q -p uniffi-bindgen -- generate "$lib" --language "$lang" --out-dir "$out" --no-format >&2
if [[ "$lang" == python ]]; then
    cp "$lib" "$out/"
fi
echo "$out"
