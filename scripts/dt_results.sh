#!/usr/bin/env bash
# Offline decision-transformer results in the thesis's Table 4.3 layout (issue 6): SASRec, MRDT and
# MODT4R trained with the same step budget on ml-latest-small, rc15-sample and amazon-industrial,
# over several seeds (mean +- std), written to docs/results/decision_transformer.md.
#   scripts/dt_results.sh [BUILD_DIR=build] [RUNS_DIR=runs/dt-results]
# Environment: DATASETS, MODELS, SEEDS (default 42 43 44), SASREC_STEPS (default 600 Adam steps of
# 256 windows; the DT configs carry their own budget: every position of a window is a training
# example, so they use fewer, smaller batches), JOBS (parallel runs, default 2, one thread each),
# DOC (where the table goes, default docs/results/decision_transformer.md).
# Finished runs (metrics.json present) are skipped; interrupted ones resume.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$ROOT/build}
runs=${2:-$ROOT/runs/dt-results}
bin=$build/recarena
sasrec_steps=${SASREC_STEPS:-600}
mkdir -p "$runs"
jobs=()
for ds in ${DATASETS:-ml-latest-small rc15 amazon-industrial}; do
  for model in ${MODELS:-sasrec mrdt modt4r}; do
    for seed in ${SEEDS:-42 43 44}; do
      out=$runs/$ds-$model-s$seed
      [[ -f $out/metrics.json ]] && continue
      steps=""
      [[ $model == sasrec ]] && steps="train.max_steps=$sasrec_steps"
      jobs+=("$ROOT/configs/offline/$ds-$model.yaml $out $seed${steps:+ $steps}")
    done
  done
done
printf '%s\n' "${jobs[@]}" | grep . | xargs -P "${JOBS:-2}" -L 1 bash -c \
  '"$0" train --config "$1" --out "$2" run.seed="$3" $4 train.threads=1 \
     run.log_level=warn > "$2.stdout.json" 2> "$2.stderr.log" && echo "done $2"' "$bin" || true
doc=${DOC:-$ROOT/docs/results/decision_transformer.md}
python3 "$ROOT/scripts/dt_table.py" "$runs" > "$doc"
echo "== wrote $doc"
