#!/usr/bin/env bash
# JVM test of the generated Kotlin bindings against the host-built library (no Gradle: kotlinc +
# java directly). Builds fieldproof-ffi, generates Kotlin into target/bindings/kotlin, compiles it
# with src/VisitFlowTest.kt into one jar and runs it.
#
# Needs: cargo, a JDK (java), kotlinc (on PATH, or $KOTLINC, or the npm package
# `kotlin-compiler` installed globally), JNA (Debian libjna-java, or $JNA_JAR).
# Test photo: $FIELDPROOF_TESTDATA (default <repo>/../shared/testdata).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
testdata="${FIELDPROOF_TESTDATA:-$repo/../shared/testdata}"
photo="$testdata/photo-1920x1080.jpg"
fixture="$repo/tests/fixtures/reference.json"

die() {
    echo "run.sh: $*" >&2
    exit 1
}

# --- tools ------------------------------------------------------------------------------------
kotlinc="${KOTLINC:-}"
if [[ -z "$kotlinc" ]]; then
    if command -v kotlinc >/dev/null 2>&1; then
        kotlinc="$(command -v kotlinc)"
    elif command -v npm >/dev/null 2>&1 && [[ -x "$(npm root -g 2>/dev/null)/kotlin-compiler/bin/kotlinc" ]]; then
        kotlinc="$(npm root -g 2>/dev/null)/kotlin-compiler/bin/kotlinc"
    else
        die "kotlinc not found (set KOTLINC, or: npm install -g kotlin-compiler)"
    fi
fi
jna="${JNA_JAR:-/usr/share/java/jna.jar}"
[[ -f "$jna" ]] || die "JNA jar not found at $jna (set JNA_JAR, or: apt-get install libjna-java)"
command -v java >/dev/null 2>&1 || die "java not found"
[[ -f "$photo" ]] || die "test photo not found: $photo (set FIELDPROOF_TESTDATA)"
[[ -f "$fixture" ]] || die "fixture not found: $fixture"

cd "$repo"

# --- build the library and generate Kotlin ------------------------------------------------------
gen="$(bash bindings/generate.sh kotlin)"
generated="$gen/dev/fieldproof/core/fieldproof_ffi.kt"
[[ -f "$generated" ]] || die "bindgen wrote no $generated"

# --- compile (kotlinc takes ~20 s; skipped when its inputs are unchanged) ---------------------------
out="$target/jvm-test"
mkdir -p "$out"
jar="$out/visit-flow-test.jar"
stamp="$out/inputs.sha256"
inputs="$(cat "$generated" "$here/src/VisitFlowTest.kt" <(echo "$kotlinc $jna") | sha256sum | cut -d' ' -f1)"
if [[ -f "$jar" && -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]; then
    echo "== kotlinc: $jar is up to date"
else
    echo "== kotlinc -> $jar"
    rm -f "$jar" "$stamp"
    "$kotlinc" -include-runtime -cp "$jna" -d "$jar" "$generated" "$here/src/VisitFlowTest.kt"
    [[ -f "$jar" ]] || die "kotlinc wrote no jar"
    echo "$inputs" >"$stamp"
fi

# --- run ----------------------------------------------------------------------------------------
echo "== java VisitFlowTestKt"
java -Djna.library.path="$target/debug" -cp "$jar:$jna" VisitFlowTestKt "$fixture" "$photo"
