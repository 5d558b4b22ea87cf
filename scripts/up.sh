#!/usr/bin/env bash
# Install, ingest knowledge/, then serve the API and the UI on the embedded defaults. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1
.venv/bin/pka ingest
API_PORT=${PKA_API_PORT:-8000}
UI_PORT=${PKA_UI_PORT:-8501}
.venv/bin/pka serve --port "$API_PORT" &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true' EXIT INT TERM
if [ -f ui/app.py ]; then
  echo "API on http://127.0.0.1:$API_PORT (docs at /docs); UI on http://127.0.0.1:$UI_PORT"
  PKA_API_URL=${PKA_API_URL:-http://127.0.0.1:$API_PORT} .venv/bin/streamlit run ui/app.py \
    --server.address "${PKA_UI_HOST:-127.0.0.1}" --server.port "$UI_PORT" --server.headless true \
    --browser.gatherUsageStats false
else
  wait $api_pid
fi
