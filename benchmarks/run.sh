#!/usr/bin/env bash
# One command: build the large demo once (benchmarks/out/large.duckdb), measure every page,
# report and the 100,000-row import, print the table, write benchmarks/out/results.json.
# Extra arguments go to the benchmark, e.g. `bash benchmarks/run.sh --reps 5 --skip-openpyxl`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
exec "$PY" -m benchmarks.bench_pages "$@"
