#!/usr/bin/env bash
# Set up Cruxboard and start the app on its embedded default database (a SQLite file,
# ./cruxboard.db or $CRUXBOARD_DB; PostgreSQL when DATABASE_URL is set).
# Address and port: CRUXBOARD_ADDRESS (default 127.0.0.1), CRUXBOARD_PORT (default 8501).
# Set-up compiles the group model into the on-disk cache when needed; the server then loads it
# in the background as it starts, and this script says when a dashboard can be opened.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/setup.sh | tail -n 1)
address=${CRUXBOARD_ADDRESS:-127.0.0.1}
port=${CRUXBOARD_PORT:-8501}
if [ -n "${DATABASE_URL:-}" ]; then db="PostgreSQL (DATABASE_URL)"; else db="SQLite file ${CRUXBOARD_DB:-$PWD/cruxboard.db}"; fi
echo "Cruxboard: starting on http://$address:$port (database: $db; Ctrl-C stops it)"
"$PY" -m streamlit run app.py --server.headless true --browser.gatherUsageStats false \
    --server.address "$address" --server.port "$port" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true' INT TERM
# Pages work at once; one that needs a fit before the model is ready shows the warm-up's
# progress. Say when it is ready (the app's /api/ready), with progress meanwhile.
"$PY" - "$address" "$port" "$server" <<'PY' || true
import os, sys, time, urllib.error, urllib.request

address, port, server = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = "127.0.0.1" if address in ("0.0.0.0", "::", "") else address
url = f"http://{host}:{port}/api/ready"
start = last = time.monotonic()
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                break
    except urllib.error.HTTPError as e:  # 503 while it warms up: says what it is doing
        status = e.read().decode()
        if time.monotonic() - last >= 10:
            print(f"Cruxboard: preparing the group model: {status}", flush=True)
            last = time.monotonic()
    except OSError:  # not listening yet
        pass
    try:
        os.kill(server, 0)
    except OSError:
        sys.exit(1)  # the server stopped; its messages say why
    time.sleep(0.5)
seconds = time.monotonic() - start
print(f"Cruxboard: ready ({seconds:.0f} s); open http://{address}:{port} in a browser", flush=True)
PY
wait "$server"
