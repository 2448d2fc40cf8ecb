#!/usr/bin/env bash
# The README's main job on the built-in synthetic world (no downloaded data needed):
#   1. generate the synthetic world and prepare it (preprocess, split) -> RUN_DIR/data, print its stats
#   2. train the popularity floor and SASRec ("Normal" next-item training) offline on it, and print the
#      test metrics side by side
# Usage: scripts/quickstart.sh BUILD_DIR RUN_DIR
set -euo pipefail
build=${1:-build}
run=${2:-runs/quickstart}
bin="$build/recarena"
rm -rf "$run"
mkdir -p "$run"
echo "== recarena quickstart: synthetic world -> $run"
"$bin" data prepare --config configs/data/synthetic.yaml --out "$run/data" > "$run/data_prepare.json"
echo "== prepared dataset statistics ($run/data)"
"$bin" data stats "$run/data"
echo "== offline training on the synthetic world: popularity and SASRec"
"$bin" train --config configs/offline/synthetic-popularity.yaml --out "$run/popularity" run.log_level=warn \
  > "$run/popularity.json"
"$bin" train --config configs/offline/synthetic-sasrec.yaml --out "$run/sasrec" run.log_level=warn \
  train.max_steps=600 > "$run/sasrec.json"
python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
pop = json.load(open(f"{run}/popularity.json"))
sas = json.load(open(f"{run}/sasrec.json"))
print(f"{'metric':<10} {'popularity':>11} {'SASRec':>9}")
for k in ["HR@5", "HR@10", "NDCG@10", "MRR", "CV_div@10", "CV_nov@10"]:
    print(f"{k:<10} {pop[k]:>11.4f} {sas[k]:>9.4f}")
PY
echo "== done: $run/data (prepared data), $run/sasrec/report.md and metrics.jsonl (training curve)"
