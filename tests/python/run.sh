#!/usr/bin/env bash
# Python test of the generated bindings: builds fieldproof-ffi, generates fieldproof_ffi.py into
# target/bindings/python, copies libfieldproof_ffi.so next to it (uniffi's Python loads the library
# from its own folder), builds fieldproof-server (test_sync_server.py starts the real binary, path
# in FIELDPROOF_SERVER_BIN) and runs pytest on tests/python. Extra arguments go to pytest.
# test_evidence_vectors.py (the independent verifier of docs/evidence-vectors.json) needs none of
# the builds: `python3 -m pytest tests/python/test_evidence_vectors.py` runs it alone.
#
# Needs: cargo, python3 with pytest, cryptography and c2pa-python (pip install pytest cryptography
# c2pa-python; c2pa-python reads the photos' Content Credentials; the key
# sealer test's AES-GCM stands in for the phone's keystore).
# Test photo: tests/data/photo-1920x1080.jpg in this repository.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"

die() {
    echo "run.sh: $*" >&2
    exit 1
}

command -v "$python" >/dev/null 2>&1 || die "$python not found"
"$python" -m pytest --version >/dev/null 2>&1 || die "pytest missing for $python (pip install pytest)"
[[ -f "$repo/tests/data/photo-1920x1080.jpg" ]] || die "test photo not found: $repo/tests/data/photo-1920x1080.jpg"

cd "$repo"

# The library and the server in one cargo command, without -p (why: android/jvm-test/run.sh).
target="${CARGO_TARGET_DIR:-$repo/target}"
echo "== cargo build --lib --bin fieldproof-server"
cargo build --lib --bin fieldproof-server
case "$(uname -s)" in Darwin) ffi_lib=libfieldproof_ffi.dylib ;; *) ffi_lib=libfieldproof_ffi.so ;; esac
gen="$(bash bindings/generate.sh python --lib "$target/debug/$ffi_lib")"
[[ -f "$gen/fieldproof_ffi.py" ]] || die "bindgen wrote no $gen/fieldproof_ffi.py"
server="$target/debug/fieldproof-server"
[[ -x "$server" ]] || die "server not built: $server"

echo "== pytest tests/python"
export FIELDPROOF_PY_BINDINGS="$gen" FIELDPROOF_SERVER_BIN="$server"
# No .pytest_cache in the working tree.
"$python" -m pytest -q -p no:cacheprovider tests/python "$@"
