#!/usr/bin/env python3
"""Online learning-loop throughput: environment steps per second of `recarena online` for each
agent, one or two recarena binaries side by side in one run (issue 21, "fast learning loops").

What is measured: the training loop of `recarena online` (Act on B = --num-envs simulated users,
VectorEnv::Step, Observe with its updates) in the ml-latest-small simulator (9,742 items), each
agent with its shipped config (configs/online/ml-latest-small-*.yaml; pg reuses the a2c config with
agent.kind=pg and the pg options of configs/online/amazon-industrial-pg.yaml). A run's wall time
also holds process start, loading and two evaluations; they are the same for a short and a long
run, so each measurement runs --short and --long training steps (one segment each, the same
evaluation) and takes

    env steps/s = (long - short) / (t_long - t_short),  user-steps/s = B x that.

Rounds alternate the binaries (baseline then current, per agent), and the ratio column is the
median of the per-round ratios current / baseline, with its range. With --nproc N instead of
--baseline, the two columns are the current binary as 1 process and as N processes of sharded
simulation (`recarena launch --nproc N -- recarena online ...`, docs/distributed.md; B is the
job's users, B / N per process), each process with --threads intra-op threads.

The simulator (runs/sim/ml-latest-small) and, for dt, the offline MRDT run it warm-starts from
(runs/offline/ml-latest-small-mrdt) are made with the current binary when missing.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGENTS = {
    "dqn": ("configs/online/ml-latest-small-dqn.yaml", []),
    "a2c": ("configs/online/ml-latest-small-a2c.yaml", []),
    "pg": ("configs/online/ml-latest-small-a2c.yaml",
           ["agent.kind=pg", "agent.pg.baseline=true", "agent.pg.normalize_returns=true",
            "agent.pg.episodes_per_update=16"]),
    "dt": ("configs/online/ml-latest-small-dt.yaml", []),
}
SIM_DIR = ROOT / "runs/sim/ml-latest-small"
MRDT_DIR = ROOT / "runs/offline/ml-latest-small-mrdt"


def prepare(exe, agents):
    """Fits the simulator and trains the MRDT run when missing (both with exe)."""
    if not (SIM_DIR / "simulator.json").exists():
        print(f"fitting {SIM_DIR} ...", file=sys.stderr)
        subprocess.run([exe, "sim", "fit", "--config", "configs/sim/ml-latest-small.yaml",
                        "--out", str(SIM_DIR)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    if "dt" in agents and not (MRDT_DIR / "metrics.json").exists():
        print(f"training {MRDT_DIR} ...", file=sys.stderr)
        subprocess.run([exe, "train", "--config", "configs/offline/ml-latest-small-mrdt.yaml",
                        "--out", str(MRDT_DIR)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def run_seconds(exe, agent, steps, args, workdir, nproc=1):
    """Wall seconds of one `recarena online` run of `steps` training steps (nproc processes)."""
    config, extra = AGENTS[agent]
    out = Path(tempfile.mkdtemp(prefix=f"{agent}-", dir=workdir))
    out.rmdir()  # a fresh run directory (an existing one would be resumed)
    cmd = [exe, "online", "--config", config, "--out", str(out), f"train.total_steps={steps}",
           f"train.eval_every={steps}", f"train.steps_per_epoch={steps}",
           f"train.eval_episodes={args.eval_episodes}", f"train.num_envs={args.num_envs}",
           "run.device=cpu", *extra]
    if nproc > 1:
        cmd = [exe, "launch", "--nproc", str(nproc), "--", "recarena"] + cmd[1:]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"online_throughput: {' '.join(cmd)} failed ({p.returncode}):\n"
                         f"{p.stderr[-2000:]}")
    return seconds


def env_steps_per_second(exe, agent, args, workdir, nproc=1):
    t_short = run_seconds(exe, agent, args.short, args, workdir, nproc)
    t_long = run_seconds(exe, agent, args.long, args, workdir, nproc)
    if t_long <= t_short:
        raise SystemExit(f"online_throughput: {agent}: the {args.long}-step run ({t_long:.2f} s) "
                         f"was not slower than the {args.short}-step run ({t_short:.2f} s); "
                         "raise --long")
    return (args.long - args.short) / (t_long - t_short)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", default=str(ROOT / "build/recarena"), help="current binary")
    ap.add_argument("--baseline", default="", help="a second recarena binary to compare with")
    ap.add_argument("--agents", default="dqn,a2c,pg,dt")
    ap.add_argument("--num-envs", type=int, default=16)
    ap.add_argument("--short", type=int, default=50)
    ap.add_argument("--long", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-episodes", type=int, default=16)
    ap.add_argument("--nproc", type=int, default=1,
                    help="compare 1 process with this many (sharded simulation); not with "
                         "--baseline")
    args = ap.parse_args()
    if args.nproc > 1 and args.baseline:
        raise SystemExit("online_throughput: --nproc and --baseline are exclusive")
    if args.nproc > 1 and args.num_envs % args.nproc:
        raise SystemExit(f"online_throughput: --num-envs {args.num_envs} is not a multiple of "
                         f"--nproc {args.nproc}")
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    for a in agents:
        if a not in AGENTS:
            raise SystemExit(f"online_throughput: --agents: unknown agent '{a}'; "
                             f"choices: {', '.join(AGENTS)}")
    if not 0 < args.short < args.long:
        raise SystemExit(f"online_throughput: need 0 < --short < --long, got {args.short}, "
                         f"{args.long}")
    for flag in ("num_envs", "rounds", "threads", "eval_episodes"):
        if getattr(args, flag) < 1:
            raise SystemExit(f"online_throughput: --{flag.replace('_', '-')} must be >= 1")
    # (column, binary, processes); the ratio column is current / baseline.
    exes = ([("baseline", args.baseline, 1)] if args.baseline else []) + [("current", args.exe, 1)]
    if args.nproc > 1:
        exes = [("baseline", args.exe, 1), ("current", args.exe, args.nproc)]
    for _, e, _ in exes:
        if not os.access(e, os.X_OK):
            raise SystemExit(f"online_throughput: {e} is not an executable")
    prepare(args.exe, agents)

    print(f"machine: {os.cpu_count()} cores; threads per run: {args.threads}; "
          f"B = {args.num_envs}; steps {args.short} and {args.long}; rounds {args.rounds}")
    for name, e, n in exes:
        print(f"{name}: {e}" + (f" x {n} processes" if n > 1 else ""))
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    rates = {(a, n): [] for a in agents for n, _, _ in exes}
    with tempfile.TemporaryDirectory(prefix="online-bench-") as workdir:
        for r in range(args.rounds):
            for a in agents:
                for name, e, n in exes:
                    rates[(a, name)].append(env_steps_per_second(e, a, args, workdir, n))
            print(f"round {r + 1}/{args.rounds} done, load "
                  + " ".join(f"{x:.2f}" for x in os.getloadavg()), file=sys.stderr)
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    head = "| agent | B | " + " | ".join(f"{n} env steps/s" for n, _, _ in exes)
    head += " | current user-steps/s |"
    if len(exes) > 1:
        head += " current/baseline | ratio range |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for a in agents:
        med = {n: statistics.median(rates[(a, n)]) for n, _, _ in exes}
        row = f"| {a} | {args.num_envs} | " + " | ".join(f"{med[n]:.1f}" for n, _, _ in exes)
        row += f" | {med['current'] * args.num_envs:.0f} |"
        if len(exes) > 1:
            ratios = [c / b for c, b in zip(rates[(a, "current")], rates[(a, "baseline")])]
            row += f" {statistics.median(ratios):.2f} | {min(ratios):.2f}-{max(ratios):.2f} |"
        print(row)


if __name__ == "__main__":
    main()
