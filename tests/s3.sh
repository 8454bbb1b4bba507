#!/usr/bin/env bash
# A throwaway S3-compatible server for the server's tests: the real `s3s-fs` binary
# (`cargo install s3s-fs --version 0.14.1 --features binary`) on a free loopback port, storing
# into a temporary folder, with one bucket and one access key.
#
#   bash tests/s3.sh                 start it, print the `export` lines, leave it running
#                                    (the last line says how to stop it)
#   bash tests/s3.sh -- CMD ARGS...  run CMD with those variables set, then stop the server and
#                                    remove its folder; exits with CMD's status. E.g.
#                                    bash tests/s3.sh -- cargo test -p fieldproof-server
#
# The variables: FIELDPROOF_TEST_S3 (endpoint URL), FIELDPROOF_TEST_S3_BUCKET,
# FIELDPROOF_TEST_S3_KEY, FIELDPROOF_TEST_S3_SECRET, and FIELDPROOF_TEST_S3FS (the binary, for
# the test that stops and restarts a bucket of its own). Test servers each take their own
# prefix in the bucket (sync-server/tests/support/s3_env.rs).
set -euo pipefail

S3FS="${S3S_FS:-$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")}"
if [ ! -x "$S3FS" ]; then
  echo "tests/s3.sh: no s3s-fs binary (install: cargo install s3s-fs --version 0.14.1 --features binary)" >&2
  exit 2
fi

root="$(mktemp -d "${TMPDIR:-/tmp}/fieldproof-s3.XXXXXX")"
bucket=fieldproof-test
key="fp$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
secret="$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$root/data/$bucket"

# A free port: bind port 0, read what the kernel chose, release it.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$S3FS" --host 127.0.0.1 --port "$port" --access-key "$key" --secret-key "$secret" "$root/data" \
  >"$root/s3s-fs.log" 2>&1 &
pid=$!

stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$root"
}

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "tests/s3.sh: s3s-fs exited:" >&2
    cat "$root/s3s-fs.log" >&2
    rm -rf "$root"
    exit 1
  fi
  sleep 0.1
done

exports=(
  "FIELDPROOF_TEST_S3=http://127.0.0.1:$port"
  "FIELDPROOF_TEST_S3_BUCKET=$bucket"
  "FIELDPROOF_TEST_S3_KEY=$key"
  "FIELDPROOF_TEST_S3_SECRET=$secret"
  "FIELDPROOF_TEST_S3FS=$S3FS"
)

if [ "${1:-}" = "--" ]; then
  shift
  trap stop EXIT
  for e in "${exports[@]}"; do export "${e?}"; done
  echo "tests/s3.sh: s3s-fs on 127.0.0.1:$port (bucket $bucket)" >&2
  set +e
  "$@"
  status=$?
  set -e
  exit "$status"
fi

for e in "${exports[@]}"; do echo "export $e"; done
echo "# stop: kill $pid && rm -rf $root"
