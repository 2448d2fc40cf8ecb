#!/usr/bin/env bash
# The Coat simulator's response-model choices over 5 seeds (each seed draws its own train / test
# user split and initialisation): fits configs/sim/coat.yaml and variants of it, reports each fit,
# and writes docs/results/simulator_coat.md (mean and 95% t interval over seeds, and paired
# differences against the shipped config).
#
#   scripts/sim_coat_results.sh     # needs build/recarena (make build); about 15 minutes
#
# Fits go to $OUT/<variant>-s<seed> (default runs/sim-coat); SEEDS overrides the seed list.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RECARENA_BIN:-$ROOT/build/recarena}
OUT=${OUT:-$ROOT/runs/sim-coat}
PY=${RECARENA_PYTHON:-$ROOT/.venv/bin/python}
DOC=$ROOT/docs/results/simulator_coat.md
SEEDS=${SEEDS:-"1 2 3 4 5"}
[[ -x $BIN ]] || { echo "sim_coat_results.sh: $BIN not built (run make build first)" >&2; exit 2; }
declare -A VARIANT=(
  [shipped]=""
  [ips-unclipped]="sim.response.ips_clip=0"
  [ips-clip-5]="sim.response.ips_clip=5"
  [no-ips]="sim.response.ips=false"
  [platt]="sim.response.calibration=platt"
  [no-rating-noise]="sim.response.rating_noise=0"
)
TAGS="shipped ips-unclipped ips-clip-5 no-ips platt no-rating-noise"
for seed in $SEEDS; do
  for tag in $TAGS; do
    dir=$OUT/$tag-s$seed
    echo "== $tag seed $seed" >&2
    # shellcheck disable=SC2086
    "$BIN" sim fit --config "$ROOT/configs/sim/coat.yaml" --out "$dir" run.seed="$seed" \
      ${VARIANT[$tag]} run.log_level=warn >/dev/null
    "$BIN" sim report "$dir" >/dev/null
  done
done
# shellcheck disable=SC2086
"$PY" "$ROOT/scripts/sim_coat_table.py" "$OUT" "$SEEDS" $TAGS >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
echo "wrote $DOC" >&2
