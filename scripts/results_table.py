#!/usr/bin/env python3
"""Builds the offline results table (markdown) from the run directories of scripts/offline_results.sh."""
import json
import os
import sys

runs = sys.argv[1]
datasets = [("ml-latest-small", "leave-one-out"), ("rc15", "every position"),
            ("amazon-industrial", "every position, user split")]
models = ["popularity", "gru4rec", "sasrec", "caser", "nextitnet"]
names = {"popularity": "Popularity", "gru4rec": "GRU4Rec", "sasrec": "SASRec", "caser": "Caser",
         "nextitnet": "NextItNet"}
cols = ["HR@5", "NDCG@5", "HR@10", "NDCG@10", "HR@20", "NDCG@20", "MRR", "CV_div@10", "CV_nov@10"]
print("# Offline next-item results\n")
print("Full-catalog ranking (no sampled negatives; ties by smaller item id, docs/metrics.md), test split,")
print("best validation NDCG@10 checkpoint, seed 42. Produced by "
      "`scripts/offline_results.sh build runs/offline-results train.threads=1` (configs in "
      "`configs/offline/`; `steps` = Adam steps of batch 256 actually taken, a budget sized for a "
      "2-core CPU). MRR is over the full ranking; CV_div/CV_nov are catalog and long-tail coverage "
      "of the top-10 lists (docs/metrics.md).\n")
for ds, protocol in datasets:
    print(f"## {ds} ({protocol})\n")
    print("| model | steps | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for m in models:
        path = os.path.join(runs, f"{ds}-{m}", "metrics.json")
        if not os.path.exists(path):
            print(f"| {names[m]} | (missing) |" + " |" * len(cols))
            continue
        j = json.load(open(path))
        steps = j.get("steps", "-")
        print(f"| {names[m]} | {steps} | " + " | ".join(f"{j[c]:.4f}" if c in j else "-" for c in cols) + " |")
    nq = None
    p = os.path.join(runs, f"{ds}-popularity", "metrics.json")
    if os.path.exists(p):
        nq = int(json.load(open(p))["num_queries"])
    print(f"\n{nq} test queries.\n" if nq else "")
