#!/usr/bin/env bash
# JVM test of the generated Kotlin bindings against the host-built library (no Gradle: kotlinc +
# java directly). Builds fieldproof-ffi and fieldproof-server, generates Kotlin into
# target/bindings/kotlin, compiles it with the SDK's platform-free files (dev/fieldproof/sdk/*.kt)
# and src/*.kt into one jar and runs each test's main:
# VisitFlowTestKt and CustomerFlowTestKt (the core alone), SyncFlowTestKt, RetakeFlowTestKt and SyncProgressTestKt (against the real
# fieldproof-server binary, started on 127.0.0.1:0 with a temporary data folder). Fails if any fails.
#
# Needs: cargo, a JDK (java), kotlinc (on PATH, or $KOTLINC, or the npm package
# `kotlin-compiler` installed globally), JNA (Debian libjna-java, or $JNA_JAR), and
# kotlinx-coroutines-core-jvm for the generated `suspend fun`s (the jar kotlinc ships in its lib/,
# or $COROUTINES_JAR).
# Test photos: tests/data/photo-1920x1080.jpg and photo-4000x3000.jpg in this repository.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
photo="$repo/tests/data/photo-1920x1080.jpg"
fixture="$repo/tests/fixtures/reference.json"

die() {
    echo "run.sh: $*" >&2
    exit 1
}

# --- tools ------------------------------------------------------------------------------------
source "$here/jvm-tools.sh"
[[ -f "$photo" ]] || die "test photo not found: $photo"
[[ -f "$fixture" ]] || die "fixture not found: $fixture"

cd "$repo"

# --- build the library and the server, generate Kotlin -------------------------------------------
# One cargo command for both, without -p: the workspace's default members' libraries (the FFI
# library among them) and the server binary. Cargo resolves dependency features over the
# packages a command selects; selecting the default members, as tests/run-all.sh's steps do,
# makes the library, the server and the tests share one build of the core and of every
# dependency (`-p fieldproof-ffi` then `-p fieldproof-server` compiled the core and ~60
# dependencies once more each). The bindgen then reads the library built here.
echo "== cargo build --lib --bin fieldproof-server"
cargo build --lib --bin fieldproof-server
case "$(uname -s)" in Darwin) ffi_lib=libfieldproof_ffi.dylib ;; *) ffi_lib=libfieldproof_ffi.so ;; esac
gen="$(bash bindings/generate.sh kotlin --lib "$target/debug/$ffi_lib")"
server="$target/debug/fieldproof-server"
[[ -x "$server" ]] || die "server not built: $server"
generated="$gen/dev/fieldproof/core/fieldproof_ffi.kt"
[[ -f "$generated" ]] || die "bindgen wrote no $generated"
# The SDK's platform-free layer (not its android/ subfolder, which needs the Android SDK).
sdk=("$repo"/android/fieldproof/src/main/kotlin/dev/fieldproof/sdk/*.kt)

# --- compile (kotlinc takes ~20 s; skipped when its inputs are unchanged) ---------------------------
out="$target/jvm-test"
mkdir -p "$out"
jar="$out/visit-flow-test.jar"
stamp="$out/inputs.sha256"
inputs="$(cat "$generated" "${sdk[@]}" "$here"/src/*.kt <(echo "$kotlinc $jna $coroutines") | sha256sum | cut -d' ' -f1)"
if [[ -f "$jar" && -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]; then
    echo "== kotlinc: $jar is up to date"
else
    echo "== kotlinc -> $jar"
    rm -f "$jar" "$stamp"
    "$kotlinc" -include-runtime -cp "$jna:$coroutines" -d "$jar" "$generated" "${sdk[@]}" "$here"/src/*.kt
    [[ -f "$jar" ]] || die "kotlinc wrote no jar"
    echo "$inputs" >"$stamp"
fi

# --- run ----------------------------------------------------------------------------------------
status=0
echo "== java VisitFlowTestKt"
java -Djna.library.path="$target/debug" -cp "$jar:$jna:$coroutines" VisitFlowTestKt "$fixture" "$photo" \
    "$repo/tests/data/photo-4000x3000.jpg" || status=1
echo "== java SyncFlowTestKt"
java -Djna.library.path="$target/debug" -cp "$jar:$jna:$coroutines" SyncFlowTestKt "$server" "$fixture" "$photo" || status=1
echo "== java RetakeFlowTestKt"
java -Djna.library.path="$target/debug" -cp "$jar:$jna:$coroutines" RetakeFlowTestKt "$server" "$fixture" "$photo" \
    "$repo/tests/data/photo-4000x3000.jpg" || status=1
echo "== java SyncProgressTestKt"
java -Djna.library.path="$target/debug" -cp "$jar:$jna:$coroutines" SyncProgressTestKt "$server" "$fixture" "$photo" \
    "$repo/tests/data/photo-4000x3000.jpg" || status=1
echo "== java CustomerFlowTestKt (customers offline: stage lock, duplicates, QR check-in)"
java -Djna.library.path="$target/debug" -cp "$jar:$jna:$coroutines" CustomerFlowTestKt "$fixture" "$photo" || status=1
echo "== java KeySealerTestKt (the device key sealed by a javax.crypto AES-GCM sealer)"
java -Djna.library.path="$target/debug" -cp "$jar:$jna:$coroutines" KeySealerTestKt "$fixture" "$photo" || status=1
exit "$status"
