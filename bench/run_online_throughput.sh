#!/usr/bin/env bash
# Online learning-loop throughput (env steps/s of DQN, A2C, PG and the DT agent on ml-latest-small,
# B = 16): THE one command. Optionally side by side with another recarena binary:
#
#   bench/run_online_throughput.sh [--baseline OTHER_RECARENA | --nproc N] [--agents dqn,a2c,pg,dt]
#                                  [--rounds R] [--threads T] [--num-envs B] [--short S] [--long L]
#
# Builds build/recarena if needed, then runs bench/online_throughput.py (its --help says what it
# measures) with the project's Python.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
cd "$ROOT"
cmake --build "$BUILD" --target recarena >/dev/null
PY=${PYTHON:-$ROOT/.venv/bin/python}
exec "$PY" bench/online_throughput.py --exe "$BUILD/recarena" "$@"
