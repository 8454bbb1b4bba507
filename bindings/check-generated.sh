#!/usr/bin/env bash
# The generated Kotlin and Swift are committed (app developers pick them up with the Gradle
# module and the Swift package, without running the bindgen); this checks that the committed
# copies are what the current fieldproof-ffi generates, so they can never drift from the library.
#
#   bash bindings/check-generated.sh            regenerate into target/bindings/, compare, fail
#                                               listing the stale files with a short diff
#   bash bindings/check-generated.sh --write    regenerate and update the committed copies
#   ... [--only kotlin|swift]                   one language (ios/build-xcframework.sh: Swift from
#                                               the iOS archive, which cannot name Kotlin's library)
#   ... [--release] [--lib PATH]                passed on to generate.sh (default: the debug build
#                                               the Kotlin and Python tests use)
#
# The committed copies:
#   android/fieldproof/src/main/kotlin/dev/fieldproof/core/fieldproof_ffi.kt    the Kotlin
#   ios/Sources/Fieldproof/Generated/Fieldproof.swift                          the Swift
#   ios/Headers/FieldproofFFI.h, ios/Headers/module.modulemap                  the C module the
#       Swift imports; ios/build-xcframework.sh makes this folder every slice's Headers/ of
#       FieldproofFFI.xcframework (SwiftPM takes a binary target's C module from there)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
write=0
only=""
gen_args=()
while (($#)); do
    case "$1" in
        --write) write=1 ;;
        --only)
            [[ $# -ge 2 && ("$2" == kotlin || "$2" == swift) ]] || { echo "check-generated.sh: --only kotlin|swift" >&2; exit 2; }
            only="$2"
            shift
            ;;
        --release) gen_args+=(--release) ;;
        --lib)
            [[ $# -ge 2 ]] || { echo "check-generated.sh: --lib needs a path" >&2; exit 2; }
            # Absolute, since generate.sh runs from the repository.
            lib="$2"
            [[ "$lib" == /* ]] || lib="$PWD/$lib"
            gen_args+=(--lib "$lib")
            shift
            ;;
        *) echo "usage: check-generated.sh [--write] [--only kotlin|swift] [--release] [--lib PATH]" >&2; exit 2 ;;
    esac
    shift
done
cd "$repo"

# generated file → committed copy (paths relative to the repository)
pairs=()
# `${a[@]+"${a[@]}"}`: an empty array under `set -u` in macOS's bash 3.2.
if [[ "$only" != swift ]]; then
    kotlin="$(bash bindings/generate.sh kotlin ${gen_args[@]+"${gen_args[@]}"})"
    pairs+=("$kotlin/dev/fieldproof/core/fieldproof_ffi.kt" android/fieldproof/src/main/kotlin/dev/fieldproof/core/fieldproof_ffi.kt)
fi
if [[ "$only" != kotlin ]]; then
    swift="$(bash bindings/generate.sh swift ${gen_args[@]+"${gen_args[@]}"})"
    pairs+=(
        "$swift/Fieldproof.swift" ios/Sources/Fieldproof/Generated/Fieldproof.swift
        "$swift/FieldproofFFI.h" ios/Headers/FieldproofFFI.h
        "$swift/FieldproofFFI.modulemap" ios/Headers/module.modulemap
    )
fi

stale=()
for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    generated="${pairs[i]}" committed="${pairs[i + 1]}"
    [[ -f "$generated" ]] || { echo "check-generated.sh: the bindgen wrote no $generated" >&2; exit 1; }
    if ! cmp -s "$generated" "$committed"; then
        stale+=("$committed")
        if ((write)); then
            mkdir -p "$(dirname "$committed")"
            cp "$generated" "$committed"
        fi
    fi
done

if ((${#stale[@]} == 0)); then
    echo "check-generated.sh: the committed generated sources match the library (files checked: $((${#pairs[@]} / 2)))"
    exit 0
fi
if ((write)); then
    printf 'check-generated.sh: updated %s\n' "${stale[@]}"
    echo "check-generated.sh: review and commit them"
    exit 0
fi

echo "check-generated.sh: the committed generated sources differ from what fieldproof-ffi generates:" >&2
printf '  %s\n' "${stale[@]}" >&2
for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    generated="${pairs[i]}" committed="${pairs[i + 1]}"
    if ! cmp -s "$generated" "$committed"; then
        echo "--- $committed (first 40 lines of the diff)" >&2
        if [[ -f "$committed" ]]; then
            diff -u "$committed" "$generated" | head -n 40 >&2 || true
        else
            echo "(not committed)" >&2
        fi
    fi
done
echo "check-generated.sh: run \`bash bindings/check-generated.sh --write\` and commit the result" >&2
exit 1
