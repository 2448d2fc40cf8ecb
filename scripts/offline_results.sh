#!/usr/bin/env bash
# Trains Popularity, GRU4Rec, SASRec, Caser and NextItNet on ml-latest-small (leave-one-out),
# rc15-sample (every position) and amazon-industrial (every position, user split) and writes the
# results table docs/results/offline.md.
# Usage: scripts/offline_results.sh [BUILD_DIR] [RUNS_DIR] [extra overrides...]
# DATASETS="rc15 amazon-industrial" and MODELS="sasrec caser" restrict what runs (to run groups in
# parallel: give each stream different models); runs already
# finished (metrics.json present) are skipped and interrupted ones resume.
set -euo pipefail
build=${1:-build}
runs=${2:-runs/offline-results}
shift $(( $# > 2 ? 2 : $# )) || true
extra=("$@")
bin="$build/recarena"
mkdir -p "$runs"
for ds in ${DATASETS:-ml-latest-small rc15 amazon-industrial}; do
  for model in ${MODELS:-popularity gru4rec sasrec caser nextitnet}; do
    cfg=configs/offline/$ds-$model.yaml
    out=$runs/$ds-$model
    if [[ -f $out/metrics.json ]]; then echo "== $ds $model: done ($out)"; continue; fi
    echo "== $ds $model"
    "$bin" train --config "$cfg" --out "$out" run.log_level=warn "${extra[@]}" > "$out.stdout.json"
  done
done
python3 scripts/results_table.py "$runs" > docs/results/offline.md
echo "== wrote docs/results/offline.md"
