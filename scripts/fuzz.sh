#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ in build-fuzz/ (Clang, ASan + UBSan) and runs each for
# SECONDS (first argument, default 60) over its corpus: fuzz/corpus/<target>/ (kept in git, read
# only) plus build-fuzz/corpus/<target>/ (new inputs). A crash fails the script and leaves the
# input in build-fuzz/crashes/. FUZZ_RUNS=N runs N executions per target instead of a time limit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-60}
B=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
cd "$ROOT"
CXX=${CXX:-clang++} cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECARENA_FUZZ=ON \
  -DRECARENA_BUILD_TESTS=OFF -DRECARENA_BUILD_BENCH=OFF -DRECARENA_USE_PCH=OFF >/dev/null
targets=$(cd fuzz && ls *_fuzz.cpp | sed 's/\.cpp$//')
# shellcheck disable=SC2086
cmake --build "$B" -j "$(nproc)" --target $targets
mkdir -p "$B/crashes"
# The file-reading targets write every input to disk: a memory file system when there is one.
if [[ -z "${TMPDIR:-}" && -d /dev/shm && -w /dev/shm ]]; then export TMPDIR=/dev/shm; fi
for t in $targets; do
  mkdir -p "$B/corpus/$t"
  rm -f "$B/crashes/$t-"*
  limit=(-max_total_time="$SECONDS_EACH")
  [[ -n "${FUZZ_RUNS:-}" ]] && limit=(-runs="$FUZZ_RUNS")
  echo "fuzz: $t (${FUZZ_RUNS:-${SECONDS_EACH} s})"
  "$B/fuzz/$t" "${limit[@]}" -artifact_prefix="$B/crashes/$t-" -print_final_stats=1 \
    "$B/corpus/$t" "fuzz/corpus/$t" 2>&1 | grep -E "^(#[0-9]+ *DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|Done)" || true
  if ls "$B/crashes/$t-"* >/dev/null 2>&1; then
    echo "fuzz: $t crashed; inputs in $B/crashes/" >&2
    exit 1
  fi
done
echo "fuzz: all targets ran without a crash"
