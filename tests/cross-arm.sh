#!/usr/bin/env bash
# Cross-build the FFI library for ARM Linux and run the core's photo, evidence and visit tests
# under qemu-user. Proves that libjpeg-turbo (cmake, NEON SIMD), bundled SQLite and the crypto
# stack cross-compile and behave the same on the phones' CPUs. See docs/MOBILE-BUILDS.md.
#
#   bash tests/cross-arm.sh aarch64|armv7 [build|test|all] [--dev]   (default: all, release build)
#
#   aarch64  aarch64-unknown-linux-gnu: the CPU of every current phone (Android arm64-v8a, iOS
#            arm64).
#   armv7    armv7-unknown-linux-gnueabihf: 32-bit ARM, the stand-in for Android's armeabi-v7a
#            (old low-end phones). C code is compiled with -mfpu=neon, as the NDK does for
#            armeabi-v7a (NEON is mandatory there), so libjpeg-turbo calls its NEON code directly
#            instead of probing /proc/cpuinfo at run time.
#   build    cargo build -p fieldproof-ffi for the target; checks the .so is built for that CPU
#            and that libjpeg-turbo's NEON SIMD is compiled in and linked.
#   --dev    builds the FFI library in the dev profile instead: the same cross toolchain, the
#            same C libraries (cmake builds libjpeg-turbo with NEON either way) and the same
#            checks, sharing its dependencies with the test build. CI uses it: the release
#            profile's optimised, LTO build of every dependency a second time costs minutes and
#            proves no more about the cross setup. Release sizes: bench/mobile-sizes.sh.
#   test     cargo test -p fieldproof-core (imaging, evidence_photos, evidence_chain, visit_flow)
#            for the target, each test binary run by qemu-aarch64 / qemu-arm.
#
# Uses its own target dir, target/cross (or $CARGO_TARGET_DIR if set), so it does not contend
# with the host build. Installs nothing; it stops and says what is missing. On Debian/Ubuntu:
#   rustup target add aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf
#   apt-get install -y gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross \
#       gcc-arm-linux-gnueabihf g++-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user cmake file
# The tests also read the photos in tests/data (compiled-in paths, read by qemu from the host
# file system) and the CJK font
# /usr/share/fonts/truetype/wqy/wqy-microhei.ttc (fonts-wqy-microhei; without it the CJK tests
# print SKIPPED and pass).
set -euo pipefail

usage() { echo "usage: cross-arm.sh aarch64|armv7 [build|test|all] [--dev]" >&2; exit 2; }

arch="${1:-}"
[[ $# -gt 0 ]] && shift
what=all
profile=release
for arg in "$@"; do
    case "$arg" in
    build | test | all) what="$arg" ;;
    --dev) profile=dev ;;
    *) usage ;;
    esac
done
# Per target: Rust triple, GNU tool prefix, Debian packages, qemu, the dynamic loader in the
# sysroot, what `file` says about the library, and extra C flags.
case "$arch" in
aarch64)
    triple=aarch64-unknown-linux-gnu
    gnu=aarch64-linux-gnu
    debs="gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross"
    qemu=qemu-aarch64
    loader=lib/ld-linux-aarch64.so.1
    file_says='ARM aarch64'
    cflags=""
    ;;
armv7)
    triple=armv7-unknown-linux-gnueabihf
    gnu=arm-linux-gnueabihf
    debs="gcc-arm-linux-gnueabihf g++-arm-linux-gnueabihf libc6-dev-armhf-cross"
    qemu=qemu-arm
    loader=lib/ld-linux-armhf.so.3
    file_says='32-bit LSB .* ARM, EABI5'
    # Debian's armhf gcc defaults to -mfpu=vfpv3-d16 (no NEON): libjpeg-turbo would then build
    # its NEON code but choose it at run time from /proc/cpuinfo. Android's armeabi-v7a always
    # has NEON and the NDK compiles with it, so do the same.
    cflags="-mfpu=neon"
    ;;
*) usage ;;
esac
# cargo's output folder for the profile.
if [[ "$profile" == dev ]]; then out_dir=debug; else out_dir=release; fi
name="cross-arm $arch"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
sysroot="/usr/$gnu"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/cross}"

step() { printf '\n==> %s\n' "$*"; }

# ---- prerequisites: report everything missing at once ------------------------------------
missing=()
rustup target list --installed 2>/dev/null | grep -qx "$triple" ||
    missing+=("Rust target $triple: rustup target add $triple")
for tool in "$gnu-gcc" "$gnu-g++" "$gnu-ar" "$gnu-nm" "$gnu-readelf" cmake file; do
    command -v "$tool" >/dev/null || missing+=("$tool: apt-get install $debs cmake file")
done
if [[ "$what" != build ]]; then
    command -v "$qemu" >/dev/null || missing+=("$qemu: apt-get install qemu-user")
    [[ -e "$sysroot/$loader" ]] ||
        missing+=("$arch glibc in $sysroot: apt-get install $debs")
    [[ -f "$repo/tests/data/photo-1920x1080.jpg" && -f "$repo/tests/data/photo-4000x3000.jpg" ]] ||
        missing+=("the photos in $repo/tests/data")
fi
if ((${#missing[@]})); then
    echo "$name: missing:" >&2
    printf '  - %s\n' "${missing[@]}" | sort -u >&2
    exit 1
fi
if [[ "$what" != build && ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]]; then
    echo "$name: note: no wqy-microhei.ttc, the CJK stamp tests will be SKIPPED (apt-get install fonts-wqy-microhei)" >&2
fi

# ---- cross toolchain ---------------------------------------------------------------------
# Rust: linker and test runner. cc-rs (bundled SQLite; cmake-rs takes its flags from it too):
# CC/CXX/AR/CFLAGS for the target only, so host build scripts still use the host compiler.
env_triple="${triple//-/_}"
upper_triple="${env_triple^^}"
export "CARGO_TARGET_${upper_triple}_LINKER=$gnu-gcc"
export "CARGO_TARGET_${upper_triple}_RUNNER=$qemu -L $sysroot"
export "CC_${env_triple}=$gnu-gcc"
export "CXX_${env_triple}=$gnu-g++"
export "AR_${env_triple}=$gnu-ar"
if [[ -n "$cflags" ]]; then
    export "CFLAGS_${env_triple}=$cflags"
    export "CXXFLAGS_${env_triple}=$cflags"
fi

# cmake-rs (turbojpeg-sys builds libjpeg-turbo with it) reads CMAKE_TOOLCHAIN_FILE_<triple>.
# Without one it would guess CMAKE_SYSTEM_NAME/PROCESSOR itself; the file makes the cross
# setup explicit and keeps cmake from picking up host libraries or headers.
toolchain="$CARGO_TARGET_DIR/$triple.toolchain.cmake"
case "$arch" in aarch64) processor=aarch64 ;; armv7) processor=armv7-a ;; esac
mkdir -p "$CARGO_TARGET_DIR"
cat >"$toolchain.tmp" <<TOOLCHAIN
# Generated by tests/cross-arm.sh
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $processor)
set(CMAKE_C_COMPILER $gnu-gcc)
set(CMAKE_CXX_COMPILER $gnu-g++)
set(CMAKE_ASM_COMPILER $gnu-gcc)
set(CMAKE_AR $(command -v "$gnu-ar") CACHE FILEPATH "")
set(CMAKE_FIND_ROOT_PATH $sysroot)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
TOOLCHAIN
# Rewrite only when changed, so cargo's fingerprint of turbojpeg-sys stays valid.
if cmp -s "$toolchain.tmp" "$toolchain"; then rm "$toolchain.tmp"; else mv "$toolchain.tmp" "$toolchain"; fi
export "CMAKE_TOOLCHAIN_FILE_${env_triple}=$toolchain"

started=$SECONDS

# The core tests run under qemu (part 2).
tests=(--test imaging --test evidence_photos --test evidence_chain --test visit_flow)
# What part 1 builds. With --dev and both parts (CI's `all --dev`), the library is built in the
# same cargo invocation shape as the tests, selecting fieldproof-ffi and fieldproof-core with the
# four test targets: cargo resolves dependency features over the selected packages (and the
# core's dev-dependencies once a test is selected), so `cargo build -p fieldproof-ffi` followed
# by `cargo test -p fieldproof-core` compiled tokio, hyper, reqwest, rustls, serde, the core
# itself and ~40 more crates a second time with other features. Sharing them saves ~45 of the
# ~310 crate builds per target. The library is the same code; the release build (the default,
# and bench/mobile-sizes.sh) stays `-p fieldproof-ffi` alone, as the apps build it.
build_args=(-p fieldproof-ffi)
test_args=(-p fieldproof-core)
if [[ "$what" == all && "$profile" == dev ]]; then
    build_args=(-p fieldproof-ffi -p fieldproof-core --lib "${tests[@]}")
    test_args=(-p fieldproof-ffi -p fieldproof-core)
fi

# ---- 1. build of the FFI library ---------------------------------------------------------
if [[ "$what" != test ]]; then
    step "cargo build ${build_args[*]} --target $triple --profile $profile"
    t0=$SECONDS
    cargo build "${build_args[@]}" --target "$triple" --profile "$profile"
    echo "build: $((SECONDS - t0)) s"

    so="$CARGO_TARGET_DIR/$triple/$out_dir/libfieldproof_ffi.so"
    a="$CARGO_TARGET_DIR/$triple/$out_dir/libfieldproof_ffi.a"
    step "check $so"
    file -L "$so"
    file -L "$so" | grep -q "$file_says" || { echo "$name: $so is not $file_says" >&2; exit 1; }
    ls -l "$so" "$a"
    echo "NEEDED: $("$gnu-readelf" -d "$so" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"

    # The newest turbojpeg-sys build of this profile (cargo keeps old ones around).
    tj_out="$(ls -td "$CARGO_TARGET_DIR/$triple/$out_dir/build"/turbojpeg-sys-*/out 2>/dev/null | head -1)"
    [[ -n "$tj_out" ]] || { echo "$name: no turbojpeg-sys build output" >&2; exit 1; }
    step "libjpeg-turbo SIMD ($tj_out)"
    cache="$tj_out/build/CMakeCache.txt"
    grep -E '^(CMAKE_SYSTEM_PROCESSOR|CMAKE_C_COMPILER|CMAKE_C_FLAGS|WITH_SIMD|REQUIRE_SIMD|NEON_INTRINSICS)[:=]' "$cache" || true
    grep -q '^WITH_SIMD:BOOL=ON' "$cache" || { echo "$name: libjpeg-turbo built without SIMD" >&2; exit 1; }
    if [[ "$arch" == armv7 ]]; then
        # NEON as the baseline: the flag reached cmake, and the 32-bit dispatcher was compiled
        # without its /proc/cpuinfo probe (it has one only when __ARM_NEON__ is not defined).
        grep -q "^CMAKE_C_FLAGS:.*$cflags" "$cache" || { echo "$name: libjpeg-turbo not compiled with $cflags" >&2; exit 1; }
        if grep -aq /proc/cpuinfo "$tj_out/lib/libturbojpeg.a"; then
            echo "$name: libjpeg-turbo probes /proc/cpuinfo for NEON instead of always using it" >&2
            exit 1
        fi
        echo "NEON always on: compiled with $cflags, no /proc/cpuinfo probe"
    fi
    n_lib=$("$gnu-nm" "$tj_out/lib/libturbojpeg.a" 2>/dev/null | grep -c -E ' [Tt] jsimd_.*_neon' || true)
    n_so=$("$gnu-nm" "$so" | grep -c -E ' [Tt] jsimd_.*_neon' || true)
    echo "NEON functions (jsimd_*_neon): $n_lib in libturbojpeg.a, $n_so in libfieldproof_ffi.so, e.g.:"
    "$gnu-nm" "$so" | grep -E ' [Tt] jsimd_.*_neon' | awk '{print "  " $3}' | sort | head -8
    ((n_so > 0)) || { echo "$name: no NEON code in $so" >&2; exit 1; }
fi

# ---- 2. core tests under qemu ------------------------------------------------------------
if [[ "$what" != build ]]; then
    step "cargo test ${test_args[*]} --target $triple --no-run"
    t0=$SECONDS
    cargo test "${test_args[@]}" --target "$triple" "${tests[@]}" --no-run
    echo "test build: $((SECONDS - t0)) s"

    step "cargo test ${test_args[*]} --target $triple (runner: $qemu -L $sysroot)"
    t0=$SECONDS
    cargo test "${test_args[@]}" --target "$triple" "${tests[@]}"
    echo "tests under qemu: $((SECONDS - t0)) s"
fi

printf '\n%s: %s passed in %d s\n' "$name" "$what" "$((SECONDS - started))"
