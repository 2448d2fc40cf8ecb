#!/usr/bin/env python3
"""docs/results/python_dqn.md: the Python DQN example (examples/python/dqn_cleanrl_style.py) against
the random and most-popular policies in the quickstart simulator's test role (and the synthetic
world's ground truth, its eval role), over 5 training seeds, at the example's gamma and at 0.9.

    .venv/bin/python scripts/python_dqn_results.py [--sim-dir runs/quickstart/sim] [--seeds 1,2,3,4,5]

Fits the simulator first when --sim-dir holds none (the quickstart's `sim fit`, configs/sim/
synthetic.yaml). Each seed trains one DQN per variant and evaluates it, the random and the popular
policy on the same 500 episodes of that seed in each role. The tables give each seed's mean return
with its 95% interval over episodes, then the mean over seeds with a Student-t 95% interval and a
paired t-test over seeds (DQN minus the baseline, same episodes). About 8 minutes on 2 cores.
"""

import argparse
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROLES = ("test", "eval")
POLICIES = ("dqn", "random", "popular")
# t_{0.975, n-1} for n = 2..10 seeds.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def t_interval(values):
    m = statistics.mean(values)
    half = T975[len(values) - 1] * statistics.stdev(values) / math.sqrt(len(values))
    return m, m - half, m + half


def paired_t(a, b):
    d = [x - y for x, y in zip(a, b)]
    sd = statistics.stdev(d)
    t = statistics.mean(d) / (sd / math.sqrt(len(d))) if sd > 0 else math.inf
    return statistics.mean(d), t


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sim-dir", default=str(ROOT / "runs/quickstart/sim"))
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--out", default=str(ROOT / "docs/results/python_dqn.md"))
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if len(seeds) < 2:
        raise SystemExit("python_dqn_results.py: --seeds needs at least 2 seeds for intervals")
    sim = pathlib.Path(args.sim_dir)
    if not (sim / "simulator.json").exists():
        print(f"fitting the quickstart simulator into {sim}", file=sys.stderr, flush=True)
        subprocess.run([str(ROOT / "build/recarena"), "sim", "fit", "--config",
                        str(ROOT / "configs/sim/synthetic.yaml"), "--out", str(sim),
                        "run.log_level=warn"], check=True, stdout=subprocess.DEVNULL)
    variants = [("DQN (gamma 0.5, the default)", []), ("DQN gamma 0.9", ["--gamma", "0.9"])]
    runs = {}  # variant -> [per-seed result]
    with tempfile.TemporaryDirectory() as tmp:
        for v, (name, extra) in enumerate(variants):
            runs[name] = []
            for k, seed in enumerate(seeds):
                out = os.path.join(tmp, f"v{v}-seed{seed}.json")
                print(f"{name}: seed {seed} ({k + 1}/{len(seeds)})", file=sys.stderr, flush=True)
                subprocess.run([sys.executable, str(ROOT / "examples/python/dqn_cleanrl_style.py"),
                                "--sim-dir", str(sim), "--seed", str(seed), "--json-out", out,
                                "--eval-roles", ",".join(ROLES), *extra],
                               check=True, stdout=subprocess.DEVNULL)
                runs[name].append(json.load(open(out)))
    first = runs[variants[0][0]][0]
    lines = ["# Python DQN example vs baselines in the quickstart simulator", "",
             "Produced by `scripts/python_dqn_results.py` (do not edit by hand): "
             f"{len(seeds)} training seeds of `examples/python/dqn_cleanrl_style.py` "
             f"({first['total_steps']} steps of {first['num_envs']} users in the train role of "
             "the synthetic world's fitted simulator, `runs/quickstart/sim`), each evaluated with "
             "the random and the most-popular policy on the same 500 episodes per role: `test` "
             "(the learned simulator of the held-out users) and `eval` (the world's ground truth). "
             "Return = the episode's summed rewards (click probabilities). Repeats are masked.", ""]
    for role in ROLES:
        lines += [f"## Role `{role}`", "",
                  "| variant | seed | train s | DQN return [95% CI over episodes] | random | popular |",
                  "|---|---|---|---|---|---|"]
        for name, _ in variants:
            for r in runs[name]:
                cells = [f"{r[role][q]['mean']:.3f} [{r[role][q]['ci95'][0]:.3f}, "
                         f"{r[role][q]['ci95'][1]:.3f}]" for q in POLICIES]
                lines.append(f"| {name} | {r['seed']} | {r['train_seconds']} | " +
                             " | ".join(cells) + " |")
        lines += ["", "Over seeds (mean of the per-seed means, Student-t 95% interval), and DQN "
                  "paired with each baseline on the same episodes (t over seeds, df = "
                  f"{len(seeds) - 1}, t_0.975 = {T975[len(seeds) - 1]}):", "",
                  "| policy | mean return | 95% CI | minus random (t) | minus popular (t) |",
                  "|---|---|---|---|---|"]
        base = runs[variants[0][0]]
        for q in ("random", "popular"):
            m, lo, hi = t_interval([r[role][q]["mean"] for r in base])
            lines.append(f"| {q} | {m:.3f} | [{lo:.3f}, {hi:.3f}] | | |")
        for name, _ in variants:
            dqn = [r[role]["dqn"]["mean"] for r in runs[name]]
            m, lo, hi = t_interval(dqn)
            diffs = []
            for q in ("random", "popular"):
                d, t = paired_t(dqn, [r[role][q]["mean"] for r in runs[name]])
                diffs.append(f"{d:+.3f} ({t:.1f})")
            lines.append(f"| {name} | {m:.3f} | [{lo:.3f}, {hi:.3f}] | " + " | ".join(diffs) + " |")
        lines.append("")
    tmp_out = args.out + ".tmp"
    with open(tmp_out, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp_out, args.out)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
