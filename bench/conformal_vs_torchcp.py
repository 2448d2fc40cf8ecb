"""`recarena conformal` vs TorchCP (PyPI, SUSTech-ML) on the same score matrix: wall time, peak memory
and whether the two give identical prediction sets, for THR and APS (docs/benchmarks.md,
"Conformal sets vs TorchCP").

    bash bench/run_conformal_torchcp.sh [--queries 100000 --items 10000 ...]

One run: (1) writes a seeded logit matrix (float32, queries x items, half calibration, half test)
and labels drawn from its softmax as .npy files in a scratch folder, untimed; (2) per score function
runs `recarena conformal --logits` on them (a fixed calibration set, non-randomized scores) and
TorchCP's SplitPredictor with the same score (THR = TorchCP's LAC, APS with randomized=False) in a
child process each, timing them side by side and reading each child's peak resident memory from
wait4; (3) compares the test sets query by query: size, sum and sum of squares of the item ids.

TorchCP is run twice: on float32 logits, which is what its `calibrate` produces (it casts to
float), and on the same logits as float64, which is what recarena computes in. Sets can differ only
where scores tie or fall within rounding of q_hat; the report counts the queries whose sets differ.

TorchCP's calibrate() concatenates every calibration logit and scores them at once; on this
machine (24 GB) 50,000 x 10,000 APS does not fit that way (sort values, int64 indices, cumsum and
the inverse permutation), so the child scores calibration and test in chunks of --chunk queries
through TorchCP's own score functions and SplitPredictor (the same arithmetic, smaller peak).

Importing `torchcp` runs its package __init__, which imports its graph, LLM and loss modules and
with them torch_geometric, transformers and torchsort (a compiled extension), none of which the
classification scores or the split predictor use. The child registers the two package folders
without running those __init__ files and imports torchcp.classification.score and .predictor
directly; the code that runs is TorchCP's, unchanged.
"""

import argparse
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import types

import numpy as np


def _generate(d: pathlib.Path, queries: int, items: int, seed: int, scale: float, chunk: int):
    """Seeded logits N(0, scale^2) and labels sampled from their softmax (Gumbel-max), as .npy."""
    if (d / "done.json").exists():
        meta = json.loads((d / "done.json").read_text())
        if meta == {"queries": queries, "items": items, "seed": seed, "scale": scale}:
            return
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    half = queries // 2
    for part, n in (("cal", half), ("test", queries - half)):
        m = np.lib.format.open_memmap(d / f"{part}.npy", mode="w+", dtype=np.float32,
                                      shape=(n, items))
        labels = np.empty(n, dtype=np.int64)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            z = (rng.standard_normal((b - a, items), dtype=np.float32) * scale).astype(np.float32)
            m[a:b] = z
            g = rng.gumbel(size=z.shape).astype(np.float64)
            labels[a:b] = np.argmax(z.astype(np.float64) + g, axis=1)
        m.flush()
        del m
        np.save(d / f"{part}_labels.npy", labels)
    (d / "done.json").write_text(json.dumps(
        {"queries": queries, "items": items, "seed": seed, "scale": scale}))


def _timed_child(cmd):
    """Runs cmd with its own rusage: (wall s, peak RSS MB, stdout)."""
    # stderr goes to a file: reading two pipes one after the other could block on a full one.
    with tempfile.TemporaryFile() as err_file:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        err_file.seek(0)
        err = err_file.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{err.decode()[-4000:]}")
    return wall, ru.ru_maxrss / 1024.0, out.decode()


def _import_torchcp():
    """TorchCP's classification scores and split predictor, without its package __init__ files."""
    spec = importlib.util.find_spec("torchcp")
    if spec is None:
        sys.exit("conformal_vs_torchcp: torchcp is not installed; see bench/run_conformal_torchcp.sh")
    root = pathlib.Path(spec.submodule_search_locations[0])
    for name, folder in (("torchcp", root), ("torchcp.classification", root / "classification")):
        m = types.ModuleType(name)
        m.__path__ = [str(folder)]
        sys.modules[name] = m
    from torchcp.classification.predictor.split import SplitPredictor
    from torchcp.classification.score.aps import APS
    from torchcp.classification.score.lac import LAC
    version = (root / "VERSION").read_text().strip()
    return SplitPredictor, {"thr": lambda: LAC(score_type="softmax"),
                            "aps": lambda: APS(score_type="softmax", randomized=False)}, version


class _Rows:
    """Rows [a, b) of a 2-D .npy file, read with plain file reads (not np.load's mmap, whose
    touched pages would count in the child's peak resident memory as if they were its own)."""

    def __init__(self, path):
        self.f = open(path, "rb")
        version = np.lib.format.read_magic(self.f)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        self.shape, _, self.dtype = read(self.f)
        self.offset = self.f.tell()

    def __getitem__(self, rows):
        a, b = rows.start, min(rows.stop, self.shape[0])
        cols = self.shape[1]
        self.f.seek(self.offset + a * cols * self.dtype.itemsize)
        return np.fromfile(self.f, dtype=self.dtype, count=(b - a) * cols).reshape(b - a, cols)


def _torchcp_child(args):
    import torch
    torch.set_num_threads(args.threads)
    SplitPredictor, scores, _ = _import_torchcp()
    d = pathlib.Path(args.dir)
    dtype = torch.float64 if args.torchcp_dtype == "float64" else torch.float32
    cal = _Rows(d / "cal.npy")
    cal_y = torch.from_numpy(np.load(d / "cal_labels.npy"))
    test = _Rows(d / "test.npy")
    test_y = torch.from_numpy(np.load(d / "test_labels.npy"))
    t0 = time.perf_counter()
    predictor = SplitPredictor(scores[args.torchcp_kind](), alpha=args.alpha, device="cpu")
    parts = []
    for a in range(0, cal.shape[0], args.chunk):
        z = torch.from_numpy(cal[a:a + args.chunk]).to(dtype)
        parts.append(predictor.score_function(z, cal_y[a:a + args.chunk]))
    predictor.cal_scores = torch.cat(parts)
    predictor.q_hat = predictor._calculate_conformal_value(predictor.cal_scores, args.alpha)
    covered, size_sum = 0, 0
    sizes, sums, squares = [], [], []
    check_s = 0.0
    for a in range(0, test.shape[0], args.chunk):
        z = torch.from_numpy(test[a:a + args.chunk]).to(dtype)
        y = test_y[a:a + args.chunk]
        sets = predictor.predict_with_logits(z)  # [n, items] 0/1 int
        covered += int(sets[torch.arange(len(y)), y].sum())
        size_sum += int(sets.sum())
        c0 = time.perf_counter()
        ids = torch.arange(sets.shape[1], dtype=torch.int64)
        s64 = sets.to(torch.int64)
        sizes.append(s64.sum(1))
        sums.append(s64 @ ids)
        squares.append(s64 @ (ids * ids))
        check_s += time.perf_counter() - c0
    wall = time.perf_counter() - t0 - check_s
    np.save(d / f"torchcp_{args.torchcp_kind}_{args.torchcp_dtype}_check.npy",
            torch.stack([torch.cat(sizes), torch.cat(sums), torch.cat(squares)], 1).numpy())
    n = test.shape[0]
    print(json.dumps({"q_hat": float(predictor.q_hat), "coverage": covered / n,
                      "mean_set_size": size_sum / n, "compute_s": wall}))


def _recarena_check(sets_file: pathlib.Path, n: int) -> np.ndarray:
    """(size, sum, sum of squares) of each test set from `recarena conformal --emit-sets`."""
    out = np.zeros((n, 3), dtype=np.int64)
    with open(sets_file) as f:
        for line in f:
            fields = line.rstrip("\n").split(",")
            q = int(fields[0])
            ids = np.array(fields[1:], dtype=np.int64) if len(fields) > 1 else np.zeros(0, np.int64)
            out[q] = (len(ids), ids.sum(), (ids * ids).sum())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=float, default=3.0, help="std of the logits")
    ap.add_argument("--chunk", type=int, default=2_000, help="TorchCP queries per batch")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the TorchCP child")
    ap.add_argument("--dir", default="/tmp/recarena-conformal-bench", help="scratch folder")
    ap.add_argument("--recarena", default="build/recarena")
    ap.add_argument("--kinds", default="thr,aps")
    ap.add_argument("--torchcp-kind", help=argparse.SUPPRESS)
    ap.add_argument("--torchcp-dtype", default="float32", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torchcp_kind:
        _torchcp_child(args)
        return
    d = pathlib.Path(args.dir)
    t0 = time.perf_counter()
    _generate(d, args.queries, args.items, args.seed, args.scale, args.chunk)
    print(f"data: {args.queries} x {args.items} float32 logits in {d} "
          f"({time.perf_counter() - t0:.1f} s to write or reuse)", flush=True)
    _, _, version = _import_torchcp()
    n_test = args.queries - args.queries // 2
    rows = []
    for kind in args.kinds.split(","):
        base = [args.recarena, "conformal", "--scores", d / "test.npy", "--labels",
                d / "test_labels.npy", "--cal-scores", d / "cal.npy", "--cal-labels",
                d / "cal_labels.npy", "--alpha", str(args.alpha), "--score", kind, "--logits"]
        base = list(map(str, base))
        r_wall, r_mem, r_out = _timed_child(base)
        rec = json.loads(r_out)
        _timed_child(base + ["--emit-sets", str(d / f"recarena_{kind}_sets.txt")])
        rec_check = _recarena_check(d / f"recarena_{kind}_sets.txt", n_test)
        row = {"kind": kind, "recarena_s": r_wall, "recarena_peak_mb": r_mem,
               "recarena_q_hat": rec["q_hat"], "recarena_coverage": rec["coverage"],
               "recarena_mean_size": rec["mean_set_size"]}
        for dt in ("float32", "float64"):
            child = [sys.executable, __file__, "--dir", str(d), "--alpha", str(args.alpha),
                     "--chunk", str(args.chunk), "--threads", str(args.threads),
                     "--torchcp-kind", kind, "--torchcp-dtype", dt]
            t_wall, t_mem, t_out = _timed_child(child)
            tcp = json.loads(t_out)
            check = np.load(d / f"torchcp_{kind}_{dt}_check.npy")
            rows_differ = np.flatnonzero(np.any(check != rec_check, axis=1))
            differ = int(len(rows_differ))
            row.update({f"torchcp_{dt}_s": t_wall, f"torchcp_{dt}_compute_s": tcp["compute_s"],
                        f"torchcp_{dt}_peak_mb": t_mem, f"torchcp_{dt}_q_hat": tcp["q_hat"],
                        f"torchcp_{dt}_coverage": tcp["coverage"],
                        f"torchcp_{dt}_mean_size": tcp["mean_set_size"],
                        f"differing_sets_{dt}": differ,
                        f"differing_rows_{dt}": rows_differ[:10].tolist()})
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\nrecarena conformal vs TorchCP {version}: {args.queries:,} queries x {args.items:,} "
          f"items (half calibration), alpha {args.alpha}, TorchCP threads {args.threads}")
    print("| score | recarena s | TorchCP f32 s | TorchCP f64 s | ratio f32 | ratio f64 | "
          "recarena MB | TorchCP f32 MB | TorchCP f64 MB | coverage r / t32 / t64 | "
          "mean size r / t32 / t64 | sets differing f32 / f64 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['kind'].upper()} | {r['recarena_s']:.1f} | {r['torchcp_float32_s']:.1f} | "
              f"{r['torchcp_float64_s']:.1f} | {r['torchcp_float32_s'] / r['recarena_s']:.2f} | "
              f"{r['torchcp_float64_s'] / r['recarena_s']:.2f} | {r['recarena_peak_mb']:.0f} | "
              f"{r['torchcp_float32_peak_mb']:.0f} | {r['torchcp_float64_peak_mb']:.0f} | "
              f"{r['recarena_coverage']:.4f} / {r['torchcp_float32_coverage']:.4f} / "
              f"{r['torchcp_float64_coverage']:.4f} | {r['recarena_mean_size']:.2f} / "
              f"{r['torchcp_float32_mean_size']:.2f} / {r['torchcp_float64_mean_size']:.2f} | "
              f"{r['differing_sets_float32']} / {r['differing_sets_float64']} of {n_test:,} |")


if __name__ == "__main__":
    main()
