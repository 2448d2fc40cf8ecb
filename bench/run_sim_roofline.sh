#!/usr/bin/env bash
# Where the simulator step stands against the machine: THE one command for the roofline columns.
#
#   bench/run_sim_roofline.sh [--threads T] [extra recarena_bench_sim flags]
#
# Builds recarena_bench_sim if needed and runs it with --roofline on the CPU, one thread by
# default (the issue's unit: one core's peak), for the incremental step and for the full recompute,
# at B = 1, 64, 1,024 and 4,096 with the in-memory simulator of bench/sim_throughput.cpp. Prints the
# JSON lines and then bench/roofline_table.py's table. bench/step_cost.h defines the columns.
# On a machine without a GPU, Kineto (the profiler) logs "gpuGetDeviceCount failed with code 35"
# once per run when it starts: it looks for CUDA devices to trace; CPU profiling is unaffected.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
THREADS=1
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
cmake --build "$BUILD" --target recarena_bench_sim >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), commit" \
  "$(git -C "$ROOT" rev-parse --short HEAD)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
common=(--device cpu --threads "$THREADS" --roofline --batch-sizes 1,64,1024,4096
        --steps 2000,300,150,60 "${args[@]}")
"$BUILD/bench/recarena_bench_sim" "${common[@]}" | tee -a "$out"
"$BUILD/bench/recarena_bench_sim" "${common[@]}" --full-recompute | tee -a "$out"
echo
"$ROOT/.venv/bin/python" "$ROOT/bench/roofline_table.py" "$out"
