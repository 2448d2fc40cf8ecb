#!/usr/bin/env bash
# Fits the shipped simulators and writes their fidelity reports into docs/results/simulator.md.
#
#   scripts/sim_results.sh            # all six: synthetic synthetic-uniform coat ml-latest-small
#                                     # amazon-industrial rc15
#   NAMES="coat" scripts/sim_results.sh
#
# Each simulator goes to $OUT/<name> (default runs/sim); a finished fit is reused (sim fit resumes),
# delete the directory to refit. Needs the shared datasets for the real-data configs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RECARENA_BIN:-$ROOT/build/recarena}
OUT=${OUT:-$ROOT/runs/sim}
NAMES=${NAMES:-synthetic synthetic-uniform coat ml-latest-small amazon-industrial rc15}
DOC=$ROOT/docs/results/simulator.md
PY=${RECARENA_PYTHON:-$ROOT/.venv/bin/python}
# The policy-ranking acceptance test of the synthetic configs comes from ranking runs
# (scripts/ranking_results.sh): per config, the run's OUT, its variant fitted with the same config,
# and the results file it wrote.
declare -A RANKING=(
  [synthetic]="runs/ranking-shipped exposure-learned-leave docs/results/simulator_ranking_shipped.md"
  [synthetic-uniform]="runs/ranking-exp shipped docs/results/simulator_ranking_exposure.md"
)
[[ -x $BIN ]] || { echo "sim_results.sh: $BIN not built (run make build first)" >&2; exit 2; }
for name in $NAMES; do
  echo "== $name" >&2
  "$BIN" sim fit --config "$ROOT/configs/sim/$name.yaml" --out "$OUT/$name" >/dev/null 2>&1
  "$BIN" sim report "$OUT/$name" >/dev/null
  "$PY" "$ROOT/scripts/plot_sim_reliability.py" "$OUT/$name/report.json" \
    "$ROOT/docs/results/img/sim-reliability-$name.png"
done
{
  echo "# Simulator fidelity reports"
  echo
  echo "Produced by \`scripts/sim_results.sh\` (= for each config: \`recarena sim fit --config"
  echo "configs/sim/<name>.yaml --out runs/sim/<name>\` then \`recarena sim report runs/sim/<name>\`)"
  echo "on $(date -u +%Y-%m-%d), $(nproc) CPU cores. See docs/simulator.md for what each number means;"
  echo "docs/results/simulator_notes.md holds the hand-written reading of these numbers."
  echo
  for name in synthetic synthetic-uniform coat ml-latest-small amazon-industrial rc15; do
    [[ -f $OUT/$name/report.md ]] || continue
    echo "<!-- config: configs/sim/$name.yaml -->"
    sed 's/^# Simulator fidelity: \(.*\)$/## '"$name"' (dataset \1)/; s/^## /### /' "$OUT/$name/report.md" \
      | sed 's/^### '"$name"' (dataset/## '"$name"' (dataset/'
    if [[ -f $ROOT/docs/results/img/sim-reliability-$name.png ]]; then
      echo "![held-out reliability, $name](img/sim-reliability-$name.png)"
    fi
    echo
    if [[ -n ${RANKING[$name]:-} ]]; then
      read -r rank_out rank_tag rank_doc <<<"${RANKING[$name]}"
      "$PY" "$ROOT/scripts/sim_ranking_section.py" "$OUT/$name" "$ROOT/$rank_out" "$rank_tag" \
        "$rank_doc"
      echo
    fi
  done
} > "$DOC"
echo "wrote $DOC" >&2
