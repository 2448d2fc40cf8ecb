#!/usr/bin/env python3
"""Reliability diagrams of a simulator fidelity report: report.json -> PNG.

Usage: plot_sim_reliability.py REPORT_JSON OUT_PNG
One panel per role: mean predicted vs mean observed reward (scaled to [0, 1]) in the report's 10
equal-width bins of the learned response model on held-out users (uniform negatives), marker area
proportional to the bin's rows, with the role's expected calibration error in the title.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_sim_reliability.py REPORT_JSON OUT_PNG")
    report = json.load(open(sys.argv[1]))
    roles = list(report["roles"].items())
    fig, axes = plt.subplots(1, len(roles), figsize=(4 * len(roles), 4), squeeze=False)
    for ax, (role, r) in zip(axes[0], roles):
        bins = r.get("calibration", [])
        total = sum(b["rows"] for b in bins) or 1
        xs = [b["mean_predicted"] for b in bins]
        ys = [b["mean_observed"] for b in bins]
        sizes = [2000 * b["rows"] / total for b in bins]
        ax.plot([0, 1], [0, 1], "--", color="gray", linewidth=1, label="perfect")
        ax.plot(xs, ys, "-", color="tab:blue", linewidth=1)
        ax.scatter(xs, ys, s=sizes, color="tab:blue", alpha=0.6, label="learned model")
        ece = r.get("ece")
        ax.set_title(f"{role}: ECE {ece:.3f}" if isinstance(ece, (int, float)) else role)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean predicted")
        ax.set_ylabel("mean observed")
        ax.legend(loc="upper left", fontsize=8, markerscale=0.3)
    fig.suptitle(f"Held-out reliability: {report['dataset']}")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
