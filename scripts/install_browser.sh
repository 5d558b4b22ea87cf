#!/usr/bin/env bash
# Installs what the real-browser UI test (tests/ui/test_browser.py) needs:
#  - Debian's headless Chromium at /usr/bin/chromium (Playwright's own browser download is not used);
#  - the `playwright` Python package into the project's virtualenv.
# Usage: bash scripts/install_browser.sh   (as root; idempotent)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PKA_PYTHON:-.venv/bin/python}"

if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi

if ! "$PY" -c "import playwright" 2>/dev/null; then
    "$PY" -m pip install "playwright>=1.45"
fi

/usr/bin/chromium --version || true
"$PY" -c "import playwright, importlib.metadata as m; print('playwright', m.version('playwright'))"
