#!/usr/bin/env bash
# Set up (first time) and start the dashboard on http://localhost:8501 with the demo company.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py --browser.gatherUsageStats false "$@"
