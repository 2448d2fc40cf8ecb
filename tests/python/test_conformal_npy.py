"""`recarena conformal` on NumPy .npy files written by numpy.save gives the same report and the same
sets as on the same values written as text (docs/conformal.md, "Input files")."""

import json
import subprocess

import numpy as np
import pytest

from conftest import BIN, run_cli


def _write_text(path, matrix):
    # repr of the double holding each value: the text parses back to exactly the same number.
    path.write_text("".join(",".join(repr(float(v)) for v in row) + "\n" for row in matrix))


def _run(scores, labels, cal_scores, cal_labels, kind, sets, *extra):
    out = run_cli("conformal", "--scores", scores, "--labels", labels, "--cal-scores", cal_scores,
                  "--cal-labels", cal_labels, "--alpha", "0.1", "--score", kind, "--emit-sets",
                  sets, *extra)
    return json.loads(out.stdout)


@pytest.mark.parametrize("dtype,logits,label_dtype", [
    (np.float32, True, np.int64),
    (np.float64, False, np.int32),
])
def test_npy_equals_text(tmp_path, dtype, logits, label_dtype):
    rng = np.random.default_rng(5)
    n_items = 17

    def make(n):
        z = rng.normal(size=(n, n_items)) * 2.0
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        y = np.array([rng.choice(n_items, p=row) for row in p])
        return (z if logits else p).astype(dtype), y.astype(label_dtype)

    files = {}
    for part, n in (("cal", 80), ("test", 50)):
        m, y = make(n)
        np.save(tmp_path / f"{part}.npy", m)
        np.save(tmp_path / f"{part}_labels.npy", y)
        _write_text(tmp_path / f"{part}.csv", m)
        (tmp_path / f"{part}.lab").write_text("".join(f"{v}\n" for v in y))
        files[part] = m
    extra = ["--logits"] if logits else []
    for kind in ("thr", "aps", "raps"):
        a = _run(tmp_path / "test.npy", tmp_path / "test_labels.npy", tmp_path / "cal.npy",
                 tmp_path / "cal_labels.npy", kind, tmp_path / "npy_sets.txt", *extra)
        b = _run(tmp_path / "test.csv", tmp_path / "test.lab", tmp_path / "cal.csv",
                 tmp_path / "cal.lab", kind, tmp_path / "csv_sets.txt", *extra)
        assert a == b, kind
        assert 0 < a["mean_set_size"] < n_items
        assert (tmp_path / "npy_sets.txt").read_text() == (tmp_path / "csv_sets.txt").read_text()


def test_npy_errors_name_file_and_row(tmp_path):
    p = np.full((3, 4), 0.25)
    p[1, 2] = -0.5
    np.save(tmp_path / "bad.npy", p)
    np.save(tmp_path / "labels.npy", np.array([0, 1, 2]))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.full((3, 4), 0.25)))

    def err(scores, labels):
        r = subprocess.run([BIN, "conformal", "--scores", str(scores), "--labels", str(labels),
                            "--alpha", "0.1", "--score", "thr"], capture_output=True, text=True)
        assert r.returncode != 0
        return r.stderr

    e = err(tmp_path / "bad.npy", tmp_path / "labels.npy")
    assert "bad.npy" in e and "row 2" in e and "column 3" in e
    e = err(tmp_path / "fortran.npy", tmp_path / "labels.npy")
    assert "fortran.npy" in e and "Fortran order" in e
    np.save(tmp_path / "labels2.npy", np.array([0, 1]))
    np.save(tmp_path / "ok.npy", np.full((3, 4), 0.25))
    e = err(tmp_path / "ok.npy", tmp_path / "labels2.npy")
    assert "labels2.npy" in e and "missing label" in e
