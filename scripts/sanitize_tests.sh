#!/usr/bin/env bash
# Builds the unit tests of core, data, llm_bridge, models, env, dist, policies and agents with
# AddressSanitizer and UndefinedBehaviorSanitizer in their own build folder (build-asan/) and runs
# them through CTest. CI runs it after `make test`. The experiments suites (end-to-end pipelines over
# the same instrumented layers) are not included: their instrumented build and training runs would
# not leave the 2-core CI machine enough of its 90 minutes (docs/reliability.md). LibTorch itself
# is not instrumented.
#
#   scripts/sanitize_tests.sh                          # build-asan/, the suites above
#   SANITIZE_SUITES="core data" scripts/sanitize_tests.sh  # some of them
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${SANITIZE_BUILD_DIR:-$ROOT/build-asan}
cd "$ROOT"
CXX=${CXX:-clang++} cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRECARENA_SANITIZE=ON \
  -DRECARENA_BUILD_BENCH=OFF -DRECARENA_USE_PCH=OFF >/dev/null
SUITES=${SANITIZE_SUITES:-core data llm_bridge models env dist policies agents}
targets=()
for s in $SUITES; do targets+=("recarena_tests_$s"); done
cmake --build "$B" -j "$(nproc)" --target "${targets[@]}"
# halt_on_error: the first report fails the test; detect_leaks: leaks are errors too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
# Leaks inside LibTorch's own singletons are suppressed by name (scripts/lsan.supp says which and why).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
ctest --test-dir "$B" --output-on-failure -j "$(nproc)" -R "^(${SUITES// /|})/"
