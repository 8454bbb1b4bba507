#!/usr/bin/env bash
# Build the native library of the Android SDK and refresh its generated Kotlin.
#
#   bash android/build-native.sh [--abi arm64-v8a|armeabi-v7a|x86_64]...   (default: all three)
#
# 1. cargo-ndk builds fieldproof-ffi (release) for each ABI against API level 24 (the library's
#    minSdk) and copies it into android/fieldproof/src/main/jniLibs/<abi>/libfieldproof_ffi.so.
# 2. The copies there are stripped with the NDK's llvm-strip; the unstripped libraries stay in
#    target/<triple>/release/ for symbolising native crash reports (upload them as the app's
#    native debug symbols).
# 3. bindings/generate.sh kotlin regenerates the Kotlin with the pinned uniffi-bindgen (from the
#    host build of the same crate: the bindings do not depend on the target) and the result is
#    copied to android/fieldproof/src/main/kotlin/dev/fieldproof/core/fieldproof_ffi.kt.
# 4. Prints each ABI's library size.
#
# Needs (it installs nothing; it names everything missing at once):
#   - the Android NDK r26 or newer: $ANDROID_NDK_HOME, $ANDROID_NDK_ROOT, or the newest
#     $ANDROID_HOME/ndk/<version> (also $ANDROID_SDK_ROOT)
#   - cargo-ndk: cargo install cargo-ndk
#   - the Rust targets: rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
#   - cmake (libjpeg-turbo), and nasm for x86_64 (libjpeg-turbo's SIMD; the build fails without it)
# Honours CARGO_TARGET_DIR. See docs/MOBILE-SDK.md.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="$repo/android/fieldproof"
jnilibs="$module/src/main/jniLibs"
kotlin_out="$module/src/main/kotlin/dev/fieldproof/core"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
api_level=24

die() {
    echo "build-native.sh: $*" >&2
    exit 1
}

# ABI name (Android) -> Rust target triple.
triple_of() {
    case "$1" in
    arm64-v8a) echo aarch64-linux-android ;;
    armeabi-v7a) echo armv7-linux-androideabi ;;
    x86_64) echo x86_64-linux-android ;;
    *) return 1 ;;
    esac
}

abis=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --abi)
        [[ $# -ge 2 ]] || die "--abi needs a value (arm64-v8a, armeabi-v7a or x86_64)"
        triple_of "$2" >/dev/null || die "unknown ABI $2 (arm64-v8a, armeabi-v7a or x86_64)"
        abis+=("$2")
        shift 2
        ;;
    -h | --help)
        sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument $1 (try --help)" ;;
    esac
done
[[ ${#abis[@]} -gt 0 ]] || abis=(arm64-v8a armeabi-v7a x86_64)

# ---- prerequisites: report everything missing at once ------------------------------------------
missing=()
ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [[ -z "$ndk" ]]; then
    sdk="${ANDROID_HOME:-${ANDROID_SDK_ROOT:-}}"
    if [[ -n "$sdk" && -d "$sdk/ndk" ]]; then
        # The newest side-by-side NDK (version-sorted folder names such as 27.2.12479018).
        newest="$(ls -1 "$sdk/ndk" | sort -V | tail -n 1)"
        [[ -n "$newest" ]] && ndk="$sdk/ndk/$newest"
    fi
fi
toolchain_file=""
llvm_strip=""
if [[ -z "$ndk" ]]; then
    missing+=("Android NDK: set ANDROID_NDK_HOME to it (r26 or newer), or install it with the SDK manager (sdkmanager 'ndk;<version>') and set ANDROID_HOME")
elif [[ ! -d "$ndk" ]]; then
    missing+=("Android NDK: $ndk does not exist (check ANDROID_NDK_HOME)")
else
    toolchain_file="$ndk/build/cmake/android.toolchain.cmake"
    [[ -f "$toolchain_file" ]] || missing+=("Android NDK at $ndk has no build/cmake/android.toolchain.cmake: not an NDK, or older than r19")
    llvm_strip="$(ls -1 "$ndk"/toolchains/llvm/prebuilt/*/bin/llvm-strip 2>/dev/null | head -n 1 || true)"
    [[ -n "$llvm_strip" ]] || missing+=("Android NDK at $ndk has no toolchains/llvm/prebuilt/<host>/bin/llvm-strip")
fi
command -v cargo >/dev/null || missing+=("cargo: install Rust with rustup")
cargo ndk --version >/dev/null 2>&1 || missing+=("cargo-ndk: cargo install cargo-ndk")
command -v cmake >/dev/null || missing+=("cmake (builds libjpeg-turbo): apt-get install cmake / brew install cmake")
if command -v rustup >/dev/null; then
    installed="$(rustup target list --installed 2>/dev/null || true)"
    for abi in "${abis[@]}"; do
        t="$(triple_of "$abi")"
        grep -qx "$t" <<<"$installed" || missing+=("Rust target $t: rustup target add $t")
    done
fi
for abi in "${abis[@]}"; do
    if [[ "$abi" == x86_64 ]] && ! command -v nasm >/dev/null; then
        missing+=("nasm (libjpeg-turbo's x86_64 SIMD, for the x86_64 ABI): apt-get install nasm / brew install nasm")
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "build-native.sh: cannot build, missing:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi

cd "$repo"
export ANDROID_NDK_HOME="$ndk"

# ---- 1. build per ABI --------------------------------------------------------------------------
# cargo-ndk sets the NDK clang as linker and CC_/AR_<triple> (bundled SQLite); cmake-rs reads a
# toolchain file per target, so libjpeg-turbo is compiled by the same clang at the same API level
# (turbojpeg-sys passes ANDROID_ABI itself).
ndk_args=()
for abi in "${abis[@]}"; do
    t="$(triple_of "$abi")"
    export "CMAKE_TOOLCHAIN_FILE_${t//-/_}=$toolchain_file"
    ndk_args+=(-t "$abi")
done
mkdir -p "$jnilibs"
echo "== cargo ndk ${ndk_args[*]} --platform $api_level build -p fieldproof-ffi --release" >&2
cargo ndk "${ndk_args[@]}" --platform "$api_level" -o "$jnilibs" build -p fieldproof-ffi --release

# ---- 2. strip the packaged copies ---------------------------------------------------------------
for abi in "${abis[@]}"; do
    so="$jnilibs/$abi/libfieldproof_ffi.so"
    [[ -f "$so" ]] || die "cargo-ndk wrote no $so"
    "$llvm_strip" --strip-unneeded "$so"
done

# ---- 3. regenerate the Kotlin bindings ----------------------------------------------------------
gen="$(bash bindings/generate.sh kotlin)"
generated="$gen/dev/fieldproof/core/fieldproof_ffi.kt"
[[ -f "$generated" ]] || die "bindgen wrote no $generated"
mkdir -p "$kotlin_out"
cp "$generated" "$kotlin_out/fieldproof_ffi.kt"
echo "== Kotlin bindings -> ${kotlin_out#"$repo"/}/fieldproof_ffi.kt" >&2

# ---- 4. sizes -----------------------------------------------------------------------------------
echo
printf '%-12s %-26s %14s %14s\n' ABI target "stripped (B)" "unstripped (B)"
for abi in "${abis[@]}"; do
    t="$(triple_of "$abi")"
    stripped="$(wc -c <"$jnilibs/$abi/libfieldproof_ffi.so" | tr -d ' ')"
    full="$target_dir/$t/release/libfieldproof_ffi.so"
    if [[ -f "$full" ]]; then unstripped="$(wc -c <"$full" | tr -d ' ')"; else unstripped="-"; fi
    printf '%-12s %-26s %14s %14s\n' "$abi" "$t" "$stripped" "$unstripped"
done
