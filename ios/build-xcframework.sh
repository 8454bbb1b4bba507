#!/usr/bin/env bash
# Build FieldproofFFI.xcframework for the Swift package (ios/Package.swift) on a Mac with Xcode:
#
#   bash ios/build-xcframework.sh            → ios/FieldproofFFI.xcframework (+ .zip and checksum)
#
# 1. cargo build --release of fieldproof-ffi (staticlib) for aarch64-apple-ios (devices),
#    aarch64-apple-ios-sim and x86_64-apple-ios (simulators on Apple-silicon and Intel Macs);
# 2. lipo joins the two simulator slices into one library (an XCFramework holds one library per
#    platform, so both simulator architectures must be in one file);
# 3. regenerates the Swift, the C header and the module map with the pinned uniffi-bindgen from
#    the device library (bindings/check-generated.sh --write --only swift: the committed copies are
#    updated, so `git status` shows when the Rust API changed and they were not yet committed);
# 4. xcodebuild -create-xcframework with ios/Headers (FieldproofFFI.h and module.modulemap at the
#    top of each slice's Headers/, where Xcode's explicit module builds look for it);
# 5. zips it for a release (`swift package compute-checksum`) and prints the sizes.
#
# Needs: macOS with Xcode (xcodebuild, lipo, xcrun), rustup with the three targets
# (`rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios`), cmake
# (libjpeg-turbo) and nasm (its x86_64 SIMD code, for the Intel simulator slice only):
# `brew install cmake nasm`. Honours CARGO_TARGET_DIR and IPHONEOS_DEPLOYMENT_TARGET (default
# 15.0, the package's minimum).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
out="$here/FieldproofFFI.xcframework"

die() {
    echo "build-xcframework.sh: $*" >&2
    exit 1
}

# --- tools: say what is missing, before anything is built ----------------------------------------
[[ "$(uname -s)" == Darwin ]] || die "builds iOS libraries, which needs macOS with Xcode (this is $(uname -s)). \
On Linux, bash bindings/check-generated.sh regenerates the Swift sources; the XCFramework needs a Mac."
command -v xcodebuild >/dev/null 2>&1 || die "xcodebuild not found: install Xcode and run \`sudo xcode-select -s /Applications/Xcode.app\`"
xcrun --sdk iphoneos --show-sdk-path >/dev/null 2>&1 || die "no iOS SDK: xcode-select points at the Command Line Tools, not Xcode (\`sudo xcode-select -s /Applications/Xcode.app\`)"
command -v lipo >/dev/null 2>&1 || die "lipo not found (part of Xcode)"
command -v cargo >/dev/null 2>&1 || die "cargo not found (https://rustup.rs)"
command -v cmake >/dev/null 2>&1 || die "cmake not found (brew install cmake): libjpeg-turbo builds with it"
command -v nasm >/dev/null 2>&1 || die "nasm not found (brew install nasm): libjpeg-turbo's x86_64 SIMD, for the Intel simulator slice"
device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
installed="$(rustup target list --installed 2>/dev/null || true)"
for t in "$device" "${simulators[@]}"; do
    grep -qx "$t" <<<"$installed" || die "Rust target $t missing: rustup target add $device ${simulators[*]}"
done

cd "$repo"
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"

# --- 1. the static library per target ----------------------------------------------------------------
for t in "$device" "${simulators[@]}"; do
    echo "== cargo build -p fieldproof-ffi --release --target $t (iOS $IPHONEOS_DEPLOYMENT_TARGET)"
    cargo build -p fieldproof-ffi --release --target "$t"
    [[ -f "$target/$t/release/libfieldproof_ffi.a" ]] || die "cargo wrote no $target/$t/release/libfieldproof_ffi.a"
done

# --- 2. one simulator library with both architectures --------------------------------------------------
sim_dir="$target/ios-simulator/release"
mkdir -p "$sim_dir"
echo "== lipo ${simulators[*]} -> $sim_dir/libfieldproof_ffi.a"
lipo -create "$target/aarch64-apple-ios-sim/release/libfieldproof_ffi.a" \
    "$target/x86_64-apple-ios/release/libfieldproof_ffi.a" \
    -output "$sim_dir/libfieldproof_ffi.a"

# --- 3. the Swift, header and module map from this very library ------------------------------------------
echo "== regenerate the Swift sources (bindings/check-generated.sh --write --only swift)"
bash bindings/check-generated.sh --write --only swift --lib "$target/$device/release/libfieldproof_ffi.a"
[[ -f "$here/Headers/module.modulemap" ]] || die "no ios/Headers/module.modulemap"

# --- 4. the XCFramework ------------------------------------------------------------------------------------
rm -rf "$out"
echo "== xcodebuild -create-xcframework -> $out"
xcodebuild -create-xcframework \
    -library "$target/$device/release/libfieldproof_ffi.a" -headers "$here/Headers" \
    -library "$sim_dir/libfieldproof_ffi.a" -headers "$here/Headers" \
    -output "$out"

# --- 5. the release archive and the sizes --------------------------------------------------------------------
zip_file="$here/FieldproofFFI.xcframework.zip"
rm -f "$zip_file"
(cd "$here" && ditto -c -k --sequesterRsrc --keepParent FieldproofFFI.xcframework FieldproofFFI.xcframework.zip)
echo
echo "sizes (static libraries carry all Rust metadata; an app's linker keeps only what it calls):"
for f in "$target/$device/release/libfieldproof_ffi.a" "$target/aarch64-apple-ios-sim/release/libfieldproof_ffi.a" \
    "$target/x86_64-apple-ios/release/libfieldproof_ffi.a" "$sim_dir/libfieldproof_ffi.a" "$zip_file"; do
    printf '  %8s  %s\n' "$(du -h "$f" | cut -f1)" "${f#"$repo"/}"
done
printf '  %8s  %s\n' "$(du -sh "$out" | cut -f1)" "${out#"$repo"/}"
echo
echo "checksum for a release's .binaryTarget(url:checksum:): $(cd "$here" && swift package compute-checksum FieldproofFFI.xcframework.zip)"
echo "done: open ios/Package.swift in Xcode, or: xcodebuild test -scheme Fieldproof -destination 'platform=iOS Simulator,name=iPhone 15'"
