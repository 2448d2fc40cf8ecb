#!/usr/bin/env bash
# The README's main job on the built-in synthetic world (no downloaded data needed):
#   1. generate the synthetic world, fit its user simulator (train/test users 80/20 + the ground-truth
#      eval role) and print the fidelity summary
#   2. train random, most-popular, DQN and A2C online in the train simulator, evaluate them in the test
#      simulator, and print the comparison table (configs/experiments/quickstart.yaml)
# Usage: scripts/quickstart.sh BUILD_DIR RUN_DIR
set -euo pipefail
build=${1:-build}
run=${2:-runs/quickstart}
bin="$build/recarena"
rm -rf "$run"
mkdir -p "$run"
echo "== recarena quickstart: synthetic world -> $run"
echo "== 1/2 fitting the simulator ($run/sim)"
"$bin" sim fit --config configs/sim/synthetic.yaml --out "$run/sim" run.log_level=warn > /dev/null
"$bin" sim report "$run/sim" --episodes 200 > "$run/sim/report.json"
sed -n '/^| role | held-out/,/^$/p' "$run/sim/report.md"
echo "== 2/2 online agents: random, popular, DQN, A2C (train role -> evaluated on the test role)"
"$bin" experiment configs/experiments/quickstart.yaml --out "$run/experiment" \
  "experiment.simulators=[$run/sim]" 2> "$run/experiment.log"
echo "== done: simulator report $run/sim/report.md; table $run/experiment/summary.md;"
echo "   curves $run/experiment/curves_sim.png; per-run reports under $run/experiment/sim/*/*/seed-*/"
