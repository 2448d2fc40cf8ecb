#!/usr/bin/env python3
"""docs/results/dt_online.md from the outputs of scripts/dt_online_results.sh (run from the root).

Sections: the online experiment table (runs/dt-ml-latest-small/summary.md), the target-novelty
sweep (runs/dt-novelty/<n>/metrics.json) and the offline alpha/lambda trade-off
(runs/offline/ml-latest-small-mrdt/sweep/sweep.md). Plots are copied to docs/results/img/.
"""
import datetime
import json
import os
import shutil

IMG = "docs/results/img"


def section(title, path, intro=""):
    """A '## title' section with intro and the markdown file at path (its '# ' title dropped, its
    '## ' headings demoted to '### ')."""
    if not os.path.exists(path):
        return f"## {title}\n\n(missing: {path})\n\n"
    lines = open(path).read().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    lines = ["#" + ln if ln.startswith("## ") else ln for ln in lines]
    return f"## {title}\n\n{intro}" + "\n".join(lines).strip() + "\n\n"


def main():
    os.makedirs(IMG, exist_ok=True)
    out = ["# The decision transformer in the simulator (ml-latest-small)\n\n"]
    out.append(
        f"Produced by `scripts/dt_online_results.sh` on {datetime.date.today()} ({os.cpu_count()} CPU "
        "cores): the simulator of `configs/sim/ml-latest-small.yaml`, MRDT trained offline by "
        "`configs/offline/ml-latest-small-mrdt.yaml` (best validation checkpoint), then used by "
        "`agent.kind: dt` (docs/decision_transformer.md, \"In the simulator\"). Evaluations are in "
        "the test role (users unseen in training), greedy.\n\n")
    exp = "runs/dt-ml-latest-small/summary.md"
    text = section("DT vs DQN, A2C and baselines (`configs/experiments/dt-ml-latest-small.yaml`)", exp,
                   "500 environment steps x 16 users of training (2 epochs), 100 test episodes per "
                   "evaluation. `ml-latest-small-dt`: MRDT at the 0.9-quantile targets (R_acc 10, "
                   "R_nov 9), alpha 1, fine-tuned online; `ml-latest-small-dt-novel`: the same "
                   "networks at R_acc = R_nov = 10 and alpha 0.\n\n")
    for png in ("curves_ml-latest-small.png",):
        src = os.path.join("runs/dt-ml-latest-small", png)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(IMG, "dt_online_" + png))
            text = text.replace(f"]({png})", f"](img/dt_online_{png})")
    out.append(text)
    rows = []
    root = "runs/dt-novelty"
    if os.path.isdir(root):
        for name in os.listdir(root):  # alpha<a>-<n>
            m = os.path.join(root, name, "metrics.json")
            if name.startswith("alpha") and os.path.exists(m):
                a, n = name[len("alpha"):].split("-")
                rows.append((float(a), float(n), json.load(open(m))))
        rows.sort(key=lambda r: (r[0], r[1]))
    out.append("## Target novelty return vs long-tail share\n\n")
    out.append(
        "`recarena online --config configs/online/ml-latest-small-dt.yaml agent.dt.alpha=A "
        "agent.dt.target.kind=value agent.dt.target.accuracy=10 agent.dt.target.novelty=N "
        "agent.dt.train_every=0` (the offline MRDT acting, no online learning; 200 test episodes, "
        "the same users and draws for every row). LT share: share of the recommendations that are "
        "long-tail items (bottom 90% of the train role's logged consumption). alpha = 0 ranks by "
        "the transformer's action head alone; alpha = 1 adds the UserTrans scores (Eq. 4.19), which "
        "do not see the returns.\n\n")
    out.append("| alpha | target novelty | LT share | coverage | Return | Length | R_avg |\n"
               "|---|---|---|---|---|---|---|\n")
    for a, n, m in rows:
        out.append(f"| {a:g} | {n:g} | {m.get('long_tail_share', 0):.3f} | {m.get('coverage', 0):.4f} | "
                   f"{m['R']:.3f} | {m['Len']:.2f} | {m['R_avg']:.3f} |\n")
    out.append("\n")
    sweep = "runs/offline/ml-latest-small-mrdt/sweep/sweep.md"
    text = section("Offline trade-off: alpha and lambda at inference (`recarena dt-sweep`)", sweep,
                   "Test windows of the offline MRDT run (610 queries), `recarena dt-sweep "
                   "runs/offline/ml-latest-small-mrdt` (alpha swept at the run's lambda = 1, "
                   "lambda at the run's alpha = 1; epsilon 0.5).\n\n")
    src = "runs/offline/ml-latest-small-mrdt/sweep/sweep.png"
    if os.path.exists(src):
        shutil.copy(src, os.path.join(IMG, "dt_sweep_ml-latest-small.png"))
        text = text.replace("](sweep.png)", "](img/dt_sweep_ml-latest-small.png)")
    out.append(text)
    print("".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
