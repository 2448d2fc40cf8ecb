#!/usr/bin/env bash
# Offline RL from logs (issue 17, docs/offline_rl.md): Normal (next-item cross-entropy) vs SQN / SAC /
# SNQN / SA2C on the same encoder, data, budget and evaluation, over several seeds, written to
# docs/results/offline_rl.md by scripts/offline_rl_table.py (mean ± 95% t-interval; paired
# differences to Normal per seed).
#   scripts/offline_rl_results.sh [BUILD_DIR=build] [RUNS_DIR=runs/offline-rl]
# Environment: DATASETS (default "rc15"; also ml-latest-small, amazon-industrial, lastfm-2k), ENCODERS (default
# "gru4rec sasrec"), MODELS (default "normal normal-lr001 snqn sa2c smorl cql bcq"; also sqn,
# sac; normal-lr001 is Normal at lr 0.001, the rate of docs/results/offline.md, so the RL learners
# are also compared with a Normal tuned on its own; sa2c-noadv is SA2C's schedule without its
# advantage weighting; sa2c-early is SA2C switching at step 500), SEEDS (default "1 2 3 4 5"),
# JOBS (parallel runs, default 2, one thread each), DOC (the table's file, default
# docs/results/offline_rl.md; docs/results/offline_rl_sim.md is ml-latest-small SASRec's runs with
# their simulated returns: DATASETS=ml-latest-small ENCODERS=sasrec MODELS="normal snqn sa2c"
# DOC=docs/results/offline_rl_sim.md). Each run is configs/offline/<ds>-<encoder>.yaml
# with model_kind and run.seed overridden and, for every learner of a dataset, the same budget
# overrides (`budget` below: more steps and the reference code's lr 0.005 than docs/results/
# offline.md, because the learners that alternate two networks update the evaluated one only every
# other step and 800 steps leave every model far from converged); SA2C switches to its actor-critic
# phase halfway through the budget (the reference code switches at 15,000 of far more steps), and
# ml-latest-small rewards ratings >= 4 with 1.0 and the others with 0.2 (rl.reward.kind=threshold).
# Finished runs (metrics.json present) are skipped; interrupted ones resume.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$ROOT/build}
runs=${2:-$ROOT/runs/offline-rl}
bin=$build/recarena
mkdir -p "$runs"
jobs=()
for ds in ${DATASETS:-rc15}; do
  case $ds in
    rc15 | amazon-industrial)
      budget="train.max_steps=4000 train.eval_every=500 model.lr=0.005"
      rl="rl.sa2c_switch_step=2000" q="" ;;
    ml-latest-small)
      budget="train.max_steps=3000 train.eval_every=500 model.lr=0.005"
      rl="rl.sa2c_switch_step=1500 rl.reward.kind=threshold" q="offline_q.reward.kind=threshold" ;;
    # Tag events carry no value: every event is a click worth 0.2, as on rc15-sample.
    lastfm-2k)
      budget="train.max_steps=3000 train.eval_every=500 model.lr=0.005"
      rl="rl.sa2c_switch_step=1500" q="" ;;
    *) echo "offline_rl_results.sh: no settings for dataset '$ds'" >&2; exit 2 ;;
  esac
  for enc in ${ENCODERS:-gru4rec sasrec}; do
    for model in ${MODELS:-normal normal-lr001 snqn sa2c sa2c-noadv smorl cql bcq}; do
      for seed in ${SEEDS:-1 2 3 4 5}; do
        out=$runs/$ds-$enc-$model-s$seed
        [[ -f $out/metrics.json ]] && continue
        kind=$model
        case $model in
          normal) extra=$budget ;;
          normal-lr001) kind=normal extra="$budget model.lr=0.001" ;;
          # SA2C with the advantage weight pinned to 1: its schedule (SNQN, then a fresh Adam at
          # lr2) without the actor-critic weighting, the control that separates the two.
          sa2c-noadv) kind=sa2c extra="$budget $rl rl.advantage_min=1 rl.advantage_max=1" ;;
          # SA2C switching at the first validation, for data where every model peaks before halfway.
          sa2c-early) kind=sa2c extra="$budget $rl rl.sa2c_switch_step=500" ;;
          cql | bcq) extra="$budget $q" ;;
          *) extra="$budget $rl" ;;
        esac
        line="$ROOT/configs/offline/$ds-$enc.yaml $out $seed $kind $extra"
        # No trailing blank: xargs -L would join the next line onto this one.
        jobs+=("${line%"${line##*[! ]}"}")
      done
    done
  done
done
if ((${#jobs[@]})); then
  echo "== ${#jobs[@]} runs, ${JOBS:-2} at a time"
  printf '%s\n' "${jobs[@]}" | xargs -P "${JOBS:-2}" -L 1 bash -c \
    'start=$SECONDS; "$0" train --config "$1" --out "$2" run.seed="$3" model_kind="$4" ${@:5} \
       train.threads=1 run.log_level=warn > "$2.stdout.json" 2> "$2.stderr.log" \
       && echo "done $2 ($((SECONDS - start)) s)" || echo "FAILED $2 (see $2.stderr.log)"' "$bin"
fi
# Off-policy estimates of every finished run where rewards vary (ml-latest-small: a rating >= 4 is
# worth 1, below 0), against two behaviour models: the Normal run of the same encoder and seed (a
# behaviour-cloning model of the logging policy) and the items' training popularity.
for dir in "$runs"/ml-latest-small-*-s[0-9]*/; do
  dir=${dir%/}
  [[ -f $dir/metrics.json ]] || continue
  normal=$(sed -E 's/-(normal|normal-lr001|sqn|sac|snqn|sa2c|sa2c-early|sa2c-noadv|smorl|cql|bcq)-s([0-9]+)$/-normal-s\2/' \
    <<< "$dir")
  for b in normal popularity; do
    [[ -f $dir/ope-$b.json ]] && continue
    [[ $b == normal && ! -f $normal/metrics.json ]] && continue
    args=(--reward threshold --click 0 --purchase 1 --threshold 4 --out "$dir/ope-$b.json")
    [[ $b == normal ]] && args+=(--behaviour-run "$normal")
    "$bin" eval ope "$dir" "${args[@]}" > /dev/null 2> "$dir/ope-$b.stderr.log" \
      || echo "FAILED eval ope $dir ($b; see $dir/ope-$b.stderr.log)"
  done
done
# The simulated return of each ml-latest-small run's greedy policy in the fitted ml-latest-small
# simulator (test role, repeats masked, 500 episodes), when SIM (default runs/sim/ml-latest-small,
# from scripts/sim_results.sh) holds a finished fit.
sim=${SIM:-$ROOT/runs/sim/ml-latest-small}
if [[ -f $sim/config.yaml ]]; then
  for dir in "$runs"/ml-latest-small-*-s[0-9]*/; do
    dir=${dir%/}
    [[ -f $dir/metrics.json && ! -f $dir/sim-rollout.json ]] || continue
    "$bin" sim rollout "$sim" --policy run --run "$dir" --role test --episodes 500 \
      --mask-repeats --seed 7 > "$dir/sim-rollout.json.tmp" 2> "$dir/sim-rollout.stderr.log" \
      && mv "$dir/sim-rollout.json.tmp" "$dir/sim-rollout.json" \
      || echo "FAILED sim rollout $dir (see $dir/sim-rollout.stderr.log)"
  done
  # The fixed baselines on the same 500 episodes, the table's reference rows.
  for policy in random popular; do
    out=$runs/ml-latest-small-sim-$policy.json
    [[ -f $out ]] && continue
    "$bin" sim rollout "$sim" --policy $policy --role test --episodes 500 --mask-repeats --seed 7 \
      > "$out.tmp" 2> "$out.stderr.log" && mv "$out.tmp" "$out" \
      || echo "FAILED sim rollout $policy (see $out.stderr.log)"
  done
fi
doc=${DOC:-docs/results/offline_rl.md}
python3 "$ROOT/scripts/offline_rl_table.py" "$runs" > "$ROOT/$doc.tmp"
mv "$ROOT/$doc.tmp" "$ROOT/$doc"
echo "== wrote $doc"
