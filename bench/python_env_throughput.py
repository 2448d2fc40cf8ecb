#!/usr/bin/env python3
"""Python-driven environment throughput: the recarena package's Gymnasium VectorEnv (python/)
stepped from a Python loop, the twin of `recarena_bench_sim --sim-dir DIR` (the same fitted
simulator stepped by a C++ loop).

Both sides: VectorEnv(B) on the test role of DIR, reset(seed), torch.manual_seed(seed), W warm-up
and S timed steps whose actions are torch.randint(0, N, (B,)) from the default generator (the same
calls on both sides, so both simulate the same episodes: the checksums of the JSON lines show it).
Here every step also converts the C++ result into the NumPy views a Gymnasium user receives
(observation dict with the action mask, rewards, flags, infos). One JSON line per (device, batch)
with the keys of bench/sim_throughput.cpp; bench/run_python_env_throughput.sh runs both.
"""

import argparse
import json

import torch

import recarena
from bench_util import check_minimums, resolve_devices, resolve_threads, split_list, timed_seconds, \
    torch_device

PROG = "python_env_throughput.py"


def run_one(args, device_name, batch, steps):
    device = torch_device(device_name)
    envs = recarena.make(args.sim_dir, role="test", num_envs=batch, seed=args.seed,
                         device=str(device))
    core = envs.core
    obs, info = envs.reset(seed=args.seed)
    torch.manual_seed(args.seed)
    reward_sum = torch.zeros((), dtype=torch.float64, device=device)
    last = {}

    def step():
        nonlocal obs
        a = torch.randint(0, core.num_items, (batch,), dtype=torch.int64, device=device)
        obs, reward, term, trunc, info = envs.step(a)
        reward_sum.add_(torch.as_tensor(reward, device=device).sum().to(torch.float64))
        last["info"] = info

    for _ in range(args.warmup):
        step()
    seconds = timed_seconds(device, lambda: [step() for _ in range(steps)])
    ids = torch.as_tensor(last["info"]["episode_id"])
    return {
        "impl": "python", "device": device_name, "threads": args.threads, "seed": args.seed,
        "params": core.num_parameters, "torch": torch.__version__.split("+")[0], "batch": batch,
        "steps": steps, "warmup": args.warmup, "items": core.num_items,
        "state_len": core.state_len, "hidden": -1, "categories": 0,
        "starts": core.num_starts, "max_length": core.max_length, "hazard": -1.0,
        "steps_per_s": batch * steps / seconds, "seconds": seconds,
        "episodes": int(ids.max()) + 1, "reward_sum": float(reward_sum),
        "items_sum": int(torch.as_tensor(obs["items"]).sum()),
        "lengths_sum": int(torch.as_tensor(obs["length"]).sum()),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sim-dir", required=True, help="a fitted simulator directory")
    p.add_argument("--batch-sizes", default="1,64,1024", help="comma-separated B")
    p.add_argument("--steps", default="2000,300,40", help="timed steps: one or one per B")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps after reset")
    p.add_argument("--threads", type=int, default=0, help="intra-op threads; 0 = os.cpu_count()")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto; comma-separated")
    p.add_argument("--seed", type=int, default=1, help="seed of the env and the actions")
    args = p.parse_args()
    batches = [int(b) for b in split_list(PROG, "batch-sizes", args.batch_sizes)]
    steps = [int(s) for s in split_list(PROG, "steps", args.steps)]
    if len(steps) == 1:
        steps *= len(batches)
    if len(steps) != len(batches):
        raise SystemExit(f"{PROG}: --steps: give one value or one per batch size")
    check_minimums(PROG, args, [("warmup", 0), ("threads", 0)])
    args.threads = resolve_threads(args.threads)
    torch.set_num_threads(args.threads)
    for device_name in resolve_devices(PROG, split_list(PROG, "device", args.device)):
        for b, s in zip(batches, steps):
            print(json.dumps(run_one(args, device_name, b, s)), flush=True)


if __name__ == "__main__":
    main()
