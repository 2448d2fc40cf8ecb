#!/usr/bin/env bash
# The simulator acceptance test on the synthetic world (issue 15; docs/simulator.md "Does it rank
# policies like the truth?"): fits configs/sim/synthetic-uniform.yaml in several variants, trains and
# evaluates the 11 policies of configs/experiments/ranking-synthetic.yaml (seeds 1-5, or SEEDS) in every one,
# and writes docs/results/simulator_ranking.md (Kendall's tau between the learned test simulator's
# ranking and the ground truth's, with bootstrap intervals) and its plot.
#
#   scripts/ranking_results.sh                 # needs build/recarena (make build)
#   TAGS="shipped pessimism" scripts/ranking_results.sh
#   DOC=docs/results/other.md IMG=other.png TAGS=...   # a subset, without overwriting the full table
#   SEEDS="1 2 3 4 5 6 7 8 9 10" TAGS=exposure-learned-leave ...   # more training seeds
#
# Fits go to $OUT/sim/<tag>, the experiment to $OUT/experiment (default OUT=runs/ranking); every
# fit, run and per-run evaluation resumes, so a rerun only redoes what is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RECARENA_BIN:-$ROOT/build/recarena}
OUT=${OUT:-$ROOT/runs/ranking}
PY=${RECARENA_PYTHON:-$ROOT/.venv/bin/python}
DOC=${DOC:-$ROOT/docs/results/simulator_ranking.md}
IMG=${IMG:-simulator-ranking.png}
[[ -x $BIN ]] || { echo "ranking_results.sh: $BIN not built (run make build first)" >&2; exit 2; }
# Building blocks of the variants' overrides (expanded into the strings the results table prints).
PESSIMISM="sim.response.ensemble=3 sim.response.pessimism=1.0"
EXPOSURE="data.synthetic.log_exposures=true sim.response.negative_sampling=exposure"
LEARNED_LEAVE="$EXPOSURE sim.leave.hazard.conditional=true sim.leave.repetition.enabled=false"
declare -A VARIANT=(
  [shipped]=""
  [no-calibration]="sim.response.calibration=none"
  [pessimism]="$PESSIMISM"
  [conditional-leave]="sim.leave.hazard.conditional=true"
  [pessimism-conditional]="$PESSIMISM sim.leave.hazard.conditional=true"
  [uniform-logging]="data.synthetic.logging_pop_power=0"
  [exposure-negatives]="$EXPOSURE"
  [exposure-pessimism]="$EXPOSURE $PESSIMISM"
  [exposure-conditional-leave]="$EXPOSURE sim.leave.hazard.conditional=true"
  [exposure-learned-leave]="$LEARNED_LEAVE"
  [learned-leave-no-calibration]="$LEARNED_LEAVE sim.response.calibration=none"
  [learned-leave-pessimism]="$LEARNED_LEAVE $PESSIMISM"
)
declare -A WHAT=(
  [shipped]="configs/sim/synthetic-uniform.yaml, shipped as synthetic.yaml until 2026-12-07 (uniform negatives, repetition rule, Platt calibration, unconditional hazard, no pessimism; popularity-biased logging)"
  [no-calibration]="the same without calibration"
  [pessimism]="an ensemble of 3 response models, train-role reward mean - 1.0 x std"
  [conditional-leave]="the session-conditioned leave hazard (sim.leave.hazard.conditional)"
  [pessimism-conditional]="pessimism and the conditional leave hazard together"
  [uniform-logging]="the shipped simulator fitted on logs whose slates ignore popularity (logging_pop_power 0)"
  [exposure-negatives]="the shipped popularity-biased logs with their slates recorded; the click model's negatives are the shown and not picked items"
  [exposure-pessimism]="exposure negatives and pessimism (3 models, train-role reward mean - 1.0 x std)"
  [exposure-conditional-leave]="exposure negatives and the session-conditioned leave hazard (the repetition rule stays)"
  [exposure-learned-leave]="exposure negatives and the session-conditioned hazard as the only leave model (no fixed repetition rule): configs/sim/synthetic.yaml since 2026-12-07"
  [learned-leave-no-calibration]="configs/sim/synthetic.yaml without its calibration"
  [learned-leave-pessimism]="configs/sim/synthetic.yaml with pessimism (3 models, train-role reward mean - 1.0 x std)"
)
TAGS=${TAGS:-shipped pessimism conditional-leave uniform-logging exposure-negatives}
# Training seeds of every learning policy (the experiment config's are 1-5).
SEEDS=${SEEDS:-1 2 3 4 5}
seed_list=$(echo "$SEEDS" | tr ' ' ',')
sims=()
for tag in $TAGS; do
  echo "== fit $tag" >&2
  # shellcheck disable=SC2086
  "$BIN" sim fit --config "$ROOT/configs/sim/synthetic-uniform.yaml" --out "$OUT/sim/$tag" ${VARIANT[$tag]} \
    run.log_level=warn >/dev/null
  sims+=("$OUT/sim/$tag")
done
list=$(IFS=,; echo "${sims[*]}")
echo "== experiment over: $TAGS" >&2
"$BIN" experiment "$ROOT/configs/experiments/ranking-synthetic.yaml" --out "$OUT/experiment" \
  "experiment.simulators=[$list]" "experiment.seeds=[$seed_list]" >/dev/null
"$PY" "$ROOT/scripts/plot_ranking.py" "$OUT/experiment/ranking.json" \
  "$ROOT/docs/results/img/$IMG"
{
  echo "# Does the learned simulator rank policies like the truth?"
  echo
  echo "Produced by \`scripts/ranking_results.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPU cores: for each"
  echo "variant, \`recarena sim fit --config configs/sim/synthetic-uniform.yaml\` with the overrides below, then one"
  echo "\`recarena experiment configs/experiments/ranking-synthetic.yaml\` over all variants. Every policy"
  echo "trains 1,500 environment steps x 16 users in the variant's learned train simulator (the"
  echo "thesis trains for far longer; this is the budget of docs/results/online.md), seeds $seed_list. The"
  echo "reference is the world's ground truth (eval role): its true click model, and its users leave by"
  echo "the world's own patience rule (\`sim.eval.leave: world\`), the same in every variant."
  echo "docs/results/simulator_ranking_notes.md holds the hand-written reading. This file: \`DOC=${DOC#"$ROOT"/}"
  echo "IMG=$IMG TAGS=\"$TAGS\" SEEDS=\"$SEEDS\" scripts/ranking_results.sh\`."
  echo
  echo "| variant | overrides | what |"
  echo "|---|---|---|"
  for tag in $TAGS; do
    echo "| $tag | \`${VARIANT[$tag]:-none}\` | ${WHAT[$tag]} |"
  done
  echo
  sed 's/^# Policy ranking/## Policy ranking/; s/^## \([a-z]\)/### \1/' "$OUT/experiment/ranking.md"
  echo
  echo "![learned test return against ground-truth return per policy](img/$IMG)"
} >"$DOC"
echo "wrote $DOC" >&2
