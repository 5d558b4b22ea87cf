#!/usr/bin/env bash
# Install what the tests need, then run ruff, import-linter, mypy and the whole suite (every tier). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ -f scripts/install_browser.sh ]; then
  bash scripts/install_browser.sh || echo "warning: the browser could not be installed; browser tests will skip"
fi
if [ -f scripts/install_llm.sh ]; then
  # llama.cpp's server for the real-model test: built once into ~/.cache/pka-wheels, installed from there after
  bash scripts/install_llm.sh || echo "warning: llama-cpp-python could not be installed; the real-model test will skip"
fi
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/lint-imports  # the layering contracts in pyproject.toml
.venv/bin/mypy  # strict on core/ and testing/, normal on the other packages (pyproject.toml [tool.mypy])
# Every tier: -m "" replaces addopts' fast-tier filter; a later -m in "$@" narrows it again.
.venv/bin/python -m pytest -m "" "$@"
