#!/usr/bin/env python3
"""docs/results/offline_rl.md from the runs of scripts/offline_rl_results.sh (Table 6.2's layout:
learners x encoders, HR and NDCG at 5, 10, 20). Cells are mean ± 95% Student-t interval over seeds;
"vs Normal" is the per-seed paired difference of NDCG@10 (and HR@10) to Normal with its t-interval,
and a difference is called only when that interval excludes 0.
Usage: scripts/offline_rl_table.py RUNS_DIR > docs/results/offline_rl.md"""
import datetime
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table_stats import fmt, mean_ci  # noqa: E402

DATASETS = [("rc15", "rc15-sample, every position of the test sessions, clicks rewarded 0.2"),
            ("ml-latest-small", "leave-one-out, ratings >= 4 rewarded 1.0, others 0.2"),
            ("amazon-industrial", "every position, user split, reviews rewarded 0.2")]
ENCODERS = [("gru4rec", "GRU4Rec"), ("sasrec", "SASRec"), ("caser", "Caser"),
            ("nextitnet", "NextItNet")]
MODELS = [("normal", "Normal"), ("sqn", "SQN"), ("sac", "SAC"), ("snqn", "SNQN"), ("sa2c", "SA2C"),
          ("cql", "CQL"), ("bcq", "BCQ")]
COLS = ["HR@5", "NDCG@5", "HR@10", "NDCG@10", "HR@20", "NDCG@20"]


def load(runs, ds, enc, model):
    """{seed: metrics.json + best_step} of the finished runs of one cell."""
    out = {}
    for path in glob.glob(os.path.join(runs, f"{ds}-{enc}-{model}-s*", "metrics.json")):
        seed = int(re.search(r"-s(\d+)$", os.path.dirname(path)).group(1))
        m = json.load(open(path))
        m["best_step"] = best_step(os.path.join(os.path.dirname(path), "metrics.jsonl"))
        out[seed] = m
    return out


def best_step(path):
    """The step of the best validation NDCG@10 in a run's metrics.jsonl (None if unreadable)."""
    best, step = None, None
    if not os.path.exists(path):
        return None
    for line in open(path):
        r = json.loads(line)
        v = r.get("valid_NDCG@10")
        if v is not None and (best is None or v > best):
            best, step = v, r.get("step")
    return step


def paired(cells, ref, key):
    seeds = sorted(set(cells) & set(ref))
    m, h = mean_ci([cells[s][key] - ref[s][key] for s in seeds])
    return m, h, len(seeds)


def verdict(m, h):
    if h != h:  # nan: fewer than 2 pairs
        return ""
    if m - h > 0:
        return " (better)"
    if m + h < 0:
        return " (worse)"
    return " (n.s.)"


def section(runs, ds, desc):
    lines = []
    for enc, enc_name in ENCODERS:
        cells = {k: load(runs, ds, enc, k) for k, _ in MODELS}
        if not any(cells.values()):
            continue
        first = next(m for c in cells.values() for m in c.values())
        if not lines:
            lines.append(f"## {ds} ({desc}; {int(first.get('num_queries', 0))} test queries)\n")
        lines.append(f"### {enc_name}\n")
        lines.append("| learner | n | steps (best) | " + " | ".join(COLS) +
                     " | ΔNDCG@10 vs Normal | ΔHR@10 vs Normal |")
        lines.append("|---|---|---|" + "---|" * (len(COLS) + 2))
        for key, name in MODELS:
            c = cells[key]
            if not c:
                continue
            steps = "/".join(f"{int(m['steps'])} ({m['best_step']})" for _, m in sorted(c.items()))
            row = [fmt(*mean_ci([m[col] for m in c.values()]), digits=4) for col in COLS]
            diffs = []
            for col in ("NDCG@10", "HR@10"):
                if key == "normal" or not cells["normal"]:
                    diffs.append("-")
                    continue
                m, h, n = paired(c, cells["normal"], col)
                diffs.append(fmt(m, h, digits=4) + verdict(m, h))
            lines.append(f"| {name} | {len(c)} | {steps} | " + " | ".join(row + diffs) + " |")
        lines.append("")
    return lines


def main():
    runs = sys.argv[1]
    print("# Offline RL from logs: Normal vs SQN / SAC / SNQN / SA2C\n")
    print(f"Produced by `scripts/offline_rl_results.sh` (regenerated {datetime.date.today()}; "
          "readings in docs/results/offline_rl_notes.md). Each run is "
          "`configs/offline/<dataset>-<encoder>.yaml` with `model_kind` and `run.seed` overridden: "
          "the same encoder, data, batch (256), learning rate, step budget, early stopping on "
          "validation NDCG@10 and full-catalog test ranking with the supervised head (ties by "
          "smaller item id, docs/metrics.md). RL settings are the reference code's (discount 0.5, "
          "10 negatives, advantage clipped to [0, 10], IPS off) except SA2C's switch, which comes "
          "halfway through this budget (docs/offline_rl.md). Cells are mean ± 95% t-interval over "
          "seeds (n); Δ columns are paired per seed, and a learner is called better or worse than "
          "Normal only when the interval of the difference excludes 0 (n.s. otherwise). `steps "
          "(best)` lists per seed the steps trained and the step of the evaluated best-validation "
          "checkpoint.\n")
    print("Budget beside the papers': Xin et al. train RC15 (200k sessions) and RetailRocket for "
          "tens of thousands of steps of batch 256 on a GPU, SA2C switching at step 15,000; here "
          "each run has the 2-core CPU budget of docs/results/offline.md (rc15-sample: 800 steps, "
          "switch at 400; ml-latest-small: 3,000 steps, switch at 1,500), so SA2C's actor-critic "
          "phase is short and absolute numbers are not comparable with the papers' tables.\n")
    for ds, desc in DATASETS:
        for line in section(runs, ds, desc):
            print(line)


if __name__ == "__main__":
    main()
