#!/usr/bin/env python3
"""Accuracy / coverage trade-off of `recarena dt-sweep`: sweep.csv -> sweep.png.

Usage: plot_dt_sweep.py SWEEP_CSV OUT_PNG
Two panels (alpha sweep, lambda sweep; thesis Figs. 4.4-4.5): HR@10 and NDCG@10 on the left axis,
catalog coverage CV_div@10 and long-tail coverage CV_nov@10 on the right axis, against the swept
parameter.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_dt_sweep.py SWEEP_CSV OUT_PNG")
    rows = list(csv.DictReader(open(sys.argv[1])))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, param in zip(axes, ("alpha", "lambda")):
        pts = sorted((float(r[param]), r) for r in rows if r["parameter"] == param)
        if not pts:
            ax.set_visible(False)
            continue
        xs = [p[0] for p in pts]
        for m, style in (("HR@10", "o-"), ("NDCG@10", "s-")):
            if m in pts[0][1] and pts[0][1][m] != "":
                ax.plot(xs, [float(p[1][m]) for p in pts], style, label=m)
        ax.set_xlabel(param)
        ax.set_ylabel("accuracy")
        right = ax.twinx()
        for m, style in (("CV_div@10", "^--"), ("CV_nov@10", "v--")):
            if m in pts[0][1] and pts[0][1][m] != "":
                right.plot(xs, [float(p[1][m]) for p in pts], style, color="tab:red" if m == "CV_div@10" else "tab:purple", label=m)
        right.set_ylabel("coverage")
        lines = ax.get_legend_handles_labels()
        rlines = right.get_legend_handles_labels()
        ax.legend(lines[0] + rlines[0], lines[1] + rlines[1], fontsize=8, loc="best")
        ax.set_title(f"sweep over {param}")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
