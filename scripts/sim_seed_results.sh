#!/usr/bin/env bash
# The click simulators' held-out comparison with the reference models over 5 seeds (each seed
# draws its own train / test user split and initialisation): fits and reports each config once
# per seed and writes docs/results/simulator_seeds.md (scripts/sim_seed_table.py: mean, 95% t
# interval, and the learned model minus the best reference paired over seeds).
#
#   scripts/sim_seed_results.sh     # needs build/recarena (make build); about 10 minutes
#
# Fits go to $OUT/<config>-s<seed> (default runs/sim-seeds); NAMES and SEEDS override the lists.
# Coat (ratings) has its own table: scripts/sim_coat_results.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RECARENA_BIN:-$ROOT/build/recarena}
OUT=${OUT:-$ROOT/runs/sim-seeds}
PY=${RECARENA_PYTHON:-$ROOT/.venv/bin/python}
DOC=$ROOT/docs/results/simulator_seeds.md
SEEDS=${SEEDS:-"1 2 3 4 5"}
NAMES=${NAMES:-"ml-latest-small amazon-industrial rc15 synthetic"}
[[ -x $BIN ]] || { echo "sim_seed_results.sh: $BIN not built (run make build first)" >&2; exit 2; }
for seed in $SEEDS; do
  for name in $NAMES; do
    echo "== $name seed $seed" >&2
    "$BIN" sim fit --config "$ROOT/configs/sim/$name.yaml" --out "$OUT/$name-s$seed" \
      run.seed="$seed" run.log_level=warn >/dev/null
    "$BIN" sim report "$OUT/$name-s$seed" >/dev/null
  done
done
# shellcheck disable=SC2086
"$PY" "$ROOT/scripts/sim_seed_table.py" "$OUT" "$SEEDS" $NAMES >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
echo "wrote $DOC" >&2
