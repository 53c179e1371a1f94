#!/usr/bin/env bash
# Set up and run Cruxboard's whole test suite: venv, Chromium for the browser tests, a
# throwaway PostgreSQL 15 cluster for the store tests, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/setup.sh | tail -n 1)

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "test: installing Debian's chromium for the browser tests" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "test: /usr/bin/chromium is missing; run 'apt-get install chromium' as root" >&2
    fi
fi

pg_dir=""
stop_pg() {
    if [ -n "$pg_dir" ] && [ -f "$pg_dir/data/postmaster.pid" ]; then
        run_pg "$PG_BIN/pg_ctl -D $pg_dir/data -m fast stop" >/dev/null 2>&1 || true
    fi
    [ -n "$pg_dir" ] && rm -rf "$pg_dir"
}
run_pg() {  # PostgreSQL refuses to run as root: use the postgres user when we are root
    if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else bash -c "$1"; fi
}
if [ -z "${TEST_DATABASE_URL:-}" ] && ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    pg_dir=$(mktemp -d)
    trap stop_pg EXIT
    [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
    port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    run_pg "$PG_BIN/initdb -D $pg_dir/data -A trust -U postgres >$pg_dir/initdb.log 2>&1 &&
        $PG_BIN/pg_ctl -D $pg_dir/data -o '-p $port -k $pg_dir -c listen_addresses=127.0.0.1' \
        -l $pg_dir/pg.log -w start >/dev/null"
    export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "test: throwaway PostgreSQL on 127.0.0.1:$port" >&2
fi

set +e
"$PY" -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
    echo "test: pytest collected no tests; that is a failure" >&2
    exit 1
fi
exit "$rc"
