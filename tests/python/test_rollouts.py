"""Python rollouts reproduce `recarena sim rollout` episode by episode, for any batch size."""

import json

import numpy as np
import pytest
import torch

import recarena
from conftest import run_cli


def popular_actions(obs, popularity):
    # policies::PopularActions: the most popular allowed item, ties to the smallest id.
    return np.where(obs["action_mask"] == 1, popularity, -np.inf).argmax(1)


def oracle_actions(envs, obs):
    # policies::OracleActions: the largest expected reward among the allowed items.
    scores = torch.from_dlpack(envs.core.expected_rewards_all()).float()
    mask = torch.from_numpy(obs["action_mask"]).bool()
    return torch.where(mask, torch.nan_to_num(scores, 0.0), float("-inf")).argmax(1).numpy()


def python_rollout(sim_dir, policy, episodes, seed, num_envs, **overrides):
    """Per-episode (return, length) by episode id, as RunEpisodes (experiments/eval/rollout.h)."""
    envs = recarena.make(sim_dir, role="test", num_envs=num_envs, seed=seed, **overrides)
    popularity = np.asarray(envs.core.logged_item_counts, dtype=np.float32)
    obs, _ = envs.reset()
    out = {}
    while len(out) < episodes:
        a = popular_actions(obs, popularity) if policy == "popular" else oracle_actions(envs, obs)
        obs, _, term, trunc, info = envs.step(a)
        for i in np.flatnonzero(term | trunc):
            fi = info["final_info"]
            if fi["episode_id"][i] < episodes:
                out[int(fi["episode_id"][i])] = (float(fi["episode"]["r"][i]),
                                                 int(fi["episode"]["l"][i]))
    return [out[e] for e in range(episodes)]


def cli_rollout(sim_dir, tmp_path, policy, episodes, seed, mask_repeats):
    path = tmp_path / f"{policy}.tsv"
    args = ["sim", "rollout", sim_dir, "--policy", policy, "--episodes", episodes, "--seed", seed,
            "--role", "test", "--episodes-out", path]
    if mask_repeats:
        args.append("--mask-repeats")
    summary = json.loads(run_cli(*args).stdout)
    rows = [line.split("\t") for line in path.read_text().splitlines()[1:]]
    assert [int(r[0]) for r in rows] == list(range(episodes))
    return [(float(r[1]), int(r[2])) for r in rows], summary


@pytest.mark.parametrize("policy,mask_repeats,num_envs", [
    ("popular", True, 4), ("popular", False, 1), ("oracle", True, 7)])
def test_python_episodes_equal_cli_episodes(sim_dir, tmp_path, policy, mask_repeats, num_envs):
    episodes, seed = 30, 12345
    cli, summary = cli_rollout(sim_dir, tmp_path, policy, episodes, seed, mask_repeats)
    py = python_rollout(sim_dir, policy, episodes, seed, num_envs, mask_repeats=mask_repeats)
    assert [l for _, l in py] == [l for _, l in cli]
    # The TSV keeps 9 significant digits of the C++ double.
    np.testing.assert_allclose([r for r, _ in py], [r for r, _ in cli], rtol=1e-7, atol=1e-7)
    assert summary["episodes"] == episodes
    # The episodes are not all alike (the comparison would be weak otherwise).
    assert len({l for _, l in cli}) > 1 or len({round(r, 6) for r, _ in cli}) > 1


def test_other_seed_gives_other_episodes(sim_dir):
    a = python_rollout(sim_dir, "popular", 30, 1, 4, mask_repeats=True)
    b = python_rollout(sim_dir, "popular", 30, 2, 4, mask_repeats=True)
    assert a != b


def test_single_env_continues_the_seed_stream(sim_dir):
    # make_env(seed=s): reset() after an ended episode continues with episode 1, 2, ... of seed s,
    # the episodes the vector env (and the CLI) number 1, 2, ...
    env = recarena.make_env(sim_dir, seed=99, mask_repeats=True)
    popularity = np.asarray(env.core.logged_item_counts, dtype=np.float32)
    single = []
    obs, info = env.reset()
    for episode in range(5):
        assert info["episode_id"] == episode
        total, length, done = 0.0, 0, False
        while not done:
            a = int(popular_actions({k: v[None] for k, v in obs.items()}, popularity)[0])
            obs, r, term, trunc, info = env.step(a)
            total, length, done = total + r, length + 1, term or trunc
        assert info["episode"]["l"] == length
        single.append((info["episode"]["r"], length))
        obs, info = env.reset()
    vec = python_rollout(sim_dir, "popular", 5, 99, 3, mask_repeats=True)
    assert [l for _, l in single] == [l for _, l in vec]
    np.testing.assert_allclose([r for r, _ in single], [r for r, _ in vec], rtol=1e-6)


def test_reset_without_seed_mid_episode_is_reproducible(sim_dir):
    # reset() without a seed in the middle of an episode draws the next seed from np_random, which
    # make_env's seed seeds: two envs made alike give the same episodes.
    firsts = []
    for _ in range(2):
        env = recarena.make_env(sim_dir, seed=21)
        env.reset()
        env.step(0)
        obs, _ = env.reset()
        obs2, *_ = env.step(1)
        firsts.append((obs["items"].tolist(), obs2["items"].tolist(), int(obs["user"])))
    assert firsts[0] == firsts[1]
