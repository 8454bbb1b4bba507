#!/usr/bin/env bash
# Photo hand-off and capture through the Kotlin bindings on the JVM vs in Rust, release builds
# (docs/PERFORMANCE.md, "Mobile SDK").
#
#   bash bench/ffi-handoff/run.sh [handoff-runs] [capture-runs]     (default 200 and 9; ~3 min warm)
#
# 1. HandoffBench.kt (compiled with kotlinc, run on the JVM against target/release's
#    libfieldproof_ffi.so through JNA): the 4 MB test photo passed as bytes vs as a file path to a
#    capture the core refuses once the arguments have crossed, beside a plain 4 MB ByteArray copy
#    in the JVM (the floor), interleaved; then the full capture of the 1920x1080 and 4000x3000
#    photos through the FFI.
# 2. tests/src/bin/evidence-bench.rs: the same captures in Rust (same fixture, CJK font, 2048 px
#    limit), for the FFI's overhead.
# Prints each as median and p90 in ms. Goal (issue 13): 4 MB as bytes within 5 ms of nothing,
# i.e. `capturePhoto(bytes)` median ≤ 5 ms.
#
# Needs what android/jvm-test/run.sh needs: a JDK, kotlinc (PATH, $KOTLINC or the npm package
# kotlin-compiler), JNA ($JNA_JAR or Debian libjna-java), kotlinx-coroutines-core-jvm
# ($COROUTINES_JAR or kotlinc's lib/). Honours CARGO_TARGET_DIR. Builds fieldproof-ffi and
# evidence-bench in the release profile (the first time: minutes).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
handoff_runs="${1:-200}"
capture_runs="${2:-9}"
fixture="$repo/tests/fixtures/reference.json"
handoff_photo="$repo/tests/data/photo-4000x3000.jpg"
capture_photos=("$repo/tests/data/photo-1920x1080.jpg" "$repo/tests/data/photo-4000x3000.jpg")

die() {
    echo "ffi-handoff: $*" >&2
    exit 1
}

# --- tools (found as for android/jvm-test/run.sh) ------------------------------------------
source "$repo/android/jvm-test/jvm-tools.sh"
for f in "$fixture" "$handoff_photo" "${capture_photos[@]}"; do [[ -f "$f" ]] || die "missing $f"; done

cd "$repo"

# --- release library, Rust benchmark, generated Kotlin ------------------------------------------
echo "== cargo build --release -p fieldproof-ffi --bin evidence-bench" >&2
cargo build -q --release -p fieldproof-ffi
cargo build -q --release -p fieldproof-tests --bin evidence-bench
lib="$target/release/libfieldproof_ffi.so"
[[ -f "$lib" ]] || die "release library not built: $lib"
gen="$(bash bindings/generate.sh kotlin)"
generated="$gen/dev/fieldproof/core/fieldproof_ffi.kt"
[[ -f "$generated" ]] || die "bindgen wrote no $generated"

# --- compile (skipped when its inputs are unchanged) ---------------------------------------------
out="$target/ffi-handoff"
mkdir -p "$out"
jar="$out/handoff-bench.jar"
stamp="$out/inputs.sha256"
inputs="$(cat "$generated" "$here"/*.kt <(echo "$kotlinc $jna $coroutines") | sha256sum | cut -d' ' -f1)"
if [[ -f "$jar" && -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]; then
    echo "== kotlinc: $jar is up to date" >&2
else
    echo "== kotlinc -> $jar" >&2
    rm -f "$jar" "$stamp"
    "$kotlinc" -include-runtime -cp "$jna:$coroutines" -d "$jar" "$generated" "$here"/*.kt 2>&1 |
        grep -v '^warning:' >&2 || true
    [[ -f "$jar" ]] || die "kotlinc wrote no jar"
    echo "$inputs" >"$stamp"
fi

# --- run -----------------------------------------------------------------------------------------
echo "== Kotlin on the JVM (JNA) -> $lib"
java -Djna.library.path="$target/release" -cp "$jar:$jna:$coroutines" HandoffBenchKt \
    "$fixture" "$handoff_photo" "$(IFS=,; echo "${capture_photos[*]}")" "$handoff_runs" "$capture_runs"

echo "== the same captures in Rust (evidence-bench, release)"
for photo in "${capture_photos[@]}"; do
    figures="$("$target/release/evidence-bench" "$photo" "$capture_runs" 2048 2>/dev/null)" ||
        die "evidence-bench failed on $photo"
    awk -v name="capture $(basename "$photo") (Rust)" -v runs="$capture_runs" \
        '/median_s/ {m = $2 * 1000} /p90_s/ {p = $2 * 1000}
         END {printf "%-32s median_ms %8.3f  p90_ms %8.3f  n %d\n", name, m, p, runs}' <<<"$figures"
done
