#!/usr/bin/env bash
# HDT vs its "Normal" baseline (thesis Ch. 5, Sec. 5.4; issue 6): both trained on the same
# sessionized ml-latest-small users and evaluated with the same last-session queries and metrics,
# per encoder, over several seeds (mean +- std), written to docs/results/hdt.md.
#   scripts/hdt_results.sh [BUILD_DIR=build] [RUNS_DIR=runs/hdt-results]
# Environment: ENCODERS (default "sasrec gru4rec caser nextitnet"), SEEDS (default 42 43 44),
# MODELS (default "session-normal hdt hdt-sequential"; hdt-sequential = HDT ranked by the sequential
# head only, model.scoring=sequential), JOBS (parallel runs, default 2, one thread each). Configs:
# configs/offline/ml-latest-small-hdt.yaml and ml-latest-small-session-normal.yaml (the encoder is
# overridden). Finished runs (metrics.json present) are skipped; interrupted ones resume.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$ROOT/build}
runs=${2:-$ROOT/runs/hdt-results}
bin=$build/recarena
mkdir -p "$runs"
jobs=()
for enc in ${ENCODERS:-sasrec gru4rec caser nextitnet}; do
  for model in ${MODELS:-session-normal hdt hdt-sequential}; do
    for seed in ${SEEDS:-42 43 44}; do
      out=$runs/$enc-$model-s$seed
      [[ -f $out/metrics.json ]] && continue
      config=$model extra=""
      [[ $model == hdt-sequential ]] && config=hdt extra="model.scoring=sequential"
      jobs+=("$ROOT/configs/offline/ml-latest-small-$config.yaml $out $seed $enc${extra:+ $extra}")
    done
  done
done
if ((${#jobs[@]})); then
  printf '%s\n' "${jobs[@]}" | xargs -P "${JOBS:-2}" -L 1 bash -c \
    '"$0" train --config "$1" --out "$2" run.seed="$3" model.encoder.kind="$4" $5 train.threads=1 \
       run.log_level=warn > "$2.stdout.json" 2> "$2.stderr.log" && echo "done $2" \
       || echo "FAILED $2 (see $2.stderr.log)"' "$bin"
fi
python3 "$ROOT/scripts/hdt_table.py" "$runs" > "$ROOT/docs/results/hdt.md"
echo "== wrote docs/results/hdt.md"
