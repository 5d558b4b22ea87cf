#!/usr/bin/env bash
# Create .venv and install the project with everything it needs. Safe to run again: a no-op when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.pka-installed
want=$(cat pyproject.toml scripts/install.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# torch first, pinned to the CPU build: a bare `torch` requirement would pull a multi-GB CUDA build.
.venv/bin/pip install -q --disable-pip-version-check "${PKA_TORCH_SPEC:-torch==2.13.0}"
.venv/bin/pip install -q --disable-pip-version-check -e ".[dev]"
echo "$want" > "$stamp"
