#!/usr/bin/env bash
# Conformal evaluation (docs/conformal.md) of trained offline runs: every alpha, score function and the
# weighted combination under the four split strategies. Writes docs/results/conformal.md from the
# run directories of scripts/offline_results.sh.
# Usage: scripts/conformal_results.sh [BUILD_DIR] [RUNS_DIR]   (RUNS="amazon-industrial-sasrec ..." to choose)
set -euo pipefail
build=${1:-build}
runs=${2:-runs/offline-results}
out=docs/results/conformal.md
list=${RUNS:-ml-latest-small-sasrec ml-latest-small-gru4rec amazon-industrial-sasrec amazon-industrial-gru4rec}
{
  echo "# Conformal item sets of trained models"
  echo
  echo "Produced by \`scripts/conformal_results.sh $build $runs\` (\`recarena conformal-eval RUN_DIR\` per run,"
  echo "default options: calibration = a seeded random half of the test queries, non-randomized scores,"
  echo "RAPS/SAPS lambda 0.01, k_reg 5, weight grid step 0.1). Models: docs/results/offline.md."
  echo
} > "$out.tmp"
for r in $list; do
  dir=$runs/$r
  if [[ ! -f $dir/best.pt ]]; then echo "skip $r (no $dir/best.pt)"; continue; fi
  echo "== $r"
  "$build/recarena" conformal-eval "$dir" --out "$dir/conformal" > /dev/null
  sed 's/^# /## /; s/^## alpha/### alpha/' "$dir/conformal/report.md" >> "$out.tmp"
  echo >> "$out.tmp"
done
mv "$out.tmp" "$out"
echo "== wrote $out"
