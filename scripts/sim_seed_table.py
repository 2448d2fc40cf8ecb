"""docs/results/simulator_seeds.md from the fits of scripts/sim_seed_results.sh.

usage: sim_seed_table.py OUT "SEEDS" NAME [NAME ...]   (OUT/<name>-s<seed>/report.json)

For every config, role and negative scheme: the learned model's held-out AUC and log-loss, those
of the reference that is best on average over the seeds, the learned model minus that reference
paired over seeds (mean ± 95% t half-width), and in how many seeds the learned model beat every
reference.
"""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table_stats import fmt, mean_ci  # noqa: E402

REFS = ("popularity", "item_knn", "mf")


def main():
    out, seeds, names = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
    print("# The click simulators against the reference models, over seeds\n")
    print(f"Produced by `scripts/sim_seed_results.sh` on {datetime.date.today()} (2 CPU cores): "
          f"each shipped click config fitted with seeds {', '.join(seeds)} (each seed draws its "
          "own split of the users into the train and test roles and its own initialisation) and "
          "reported with `recarena sim report`. Mean ± 95% t half-width over the seeds; "
          "\"learned - ref\" is paired by seed, against the reference with the best mean (highest "
          "AUC, lowest log-loss); \"seeds\" counts the seeds in which the learned model beat every "
          "reference. docs/results/simulator_notes.md reads them.\n")
    for name in names:
        reps = {s: json.load(open(os.path.join(out, f"{name}-s{s}", "report.json")))
                for s in seeds}
        print(f"## {name}\n")
        print("| role | negatives | learned AUC | best ref AUC | learned - ref | seeds | "
              "learned log-loss | best ref log-loss | learned - ref | seeds |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        first = reps[seeds[0]]["roles"]
        for role in ("test", "train"):
            for scheme in sorted(first[role]["schemes"]):
                models = [reps[s]["roles"][role]["schemes"][scheme]["models"] for s in seeds]
                cells = []
                for key, higher in (("auc", True), ("logloss", False)):
                    # One column (a value per seed) per model.
                    col = {m: [x[m][key] for x in models] for m in ("learned",) + REFS}
                    learned = col["learned"]
                    best = max if higher else min
                    ref = best(REFS, key=lambda m: sum(col[m]))  # best mean over the seeds
                    diff = [a - b for a, b in zip(learned, col[ref])]
                    wins = 0
                    for i, x in enumerate(learned):
                        other = best(col[m][i] for m in REFS)
                        wins += x > other if higher else x < other
                    cells += [fmt(*mean_ci(learned)), f"{ref} {fmt(*mean_ci(col[ref]))}",
                              fmt(*mean_ci(diff)), f"{wins} of {len(seeds)}"]
                print(f"| {role} | {scheme} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
