#!/usr/bin/env python3
"""HDT vs Normal markdown table (mean +- std over seeds) from the runs of scripts/hdt_results.sh."""
import glob
import json
import os
import statistics
import sys

runs = sys.argv[1]
encoders = [("sasrec", "SASRec"), ("gru4rec", "GRU4Rec"), ("caser", "Caser"), ("nextitnet", "NextItNet")]
models = [("session-normal", "Normal"), ("hdt", "HDT"), ("hdt-sequential", "HDT (seq. head)")]
metrics = ([f"HR@{k}" for k in (5, 10, 20)] + [f"NDCG@{k}" for k in (5, 10, 20)] +
           [f"CV_div@{k}" for k in (5, 10, 20)] + [f"UP@{k}" for k in (5, 10, 20)] +
           [f"HR_ser@{k}" for k in (5, 10, 20)] + [f"NDCG_ser@{k}" for k in (5, 10, 20)])


def cell(vals):
    if not vals:
        return "-"
    if len(vals) == 1:
        return f"{vals[0]:.4f}"
    return f"{statistics.mean(vals):.4f} ± {statistics.stdev(vals):.4f}"


print("# HDT vs Normal on sessionized ml-latest-small (thesis Ch. 5)\n")
print("Produced by `scripts/hdt_results.sh` (configs `configs/offline/ml-latest-small-hdt.yaml` and "
      "`ml-latest-small-session-normal.yaml`, encoder overridden; one thread; best validation NDCG@10 "
      "checkpoint; full-catalog ranking). Protocol (docs/hdt.md): 60-minute sessionization, items "
      "with >= 3 ratings, sessions of >= 3 ratings truncated to their last 20, users with >= 5 "
      "sessions; test = every position of each user's last session, validation = the second-last "
      "session, training = the rest. Normal is the same encoder trained by next-item cross-entropy "
      "on the same training sessions and scored on the same queries (current-session prefix as "
      "input). HDT ranks by the sum of the sequential and IntraDT action log-softmaxes "
      "(model.scoring=sequential_action, the default); HDT (seq. head) ranks by the goal-conditioned "
      "sequential head only (model.scoring=sequential). Cells are mean ± std over the seeds (n = runs). CV = CV_div@k (catalog coverage of "
      "the top-k lists); UP@k = number of top-k items not in the user's earlier sessions (a count, 0..k, "
      "averaged per user); "
      "HR_ser/NDCG_ser = hits on targets not in the earlier sessions (docs/metrics.md; MovieLens "
      "users never re-rate a movie, so here every target is unseen and HR_ser = HR, NDCG_ser = NDCG). "
      "`steps` = the steps each run trained before early stopping (the evaluated checkpoint is the "
      "best validation one). A reading of these numbers: docs/hdt.md, section Results.\n")
for enc, enc_name in encoders:
    cells = {}
    for key, _ in models:
        cells[key] = [json.load(open(f)) for f in
                      sorted(glob.glob(os.path.join(runs, f"{enc}-{key}-s[0-9]*", "metrics.json")))]
    if not any(cells.values()):
        continue
    first = next(m for ms in cells.values() for m in ms)
    print(f"## {enc_name} ({int(first.get('users', 0))} users, "
          f"{int(first.get('test_queries', 0))} test queries)\n")
    print("| metric | " + " | ".join(f"{n} (n={len(cells[k])})" for k, n in models) + " |")
    print("|---|" + "---|" * len(models))
    print("| steps | " + " | ".join(
        "/".join(str(int(m.get("steps", 0))) for m in cells[k]) or "-" for k, _ in models) + " |")
    for c in metrics:
        print(f"| {c} | " + " | ".join(cell([m[c] for m in cells[k] if c in m]) for k, _ in models) + " |")
    print()
