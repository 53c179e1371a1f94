#!/usr/bin/env bash
# Set up Cruxboard and start the app on its embedded default database (a SQLite file,
# ./cruxboard.db or $CRUXBOARD_DB; PostgreSQL when DATABASE_URL is set).
# Address and port: CRUXBOARD_ADDRESS (default 127.0.0.1), CRUXBOARD_PORT (default 8501).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/setup.sh | tail -n 1)
address=${CRUXBOARD_ADDRESS:-127.0.0.1}
port=${CRUXBOARD_PORT:-8501}
if [ -n "${DATABASE_URL:-}" ]; then db="PostgreSQL (DATABASE_URL)"; else db="SQLite file ${CRUXBOARD_DB:-$PWD/cruxboard.db}"; fi
echo "Cruxboard: open http://$address:$port in a browser (database: $db; Ctrl-C stops it)"
exec "$PY" -m streamlit run app.py --server.headless true --browser.gatherUsageStats false \
    --server.address "$address" --server.port "$port"
