#!/usr/bin/env bash
# Environment throughput, recarena VectorEnv (C++) vs the same simulator in PyTorch (Python), side
# by side: THE one command.
#
#   bench/run_sim_throughput.sh [--rounds R] [--build-dir DIR] [--threads T] [--device D]
#                               [--batch-sizes B1,B2,..] [--steps S | S1,S2,..] [--warmup W]
#                               [--items N] [--state-len L] [--hidden D] [--categories C]
#                               [--starts K] [--max-length M] [--hazard H] [--seed S]
#
# Builds recarena_bench_sim if needed, then runs the C++ (bench/sim_throughput.cpp) and the Python
# (bench/sim_throughput.py) benchmark alternately, R rounds (default 3) of C++ then Python, so that
# load on a shared machine hits both about equally; every run uses the same flags (threads default:
# nproc) and measures every batch size. Prints the machine, then the table from
# bench/summarize.py --kind sim: per (device, B) the median user-steps/s of each side, the median
# over rounds of the paired C++/Python ratio, and whether both simulated the same trajectories.
# Fails when the two sides' parameter counts or sizes differ.
# --device auto (default) benchmarks the CPU, plus CUDA when both LibTorch (as the C++ binary sees
# it) and Python's torch see a GPU. PYTHON=... picks the interpreter (default: the first of python3,
# /usr/bin/python3 that can import torch). The raw JSON lines are kept in $OUT_JSONL when set.
# MALLOC_* variables (e.g. MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_) are inherited by both
# sides and printed; docs/benchmarks.md shows why they matter on this machine.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
ROUNDS=3
take_flag() {  # the flags handed to both sides unchanged
  case $1 in
    --batch-sizes | --steps | --warmup | --items | --state-len | --hidden | --categories | \
      --starts | --max-length | --hazard | --seed)
      pass+=("$1" "$2") ;;
    *) return 1 ;;
  esac
}
bench_parse_args "${BASH_SOURCE[0]}" take_flag "$@"
bench_find_python run_sim_throughput.sh
bench_build recarena_bench_sim
bench_resolve_devices
flags=(--threads "$THREADS" --device "$DEVICE" "${pass[@]}")

malloc_env=$(env | grep '^MALLOC_' | sort | tr '\n' ' ' || true)
bench_print_header "malloc settings (inherited by both): ${malloc_env:-glibc defaults}"
# Each round also runs the C++ side with the incremental step off (VectorEnvOptions::incremental)
# and the Python twin with it on (--incremental), so the table separates what the algorithm buys
# (incremental/full, on either side) from what C++ buys (C++ full/Python, the Python twin
# recomputing every history every step as a Python simulator does; and C++/Python incremental).
EXTRA_CPP_FLAG=--full-recompute
EXTRA_PY_FLAG=--incremental
bench_run_rounds "$ROOT/bench/sim_throughput.py" --kind sim
