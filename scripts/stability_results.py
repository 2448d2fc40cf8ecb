#!/usr/bin/env python3
"""docs/results/stability.md: rank-list stability of original training, plain fine-tuning and FINEST
(issue 18, in the layout of the FINEST paper's Tables 3-5 and Fig. 5), from `recarena stability`.

    .venv/bin/python scripts/stability_results.py [--datasets ml-latest-small,ml-100k,amazon-industrial]
        [--models gru4rec,sasrec,bert4rec] [--seeds 1,2,3] [--perturbations random:0.001,casper:0.001]
        [--steps 3000] [--ft-steps 1000] [--kinds-model bert4rec] [--scale-model bert4rec]
        [--scales 0.001,0.003,0.01,0.03,0.1] [--work runs/stability-results]
        [--out docs/results/stability.md] [--ft-overrides "finest.k=50"] [-- section.key=value ...]

For every dataset x model x run seed x perturbation (deletion; random or CASPER selection, ratio):
  1. original: `recarena stability` of the model's config (run.seed = seed, train.max_steps =
     --steps) with one perturbed retrain from the same initial weights;
  2. FINEST: the same experiment with model_kind finest and `--pretrained` 1's directory: the
     clean model of 1 is fine-tuned on the clean data, the perturbed model of 1 on the perturbed
     data (the paper's setting), train.max_steps = --ft-steps;
  3. fine-tuning: as 2 with finest.weight 0 and finest.simulation_ratio 0 (cross-entropy only).
The rank-list stability (RBO in its full-ranking average-overlap form "AO", which CASPER/FINEST call
RBO, and Jaccard@10) compares each method's clean and perturbed models on the same test queries.
Tables: mean over seeds with Student-t 95% intervals, and paired t-tests over seeds of FINEST
against the original and against fine-tuning. Then, for --kinds-model on the first dataset,
insertion and replacement (random selection, the first ratio) as in Table 5; and for --scale-model,
the perturbation-scale curve of Fig. 5 (random deletion at each of --scales; original vs FINEST),
plotted into docs/results/stability_scale.png.

Work: <work>/<dataset>/<model>/seed<seed>/<method>/ holds one `recarena stability --tag` report per
perturbation beside the method's clean run, trained once and shared by all of them.

Configs: configs/offline/<dataset>-<model>.yaml where it exists; otherwise the dataset's SASRec
config with the encoder overridden (bert4rec: 2 heads, 2 blocks), and ml-100k from the
ml-latest-small configs with data.dataset=ml-100k. Every `recarena stability` directory resumes, so
a killed run of this script continues where it stopped. Arguments after `--` go to every run.
"""

import argparse
import fcntl
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
STAB = ("AO", "Jaccard@10")
ACC = ("MRR", "HR@10", "NDCG@10")
METHODS = ("original", "fine-tuning", "FINEST")


def config_for(dataset, model):
    """(config path, overrides) for a dataset and an encoder."""
    base = "ml-latest-small" if dataset == "ml-100k" else dataset
    extra = ["data.dataset=ml-100k"] if dataset == "ml-100k" else []
    own = ROOT / f"configs/offline/{base}-{model}.yaml"
    if own.exists():
        return own, extra
    sasrec = ROOT / f"configs/offline/{base}-sasrec.yaml"
    if not sasrec.exists():
        raise SystemExit(f"stability_results.py: no config for {dataset} ({own} nor {sasrec})")
    extra = extra + [f"model.encoder.kind={model}"]
    if model == "bert4rec":
        extra += ["model.encoder.num_heads=2", "model.encoder.num_blocks=2"]
    return sasrec, extra


def run_stability(args, config, overrides, out, tag, flags=()):
    """One `recarena stability` experiment in out under tag (resumed when out already holds its
    report; the original run in out is shared by every tag); its report."""
    report = out / f"stability-{tag}.json"
    if report.exists():
        return json.loads(report.read_text())
    cmd = [str(args.build / "recarena"), "stability", "--config", str(config), "--out", str(out),
           "--tag", tag, "--perturbations", "1", "--max-queries", str(args.max_queries), *flags,
           "run.log_level=warn",
           *overrides, *args.extra]
    start = time.time()
    print(f"  $ {' '.join(cmd)}", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(f"    {time.time() - start:.0f} s", file=sys.stderr, flush=True)
    return json.loads(report.read_text())


def perturb_overrides(kind, select, ratio):
    return [f"data.perturb.kind={kind}", f"data.perturb.select={select}",
            f"data.perturb.ratio={ratio}"]


def one_cell(args, dataset, model, seed, kind, select, ratio, methods=METHODS):
    """{method: {"stability": {metric: v}, "accuracy": {metric: v}}} for one seed."""
    config, base = config_for(dataset, model)
    # One directory per dataset, model, seed and method, one tag per perturbation: the clean
    # (original) run of each method is trained once and shared by every perturbation.
    work = args.work / dataset / model / f"seed{seed}"
    tag = f"{kind}-{select}-{ratio:g}"
    common = base + [f"run.seed={seed}"] + perturb_overrides(kind, select, ratio)
    out = {}
    out["original"] = run_stability(args, config, common + [f"train.max_steps={args.steps}"],
                                    work / "original", tag)
    # Each fine-tuning starts from the original experiment's run on the same data (--pretrained):
    # the clean model is fine-tuned on the clean data, the perturbed one on the perturbed data.
    init = work / "original"
    flags = ("--pretrained", str(init))
    finest = common + ["model_kind=finest", f"finest.init_from={init / 'original'}",
                       f"train.max_steps={args.ft_steps}", *args.ft_overrides.split()]
    if "fine-tuning" in methods:
        out["fine-tuning"] = run_stability(
            args, config, finest + ["finest.weight=0", "finest.simulation_ratio=0"],
            work / "fine-tuning", tag, flags)
    if "FINEST" in methods:
        out["FINEST"] = run_stability(args, config, finest, work / "finest", tag, flags)
    return {m: {"stability": {k: r["perturbed"][0]["stability"]["overall"][k]["mean"]
                              for k in STAB},
                "accuracy": {k: r["original"]["test_metrics"][k] for k in ACC}}
            for m, r in out.items()}


def compute_all(args, jobs):
    """Runs every job (one_cell's arguments) not yet reported. Each job holds an exclusive lock on
    its (dataset, model, seed) directory, so several invocations of this script (one per core)
    share the grid: a job another invocation holds is skipped now and tried again next pass."""
    pending, start, ran = list(jobs), time.time(), 0
    while pending:
        blocked = []
        for job in pending:
            lock_dir = args.work / job[0] / job[1] / f"seed{job[2]}"
            lock_dir.mkdir(parents=True, exist_ok=True)
            with open(lock_dir / ".lock", "w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    blocked.append(job)
                    continue
                one_cell(args, *job)
                ran += 1
            rate = (time.time() - start) / ran
            left = len(jobs) - ran
            print(f"[{ran}/{len(jobs)}] {' '.join(map(str, job[:6]))}; {rate:.0f} s per job here, "
                  f"at most {rate * left / 60:.0f} min left", file=sys.stderr, flush=True)
        if len(blocked) == len(pending):
            time.sleep(10)  # every remaining job is held by another invocation
        pending = blocked


def t_interval(values):
    m = statistics.mean(values)
    if len(values) < 2:
        return m, math.nan, math.nan
    half = T975[len(values) - 1] * statistics.stdev(values) / math.sqrt(len(values))
    return m, m - half, m + half


def paired(a, b):
    """Mean difference a - b, its t over seeds, and whether |t| > t_0.975 (p < 0.05)."""
    d = [x - y for x, y in zip(a, b)]
    if len(d) < 2:
        return statistics.mean(d), math.nan, False
    sd = statistics.stdev(d)
    t = statistics.mean(d) / (sd / math.sqrt(len(d))) if sd > 0 else math.copysign(math.inf, statistics.mean(d) or 1)
    return statistics.mean(d), t, abs(t) > T975[len(d) - 1]


def fmt_ci(values):
    m, lo, hi = t_interval(values)
    return f"{m:.4f} [{lo:.4f}, {hi:.4f}]" if not math.isnan(lo) else f"{m:.4f}"


def table_main(results, args, lines):
    for pert in args.perturbations:
        lines += [f"## Deletion, {pert[0]} selection, {pert[1] * 100:g}% of the training "
                  "interactions", ""]
        for part, keys in (("stability", STAB), ("accuracy", ACC)):
            head = "| dataset | model | method | " + " | ".join(keys) + " |"
            lines += [head, "|" + "---|" * (3 + len(keys))]
            for ds in args.datasets:
                for model in args.models:
                    cells = results[(ds, model, pert)]
                    for m in METHODS:
                        vals = [" ".join([fmt_ci([c[m][part][k] for c in cells])]) for k in keys]
                        lines.append(f"| {ds} | {model} | {m} | " + " | ".join(vals) + " |")
            lines.append("")
        lines += ["Paired over seeds (FINEST minus the other method; * = p < 0.05, two-sided t):", "",
                  "| dataset | model | vs | " + " | ".join(f"d{k} (t)" for k in STAB) + " |",
                  "|" + "---|" * (3 + len(STAB))]
        for ds in args.datasets:
            for model in args.models:
                cells = results[(ds, model, pert)]
                for other in ("original", "fine-tuning"):
                    row = []
                    for k in STAB:
                        d, t, sig = paired([c["FINEST"]["stability"][k] for c in cells],
                                           [c[other]["stability"][k] for c in cells])
                        row.append(f"{d:+.4f} ({t:.2f}){'*' if sig else ''}")
                    lines.append(f"| {ds} | {model} | {other} | " + " | ".join(row) + " |")
        lines.append("")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=str(ROOT / "build"))
    p.add_argument("--datasets", default="ml-latest-small,ml-100k,amazon-industrial")
    p.add_argument("--models", default="gru4rec,sasrec,bert4rec")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--perturbations", default="random:0.001,casper:0.001",
                   help="SELECT:RATIO pairs of deletions")
    p.add_argument("--steps", type=int, default=3000, help="training steps of the originals")
    p.add_argument("--ft-steps", type=int, default=1000, help="fine-tuning steps")
    p.add_argument("--max-queries", type=int, default=2000)
    p.add_argument("--ft-overrides", default="",
                   help="space-separated overrides for the fine-tuning runs only (finest.k=5)")
    p.add_argument("--kinds-model", default="bert4rec", help="'' to skip insertion/replacement")
    p.add_argument("--scale-model", default="bert4rec", help="'' to skip the scale curve")
    p.add_argument("--scales", default="0.001,0.003,0.01,0.03,0.1")
    p.add_argument("--work", default=str(ROOT / "runs/stability-results"))
    p.add_argument("--out", default=str(ROOT / "docs/results/stability.md"))
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = p.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.extra = extra
    # Absolute: the fine-tuning runs record finest.init_from paths under work in their configs.
    args.build, args.work = pathlib.Path(args.build), pathlib.Path(args.work).resolve()
    args.datasets = args.datasets.split(",")
    args.models = args.models.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    args.perturbations = [(s.split(":")[0], float(s.split(":")[1]))
                          for s in args.perturbations.split(",")]
    # Every job first, seed-major (a run stopped early has every cell at its first seeds), then
    # the tables read the finished reports back.
    ds0, ratio0 = args.datasets[0], args.perturbations[0][1]
    scales = [float(x) for x in args.scales.split(",")] if args.scale_model else []
    kinds = ("deletion", "insertion", "replacement") if args.kinds_model else ()
    jobs = [(ds, model, seed, "deletion", *pert) for seed in seeds for ds in args.datasets
            for model in args.models for pert in args.perturbations]
    jobs += [(ds0, args.kinds_model, seed, kind, "random", ratio0) for seed in seeds
             for kind in kinds]
    jobs += [(ds0, args.scale_model, seed, "deletion", "random", r, ("original", "FINEST"))
             for seed in seeds for r in scales]
    compute_all(args, jobs)
    results = {(ds, model, pert): [one_cell(args, ds, model, s, "deletion", *pert) for s in seeds]
               for ds in args.datasets for model in args.models for pert in args.perturbations}
    lines = ["# Rank-list stability: original training, fine-tuning and FINEST", "",
             "Produced by `scripts/stability_results.py` (do not edit by hand; readings go in "
             "docs/results/stability_notes.md). Arguments: "
             f"`{' '.join(sys.argv[1:])}`. Run seeds {seeds}; originals trained for "
             f"{args.steps} steps, fine-tuning (plain and FINEST, from the clean original) for "
             f"{args.ft_steps} steps; up to {args.max_queries} test queries, each ranking the whole "
             "catalog. AO is the average overlap over the full ranking (what CASPER and FINEST "
             "report as RBO); Jaccard@10 the top-10 overlap. Intervals: Student-t 95% over seeds.",
             ""]
    table_main(results, args, lines)
    if args.kinds_model:
        lines += [f"## Perturbation types ({args.kinds_model}, {ds0}, random selection, "
                  f"{ratio0 * 100:g}%): AO", "", "| perturbation | " + " | ".join(METHODS) + " |",
                  "|" + "---|" * (1 + len(METHODS))]
        for kind in ("deletion", "insertion", "replacement"):
            cells = [one_cell(args, ds0, args.kinds_model, s, kind, "random", ratio0)
                     for s in seeds]
            lines.append(f"| {kind} | " + " | ".join(
                fmt_ci([c[m]["stability"]["AO"] for c in cells]) for m in METHODS) + " |")
        lines.append("")
    if args.scale_model:
        curve = {m: [] for m in ("original", "FINEST")}
        lines += [f"## Perturbation scale ({args.scale_model}, {ds0}, random deletion): AO", "",
                  "| share deleted | original | FINEST |", "|---|---|---|"]
        for r in scales:
            cells = [one_cell(args, ds0, args.scale_model, s, "deletion", "random", r,
                              methods=("original", "FINEST")) for s in seeds]
            row = []
            for m in ("original", "FINEST"):
                vals = [c[m]["stability"]["AO"] for c in cells]
                curve[m].append(t_interval(vals))
                row.append(fmt_ci(vals))
            lines.append(f"| {r * 100:g}% | " + " | ".join(row) + " |")
        lines += ["", "![AO against the share of deleted interactions](stability_scale.png)", ""]
        plot_scale(scales, curve, pathlib.Path(args.out).with_name("stability_scale.png"))
    out = pathlib.Path(args.out)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, out)
    print("\n".join(lines))


def plot_scale(scales, curve, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for m, pts in curve.items():
        means = [x[0] for x in pts]
        ax.plot([s * 100 for s in scales], means, marker="o", label=m)
        if not any(math.isnan(x[1]) for x in pts):
            ax.fill_between([s * 100 for s in scales], [x[1] for x in pts], [x[2] for x in pts],
                            alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("training interactions deleted (%)")
    ax.set_ylabel("AO (full-ranking RBO)")
    ax.legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
