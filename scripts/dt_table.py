#!/usr/bin/env python3
"""Table 4.3-style markdown (mean +- std over seeds) from the runs of scripts/dt_results.sh."""
import glob
import json
import os
import statistics
import sys

runs = sys.argv[1]
datasets = [("ml-latest-small", "leave-one-out: one test query per user"),
            ("rc15", "every position of the test sessions"),
            ("amazon-industrial", "every position, user split")]
models = [("sasrec", "SASRec"), ("mrdt", "MRDT"), ("modt4r", "MODT4R")]
groups = [("Accuracy", ["HR@10", "NDCG@10", "HR@20", "NDCG@20"]),
          ("Diversity", ["CV_div@5", "CV_div@10", "CV_div@20"]),
          ("Novelty", ["CV_nov@5", "CV_nov@10", "CV_nov@20"]),
          ("Repetitiveness", ["R@5", "R@10", "R@20"])]

print("# Decision transformers vs SASRec (thesis Table 4.3 layout)\n")
print("Produced by `scripts/dt_results.sh` (configs `configs/offline/<dataset>-<model>.yaml`; SASRec "
      "trained for 600 Adam steps of 256 windows, the decision transformers for their configs' budget "
      "(all window positions are examples; `steps` row); one thread; best validation NDCG@10 "
      "checkpoint; full-catalog ranking). Cells are mean +- std over the seeds listed (run.seed also draws the "
      "validation hold-out and, for amazon-industrial, the user split). CV_div@k / CV_nov@k: catalog / "
      "long-tail coverage of the top-k lists; R@k: repetitions within a session's lists (Eq. 4.20; 0 "
      "when a session has one query). MODT4R/MRDT use the run-time inference parameters of their "
      "configs (alpha, lambda, epsilon; docs/decision_transformer.md).\n")
for ds, protocol in datasets:
    cells, seeds = {}, {}
    for key, _ in models:
        ms = []
        for f in sorted(glob.glob(os.path.join(runs, f"{ds}-{key}-s*", "metrics.json"))):
            ms.append(json.load(open(f)))
        cells[key] = ms
        seeds[key] = len(ms)
    if not any(cells.values()):
        continue
    print(f"## {ds} ({protocol})\n")
    print("| objective | metric | " + " | ".join(f"{n} (n={seeds[k]})" for k, n in models) + " |")
    print("|---|---|" + "---|" * len(models))
    print("| budget | steps | " + " | ".join(
        "/".join(sorted({str(int(m.get("steps", 0))) for m in cells[k]})) or "-" for k, _ in models) + " |")
    for g, cols in groups:
        for c in cols:
            row = []
            for key, _ in models:
                vals = [m[c] for m in cells[key] if c in m]
                if not vals:
                    row.append("-")
                elif len(vals) == 1:
                    row.append(f"{vals[0]:.4f}")
                else:
                    row.append(f"{statistics.mean(vals):.4f} ± {statistics.stdev(vals):.4f}")
            print(f"| {g} | {c} | " + " | ".join(row) + " |")
    nq = [int(m["num_queries"]) for ms in cells.values() for m in ms if "num_queries" in m]
    print(f"\n{nq[0] if nq else '?'} test queries per run.\n")
