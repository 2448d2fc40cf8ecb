"""Offline evaluation with recarena's own definitions, for models written in Python.

metrics: the ranking metrics of `recarena eval rankings` (docs/metrics.md): HR@k, NDCG@k, MRR and,
with a catalog size, CV_div@k; CV_nov@k with long-tail flags or popularity counts; R@k with sessions.
conformal_sets: split conformal prediction sets with a fixed calibration set, identical to
`recarena conformal --cal-scores ... --scores ...` for one score function (docs/conformal.md).
load_dataset: a prepared dataset directory (`recarena data prepare`) as Python sequences.
"""

from __future__ import annotations

import numpy as np

import _recarena


def metrics(ranked, targets, ks=(5, 10, 20), num_items: int = 0, users=None, sessions=None,
            long_tail=None, popularity=None) -> dict:
    """Ranking metrics of ranked lists against next-item targets.

    ranked: [Q, K] item ids, best first (a row may end early: pad it with -1); targets: [Q] the true
    next items; users / sessions: optional [Q] ids (R@k needs sessions); long_tail: optional [N] 0/1;
    popularity: optional [N] training counts (long-tail set derived from them, thesis Sec. 4.4.3).
    Returns {"num_queries": Q, "HR@k": ..., "NDCG@k": ..., "MRR": ..., ...}.
    """
    return _recarena.ranking_metrics(
        np.asarray(ranked, dtype=np.int64), np.asarray(targets, dtype=np.int64),
        [int(k) for k in ks], int(num_items),
        None if users is None else np.asarray(users, dtype=np.int64),
        None if sessions is None else np.asarray(sessions, dtype=np.int64),
        None if long_tail is None else [int(x) for x in long_tail],
        None if popularity is None else [int(x) for x in popularity])


def conformal_sets(cal_probs, cal_labels, probs, alpha="0.1", score: str = "aps",
                   randomized: bool = False, lam: float = 0.01, k_reg: int = 5, seed: int = 42,
                   labels=None) -> dict:
    """Split conformal sets at miscoverage alpha from calibration probabilities and labels.

    cal_probs [n, N] and probs [m, N]: rows of probabilities (each sums to 1); cal_labels [n];
    score: thr | aps | raps | saps | rank; alpha: a decimal (string or float) in (0, 1).
    Returns {"q_hat", "sets" (m arrays of item ids), "set_sizes", "coverage" (with labels)}.
    """
    alpha_text = alpha if isinstance(alpha, str) else repr(float(alpha))
    q_hat, sets, coverage = _recarena.conformal_sets(
        np.asarray(cal_probs, dtype=np.float64), np.asarray(cal_labels, dtype=np.int64),
        np.asarray(probs, dtype=np.float64), alpha_text, score, bool(randomized), float(lam),
        int(k_reg), int(seed), None if labels is None else np.asarray(labels, dtype=np.int64))
    return {"q_hat": q_hat, "sets": sets, "set_sizes": np.array([len(s) for s in sets]),
            "coverage": coverage}


def load_dataset(prepared_dir) -> dict:
    """A prepared dataset: name, num_items, num_users, item_ids / user_ids (external ids by dense
    id), item_counts, long_tail, and train / valid / test lists of sequences (dicts with user,
    session, items, timestamps, values, target_from: positions >= target_from are targets)."""
    return _recarena.load_prepared(str(prepared_dir))
