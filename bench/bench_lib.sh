# Shared parts of bench/run_*_throughput.sh (sourced, not run): argument parsing, the Python
# interpreter, building the C++ side, device selection, the header and the alternating rounds.
#
# Sourcing it sets ROOT (the repository), BUILD ($BUILD_DIR or $ROOT/build), THREADS (nproc),
# DEVICE (auto) and pass=() (flags handed to both sides unchanged); the script then sets ROUNDS.
# The functions below fill in PY, BIN and DEVICE and read flags (the flags both sides get).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
THREADS=$(nproc)
DEVICE=auto
pass=()

# bench_parse_args SCRIPT EXTRA_FN ARGS...: -h/--help prints the comment block at the top of
# SCRIPT (line 2 up to 'set -euo') and exits 0. Every other flag takes a value: --rounds,
# --build-dir, --threads and --device set ROUNDS, BUILD, THREADS and DEVICE; any other flag is
# offered as `EXTRA_FN FLAG VALUE`, which returns 0 when it took it. Errors exit 2, naming SCRIPT.
bench_parse_args() {
  local script=$1 extra=$2 name
  name=$(basename "$script")
  shift 2
  while [[ $# -gt 0 ]]; do
    case $1 in
      -h | --help)
        sed -n '2,/^set -euo/p' "$script" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    esac
    [[ $# -ge 2 ]] || { echo "$name: $1 needs a value" >&2; exit 2; }
    case $1 in
      --rounds) ROUNDS=$2 ;;
      --build-dir) BUILD=$2 ;;
      --threads) THREADS=$2 ;;
      --device) DEVICE=$2 ;;
      *) "$extra" "$1" "$2" || { echo "$name: unknown option '$1' (see --help)" >&2; exit 2; } ;;
    esac
    shift 2
  done
  [[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "$name: --rounds must be >= 1, got '$ROUNDS'" >&2; exit 2; }
}

# bench_find_python NAME: PY = the first of $PYTHON, the project virtualenv's python (the same
# torch wheel whose LibTorch the C++ side links), python3 that can import torch; exits 2 (message
# prefixed NAME) when none can.
bench_find_python() {
  PY=""
  local c
  for c in ${PYTHON:-} "$ROOT/.venv/bin/python" python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c "import torch" >/dev/null 2>&1; then PY=$c; break; fi
  done
  [[ -n $PY ]] || { echo "$1: no python3 that can 'import torch' (run scripts/setup.sh or set PYTHON)" >&2; exit 2; }
}

# bench_build TARGET: configures $BUILD (Release, Ninja) when it has no CMakeCache.txt, builds
# TARGET (build log to stderr) and sets BIN to its binary.
bench_build() {
  if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$BUILD" --target "$1" >&2
  BIN=$BUILD/bench/$1
}

# bench_resolve_devices: DEVICE=auto becomes cpu, or cpu,cuda when both $BIN (LibTorch) and $PY
# (Python's torch) see a GPU; a note on stderr when only one does.
bench_resolve_devices() {
  [[ $DEVICE == auto ]] || return 0
  local cpp_devs py_cuda
  cpp_devs=$("$BIN" --device auto --list-devices)
  py_cuda=$("$PY" -c "import torch; print(torch.cuda.is_available())")
  DEVICE=cpu
  if [[ $cpp_devs == *cuda* && $py_cuda == True ]]; then
    DEVICE=cpu,cuda
  elif [[ $cpp_devs == *cuda* || $py_cuda == True ]]; then
    echo "note: only one side sees a GPU (C++: $cpp_devs; Python torch.cuda.is_available(): $py_cuda); CUDA skipped" >&2
  fi
}

bench_load() { cut -d' ' -f1-3 /proc/loadavg; }

# bench_print_header [LINE...]: the machine, Python's torch and BLAS, the interpreter and binary,
# then each LINE, then the flags of both sides and the load average before the rounds.
bench_print_header() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "python torch: $("$PY" -c 'import torch; print(torch.__version__, "BLAS:", torch.backends.mkl.is_available() and "MKL" or "other")')"
  echo "C++ LibTorch: $("$BUILD/recarena" --version 2>/dev/null | sed -n 2p || echo '?')"
  echo "python: $PY; binary: $BIN"
  local line
  for line in "$@"; do echo "$line"; done
  echo "flags (both): ${flags[*]}; rounds: $ROUNDS (C++ then Python each round)"
  echo "load average (1/5/15 min) before: $(bench_load)"
}

# bench_run_rounds PYBENCH SUMMARIZE_ARG...: ROUNDS rounds of $BIN (and, when EXTRA_CPP_FLAG is
# set, $BIN with that flag too) then $PY PYBENCH (and, when EXTRA_PY_FLAG is set, PYBENCH with
# that flag too), all with flags, their JSON lines prefixed "ROUND<TAB>" into $OUT_JSONL (a
# temporary file, removed at the end, when unset); then the load average after and
# bench/summarize.py SUMMARIZE_ARG... on them.
bench_run_rounds() {
  local pybench=$1 raw r
  shift
  raw=${OUT_JSONL:-$(mktemp)}
  : >"$raw"
  for ((r = 1; r <= ROUNDS; r++)); do
    "$BIN" "${flags[@]}" | awk -v r="$r" '{print r "\t" $0}' >>"$raw"
    if [[ -n ${EXTRA_CPP_FLAG:-} ]]; then  # a second C++ run per round with one more flag
      "$BIN" "${flags[@]}" "$EXTRA_CPP_FLAG" | awk -v r="$r" '{print r "\t" $0}' >>"$raw"
    fi
    "$PY" "$pybench" "${flags[@]}" | awk -v r="$r" '{print r "\t" $0}' >>"$raw"
    if [[ -n ${EXTRA_PY_FLAG:-} ]]; then  # a second Python run per round with one more flag
      "$PY" "$pybench" "${flags[@]}" "$EXTRA_PY_FLAG" | awk -v r="$r" '{print r "\t" $0}' >>"$raw"
    fi
    echo "round $r/$ROUNDS done, load $(bench_load)" >&2
  done
  echo "load average (1/5/15 min) after:  $(bench_load)"
  echo
  "$PY" "$ROOT/bench/summarize.py" "$@" "$raw"
  [[ -n ${OUT_JSONL:-} ]] || rm -f "$raw"
}
