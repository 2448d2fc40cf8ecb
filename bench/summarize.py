#!/usr/bin/env python3
"""Summarises bench/train_throughput.{cpp,py} (default, --kind train) or bench/sim_throughput.{cpp,py}
(--kind sim) output into the C++ vs Python table.

Input (stdin or the files given): lines "ROUND<TAB>JSON", one per (round, impl, encoder, device),
as bench/run_train_throughput.sh writes them. For each (encoder, device) it prints the median
sequences/s of each implementation over the rounds and the C++/Python ratio, taken as the median of
the per-round ratios (C++ and Python of one round ran back to back, so machine load that drifts
between rounds affects both sides of a ratio about equally).

Exits with status 1 when the two implementations disagree on the number of trainable parameters or
on any benchmark size (the comparison is only meaningful for identical models), or when a row lacks
one of the two implementations. The "same losses" column says whether the first and the last
training loss of every run agree between the two (to 1e-4 relative): both programs seed the global
torch generator identically and build their modules in the same order, so identical models start
from identical weights and draw identical dropout masks.

--kind sim: rows are (device, batch size B), the rate is simulated user-steps/s, and the "same
trajectories" column says whether the run checksums (episodes started, items and lengths of the
final observation: exactly; the sum of all rewards: to 1e-6 relative) agree between the two sides of
every round, i.e. whether both simulators produced the same episodes from the same actions.
"""

import argparse
import fileinput
import json
import statistics
import sys

IMPLS = ("cpp", "python")
# sim: the C++ VectorEnv with the incremental step switched off, the Python twin with it on
OPTIONAL_IMPLS = ("cpp_full", "python_inc")
# Keys that must agree between the two implementations of one (encoder, device).
SAME_KEYS = ("params", "items", "batch", "state_len", "hidden", "threads", "warmup", "steps",
             "repeats", "seed")
SIM_SAME_KEYS = ("params", "items", "state_len", "hidden", "categories", "starts", "max_length",
                 "hazard", "threads", "warmup", "steps", "seed")


def fail(msg):
    print(f"summarize.py: {msg}", file=sys.stderr)
    sys.exit(1)


def read_rows(files, key_of):
    """{key_of(record): {impl: {round: record}}} from ROUND<TAB>JSON lines."""
    rows = {}
    for line in fileinput.input(files=files or ("-",)):
        line = line.rstrip("\n")
        if not line:
            continue
        parts = line.split("\t", 1)
        if len(parts) != 2:
            fail(f"{fileinput.filename()}:{fileinput.filelineno()}: expected ROUND<TAB>JSON, "
                 f"got {line[:80]!r}")
        try:
            rnd = int(parts[0])
            rec = json.loads(parts[1])
        except ValueError as e:
            fail(f"{fileinput.filename()}:{fileinput.filelineno()}: {e}: {line[:80]!r}")
        if rec.get("impl") not in IMPLS + OPTIONAL_IMPLS:
            fail(f"{fileinput.filename()}:{fileinput.filelineno()}: unknown impl "
                 f"{rec.get('impl')!r}")
        try:
            key = key_of(rec)
        except KeyError as e:
            fail(f"{fileinput.filename()}:{fileinput.filelineno()}: record lacks {e} (wrong "
                 f"--kind?)")
        rows.setdefault(key, {}).setdefault(rec["impl"], {})[rnd] = rec
    if not rows:
        fail("no benchmark lines")
    return rows


def paired(name, by_impl, same_keys):
    """(cpp, python) per-round records of one row, after checking both exist with equal sizes."""
    for impl in IMPLS:
        if impl not in by_impl:
            fail(f"{name}: no {impl} result")
    cpp, py = by_impl["cpp"], by_impl["python"]
    for rnd in set(cpp) | set(py):
        if rnd not in cpp or rnd not in py:
            fail(f"{name}: round {rnd} lacks one implementation")
        for k in same_keys:
            for impl, rec in (("cpp", cpp[rnd]), ("python", py[rnd])):
                if k not in rec:
                    fail(f"{name} round {rnd}: the {impl} record lacks {k!r} (wrong --kind?)")
            if cpp[rnd][k] != py[rnd][k]:
                fail(f"{name} round {rnd}: {k} differs: C++ {cpp[rnd][k]} vs "
                     f"Python {py[rnd][k]} (the two models must have identical sizes)")
    return cpp, py


def print_table(header, table):
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]

    def fmt(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    print(fmt(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in table:
        print(fmt(r))


def sim_table(files):
    rows = read_rows(files, lambda rec: (rec["device"], rec["batch"]))
    with_full = any("cpp_full" in by_impl for by_impl in rows.values())
    with_inc = any("python_inc" in by_impl for by_impl in rows.values())
    header = ("device", "B", "threads", "params", "C++ steps/s", "Python steps/s", "C++/Python",
              "ratio range", "rounds", "same trajectories")
    if with_full:
        header += ("C++ full-recompute steps/s", "incremental/full (algorithm)",
                   "C++ full/Python (front end)")
    if with_inc:
        header += ("Python incremental steps/s", "Python incremental/full (algorithm)",
                   "C++/Python incremental (front end)")
    table = []
    for (device, batch), by_impl in sorted(rows.items()):
        cpp, py = paired(f"{device}/B={batch}", by_impl, SIM_SAME_KEYS)
        rounds = sorted(cpp)
        c_med = statistics.median(cpp[r]["steps_per_s"] for r in rounds)
        p_med = statistics.median(py[r]["steps_per_s"] for r in rounds)
        ratios = [cpp[r]["steps_per_s"] / py[r]["steps_per_s"] for r in rounds]
        first = cpp[rounds[0]]

        def same(a, b):
            return (all(a[k] == b[k] for k in ("episodes", "items_sum", "lengths_sum")) and
                    abs(a["reward_sum"] - b["reward_sum"]) <= 1e-6 * max(1.0, abs(b["reward_sum"])))
        full = by_impl.get("cpp_full", {})
        inc = by_impl.get("python_inc", {})
        bad = [r for r in rounds if not same(cpp[r], py[r]) or
               any(r in other and not same(other[r], py[r]) for other in (full, inc))]
        row = (device, str(batch), str(first["threads"]), str(first["params"]),
               f"{c_med:.0f}", f"{p_med:.0f}", f"{statistics.median(ratios):.2f}",
               f"{min(ratios):.2f}-{max(ratios):.2f}", str(len(rounds)),
               "yes" if not bad else
               f"no (round {bad[0]}: episodes {cpp[bad[0]]['episodes']} vs "
               f"{py[bad[0]]['episodes']})")
        def extra(other, what, algorithm, front):
            """Median rate of `other`, and the medians of algorithm(r) and front(r) over rounds."""
            if sorted(other) != rounds:
                fail(f"{device}/B={batch}: the {what} run is missing in some round")
            o_med = statistics.median(other[r]["steps_per_s"] for r in rounds)
            return (f"{o_med:.0f}", f"{statistics.median(algorithm(r) for r in rounds):.2f}",
                    f"{statistics.median(front(r) for r in rounds):.2f}")
        rate = lambda recs, r: recs[r]["steps_per_s"]  # noqa: E731
        if with_full:  # incremental/full in C++; C++ full/Python
            row += extra(full, "full-recompute", lambda r: rate(cpp, r) / rate(full, r),
                         lambda r: rate(full, r) / rate(py, r))
        if with_inc:  # incremental/full in Python; C++/Python, both incremental
            row += extra(inc, "Python incremental", lambda r: rate(inc, r) / rate(py, r),
                         lambda r: rate(cpp, r) / rate(inc, r))
        table.append(row)
    print_table(header, table)


def train_table(files):
    rows = read_rows(files, lambda rec: (rec["encoder"], rec["device"]))

    header = ("encoder", "device", "threads", "params", "C++ seq/s", "Python seq/s",
              "C++/Python", "ratio range", "rounds", "same losses")
    table = []
    for (encoder, device), by_impl in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cpp, py = paired(f"{encoder}/{device}", by_impl, SAME_KEYS)
        rounds = sorted(cpp)
        c_med = statistics.median(cpp[r]["seq_per_s"] for r in rounds)
        p_med = statistics.median(py[r]["seq_per_s"] for r in rounds)
        ratios = [cpp[r]["seq_per_s"] / py[r]["seq_per_s"] for r in rounds]
        first = cpp[rounds[0]]
        # Same weights, batches and dropout masks give the same losses (up to float rounding):
        # a check that the two programs build the same model, not only one of the same size.
        def close(a, b):
            return abs(a - b) <= 1e-4 * max(1.0, abs(b))
        same_losses = all(
            close(cpp[r][k], py[r][k]) for r in rounds for k in ("first_loss", "last_loss"))
        table.append((encoder, device, str(first["threads"]), str(first["params"]),
                      f"{c_med:.0f}", f"{p_med:.0f}", f"{statistics.median(ratios):.2f}",
                      f"{min(ratios):.2f}-{max(ratios):.2f}", str(len(rounds)),
                      "yes" if same_losses else
                      f"no ({first['last_loss']:.5f} vs {py[rounds[0]]['last_loss']:.5f})"))

    print_table(header, table)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kind", choices=("train", "sim"), default="train",
                   help="which benchmark's lines: train (default) or sim")
    p.add_argument("files", nargs="*", help="ROUND<TAB>JSON files (default: stdin)")
    args = p.parse_args()
    (sim_table if args.kind == "sim" else train_table)(args.files)


if __name__ == "__main__":
    main()
