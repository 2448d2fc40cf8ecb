# recarena: the README's two commands.
#   make quickstart  - set up, build what the main job runs, run it on the built-in synthetic world
#   make test        - set up, build, run all tests
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=
RUN_DIR ?= runs/quickstart
# Warnings in recarena's own code are errors in CI (CI=true) unless WERROR=OFF is given.
WERROR ?= $(if $(CI),ON,OFF)

.PHONY: setup configure build build-quickstart test quickstart clean format format-check fuzz sanitize

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DRECARENA_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null

build: configure
	@bash scripts/timed.sh "build" cmake --build $(BUILD_DIR) -j $(JOBS)

# The quickstart runs build/recarena alone: tests and benchmarks are not built for it.
build-quickstart: configure
	@bash scripts/timed.sh "build" cmake --build $(BUILD_DIR) -j $(JOBS) --target recarena

test: build
	@bash scripts/timed.sh "tests" ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

quickstart: build-quickstart
	@bash scripts/quickstart.sh $(BUILD_DIR) $(RUN_DIR)

format:
	@git ls-files '*.h' '*.cpp' | xargs clang-format -i

# Fails, listing the files, when any tracked C++ file differs from clang-format's output.
format-check:
	@bash scripts/format_check.sh

clean:
	rm -rf $(BUILD_DIR)

# libFuzzer targets (fuzz/), instrumented with ASan + UBSan, in their own build folder; each runs
# FUZZ_SECONDS over a scratch copy of its corpus (new inputs land in build-fuzz/corpus, not in the
# repository's fuzz/corpus).
FUZZ_SECONDS ?= 60
fuzz: setup
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

# The LibTorch-free unit tests (core, data, llm_bridge) built with ASan + UBSan in build-asan/.
sanitize: setup
	@bash scripts/sanitize_tests.sh
