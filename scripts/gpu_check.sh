#!/usr/bin/env bash
# The prepared GPU check: on a machine with an NVIDIA GPU, CUDA PyTorch 2.x installed for `python3`
# (or $PYTHON) and no network, it
#   1. configures recarena against that PyTorch's LibTorch (Release) and builds it with all cores,
#   2. prints `recarena info` (LibTorch version, CUDA compiled in, the GPUs),
#   3. runs every CUDA-tagged test ([cuda]: CUDA-vs-CPU equality of the simulator, exploration,
#      one update of each agent family, conformal scores; host-sync budgets on the device),
#   4. runs the simulator benchmark on the GPU up to B = 65,536 users and the training benchmark
#      (C++ vs the PyTorch twin, same kernels),
# and writes logs and JSON results into OUT_DIR (the first argument). Planned to finish in under
# 9 minutes on 16 cores; each stage has its own time limit so one slow stage cannot eat the rest.
#
# Build dependencies (yaml-cpp, fmt, Boost, Catch2, nlohmann-json, SQLite) are taken from the
# machine when CMake finds them, else from the .deb files in .gpu-deps/ (made by
# scripts/gpu_deps.sh on a development machine and carried along), unpacked into a private prefix.
#
# Usage: scripts/gpu_check.sh OUT_DIR
#   env: PYTHON, JOBS, BUILD_DIR; GPU_CHECK_QUICK=1 (two batch sizes in the simulator benchmark);
#   GPU_CHECK_TARGETS="recarena_tests_env ..." (build only these, run only their [cuda] tests, no
#   benchmarks: a quick re-check after a fix). A test binary that dies of a signal is rerun under
#   gdb, when the machine has it, and its backtrace lands in tests.txt.
# Output files: gpu_check.log (everything), info.txt, tests.txt, sim.jsonl, train.jsonl,
# summary.json. Exit status: 0 when every stage passed, 1 otherwise (summary.json says which).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: scripts/gpu_check.sh OUT_DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/gpu_check.log
exec > >(tee -a "$LOG") 2>&1
PY=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
BUILD=${BUILD_DIR:-$ROOT/build-gpu}
start=$(date +%s)
declare -A STATUS
stage() { echo; echo "== [$(($(date +%s) - start)) s] $*"; }

stage "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available())'
echo "cores: $(nproc); jobs: $JOBS"

stage "dependencies"
PREFIX_PATH=$("$PY" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
DEPS=/tmp/recarena-gpu-deps
if ls "$ROOT"/.gpu-deps/*.deb >/dev/null 2>&1; then
  rm -rf "$DEPS" && mkdir -p "$DEPS"
  for f in "$ROOT"/.gpu-deps/*.deb; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$f" "$DEPS"
    else
      (cd "$DEPS" && ar p "$f" "$(ar t "$f" | grep '^data.tar')" | tar -x --zstd -f - 2>/dev/null ||
        ar p "$f" "$(ar t "$f" | grep '^data.tar')" | tar -xJ -f -)
    fi
  done
  PREFIX_PATH="$DEPS/usr;$PREFIX_PATH"
  export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "unpacked $(ls "$ROOT"/.gpu-deps/*.deb | wc -l) packages into $DEPS"
else
  echo "no .gpu-deps/: using the machine's own packages"
fi

stage "configure + build (Release, -j$JOBS)"
GEN=()
KEEP=(-k)  # keep going: one run reports every compile error
command -v ninja >/dev/null && GEN=(-G Ninja) && KEEP=(-k 0)
if timeout 120 cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX_PATH" -DRECARENA_PYTHON="$(command -v "$PY")" \
  -DRECARENA_DEFAULT_DATA_DIR="$ROOT/../shared/data" >"$OUT/configure.txt" 2>&1 &&
  timeout 330 cmake --build "$BUILD" -j "$JOBS" ${GPU_CHECK_TARGETS:+--target $GPU_CHECK_TARGETS} \
    -- "${KEEP[@]}"; then
  STATUS[build]=pass
else
  STATUS[build]=fail
  tail -30 "$OUT/configure.txt"
fi

if [[ ${STATUS[build]} == pass ]]; then
  if [[ -x $BUILD/recarena ]]; then
    stage "recarena info"
    "$BUILD/recarena" info | tee "$OUT/info.txt"
    ldd "$BUILD/recarena" | grep -E 'torch|cuda' | tee -a "$OUT/info.txt"
  fi

  stage "CUDA-tagged tests"
  : >"$OUT/tests.txt"
  STATUS[tests]=pass
  for exe in "$BUILD"/tests/recarena_tests_*; do
    [[ -x $exe ]] || continue
    n=$("$exe" "[cuda]" --list-test-names-only 2>/dev/null | grep -c . || true)
    [[ $n -gt 0 ]] || continue
    echo "-- $(basename "$exe"): $n test case(s)" | tee -a "$OUT/tests.txt"
    one=$(mktemp)
    timeout 180 "$exe" "[cuda]" --durations yes >"$one" 2>&1 || STATUS[tests]=fail
    cat "$one" >>"$OUT/tests.txt"
    if grep -q "fatal error condition" "$one"; then
      if command -v gdb >/dev/null; then
        echo "-- $(basename "$exe") died of a signal: backtrace under gdb" | tee -a "$OUT/tests.txt"
        timeout 120 gdb -batch -ex run -ex "thread apply all bt 25" --args "$exe" "[cuda]" \
          >>"$OUT/tests.txt" 2>&1 || true
      else
        echo "-- $(basename "$exe") died of a signal (no gdb): the assertions before it" |
          tee -a "$OUT/tests.txt"
        timeout 120 "$exe" "[cuda]" -s 2>&1 | tail -60 >>"$OUT/tests.txt"
      fi
    fi
    rm -f "$one"
    tail -3 "$OUT/tests.txt"
  done
  grep -q "RECARENA_SKIPPED" "$OUT/tests.txt" && { echo "a [cuda] test skipped on a GPU machine"; STATUS[tests]=fail; }

fi
if [[ ${STATUS[build]} == pass && -z ${GPU_CHECK_TARGETS:-} ]]; then
  stage "simulator benchmark on the GPU (B up to 65,536)"
  BATCH=1,64,1024,4096,16384,65536 STEPS=200,200,200,100,50,20
  [[ ${GPU_CHECK_QUICK:-0} == 1 ]] && BATCH=1,1024 STEPS=200,200
  if OUT_JSONL="$OUT/sim.jsonl" PYTHON="$PY" BUILD_DIR="$BUILD" timeout 150 \
    "$ROOT/bench/run_sim_throughput.sh" --device cuda --rounds 2 --threads "$JOBS" \
    --batch-sizes "$BATCH" --steps "$STEPS" --warmup 5; then
    STATUS[sim_bench]=pass
  else
    STATUS[sim_bench]=fail
  fi

  stage "training benchmark on the GPU"
  if OUT_JSONL="$OUT/train.jsonl" PYTHON="$PY" BUILD_DIR="$BUILD" timeout 90 \
    "$ROOT/bench/run_train_throughput.sh" --device cuda --rounds 3 --threads "$JOBS"; then
    STATUS[train_bench]=pass
  else
    STATUS[train_bench]=fail
  fi
fi

stage "summary"
total=$(($(date +%s) - start))
{
  echo "{"
  echo "  \"seconds\": $total,"
  for k in build tests sim_bench train_bench; do echo "  \"$k\": \"${STATUS[$k]:-not run}\","; done
  echo "  \"torch\": \"$("$PY" -c 'import torch; print(torch.__version__)')\""
  echo "}"
} | tee "$OUT/summary.json"
KEYS=(build tests sim_bench train_bench)
[[ -n ${GPU_CHECK_TARGETS:-} ]] && KEYS=(build tests)
for k in "${KEYS[@]}"; do
  [[ ${STATUS[$k]:-} == pass ]] || exit 1
done
exit 0
