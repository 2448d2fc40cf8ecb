#!/usr/bin/env python3
"""Policy-ranking plot of an experiment with experiment.ranking: ranking.json -> PNG.

Usage: plot_ranking.py RANKING_JSON OUT_PNG
One panel per simulator: each policy's mean return in the learned role (x) against the reference
role (y), with the 95% intervals over seeds as error bars; Kendall's tau and its bootstrap interval
in the title. Policies that rank alike in both roles lie along an increasing curve.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"random": "tab:gray", "popular": "tab:orange", "oracle": "tab:green", "dqn": "tab:blue",
          "a2c": "tab:red", "pg": "tab:purple", "dt": "tab:brown"}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_ranking.py RANKING_JSON OUT_PNG")
    ranking = json.load(open(sys.argv[1]))
    learned, ref = ranking["roles"]
    sims = ranking["simulators"]
    cols = min(3, len(sims))
    rows = (len(sims) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 4.2 * rows), squeeze=False)
    for ax in axes.flat[len(sims):]:
        ax.axis("off")
    for ax, sim in zip(axes.flat, sims):
        for p in sim["policies"]:
            a, b = p["roles"][learned], p["roles"][ref]
            x, y = a["return"], b["return"]
            xerr = [[x - a["return_ci95"][0]], [a["return_ci95"][1] - x]]
            yerr = [[y - b["return_ci95"][0]], [b["return_ci95"][1] - y]]
            color = COLORS.get(p["kind"], "black")
            marker = "s" if p["exploration"] == "categorical" else "o"
            ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt=marker, color=color, markersize=5,
                        elinewidth=0.8, capsize=2)
            label = p["agent"].replace("synthetic-", "")
            if p["exploration"] != "-":
                label += "/" + ("cat" if p["exploration"] == "categorical" else "eps")
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
        lo, hi = sim["tau_ci95"]
        ax.set_title(f"{sim['simulator']}: tau {sim['tau']:.2f} [{lo:.2f}, {hi:.2f}]", fontsize=10)
        ax.set_xlabel(f"return in the learned {learned} role")
        ax.set_ylabel(f"return in the {ref} role")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
