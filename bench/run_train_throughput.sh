#!/usr/bin/env bash
# Training throughput, recarena (C++) vs PyTorch (Python), side by side: THE one command.
#
#   bench/run_train_throughput.sh [--rounds R] [--build-dir DIR] [--threads T] [--device D]
#                                 [--encoders E] [--items N] [--batch B] [--steps S] [--warmup W]
#                                 [--repeats K] [--state-len L] [--hidden D] [--seed S]
#
# Builds recarena_bench_train if needed, then runs the C++ and the Python benchmark alternately,
# R rounds (default 5) of C++ then Python, so that load on a shared machine hits both about
# equally; every run uses the same flags (threads default: nproc). Prints the machine, then the
# table from bench/summarize.py: median sequences/s of each side, and the median over rounds of the
# paired C++/Python ratio. Fails when the two sides' parameter counts or sizes differ.
# --device auto (default) benchmarks the CPU, plus CUDA when both LibTorch (as the C++ binary sees
# it) and Python's torch see a GPU. PYTHON=... picks the interpreter (default: the first of python3,
# /usr/bin/python3 that can import torch). The raw JSON lines are kept in $OUT_JSONL when set.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
ROUNDS=5
REPEATS=1
take_flag() {  # --repeats (default 1 here), and the flags handed to both sides unchanged
  case $1 in
    --repeats) REPEATS=$2 ;;
    --encoders | --items | --batch | --steps | --warmup | --state-len | --hidden | --seed)
      pass+=("$1" "$2") ;;
    *) return 1 ;;
  esac
}
bench_parse_args "${BASH_SOURCE[0]}" take_flag "$@"
bench_find_python run_train_throughput.sh
bench_build recarena_bench_train
bench_resolve_devices
flags=(--threads "$THREADS" --device "$DEVICE" --repeats "$REPEATS" "${pass[@]}")

bench_print_header
bench_run_rounds "$ROOT/bench/train_throughput.py"
