#!/usr/bin/env bash
# recarena conformal vs TorchCP on the same 100,000 x 10,000 score matrix: THE one command.
#
#   bench/run_conformal_torchcp.sh [--queries N] [--items M] [--alpha A] [--chunk C] [--threads T]
#                                  [--dir SCRATCH] [--kinds thr,aps]
#
# Installs requirements-bench.txt into .venv-bench on first use, builds build/recarena if needed,
# then runs bench/conformal_vs_torchcp.py (its docstring says what is measured), which prints one
# JSON line per score function and a Markdown table with the ratios. The scratch folder (default
# /tmp/recarena-conformal-bench) holds the 4 GB of generated .npy files and is reused by later runs
# with the same size and seed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
PY=$ROOT/.venv/bin/python
[[ -x $PY ]] || { echo "run_conformal_torchcp.sh: run 'make build' first (no .venv)" >&2; exit 2; }
source "$ROOT/bench/bench_peers.sh"
bench_peers_install "$ROOT" "$PY"
cmake --build "$BUILD" --target recarena >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), commit" \
  "$(git -C "$ROOT" rev-parse --short HEAD)"
cd "$ROOT"
PYTHONPATH=$ROOT/.venv-bench OMP_NUM_THREADS=1 exec "$PY" bench/conformal_vs_torchcp.py \
  --recarena "$BUILD/recarena" "$@"
