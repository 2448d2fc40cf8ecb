#!/usr/bin/env bash
# How the synthetic world's logging policy moves the learned simulators away from the truth:
# fits configs/sim/synthetic-uniform.yaml under three logging policies and writes
# docs/results/simulator_logging.md (a table from each fit's report.json).
#
#   scripts/sim_logging_results.sh     # needs build/recarena (make build)
#
# Policies (data.synthetic.*, docs/synthetic_world.md): "popularity-biased" is the shipped world
# (logging_pop_power 1, logging_utility_share 0.2); "uniform exposure" shows slates drawn without
# popularity (pop power 0, utility share 0.2); "utility-driven" shows what users like (pop power 1,
# utility share 0.8). Fits go to $OUT/<tag> (default runs/sim-logging); a finished fit is reused.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RECARENA_BIN:-$ROOT/build/recarena}
OUT=${OUT:-$ROOT/runs/sim-logging}
PY=${RECARENA_PYTHON:-$ROOT/.venv/bin/python}
DOC=$ROOT/docs/results/simulator_logging.md
[[ -x $BIN ]] || { echo "sim_logging_results.sh: $BIN not built (run make build first)" >&2; exit 2; }
declare -A POLICY=(
  [popularity-biased]="data.synthetic.logging_pop_power=1 data.synthetic.logging_utility_share=0.2"
  [uniform-exposure]="data.synthetic.logging_pop_power=0 data.synthetic.logging_utility_share=0.2"
  [utility-driven]="data.synthetic.logging_pop_power=1 data.synthetic.logging_utility_share=0.8"
)
TAGS="popularity-biased uniform-exposure utility-driven"
for tag in $TAGS; do
  echo "== $tag" >&2
  # shellcheck disable=SC2086
  "$BIN" sim fit --config "$ROOT/configs/sim/synthetic-uniform.yaml" --out "$OUT/$tag" ${POLICY[$tag]} \
    run.log_level=warn >/dev/null
  "$BIN" sim report "$OUT/$tag" >/dev/null
done
"$PY" - "$OUT" "$DOC" $TAGS <<'PY'
import json, sys, datetime, os
out, doc, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = []
for tag in tags:
    r = json.load(open(os.path.join(out, tag, "report.json")))["roles"]
    def g(role, *path):
        x = r[role]
        for p in path:
            x = x[p]
        return x
    rows.append((tag,
                 g("train", "truth_corr"), g("test", "truth_corr"),
                 g("train", "schemes", "uniform", "models", "learned", "auc"),
                 g("eval", "schemes", "uniform", "models", "learned", "auc"),
                 g("eval", "schemes", "uniform", "models", "item_knn", "auc"),
                 g("test", "rollout_popular", "avg_reward", "mean"),
                 g("eval", "rollout_popular", "avg_reward", "mean"),
                 g("test", "rollout_random", "avg_reward", "mean"),
                 g("eval", "rollout_random", "avg_reward", "mean")))
with open(doc, "w") as f:
    f.write("# The synthetic world's logging policy and the simulator-to-truth gap\n\n")
    f.write("Produced by `scripts/sim_logging_results.sh` on %s: `recarena sim fit` of "
            "configs/sim/synthetic-uniform.yaml under three logging policies (one fit each), then `recarena "
            "sim report`. truth corr: mean per-user Pearson correlation of the learned expected "
            "rewards with the true utilities. Held-out AUC of logged next items (uniform "
            "negatives): the train simulator's, and the ground truth's (eval role) against item "
            "kNN on the same rows. R_avg of the most-popular and the random policy in the learned "
            "test simulator and in the ground truth.\n\n" % datetime.date.today().isoformat())
    f.write("| logging policy | truth corr train / test | AUC learned (train) | AUC truth / item kNN "
            "| popular R_avg learned test / truth | random R_avg learned test / truth |\n")
    f.write("|---|---|---|---|---|---|\n")
    for t in rows:
        f.write("| %s | %.3f / %.3f | %.3f | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f |\n" % t)
print("wrote", doc, file=sys.stderr)
PY
