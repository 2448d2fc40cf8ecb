#!/usr/bin/env bash
# Data-parallel training throughput, 1 process vs N processes, side by side: THE one command.
#
#   bench/run_distributed.sh [--nproc N] [--steps S] [--rounds R] [--config FILE] [--json FILE]
#                            [section.key=value ...]
#
# Builds build/recarena and build/bench/recarena_bench_allreduce if needed, then runs
# bench/distributed_throughput.py (its --help says what it measures) with the project's Python.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
cd "$ROOT"
cmake --build "$BUILD" --target recarena recarena_bench_allreduce >/dev/null
PY=${PYTHON:-$ROOT/.venv/bin/python}
exec "$PY" bench/distributed_throughput.py --exe "$BUILD/recarena" \
  --bench-allreduce "$BUILD/bench/recarena_bench_allreduce" "$@"
