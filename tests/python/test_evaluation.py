"""recarena.metrics, recarena.conformal_sets and recarena.load_dataset against hand-computed values
and against the CLI on the same inputs."""

import json
import math

import numpy as np
import pytest

import recarena
from conftest import run_cli


def test_metrics_golden_values():
    # Query 0: target at rank 1; query 1: at rank 3; query 2: absent.
    ranked = np.array([[4, 1, 2], [0, 1, 3], [2, 1, -1]])
    m = recarena.metrics(ranked, [4, 3, 0], ks=[1, 3])
    assert m["num_queries"] == 3
    assert m["HR@1"] == pytest.approx(1 / 3)
    assert m["HR@3"] == pytest.approx(2 / 3)
    assert m["NDCG@3"] == pytest.approx((1 + 1 / math.log2(4)) / 3)
    assert m["MRR"] == pytest.approx((1 + 1 / 3) / 3)


def test_metrics_equal_eval_rankings(tmp_path):
    rng = np.random.default_rng(0)
    n_items, q = 30, 50
    ranked = np.stack([rng.permutation(n_items)[:10] for _ in range(q)])
    targets = rng.integers(0, n_items, q)
    sessions = rng.integers(0, 8, q)
    (tmp_path / "pred.txt").write_text(
        "".join(f"{i} {' '.join(map(str, r))}\n" for i, r in enumerate(ranked)))
    (tmp_path / "truth.txt").write_text(
        "".join(f"{i} {t} {s}\n" for i, (t, s) in enumerate(zip(targets, sessions))))
    (tmp_path / "catalog.txt").write_text("".join(f"{i}\n" for i in range(n_items)))
    cli = json.loads(run_cli("eval", "rankings", "--pred", tmp_path / "pred.txt", "--truth",
                             tmp_path / "truth.txt", "--catalog", tmp_path / "catalog.txt",
                             "--k", "5,10").stdout)
    py = recarena.metrics(ranked, targets, ks=[5, 10], num_items=n_items, sessions=sessions)
    cli_metrics = cli.get("metrics", cli)
    shared = [k for k in py if k in cli_metrics]
    assert {"HR@5", "NDCG@10", "MRR", "CV_div@10", "R@5"} <= set(shared)
    for k in shared:
        assert py[k] == pytest.approx(cli_metrics[k], rel=1e-12), k


def test_metrics_bad_input_names_the_query():
    with pytest.raises(ValueError, match="query"):
        recarena.metrics([[1, 1, 2]], [1], ks=[3])  # a duplicate in the list


def _probs(rng, n, items):
    logits = rng.normal(size=(n, items)) * 2
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


@pytest.mark.parametrize("score", ["thr", "aps", "raps"])
def test_conformal_sets_equal_the_cli(tmp_path, score):
    rng = np.random.default_rng(1)
    items = 12
    cal, test = _probs(rng, 80, items), _probs(rng, 40, items)
    cal_y = np.array([rng.choice(items, p=p) for p in cal])
    test_y = np.array([rng.choice(items, p=p) for p in test])

    def write(name, rows, labels):
        (tmp_path / f"{name}.txt").write_text(
            "".join(",".join(repr(float(x)) for x in r) + "\n" for r in rows))
        (tmp_path / f"{name}_labels.txt").write_text("".join(f"{y}\n" for y in labels))

    write("cal", cal, cal_y)
    write("test", test, test_y)
    report = json.loads(run_cli(
        "conformal", "--cal-scores", tmp_path / "cal.txt", "--cal-labels",
        tmp_path / "cal_labels.txt", "--scores", tmp_path / "test.txt", "--labels",
        tmp_path / "test_labels.txt", "--alpha", "0.1", "--score", score, "--randomized",
        "--seed", "5", "--emit-sets", tmp_path / "sets.txt").stdout)
    py = recarena.conformal_sets(cal, cal_y, test, alpha="0.1", score=score, randomized=True,
                                 seed=5, labels=test_y)
    assert py["q_hat"] == pytest.approx(report["q_hat"], rel=1e-12)
    assert py["coverage"] == pytest.approx(report["coverage"])
    # --emit-sets: "query,item,item,..." per test query.
    emitted = [line.split(",") for line in (tmp_path / "sets.txt").read_text().splitlines()]
    assert [int(row[0]) for row in emitted] == list(range(len(py["sets"])))
    for row, s in zip(emitted, py["sets"]):
        assert [int(x) for x in row[1:]] == s.tolist()
    assert len({len(s) for s in py["sets"]}) > 1  # sets of several sizes: not a trivial case


def test_conformal_sets_cover_at_the_nominal_rate():
    rng = np.random.default_rng(2)
    items = 20
    cal, test = _probs(rng, 2000, items), _probs(rng, 2000, items)
    cal_y = np.array([rng.choice(items, p=p) for p in cal])
    test_y = np.array([rng.choice(items, p=p) for p in test])
    r = recarena.conformal_sets(cal, cal_y, test, alpha=0.1, score="aps", labels=test_y)
    assert 0.88 <= r["coverage"] <= 0.93  # 1 - alpha = 0.9, +- sampling noise of 2000 queries
    assert r["set_sizes"].mean() < items


def test_conformal_sets_bad_rows_name_the_row():
    with pytest.raises(ValueError, match="cal_probs row 1"):
        recarena.conformal_sets([[0.5, 0.5], [0.9, 0.9]], [0, 1], [[0.5, 0.5]], alpha="0.1")


def test_load_dataset_matches_the_prepared_files(prepared_dir):
    d = recarena.load_dataset(prepared_dir)
    assert d["name"] == "synthetic"
    assert d["num_items"] == 40 and len(d["item_ids"]) == 40
    assert len(d["train"]) > 0 and len(d["test"]) > 0
    stats = json.loads(open(f"{prepared_dir}/dataset.json").read())
    total = sum(len(s["items"]) for part in ("train", "valid", "test") for s in d[part])
    assert total >= 1
    assert d["item_counts"].sum() == stats["num_interactions"]
    seq = d["train"][0]
    assert seq["items"].dtype == np.int64 and len(seq["items"]) == len(seq["timestamps"])
    assert np.all((seq["items"] >= 0) & (seq["items"] < 40))
