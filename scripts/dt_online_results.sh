#!/usr/bin/env bash
# The decision transformer in the ml-latest-small simulator (issue 6), from a fresh checkout:
#   1. fit the simulator             runs/sim/ml-latest-small      (skipped when fitted)
#   2. train MRDT offline            runs/offline/ml-latest-small-mrdt (resumes / skips)
#   3. the online experiment         runs/dt-ml-latest-small (DT vs DQN, A2C, random, popular)
#   4. the offline trade-off sweep   runs/offline/ml-latest-small-mrdt/sweep (alpha, lambda)
#   5. the target-novelty sweep      runs/dt-novelty/<n> (one online run per target novelty)
# and writes docs/results/dt_online.md. Needs the shared ml-latest-small data.
#   scripts/dt_online_results.sh [BUILD_DIR=build]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build}/recarena
cd "$ROOT"
[[ -x $BIN ]] || { echo "dt_online_results.sh: $BIN not built (run make build first)" >&2; exit 2; }
if [[ ! -f runs/sim/ml-latest-small/simulator.json ]]; then
  "$BIN" sim fit --config configs/sim/ml-latest-small.yaml --out runs/sim/ml-latest-small \
    run.log_level=warn >/dev/null
fi
if [[ ! -f runs/offline/ml-latest-small-mrdt/metrics.json ]]; then
  "$BIN" train --config configs/offline/ml-latest-small-mrdt.yaml \
    --out runs/offline/ml-latest-small-mrdt train.threads=1 run.log_level=warn >/dev/null
fi
"$BIN" experiment configs/experiments/dt-ml-latest-small.yaml > /dev/null
"$BIN" dt-sweep runs/offline/ml-latest-small-mrdt --max-queries "${SWEEP_QUERIES:-0}" > /dev/null
# Target novelty 0..10 at the same target accuracy (10), no online learning: the lever alone,
# with the UserTrans scores mixed in (alpha 1, the default of Eq. 4.19) and without (alpha 0).
for a in 0 1; do for n in ${NOVELTIES:-0 2 5 10}; do
  "$BIN" online --config configs/online/ml-latest-small-dt.yaml --out "runs/dt-novelty/alpha$a-$n" \
    agent.dt.alpha="$a" agent.dt.target.kind=value agent.dt.target.accuracy=10 \
    agent.dt.target.novelty="$n" \
    agent.dt.train_every=0 train.total_steps=1 train.steps_per_epoch=1 \
    train.eval_every=1 train.eval_episodes=200 run.log_level=warn > /dev/null
done; done
python3 scripts/dt_online_table.py > docs/results/dt_online.md
echo "== wrote docs/results/dt_online.md"
