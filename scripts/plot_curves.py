#!/usr/bin/env python3
"""Learning curves of `recarena experiment`: results.csv -> curves_<simulator>.png.

Usage: plot_curves.py RESULTS_CSV OUT_DIR
One figure per simulator with two panels (Return and Length in the run's evaluation role, test or
eval, vs environment user-steps); one line per (agent, exploration), the mean over seeds with a
+-1 std band.
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_curves.py RESULTS_CSV OUT_DIR")
    rows = list(csv.DictReader(open(sys.argv[1])))
    by_sim = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in rows:
        key = r["agent"] if r["exploration"] == "-" else f'{r["agent"]} / {r["exploration"]}'
        by_sim[r["simulator"]][key][int(r["user_steps"])].append((float(r["return"]), float(r["length"])))
    for sim, series in by_sim.items():
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for key, points in sorted(series.items()):
            xs = sorted(points)
            for ax, idx in zip(axes, (0, 1)):
                vals = [[p[idx] for p in points[x]] for x in xs]
                mean = [sum(v) / len(v) for v in vals]
                sd = [(sum((a - m) ** 2 for a in v) / max(1, len(v) - 1)) ** 0.5 for v, m in zip(vals, mean)]
                ax.plot(xs, mean, label=key)
                ax.fill_between(xs, [m - s for m, s in zip(mean, sd)], [m + s for m, s in zip(mean, sd)], alpha=0.15)
        axes[0].set_ylabel("Return (evaluation role)")
        axes[1].set_ylabel("Length (evaluation role)")
        for ax in axes:
            ax.set_xlabel("environment user-steps")
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=7)
        fig.suptitle(f"simulator {sim}")
        fig.tight_layout()
        fig.savefig(f"{sys.argv[2]}/curves_{sim}.png", dpi=110)


if __name__ == "__main__":
    main()
