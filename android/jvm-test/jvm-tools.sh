# Sourced (not run) by android/jvm-test/run.sh and bench/ffi-handoff/run.sh: finds what compiles
# and runs the generated Kotlin on the JVM and sets `kotlinc`, `jna` and `coroutines`, or stops
# through the caller's `die`.
#
# kotlinc: $KOTLINC, or on PATH, or the npm package `kotlin-compiler` installed globally.
# JNA: $JNA_JAR or Debian libjna-java. kotlinx-coroutines-core-jvm (uniffi's suspend functions
# are built on it): $COROUTINES_JAR or the jar kotlinc ships in its lib/. And java.
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
[[ -x "$kotlinc" ]] || die "kotlinc not found at $kotlinc (set KOTLINC, or: npm install -g kotlin-compiler)"
jna="${JNA_JAR:-/usr/share/java/jna.jar}"
[[ -f "$jna" ]] || die "JNA jar not found at $jna (set JNA_JAR, or: apt-get install libjna-java)"
coroutines="${COROUTINES_JAR:-$(cd "$(dirname "$(readlink -f "$kotlinc")")/.." && pwd)/lib/kotlinx-coroutines-core-jvm.jar}"
[[ -f "$coroutines" ]] || die "kotlinx-coroutines-core-jvm jar not found at $coroutines (set COROUTINES_JAR)"
command -v java >/dev/null 2>&1 || die "java not found"
