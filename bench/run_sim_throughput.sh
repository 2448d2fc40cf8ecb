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

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
ROUNDS=3
THREADS=$(nproc)
DEVICE=auto
pass=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
  esac
  [[ $# -ge 2 ]] || { echo "run_sim_throughput.sh: $1 needs a value" >&2; exit 2; }
  case $1 in
    --rounds) ROUNDS=$2 ;;
    --build-dir) BUILD=$2 ;;
    --threads) THREADS=$2 ;;
    --device) DEVICE=$2 ;;
    --batch-sizes | --steps | --warmup | --items | --state-len | --hidden | --categories | \
      --starts | --max-length | --hazard | --seed)
      pass+=("$1" "$2") ;;
    *) echo "run_sim_throughput.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift 2
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "run_sim_throughput.sh: --rounds must be >= 1, got '$ROUNDS'" >&2; exit 2; }

# --- the interpreter with torch ---
PY=""
for c in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c "import torch" >/dev/null 2>&1; then PY=$c; break; fi
done
[[ -n $PY ]] || { echo "run_sim_throughput.sh: no python3 that can 'import torch' (install python3-torch or set PYTHON)" >&2; exit 2; }

# --- build the C++ side ---
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD" --target recarena_bench_sim >&2
BIN=$BUILD/bench/recarena_bench_sim
PYBENCH=$ROOT/bench/sim_throughput.py

# --- devices: CUDA only when both sides see a GPU ---
if [[ $DEVICE == auto ]]; then
  cpp_devs=$("$BIN" --device auto --list-devices)
  py_cuda=$("$PY" -c "import torch; print(torch.cuda.is_available())")
  DEVICE=cpu
  if [[ $cpp_devs == *cuda* && $py_cuda == True ]]; then
    DEVICE=cpu,cuda
  elif [[ $cpp_devs == *cuda* || $py_cuda == True ]]; then
    echo "note: only one side sees a GPU (C++: $cpp_devs; Python torch.cuda.is_available(): $py_cuda); CUDA skipped" >&2
  fi
fi
flags=(--threads "$THREADS" --device "$DEVICE" "${pass[@]}")

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "python torch: $("$PY" -c 'import torch; print(torch.__version__)'); BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo '?')"
echo "python: $PY; binary: $BIN"
malloc_env=$(env | grep '^MALLOC_' | sort | tr '\n' ' ' || true)
echo "malloc settings (inherited by both): ${malloc_env:-glibc defaults}"
echo "flags (both): ${flags[*]}; rounds: $ROUNDS (C++ then Python each round)"
echo "load average (1/5/15 min) before: $(load)"

raw=${OUT_JSONL:-$(mktemp)}
: >"$raw"
for ((r = 1; r <= ROUNDS; r++)); do
  "$BIN" "${flags[@]}" | awk -v r="$r" '{print r "\t" $0}' >>"$raw"
  "$PY" "$PYBENCH" "${flags[@]}" | awk -v r="$r" '{print r "\t" $0}' >>"$raw"
  echo "round $r/$ROUNDS done, load $(load)" >&2
done
echo "load average (1/5/15 min) after:  $(load)"
echo
"$PY" "$ROOT/bench/summarize.py" --kind sim "$raw"
[[ -n ${OUT_JSONL:-} ]] || rm -f "$raw"
