#!/usr/bin/env bash
# recarena vs RecBole 1.2.1: offline SASRec and GRU4Rec training on MovieLens-100K, RecBole's
# full-ranking leave-one-out protocol, side by side: THE one command (issue 21).
#
#   bench/run_recbole.sh [--models sasrec,gru4rec] [--epochs N] [--threads T] [--seed S]
#                        [--rounds R] [--data DIR] [--dir SCRATCH]
#                        [--recbole-sizes defaults|recarena] [--recbole-anomaly as-shipped|off]
#
# Prints per model and side: seconds per epoch (median over epochs), peak resident memory (MB) of
# the process, test NDCG@10 / HR@10 of the best-validation epoch, and RecBole s/epoch divided by
# recarena s/epoch; then the protocol differences that remain. bench/recbole_vs_recarena.py's
# docstring says exactly what is measured and how. Defaults: both models, 10 epochs, 2 threads per
# side, seed 42, 1 round, data ../shared/data/ml-100k (or $RECARENA_DATA_DIR/ml-100k), scratch
# /tmp/recarena-recbole-bench (RecBole's atomic file and both sides' run folders; nothing is
# written into the repository), RecBole's own model sizes and RecBole as shipped (its sequential
# models switch autograd's anomaly mode on when imported). --recbole-sizes recarena gives RecBole
# recarena's fixed FFN / GRU widths; --recbole-anomaly off switches anomaly mode off again.
# --epochs 1 is a smoke test; an epoch takes minutes per side on 2 cores.
#
# Needs build/recarena ($BUILD_DIR/recarena) and .venv (make build); builds nothing. Installs
# requirements-bench.txt into .venv-bench on first use (bench/bench_peers.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
PY=$ROOT/.venv/bin/python
for a in "$@"; do
  if [[ $a == -h || $a == --help ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
  fi
done
[[ -x $PY ]] || { echo "run_recbole.sh: run 'make build' first (no .venv)" >&2; exit 2; }
[[ -x $BUILD/recarena ]] ||
  { echo "run_recbole.sh: $BUILD/recarena missing: run 'make build' first" >&2; exit 2; }
# shellcheck source=bench/bench_peers.sh
source "$ROOT/bench/bench_peers.sh"
bench_peers_install "$ROOT" "$PY"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), commit" \
  "$(git -C "$ROOT" rev-parse --short HEAD)"
echo "python torch: $("$PY" -c 'import torch; print(torch.__version__)');" \
  "$("$BUILD/recarena" --version 2>/dev/null | tr '\n' ' ')"
cd "$ROOT"
PYTHONPATH=$ROOT/.venv-bench exec "$PY" bench/recbole_vs_recarena.py \
  --recarena "$BUILD/recarena" "$@"
