#!/usr/bin/env python3
"""Data-parallel training throughput, 1 process vs N processes (c10d Gloo), side by side.

Run through bench/run_distributed.sh. For R rounds it trains the same config (same global batch B,
seed and steps) as: one process with 1 intra-op thread, one process with N threads, and N launched
processes with 1 thread each (`recarena launch --nproc N`); and, for the cost model, one process
with 1 thread on batches of B / N (one rank's compute without the all-reduce). It reads the
training loop's own rate (steps/s over the whole loop, the progress line it prints when it ends).
Then it times the all-reduce alone (build/bench/recarena_bench_allreduce under the launcher). It
prints the medians, the paired ratios per round (median and range), the all-reduce table and the
cost model's prediction of the N-process step time, and with --json FILE writes them all.
"""
import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RATE = re.compile(r"^train \S+\s+(\d+)/(\d+)\s+100\.0%\s+([0-9.]+)/s", re.M)
BYTES = re.compile(r"distributed: \d+ ranks, ([0-9.]+) MB of gradients all-reduced per step")


def train(exe, config, out, steps, threads, nproc, extra):
    args = [str(exe), "train", "--config", str(config), "--out", str(out),
            f"train.max_steps={steps}", f"train.eval_every={steps}", "train.max_valid_queries=200",
            f"train.threads={threads}"] + extra
    if nproc > 1:
        args = [str(exe), "launch", "--nproc", str(nproc), "--"] + args
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(args)}\n{p.stderr[-2000:]}")
    rates = RATE.findall(p.stderr)
    if not rates:
        sys.exit(f"no final progress line in the output of: {' '.join(args)}\n{p.stderr[-2000:]}")
    mb = BYTES.search(p.stderr)
    return float(rates[-1][2]), (float(mb.group(1)) if mb else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exe", default="build/recarena")
    ap.add_argument("--bench-allreduce", default="build/bench/recarena_bench_allreduce")
    ap.add_argument("--config", default="configs/offline/ml-latest-small-sasrec.yaml")
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=256, help="global batch (train.batch_size)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", default="")
    ap.add_argument("overrides", nargs="*", help="section.key=value for every run")
    a = ap.parse_args()
    n = a.nproc
    setups = [("1 process x 1 thread", 1, 1, a.batch), (f"1 process x {n} threads", n, 1, a.batch),
              (f"{n} processes x 1 thread", 1, n, a.batch),
              (f"1 process x 1 thread, batch {a.batch // n}", 1, 1, a.batch // n)]
    rates = {s[0]: [] for s in setups}
    mb_per_step = None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            for name, threads, nproc, batch in setups:
                out = Path(tmp) / f"r{r}-{threads}-{nproc}-{batch}"
                rate, mb = train(a.exe, a.config, out, a.steps, threads, nproc,
                                 [f"train.batch_size={batch}"] + a.overrides)
                rates[name].append(rate)
                mb_per_step = mb if mb is not None else mb_per_step
                print(f"round {r + 1}: {name}: {rate:.2f} steps/s", flush=True)
    ar = subprocess.run([a.exe, "launch", "--nproc", str(n), "--", a.bench_allreduce],
                        capture_output=True, text=True, check=True)
    allreduce = [json.loads(l) for l in ar.stdout.splitlines() if l.startswith("{")]
    base, threaded, dist, half = (s[0] for s in setups)
    print(f"\nconfig {a.config}, {a.steps} steps, global batch as configured, {a.rounds} rounds")
    print(f"gradient bytes all-reduced per step: {mb_per_step} MB")
    print("| setup | steps/s (median) | rounds |")
    print("|---|---:|---|")
    for name in rates:
        print(f"| {name} | {statistics.median(rates[name]):.2f} | "
              f"{', '.join(f'{x:.2f}' for x in rates[name])} |")
    ratios = {}
    for other in (base, threaded):
        rr = [d / o for d, o in zip(rates[dist], rates[other])]
        ratios[other] = rr
        print(f"{dist} / {other}: median {statistics.median(rr):.3f} "
              f"(rounds {min(rr):.3f} to {max(rr):.3f})")
    print("\n| all-reduce bytes | seconds (median) | bus GB/s |")
    print("|---:|---:|---:|")
    for row in allreduce:
        print(f"| {row['bytes']} | {row['seconds']:.6f} | {row['bus_GBps']:.3f} |")
    # Cost model (docs/distributed.md): t(N) = t_c(B / N) + t_ar(P), the all-reduce time of the
    # step's gradient bytes interpolated (log-log) in the table above.
    pbytes = (mb_per_step or 0) * 1e6
    pts = sorted((r["bytes"], r["seconds"]) for r in allreduce)
    t_ar = pts[0][1]
    for (b0, s0), (b1, s1) in zip(pts, pts[1:]):
        if b0 <= pbytes <= b1:
            f = (math.log(pbytes) - math.log(b0)) / (math.log(b1) - math.log(b0))
            t_ar = math.exp(math.log(s0) + f * (math.log(s1) - math.log(s0)))
    if pbytes > pts[-1][0]:
        t_ar = pts[-1][1] * pbytes / pts[-1][0]
    t_c = 1.0 / statistics.median(rates[half])
    t_meas = 1.0 / statistics.median(rates[dist])
    model = {"t_compute_half_s": t_c, "t_allreduce_s": t_ar, "t_predicted_s": t_c + t_ar,
             "t_measured_s": t_meas}
    print(f"\ncost model: t_c(B/{n}) {t_c * 1e3:.2f} ms + t_ar({pbytes / 1e6:.2f} MB) "
          f"{t_ar * 1e3:.2f} ms = {(t_c + t_ar) * 1e3:.2f} ms predicted per step; "
          f"measured {t_meas * 1e3:.2f} ms")
    if a.json:
        Path(a.json).write_text(json.dumps({"rates": rates, "ratios": ratios, "allreduce": allreduce,
                                            "mb_per_step": mb_per_step, "config": a.config, "model": model,
                                            "batch": a.batch,
                                            "steps": a.steps}, indent=2) + "\n")


if __name__ == "__main__":
    main()
