#!/usr/bin/env bash
# Real-browser test of the t-SNE and kNN explorers (tests/browser/), one command:
#   tools/browser_test.sh [extra pytest args]
# Installs Debian's chromium (apt) and the playwright Python package (pip) when missing -- never a
# Playwright browser download -- then runs `python -m pytest tests/browser -q`.
# Env: SKELCL_BROWSER_NOTEBOOK (default notebooks/09_inspecting_representations.ipynb),
# SKELCL_SCREENSHOTS (default outputs/browser/), SKELCL_CHROMIUM (default /usr/bin/chromium),
# SKELCL_BROWSER_TIMEOUT (seconds for "Run All Cells", default 1200). See docs/results/browser_test.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
CHROMIUM="${SKELCL_CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
    echo "browser_test: installing Debian's chromium (apt-get)" >&2
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi
if ! "$PYTHON" -c "import playwright" 2>/dev/null; then
    echo "browser_test: installing the playwright package (pip; no browser download)" >&2
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$PYTHON" -m pip install --quiet playwright
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec "$PYTHON" -m pytest tests/browser -q "$@"
