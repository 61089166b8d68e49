#!/usr/bin/env bash
# Set up (first time) and run the whole test suite: lint, unit, AppTest and real-browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
# Browser tests and chart exports need Debian's chromium; decks are checked with LibreOffice,
# PDFs read back with poppler's pdftotext/pdftoppm.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v soffice >/dev/null || missing+=(libreoffice-impress)
  command -v pdftotext >/dev/null || missing+=(poppler-utils)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} with apt-get ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" fonts-dejavu-core >/dev/null
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
# pytest exits 5 when nothing was collected: that is a failure of the suite, not a pass.
exit $rc
