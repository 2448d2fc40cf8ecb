#!/usr/bin/env python3
"""Why models::MaskedAttention has a kShortWindow layout for the simulator's incremental step
(docs/benchmarks.md, "The attention's softmax"): LibTorch's CPU softmax over the last dim, per row,
for several row lengths, and masked attention written the textbook way (one matmul per product,
softmax over the last dim) against models/attention.cpp's kShortWindow layout (a multiply-and-sum
for one query per row; below 16 keys, the softmax along a leading keys dim), forward and forward +
backward, at the simulator's and the offline models' shapes. Same torch (and so the same ATen
kernels) as the C++ build. Usage:

    OMP_NUM_THREADS=1 .venv/bin/python bench/attention_softmax.py [--threads 1] [--repeats 5]
"""

import argparse
import math
import time

import torch

from train_throughput import _softmax_over_short_keys  # mirrors models/attention.cpp


def textbook(q, k, v, allowed):
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(allowed.logical_not(), float("-inf"))
    return torch.matmul(torch.softmax(scores, -1), v)


def recarena(q, k, v, allowed):
    """models::MaskedAttention with AttentionLayout::kShortWindow, without dropout and the head
    merge."""
    scale = math.sqrt(q.size(-1))
    if q.size(2) == 1:
        scores = (k * q).sum(-1) / scale
        scores = scores.masked_fill(allowed.select(2, 0).logical_not(), float("-inf"))
        return (_softmax_over_short_keys(scores).unsqueeze(-1) * v).sum(2, keepdim=True)
    scores = torch.matmul(q, k.transpose(-2, -1)) / scale
    scores = scores.masked_fill(allowed.logical_not(), float("-inf"))
    return torch.matmul(_softmax_over_short_keys(scores), v)


def best_ms(fn, repeats, inner):
    """Best over repeats of the mean over inner calls, in ms."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), best of "
          f"{args.repeats}; {torch.backends.cpu.get_cpu_capability()}")

    print("\nsoftmax over the last dim of [10,000, n] float32: ns per row")
    print("| n | last dim | n moved to the front |")
    print("|---|---|---|")
    for n in (8, 10, 12, 15, 16, 17, 32, 50):
        x = torch.randn(10_000, n)
        front = x.t().contiguous()
        last = best_ms(lambda: torch.softmax(x, -1), args.repeats, 20) * 1e6 / 10_000
        lead = best_ms(lambda: torch.softmax(front, 0), args.repeats, 20) * 1e6 / 10_000
        print(f"| {n} | {last:.0f} | {lead:.0f} |")

    print("\nmasked attention, 1 head, dh 32, causal + random key padding: ms per call")
    print("| rows R | queries T | keys S | textbook fwd | recarena fwd | textbook fwd+bwd | "
          "recarena fwd+bwd | max abs diff |")
    print("|---|---|---|---|---|---|---|---|")
    for R, T, S in ((1, 1, 10), (64, 1, 10), (1024, 1, 10), (4096, 1, 10), (900, 10, 10),
                    (4096, 10, 10), (128, 10, 10), (128, 14, 14), (128, 16, 16), (128, 50, 50),
                    (2048, 50, 50)):
        q, k, v = (torch.randn(R, 1, n, 32) for n in (T, S, S))
        pos = torch.arange(S)
        allowed = pos.view(1, 1, 1, S) <= (pos[S - T:].view(1, 1, T, 1) +
                                           torch.zeros(R, 1, 1, 1, dtype=torch.long))
        allowed = allowed & (torch.rand(R, 1, 1, S) < 0.9)
        allowed[..., 0] = True
        diff = (textbook(q, k, v, allowed) - recarena(q, k, v, allowed)).abs().max().item()
        inner = max(1, 20_000 // (R * T))
        row = [best_ms(lambda f=f: f(q, k, v, allowed), args.repeats, inner)
               for f in (textbook, recarena)]
        qg, kg = q.clone().requires_grad_(), k.clone().requires_grad_()
        for f in (textbook, recarena):
            row.append(best_ms(lambda f=f: f(qg, kg, v, allowed).sum().backward(),
                               args.repeats, max(1, inner // 3)))
        print(f"| {R} | {T} | {S} | " + " | ".join(f"{x:.3f}" for x in row) + f" | {diff:.1e} |")


if __name__ == "__main__":
    main()
