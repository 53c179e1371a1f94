#!/usr/bin/env bash
# Set up and run Cruxboard's whole test suite: venv, Chromium for the browser tests, a
# throwaway PostgreSQL 15 cluster for the store tests, then pytest. Extra arguments go to pytest.
# With CRUXBOARD_REQUIRE_ALL=1 (as .ci/run sets it) a missing Chromium or PostgreSQL stops
# the run here, and a browser or PostgreSQL test that would skip fails (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/setup.sh | tail -n 1)
require_all="${CRUXBOARD_REQUIRE_ALL:-}"
chromium="${CRUXBOARD_CHROMIUM:-/usr/bin/chromium}"

missing() {  # a browser or PostgreSQL test cannot run: a failure under CRUXBOARD_REQUIRE_ALL=1
    if [ "$require_all" = 1 ]; then
        echo "test: $1; CRUXBOARD_REQUIRE_ALL=1 needs every browser and PostgreSQL test to run" >&2
        exit 1
    fi
    echo "test: $1; those tests will be skipped" >&2
}

if [ ! -x "$chromium" ] && [ "$chromium" = /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
    echo "test: installing Debian's chromium for the browser tests" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
        >/dev/null || echo "test: apt-get could not install chromium" >&2
fi
if [ ! -x "$chromium" ]; then
    missing "$chromium is missing (run 'apt-get install chromium' as root)"
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
if [ -z "${TEST_DATABASE_URL:-}" ]; then
    if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
        PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
        pg_dir=$(mktemp -d)
        trap stop_pg EXIT
        [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
        port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if run_pg "$PG_BIN/initdb -D $pg_dir/data -A trust -U postgres >$pg_dir/initdb.log 2>&1 &&
            $PG_BIN/pg_ctl -D $pg_dir/data -o '-p $port -k $pg_dir -c listen_addresses=127.0.0.1' \
            -l $pg_dir/pg.log -w start >/dev/null"; then
            export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
            echo "test: throwaway PostgreSQL on 127.0.0.1:$port" >&2
        else
            cat "$pg_dir/initdb.log" "$pg_dir/pg.log" >&2 2>/dev/null || true
            missing "the throwaway PostgreSQL did not start (its logs are above)"
        fi
    else
        missing "no PostgreSQL: TEST_DATABASE_URL is not set and /usr/lib/postgresql/*/bin is \
missing (run 'apt-get install postgresql' as root)"
    fi
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
