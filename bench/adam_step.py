#!/usr/bin/env python3
"""Milliseconds per Adam step on the CPU for the parameter shapes of the online agents on
ml-latest-small (two [9,742 x 32] tables, a bias and eight 32 x 32 matrices, 0.63M parameters),
with PyTorch's three Adam implementations: single-tensor (what LibTorch's C++ Adam does: about ten
element-wise passes per parameter), foreach, and fused (at::_fused_adam_, which recarena's
agents::FusedAdamStep calls). Most table rows get a zero gradient, as in a sparse batch.

    .venv/bin/python bench/adam_step.py [--threads 1] [--steps 200] [--rounds 3]
"""
import argparse
import statistics
import time

import torch


def ms_per_step(steps, **kw):
    torch.manual_seed(0)
    ps = [torch.nn.Parameter(torch.randn(9743, 32)), torch.nn.Parameter(torch.randn(9742, 32)),
          torch.nn.Parameter(torch.randn(9742))]
    ps += [torch.nn.Parameter(torch.randn(32, 32)) for _ in range(8)]
    opt = torch.optim.Adam(ps, lr=1e-3, **kw)
    for p in ps:
        p.grad = torch.randn_like(p)
    for p in ps[:2]:
        p.grad[100:] = 0
    for _ in range(10):
        opt.step()
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return (time.perf_counter() - start) / steps * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    kinds = {"single-tensor": {"foreach": False}, "foreach": {"foreach": True},
             "fused": {"fused": True}}
    times = {k: [] for k in kinds}
    for _ in range(args.rounds):
        for k, kw in kinds.items():
            times[k].append(ms_per_step(args.steps, **kw))
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.rounds} rounds of "
          f"{args.steps} steps; ms per step: median (range)")
    base = statistics.median(times["fused"])
    for k, t in times.items():
        med = statistics.median(t)
        print(f"{k:14s} {med:6.2f} ({min(t):.2f}-{max(t):.2f})  {med / base:5.1f}x fused")


if __name__ == "__main__":
    main()
