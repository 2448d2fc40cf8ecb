#!/usr/bin/env bash
# Simulation side by side: EasyRL4Rec's Coat environment vs recarena's Coat simulator, user-steps/s
# at the same number of users (bench/easyrl4rec_vs_recarena.py; docs/benchmarks.md): THE one command.
#
#   bench/run_easyrl4rec.sh --easyrl4rec DIR [--batch-sizes 1,16,256,1024] [--steps S] [--rounds R]
#
# DIR is a checkout of EasyRL4Rec's public code, run beside the project and never copied into it:
#   git clone https://github.com/chongminggao/EasyRL4Rec DIR
#   git -C DIR checkout 8cecd007d4da610a31647406cf079e5d9143df53
# Its Coat environment imports pandas, numba and logzero, which requirements-bench.txt pins; they are
# installed on first use into .venv-bench (bench/bench_peers.sh), beside the project venv. Builds
# build/recarena and the Python module if needed; fits runs/sim/coat when it is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
PY=${PYTHON:-$ROOT/.venv/bin/python}
cd "$ROOT"
cmake --build "$BUILD" --target recarena _recarena recarena_bench_sim >/dev/null
# shellcheck source=bench/bench_peers.sh
source "$ROOT/bench/bench_peers.sh"
bench_peers_install "$ROOT" "$PY"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
export PYTHONPATH="$ROOT/python:$BUILD/python:$ROOT/.venv-bench${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" bench/easyrl4rec_vs_recarena.py --exe "$BUILD/recarena" \
  --bench-sim "$BUILD/bench/recarena_bench_sim" "$@"
