#!/usr/bin/env python3
"""Simulation side by side: EasyRL4Rec's Coat environment (its public code, from a checkout beside
the project) against recarena's Coat simulator, user-steps per second at the same number of users.

Run through bench/run_easyrl4rec.sh. Both sides simulate Coat's 290 users and 300 items with a
DeepFM rating model (docs/benchmarks.md says what differs):

  EasyRL4Rec  src/core/envs/Coat/CoatEnv.py: a gymnasium env of ONE user whose reward is a lookup
              in a precomputed user x item rating matrix and whose user leaves when one of the last
              num_leave_compute items is within leave_threshold of the recommended item (Euclidean
              distance of the items' rating columns, its own numba get_distance_mat). EasyRL4Rec
              fills the matrix from RL4Rec's pseudo-ground-truth file, which is not in this
              project's data; here it is recarena's test-role DeepFM prediction of every (user,
              item) pair (`recarena sim predict`), rounded to integer ratings 1-5 as that file
              holds, so both sides score the same users alike. B users are B envs stepped in a
              Python loop whose results are stacked, as tianshou's DummyVectorEnv (EasyRL4Rec's
              vector env) does; a finished env is reset in the loop.
  recarena    the Gymnasium VectorEnv of the recarena package (python/) on the same simulator
              directory's test role: one batched C++ step per call, the DeepFM ensemble evaluated
              for the B recommended pairs every step, patience and repetition leave rules;
              and the same env::VectorEnv stepped by a C++ loop (recarena_bench_sim --sim-dir,
              random actions), what a C++ caller gets.

Per (B, side): W untimed and S timed steps of uniformly random actions (NumPy for EasyRL4Rec,
torch for recarena; one seed), user-steps/s = B S / seconds, also the mean episode length of the
finished episodes (the reset rate differs with the leave rules). Rounds alternate the sides; the
table has the medians and the paired per-round ratio recarena / EasyRL4Rec with its range.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
PROG = "easyrl4rec_vs_recarena.py"


def rating_matrix(exe, sim_dir, users, items, workdir):
    """recarena's test-role rating prediction of every (user, item), rounded to 1..5 (int)."""
    pairs = Path(workdir) / "pairs.csv"
    with open(pairs, "w") as f:
        f.write("user,history,item\n")
        for u in range(users):
            for i in range(items):
                f.write(f"{u},,{i}\n")
    p = subprocess.run([exe, "sim", "predict", str(sim_dir), "--role", "test", "--input",
                        str(pairs)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{PROG}: recarena sim predict failed ({p.returncode}):\n{p.stderr[-2000:]}")
    values = np.array([float(x) for x in p.stdout.split()])
    if values.size != users * items:
        sys.exit(f"{PROG}: sim predict printed {values.size} numbers for {users * items} pairs")
    return np.clip(np.rint(values), 1, 5).astype(int).reshape(users, items)


def load_easyrl4rec(checkout, workdir):
    """Imports CoatEnv and get_distance_mat from the checkout. Its modules make data/Coat/... under
    the working directory on import, so they are imported from inside workdir."""
    for sub in ("src/core/envs/Coat/CoatEnv.py", "src/core/envs/BaseData.py"):
        if not (Path(checkout) / sub).is_file():
            sys.exit(f"{PROG}: {checkout} is not an EasyRL4Rec checkout (no {sub})")
    os.makedirs(Path(workdir) / "data" / "Coat", exist_ok=True)
    here = os.getcwd()
    os.chdir(workdir)
    sys.path.insert(0, str(Path(checkout).resolve()))
    try:
        from src.core.envs.BaseData import get_distance_mat
        from src.core.envs.Coat.CoatEnv import CoatEnv
    finally:
        os.chdir(here)
    return CoatEnv, get_distance_mat


def timed(step, steps, warmup, lengths):
    """(calls/s of step() over `steps` timed calls after `warmup` untimed ones, the mean of the
    episode lengths step() appended to `lengths` meanwhile)."""
    for _ in range(warmup):
        step()
    lengths.clear()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    return steps / seconds, (statistics.mean(lengths) if lengths else float("nan"))


def run_easyrl4rec(CoatEnv, mat, dist, batch, steps, warmup, seed, max_turn):
    random.seed(seed)  # BaseEnv draws its users from Python's random
    envs = [CoatEnv(mat=mat, df_item=None, mat_distance=dist, max_turn=max_turn)
            for _ in range(batch)]
    for e in envs:
        e.reset()
    rng = np.random.default_rng(seed)
    lengths = []

    def step():
        actions = rng.integers(0, mat.shape[1], size=batch)
        results = []
        for e, a in zip(envs, actions):  # DummyVectorEnv: one env after the other
            obs, r, term, trunc, info = e.step(int(a))
            if term or trunc:
                lengths.append(e.total_turn)
                obs, info = e.reset()
            results.append((obs, r, term, trunc))
        obs, rew, term, trunc = map(np.stack, zip(*results))
        return rew

    rate, mean_length = timed(step, steps, warmup, lengths)
    return batch * rate, mean_length


def run_recarena(sim_dir, batch, steps, warmup, seed):
    import recarena
    envs = recarena.make(str(sim_dir), role="test", num_envs=batch, seed=seed, device="cpu")
    n = envs.core.num_items
    envs.reset(seed=seed)
    torch.manual_seed(seed)
    lengths = []

    def step():
        a = torch.randint(0, n, (batch,), dtype=torch.int64)
        obs, reward, term, trunc, info = envs.step(a)
        done = np.logical_or(np.asarray(term), np.asarray(trunc))
        if done.any():
            ep = np.asarray(info["final_info"]["episode"]["l"])
            lengths.extend(ep[done].tolist())

    rate, mean_length = timed(step, steps, warmup, lengths)
    return batch * rate, mean_length


def run_cpp(bench_sim, sim_dir, batch, steps, warmup, seed):
    """user-steps/s of recarena_bench_sim on the simulator's test role (its own JSON line)."""
    p = subprocess.run([bench_sim, "--sim-dir", str(sim_dir), "--batch-sizes", str(batch),
                        "--steps", str(steps), "--warmup", str(warmup), "--threads", "1",
                        "--seed", str(seed)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{PROG}: {bench_sim} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])["steps_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--easyrl4rec", required=True, help="an EasyRL4Rec checkout (its src/)")
    ap.add_argument("--exe", default=str(ROOT / "build/recarena"))
    ap.add_argument("--bench-sim", default=str(ROOT / "build/bench/recarena_bench_sim"))
    ap.add_argument("--sim-dir", default=str(ROOT / "runs/sim/coat"))
    ap.add_argument("--batch-sizes", default="1,16,256,1024")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    batches = [int(x) for x in a.batch_sizes.split(",") if x.strip()]
    if not batches or min(batches) < 1 or a.steps < 1 or a.rounds < 1 or a.warmup < 0:
        sys.exit(f"{PROG}: batch sizes, --steps and --rounds must be >= 1, --warmup >= 0")
    sim_dir = Path(a.sim_dir)
    if not (sim_dir / "simulator.json").is_file():
        print(f"fitting {sim_dir} (configs/sim/coat.yaml) ...", file=sys.stderr)
        subprocess.run([a.exe, "sim", "fit", "--config", str(ROOT / "configs/sim/coat.yaml"),
                        "--out", str(sim_dir)], check=True, stdout=subprocess.DEVNULL)
    torch.set_num_threads(1)
    import recarena
    probe = recarena.make(str(sim_dir), role="test", num_envs=1, seed=0, device="cpu")
    users, items, max_turn = 290, probe.core.num_items, probe.core.max_length
    with tempfile.TemporaryDirectory(prefix="easyrl4rec-") as workdir:
        mat = rating_matrix(a.exe, sim_dir, users, items, workdir)
        CoatEnv, get_distance_mat = load_easyrl4rec(a.easyrl4rec, workdir)
        dist = get_distance_mat(mat, np.zeros([items, items]))
        print(f"machine: {os.cpu_count()} cores, 1 thread; simulator {sim_dir} (test role); "
              f"{users} users x {items} items; episode cap {max_turn}; steps {a.steps} "
              f"(warm-up {a.warmup}); rounds {a.rounds}; EasyRL4Rec {a.easyrl4rec}")
        print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        res = {(b, s): [] for b in batches for s in ("easyrl4rec", "recarena", "cpp")}
        for r in range(a.rounds):
            for b in batches:
                res[(b, "easyrl4rec")].append(
                    run_easyrl4rec(CoatEnv, mat, dist, b, a.steps, a.warmup, a.seed + r, max_turn))
                res[(b, "recarena")].append(
                    run_recarena(sim_dir, b, a.steps, a.warmup, a.seed + r))
                res[(b, "cpp")].append(
                    run_cpp(a.bench_sim, sim_dir, b, a.steps, a.warmup, a.seed + r))
            print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("| B | EasyRL4Rec user-steps/s | recarena (Python) user-steps/s | recarena / EasyRL4Rec "
          "| ratio range | recarena (C++ loop) user-steps/s | C++ / EasyRL4Rec "
          "| mean episode length EasyRL4Rec / recarena |")
    print("|---:|---:|---:|---:|---|---:|---:|---|")
    for b in batches:
        e, c, k = res[(b, "easyrl4rec")], res[(b, "recarena")], res[(b, "cpp")]
        ratios = [x[0] / y[0] for x, y in zip(c, e)]
        cpp_ratios = [x / y[0] for x, y in zip(k, e)]
        print(f"| {b} | {statistics.median(x[0] for x in e):,.0f} | "
              f"{statistics.median(x[0] for x in c):,.0f} | {statistics.median(ratios):.2f} | "
              f"{min(ratios):.2f}-{max(ratios):.2f} | {statistics.median(k):,.0f} | "
              f"{statistics.median(cpp_ratios):.2f} | "
              f"{statistics.median(x[1] for x in e):.1f} / {statistics.median(x[1] for x in c):.1f} |")


if __name__ == "__main__":
    main()
