#!/usr/bin/env bash
# Install, ingest the knowledge folder, then serve the API and the UI; each URL is announced once it answers.
# Ctrl-C stops both. A file that fails to ingest (`pka ingest` exit 1) is reported and the rest is served; any
# other ingest failure, or nothing ingested at all, stops here with nothing served.
# PKA_SKIP_INSTALL=1 skips the install; PKA_VENV picks the virtual environment (default .venv); ports, folders and
# the rest come from the PKA_ settings (environment or .env): PKA_API_PORT, PKA_UI_PORT, PKA_DATA_DIR, ...
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${PKA_VENV:-.venv}
PY=$VENV/bin/python
WAIT_S=${PKA_UP_WAIT_S:-600}
step() { printf '\n==> %s\n' "$*"; }

if [ "${PKA_SKIP_INSTALL:-0}" = 1 ]; then
  step "[1/4] install: skipped (PKA_SKIP_INSTALL=1)"
else
  step "[1/4] install into $VENV (a no-op when up to date)"
  PKA_VENV=$VENV bash scripts/install.sh
fi
export HF_HUB_OFFLINE=1
# the model libraries' own bars ("Loading weights") and advice are noise here; the ingest keeps its progress bar
export HF_HUB_DISABLE_PROGRESS_BARS=${HF_HUB_DISABLE_PROGRESS_BARS:-1} TRANSFORMERS_VERBOSITY=${TRANSFORMERS_VERBOSITY:-error}
read -r HOST API_PORT UI_PORT < <("$PY" scripts/serve_check.py where) || { echo "up: cannot read the settings" >&2; exit 2; }
ports=("$API_PORT")
[ -f ui/app.py ] && ports+=("$UI_PORT")
"$PY" scripts/serve_check.py busy "$HOST" "${ports[@]}" || { echo "up: stop that first, or set PKA_API_PORT / PKA_UI_PORT." >&2; exit 1; }

step "[2/4] ingest (the embedding model loads first; unchanged files are skipped)"
log=$(mktemp)
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -f "$log"
}
trap stop_all EXIT
trap 'exit 130' INT TERM
rc=0
"$PY" -m pka_cli ingest | tee "$log" || rc=${PIPESTATUS[0]}
failed=$(grep -E '^FAILED' "$log" || true)
if [ "$rc" = 1 ]; then
  echo "up: some files could not be ingested (listed above); serving what was."
elif [ "$rc" != 0 ]; then
  echo "up: the ingest failed (exit $rc, see above): nothing is served." >&2
  exit "$rc"
fi

step "[3/4] start the API (port $API_PORT) and wait for /health to answer"
"$PY" -m pka_cli serve --port "$API_PORT" &
pids+=($!)
set +e
chunks=$("$PY" scripts/serve_check.py wait "http://$HOST:$API_PORT/health" --pid "${pids[0]}" --timeout "$WAIT_S" --field chunks)
ok=$?
set -e
if [ "$ok" != 0 ]; then
  echo "up: the API did not answer /health ($([ "$ok" = 3 ] && echo 'it exited' || echo "not within $WAIT_S s"); see above)." >&2
  exit 1
fi
if [ "$rc" = 1 ] && [ "${chunks:-0}" = 0 ]; then
  echo "up: nothing was ingested (every file failed, see above): not serving an empty knowledge base." >&2
  exit 1
fi
echo "API on http://$HOST:$API_PORT (docs at /docs; $chunks chunks)"

if [ -f ui/app.py ]; then
  step "[4/4] start the UI (port $UI_PORT) and wait for it to answer"
  UI_HOST=${PKA_UI_HOST:-127.0.0.1}
  PKA_API_URL=${PKA_API_URL:-http://$HOST:$API_PORT} "$PY" -m streamlit run ui/app.py \
    --server.address "$UI_HOST" --server.port "$UI_PORT" --server.headless true \
    --browser.gatherUsageStats false &
  pids+=($!)
  probe=$UI_HOST
  case "$probe" in 0.0.0.0 | :: | "") probe=127.0.0.1 ;; esac
  if ! "$PY" scripts/serve_check.py wait "http://$probe:$UI_PORT/_stcore/health" --pid "${pids[1]}" --timeout "$WAIT_S"; then
    echo "up: the UI did not answer (see above)." >&2
    exit 1
  fi
  echo "UI on http://$probe:$UI_PORT"
fi
if [ -n "$failed" ]; then
  echo "Not ingested (fix or remove these, then run \`pka ingest\`; the running API picks the change up):"
  echo "$failed" | sed 's/^/  /'
fi
echo "Ready. Ctrl-C stops everything."
set +e
wait -n "${pids[@]}"
rc=$?
echo "up: a server stopped (exit $rc); stopping the rest." >&2
exit "$rc"
