#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the server's tests: a fresh cluster in a temporary folder,
# listening on a free loopback port only, trusted local connections, no fsync (a test cluster
# lost in a crash is simply made again).
#
#   bash tests/pg.sh -- cargo test -p fieldproof-server
#       starts the cluster, runs the command with FIELDPROOF_TEST_POSTGRES set, stops the cluster
#       and removes its folder (whatever the command's outcome), and exits with the command's code.
#   source tests/pg.sh
#       starts the cluster and exports FIELDPROOF_TEST_POSTGRES in this shell; it is stopped
#       when the shell exits (or by `pg_test_stop`).
#   bash tests/pg.sh
#       starts it, prints `export FIELDPROOF_TEST_POSTGRES=postgres://…`, and leaves it running;
#       stop it with the printed command.
#
# Each test makes its own database in it (the test support does, CREATE DATABASE per server).
# Needs Debian's `postgresql-15` (initdb, pg_ctl in /usr/lib/postgresql/15/bin, or PG_BIN). As
# root the cluster runs as the `postgres` user (PostgreSQL refuses to run as root).

pg_test_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [[ ! -x "$pg_test_bin/initdb" ]]; then
    echo "pg.sh: no $pg_test_bin/initdb: apt-get install postgresql-15 (or set PG_BIN)" >&2
    return 1 2>/dev/null || exit 1
fi

pg_test_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_test_start() {
    pg_test_dir=$(mktemp -d "${TMPDIR:-/tmp}/fieldproof-pg.XXXXXX")
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$pg_test_dir"
    fi
    # A free port: bind port 0 on loopback and read what the kernel gave.
    pg_test_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    pg_test_as_owner "$pg_test_bin/initdb" -D "$pg_test_dir/data" -U fieldproof --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$pg_test_dir/initdb.log" 2>&1 || {
        cat "$pg_test_dir/initdb.log" >&2
        return 1
    }
    # Loopback only, the socket in the cluster's own folder; enough connections for a suite
    # whose tests each run a server with a reader pool (and the admin CLI beside it).
    pg_test_as_owner "$pg_test_bin/pg_ctl" -D "$pg_test_dir/data" -l "$pg_test_dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $pg_test_port -k $pg_test_dir -c max_connections=400 \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB" \
        start >/dev/null || {
        cat "$pg_test_dir/server.log" >&2
        return 1
    }
    export FIELDPROOF_TEST_POSTGRES="postgres://fieldproof@127.0.0.1:$pg_test_port/postgres"
}

pg_test_stop() {
    if [[ -n "${pg_test_dir:-}" && -d "$pg_test_dir" ]]; then
        pg_test_as_owner "$pg_test_bin/pg_ctl" -D "$pg_test_dir/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$pg_test_dir"
    fi
    pg_test_dir=""
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: the cluster lives as long as this shell.
    pg_test_start || return 1
    trap pg_test_stop EXIT
    echo "FIELDPROOF_TEST_POSTGRES=$FIELDPROOF_TEST_POSTGRES (stopped when this shell exits, or by pg_test_stop)"
    return 0
fi

set -euo pipefail
if [[ "${1:-}" == "--" ]]; then
    shift
    pg_test_start
    trap pg_test_stop EXIT
    echo "pg.sh: FIELDPROOF_TEST_POSTGRES=$FIELDPROOF_TEST_POSTGRES" >&2
    status=0
    "$@" || status=$?
    exit "$status"
fi

pg_test_start
echo "export FIELDPROOF_TEST_POSTGRES=$FIELDPROOF_TEST_POSTGRES"
echo "# stop: $( [[ $(id -u) -eq 0 ]] && echo 'runuser -u postgres -- ')$pg_test_bin/pg_ctl -D $pg_test_dir/data stop && rm -rf $pg_test_dir"
