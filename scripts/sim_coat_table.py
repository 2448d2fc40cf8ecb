"""docs/results/simulator_coat.md from the fits of scripts/sim_coat_results.sh.

usage: sim_coat_table.py OUT "SEEDS" TAG [TAG ...]   (OUT/<tag>-s<seed>/report.json; the first
tag is the shipped config, the others are compared with it seed by seed)
"""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table_stats import fmt, mean_ci  # noqa: E402

REFS = ("popularity", "item_knn", "mf")


def cells(report, role):
    """The numbers of one role of one fit."""
    r = report["roles"][role]
    models = r["schemes"]["logged"]["models"]
    learned = models["learned"]
    rx = r.get("random_exposure") or {}
    ref_auc = max(models[m]["auc"] for m in REFS)
    ref_rmse = min(models[m]["rmse"] for m in REFS)
    return {
        "auc": learned["auc"],
        "rmse": learned["rmse"],
        "ece": learned["ece"],
        "ref_auc": ref_auc,
        "ref_rmse": ref_rmse,
        "beats": float(learned["auc"] > ref_auc and learned["rmse"] < ref_rmse),
        "rx_rmse": rx.get("rmse", float("nan")),
        "rx_auc": rx.get("auc", float("nan")),
        "length": r["length_simulated_mean"],
    }


def main():
    out, seeds, tags = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
    data = {t: {s: json.load(open(os.path.join(out, f"{t}-s{s}", "report.json"))) for s in seeds}
            for t in tags}
    cols = [("auc", "held-out AUC"), ("rmse", "held-out RMSE"), ("ece", "ECE"),
            ("ref_auc", "best reference AUC"), ("ref_rmse", "best reference RMSE"),
            ("beats", "seeds beating every reference"), ("rx_rmse", "random-exposure RMSE"),
            ("rx_auc", "random-exposure AUC"), ("length", "random policy's session length")]
    print("# The Coat simulator's response model over seeds\n")
    print(f"Produced by `scripts/sim_coat_results.sh` on {datetime.date.today()} (2 CPU cores): "
          f"configs/sim/coat.yaml and variants of it fitted with seeds {', '.join(seeds)} (each "
          "seed draws its own split of the 290 users into 232 train / 58 test role users and "
          "its own initialisation), each reported with `recarena sim report`. Mean ± 95% t "
          "half-width over the seeds. Held-out rows: the other role's self-selected ratings "
          "(the report's `logged` scheme); random-exposure rows: the role's own users' ratings of "
          "randomly shown items (Coat's test part). docs/results/simulator_notes.md reads them.\n")
    for role in ("test", "train"):
        print(f"## {role} role\n")
        print("| variant | " + " | ".join(c[1] for c in cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        for t in tags:
            row = [cells(data[t][s], role) for s in seeds]
            out_cells = []
            for key, _ in cols:
                xs = [c[key] for c in row]
                if key == "beats":
                    out_cells.append(f"{int(sum(xs))} of {len(xs)}")
                else:
                    out_cells.append(fmt(*mean_ci(xs)))
            print(f"| {t} | " + " | ".join(out_cells) + " |")
        print()
        print(f"Paired over seeds, {tags[0]} minus each variant (negative RMSE / ECE and positive "
              "AUC favour the shipped config):\n")
        keys = [("auc", "held-out AUC"), ("rmse", "held-out RMSE"), ("ece", "ECE"),
                ("rx_rmse", "random-exposure RMSE"), ("rx_auc", "random-exposure AUC")]
        print("| variant | " + " | ".join(k[1] for k in keys) + " |")
        print("|---" * (len(keys) + 1) + "|")
        for t in tags[1:]:
            diffs = []
            for key, _ in keys:
                d = [cells(data[tags[0]][s], role)[key] - cells(data[t][s], role)[key]
                     for s in seeds]
                diffs.append(fmt(*mean_ci(d)))
            print(f"| {t} | " + " | ".join(diffs) + " |")
        print()


if __name__ == "__main__":
    main()
