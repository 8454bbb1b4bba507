#!/usr/bin/env bash
# Size of the FFI library an app ships, per CPU, in the release profile (docs/PERFORMANCE.md,
# "Mobile SDK").
#
#   bash bench/mobile-sizes.sh          (cold: ~15 min on 2 cores, three release builds)
#
# Builds `fieldproof-ffi --release` for this host (x86_64 Linux) and, through tests/cross-arm.sh,
# for aarch64-unknown-linux-gnu and armv7-unknown-linux-gnueabihf: the Linux stand-ins for
# Android's arm64-v8a and armeabi-v7a (same CPUs, same Rust and C code; the NDK's bionic and
# clang instead of glibc and gcc move the figure a little). The Android (`*-linux-android*`) and
# iOS (`*-apple-ios*`) targets need the NDK and Xcode and are not built here: their recipe is
# docs/MOBILE-BUILDS.md.
#
# For each: the .so as cargo leaves it, stripped with `strip --strip-unneeded` (what the Android
# Gradle plugin does when it packages jniLibs), and that stripped file gzip -9'd (about what a
# compressed download costs). The static library (.a, what iOS links) is listed unstripped: the
# app's linker keeps only what is used, so its size says little. Strips copies; the build
# outputs stay as they are. Cross builds use target/cross (as tests/cross-arm.sh does), the
# host build target/release; honours CARGO_TARGET_DIR for the host build.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
host_target="${CARGO_TARGET_DIR:-$repo/target}"
cross_target="$repo/target/cross"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

mib() { awk -v b="$1" 'BEGIN {printf "%.2f MiB", b / 1048576}'; }
rows=()
measure() { # <label> <.so> <.a> <strip tool>
    local label="$1" so="$2" a="$3" strip="$4"
    [[ -f "$so" && -f "$a" ]] || { echo "mobile-sizes: not built: $so" >&2; exit 1; }
    cp "$so" "$tmp/lib.so"
    "$strip" --strip-unneeded "$tmp/lib.so"
    gzip -9 -c "$tmp/lib.so" >"$tmp/lib.so.gz"
    rows+=("| $label | $(mib "$(stat -c %s "$so")") | **$(mib "$(stat -c %s "$tmp/lib.so")")** | $(mib "$(stat -c %s "$tmp/lib.so.gz")") | $(mib "$(stat -c %s "$a")") |")
}

printf '\n==> x86_64-unknown-linux-gnu (host)\n'
cargo build --release -p fieldproof-ffi
measure "x86_64 Linux (host; Android x86_64 emulator's CPU)" \
    "$host_target/release/libfieldproof_ffi.so" "$host_target/release/libfieldproof_ffi.a" strip

for arch in aarch64 armv7; do
    printf '\n==> %s (tests/cross-arm.sh %s build)\n' "$arch" "$arch"
    CARGO_TARGET_DIR="$cross_target" bash tests/cross-arm.sh "$arch" build
done
measure "aarch64 Linux (stand-in for arm64-v8a)" \
    "$cross_target/aarch64-unknown-linux-gnu/release/libfieldproof_ffi.so" \
    "$cross_target/aarch64-unknown-linux-gnu/release/libfieldproof_ffi.a" aarch64-linux-gnu-strip
measure "armv7 Linux, NEON (stand-in for armeabi-v7a)" \
    "$cross_target/armv7-unknown-linux-gnueabihf/release/libfieldproof_ffi.so" \
    "$cross_target/armv7-unknown-linux-gnueabihf/release/libfieldproof_ffi.a" arm-linux-gnueabihf-strip

printf '\nfieldproof-ffi, release profile (%s), %s\n\n' "$(rustc --version | cut -d' ' -f2)" "$(date -u +%F)"
echo "| target | .so | .so stripped | stripped, gzip -9 | .a (unstripped) |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
