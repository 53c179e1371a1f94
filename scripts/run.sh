#!/usr/bin/env bash
# Set up Cruxboard and run its main job: aggregate the shipped example group with the
# command line, writing summary.json, posterior.nc and every figure under out/example/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/setup.sh | tail -n 1)
"$PY" -m model example --out out/example.csv
"$PY" -m model evidence-example --out out/evidence.toml
"$PY" -m model aggregate out/example.csv --evidence out/evidence.toml --out out/example --seed 1
echo "Open out/example/ for summary.json and the figures (PNG, SVG, PDF)."
