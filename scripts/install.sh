#!/usr/bin/env bash
# Create the virtual environment and install the project with everything it needs, showing each step and pip's
# progress. Safe to run again: a no-op when up to date (the stamp holds a hash of pyproject.toml and this script).
# PKA_VENV: the virtual environment (default .venv); PYTHON: the interpreter that creates it (default python3);
# PKA_TORCH_SPEC: the torch requirement (default the CPU build below).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${PKA_VENV:-.venv}
stamp=$VENV/.pka-installed
want=$(cat pyproject.toml scripts/install.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install: $VENV is up to date."
  exit 0
fi
started=$SECONDS
if [ ! -x "$VENV/bin/python" ]; then
  echo "install: creating $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip install --disable-pip-version-check)
torch_spec=${PKA_TORCH_SPEC:-torch==2.13.0}
# torch first, pinned to the CPU build: a bare `torch` requirement would pull a multi-GB CUDA build.
echo "install [1/2]: $torch_spec (CPU build; the largest download, a few minutes the first time)"
"${pip[@]}" "$torch_spec"
echo "install [2/2]: the project and its dependencies (pip lists each package as it goes)"
"${pip[@]}" -e ".[dev]"
echo "$want" > "$stamp"
echo "install: done in $((SECONDS - started)) s."
