#!/usr/bin/env bash
# The iALP family (thesis Ch. 7, issue 16) in the synthetic world, from a fresh checkout:
#   1. fit the synthetic world's simulator              runs/ialp/sim           (skipped when fitted)
#   2. start the local LLM (scripts/llm_server.sh)      SmolLM2-135M on llama.cpp
#   3. per seed, distill from the LLM, then from the oracle server (`recarena llm oracle-server`,
#      the same HTTP interface) at the same budget and at 20x
#                                                       runs/ialp/distill-{llm,oracle,oracle-large}/seed-N
#   4. the Last.fm-2K, Coat and amazon-industrial simulators and LLM distillations   runs/sim/<ds>, runs/ialp/<ds>/distill-llm/seed-N
#   5. the online experiments (configs/experiments/ialp-*.yaml)   runs/ialp/online-*, runs/ialp/exploration-*
#   6. docs/results/ialp.md                             scripts/ialp_table.py
# Every step resumes or skips what is done; the LLM's answers are cached (runs/ialp/llm-cache.sqlite),
# so a rerun asks the LLM nothing. About 2 hours on 2 cores, most of it the LLM (1-3 s per answer).
#   scripts/ialp_results.sh [BUILD_DIR=build]      SEEDS="1 2 3 4 5" by default
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build}/recarena
SEEDS=${SEEDS:-1 2 3 4 5}
cd "$ROOT"
[[ -x $BIN ]] || { echo "ialp_results.sh: $BIN not built (run make build first)" >&2; exit 2; }
if [[ ! -f runs/ialp/sim/simulator.json ]]; then
  "$BIN" sim fit --config configs/sim/synthetic-uniform.yaml --out runs/ialp/sim run.log_level=warn >/dev/null
fi
bash scripts/llm_server.sh start
for seed in $SEEDS; do
  echo "== seed $seed: distill from the LLM"
  "$BIN" llm distill --config configs/llm/distill-synthetic.yaml --out "runs/ialp/distill-llm/seed-$seed" \
    run.seed="$seed" distill.sim=runs/ialp/sim llm.cache=runs/ialp/llm-cache.sqlite \
    run.log_level=warn >/dev/null
done
# The oracle teacher over the same HTTP interface (port 8766), stopped when this script ends.
rm -f runs/ialp/oracle.port
"$BIN" llm oracle-server --config configs/llm/distill-synthetic-oracle.yaml --port 8766 \
  --port-file runs/ialp/oracle.port distill.sim=runs/ialp/sim >runs/ialp/oracle-server.log 2>&1 &
ORACLE_PID=$!
trap 'kill $ORACLE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [[ -f runs/ialp/oracle.port ]] && break; sleep 0.2; done
[[ -f runs/ialp/oracle.port ]] || { echo "ialp_results.sh: the oracle server did not start" >&2; cat runs/ialp/oracle-server.log >&2; exit 1; }
for seed in $SEEDS; do
  echo "== seed $seed: distill from the oracle (same budget, and x20)"
  "$BIN" llm distill --config configs/llm/distill-synthetic-oracle.yaml \
    --out "runs/ialp/distill-oracle/seed-$seed" run.seed="$seed" distill.sim=runs/ialp/sim \
    run.log_level=warn >/dev/null
  "$BIN" llm distill --config configs/llm/distill-synthetic-oracle.yaml \
    --out "runs/ialp/distill-oracle-large/seed-$seed" run.seed="$seed" distill.sim=runs/ialp/sim \
    distill.iterations=60 run.log_level=warn >/dev/null
done
# Thesis Sec. 7.6 on real datasets: the Last.fm-2K and Coat simulators and distillations over them.
for ds in lastfm-2k coat amazon-industrial; do
  if [[ ! -f runs/sim/$ds/simulator.json ]]; then
    "$BIN" sim fit --config "configs/sim/$ds.yaml" --out "runs/sim/$ds" run.log_level=warn >/dev/null
  fi
  for seed in $SEEDS; do
    echo "== seed $seed: distill from the LLM over $ds"
    "$BIN" llm distill --config "configs/llm/distill-$ds.yaml" \
      --out "runs/ialp/$ds/distill-llm/seed-$seed" run.seed="$seed" \
      llm.cache=runs/ialp/llm-cache.sqlite run.log_level=warn >/dev/null
  done
done
for ex in synthetic-llm synthetic-oracle synthetic-oracle-large lastfm-2k lastfm-2k-exploration \
          synthetic-llm-online coat amazon-industrial; do
  echo "== online experiment ialp-$ex"
  "$BIN" experiment "configs/experiments/ialp-$ex.yaml" >/dev/null
done
"$ROOT/.venv/bin/python" scripts/ialp_table.py > docs/results/ialp.md
echo "== wrote docs/results/ialp.md"
