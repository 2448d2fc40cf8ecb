#!/usr/bin/env bash
# The README's main job on the built-in synthetic world (no downloaded data needed):
#   1. generate the synthetic world and prepare it (preprocess, split, windows) -> RUN_DIR/data
#   2. print its statistics
# Usage: scripts/quickstart.sh BUILD_DIR RUN_DIR
set -euo pipefail
build=${1:-build}
run=${2:-runs/quickstart}
bin="$build/recarena"
mkdir -p "$run"
echo "== recarena quickstart: synthetic world -> $run"
"$bin" data prepare --config configs/data/synthetic.yaml --out "$run/data" > "$run/data_prepare.json"
echo "== prepared dataset statistics ($run/data)"
"$bin" data stats "$run/data"
echo "== done: prepared data and its resolved config are in $run/data"
