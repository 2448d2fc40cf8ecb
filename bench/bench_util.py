"""Shared parts of the Python benchmark programs (bench/sim_throughput.py, bench/train_throughput.py):
flag checks, device resolution, synchronisation and timing. bench/bench_util.h is the C++ side of
the same parts. Errors end the program with SystemExit("PROG: message"), PROG the program's name.
"""

import os
import time

import torch


def split_list(prog, flag, value):
    """value split at ',' with entries stripped; an empty entry is an error naming --flag."""
    out = [w.strip() for w in value.split(",")]
    if any(not w for w in out):
        raise SystemExit(f"{prog}: --{flag}: empty entry in '{value}'")
    return out


def check_minimums(prog, args, minimums):
    """minimums: (attribute, minimum) pairs; args.attribute < minimum is an error naming the flag
    (the attribute with '_' written '-')."""
    for flag, minimum in minimums:
        if getattr(args, flag) < minimum:
            raise SystemExit(f"{prog}: --{flag.replace('_', '-')} must be >= "
                             f"{minimum}, got {getattr(args, flag)}")


def resolve_threads(threads):
    """threads, or max(1, os.cpu_count()) when it is 0."""
    return max(1, os.cpu_count() or 1) if threads == 0 else threads


def resolve_devices(prog, names):
    """names (already split and stripped), each cpu, cuda or auto (= cpu, plus cuda when PyTorch
    sees a GPU) -> the distinct devices in order of first mention."""
    out = []
    for d in names:
        if d == "cpu":
            want = ["cpu"]
        elif d == "cuda":
            if not torch.cuda.is_available():
                raise SystemExit(f"{prog}: --device cuda: PyTorch sees no CUDA device")
            want = ["cuda"]
        elif d == "auto":
            want = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        else:
            raise SystemExit(f"{prog}: --device: unknown device '{d}'; "
                             "choices: cpu, cuda, auto")
        out += [w for w in want if w not in out]
    return out


def torch_device(name):
    """"cuda" -> cuda:0, anything else -> cpu."""
    return torch.device("cuda", 0) if name == "cuda" else torch.device("cpu")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed_seconds(device, body):
    """Wall-clock seconds (time.perf_counter) of body(), with the device synchronised before and
    after it so that queued CUDA work is counted."""
    sync(device)
    start = time.perf_counter()
    body()
    sync(device)
    return time.perf_counter() - start
