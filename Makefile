# recarena: the README's two commands.
#   make quickstart  - set up, build, run the main job on the built-in synthetic world
#   make test        - set up, build, run all tests
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=
RUN_DIR ?= runs/quickstart

.PHONY: setup configure build test quickstart clean format

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) >/dev/null

build: configure
	@bash scripts/timed.sh "build" cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@bash scripts/timed.sh "tests" ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

quickstart: build
	@bash scripts/quickstart.sh $(BUILD_DIR) $(RUN_DIR)

format:
	@git ls-files '*.h' '*.cpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
