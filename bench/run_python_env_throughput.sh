#!/usr/bin/env bash
# Python-driven vs C++-driven environment throughput on a fitted simulator, side by side: the
# Gymnasium VectorEnv of the recarena Python package (bench/python_env_throughput.py) against a C++
# loop over the same env::VectorEnv (recarena_bench_sim --sim-dir), THE one command.
#
#   bench/run_python_env_throughput.sh [--sim-dir DIR] [--rounds R] [--build-dir DIR] [--threads T]
#                                      [--device D] [--batch-sizes B1,B2,..] [--steps S | S1,..]
#                                      [--warmup W] [--seed S]
#
# Without --sim-dir it fits configs/sim/synthetic-uniform.yaml (the simulator of the numbers in
# docs/benchmarks.md; the quickstart fitted it until 2026-12-07) into a
# temporary folder first. Builds recarena_bench_sim and the Python module if needed, then runs the
# C++ and the Python side alternately, R rounds (default 3), and prints the table of
# bench/summarize.py --kind sim (the "Python" column is the Python-driven loop here): per (device,
# B) the median user-steps/s of each side, the paired C++/Python ratio, and whether both simulated
# the same episodes. Batch sizes default to 1,64,1024 (the issue's), steps to 2000,300,40.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
ROUNDS=3
SIM_DIR=""
sizes=(--batch-sizes 1,64,1024 --steps 2000,300,40)
take_flag() {
  case $1 in
    --sim-dir) SIM_DIR=$2 ;;
    --batch-sizes | --steps) pass+=("$1" "$2"); sizes=() ;;
    --warmup | --seed) pass+=("$1" "$2") ;;
    *) return 1 ;;
  esac
}
bench_parse_args "${BASH_SOURCE[0]}" take_flag "$@"
bench_find_python run_python_env_throughput.sh
cmake --build "$BUILD" --target _recarena recarena >&2
bench_build recarena_bench_sim
bench_resolve_devices
if [[ -z $SIM_DIR ]]; then
  SIM_DIR=$(mktemp -d)/sim
  echo "fitting configs/sim/synthetic-uniform.yaml into $SIM_DIR" >&2
  "$BUILD/recarena" sim fit --config "$ROOT/configs/sim/synthetic-uniform.yaml" --out "$SIM_DIR" \
    run.log_level=warn >/dev/null
fi
export PYTHONPATH="$ROOT/python:$BUILD/python:$ROOT/bench${PYTHONPATH:+:$PYTHONPATH}"
flags=(--threads "$THREADS" --device "$DEVICE" --sim-dir "$SIM_DIR" "${sizes[@]}" "${pass[@]}")
bench_print_header "simulator: $SIM_DIR (test role)"
bench_run_rounds "$ROOT/bench/python_env_throughput.py" --kind sim
