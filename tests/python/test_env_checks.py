"""Gymnasium's own checks on the single env, and the vector-env checks on the batched one."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence
from gymnasium.utils.passive_env_checker import data_shares_objects
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.vector.utils import batch_space

import recarena


@pytest.mark.parametrize("mask_repeats", [False, True])
def test_check_env_passes_on_the_single_env(sim_dir, mask_repeats):
    # Through gymnasium.make, so the env has a spec and check_env runs its determinism checks too.
    env = gymnasium.make("recarena/Session-v0", sim_dir=sim_dir, mask_repeats=mask_repeats,
                         disable_env_checker=True).unwrapped
    # check_env only warns for some findings: any warning fails the test.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    assert not [str(w.message) for w in caught]


def masked_count_ok(obs, mask_repeats):
    """The action mask's invariant: with repeats masked, exactly the start item (configs/sim/
    synthetic.yaml: initial_items 1) and the `step` items recommended so far are masked; otherwise
    nothing is."""
    zeros = (np.asarray(obs["action_mask"]) == 0).sum(-1)
    return np.all(zeros == (1 + np.asarray(obs["step"]) if mask_repeats else 0))


def check_vector_env(envs, steps=40, seed=7, mask_repeats=False):
    """Gymnasium 1.x's vector-env contract: batched spaces, seeded resets, step shapes and dtypes,
    same-step autoreset infos, and no data shared between calls; and the action-mask invariant on
    every observation, final ones included."""
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert envs.observation_space == batch_space(envs.single_observation_space, envs.num_envs)
    assert envs.action_space == batch_space(envs.single_action_space, envs.num_envs)
    obs1, _ = envs.reset(seed=seed)
    obs1 = {k: v.copy() for k, v in obs1.items()}
    envs.reset()
    obs2, _ = envs.reset(seed=seed)
    assert data_equivalence(obs1, obs2, exact=True)
    assert obs2 in envs.observation_space
    envs.action_space.seed(seed)
    calls = [obs2]
    done_seen = 0
    for _ in range(steps):
        actions = np.array([envs.single_action_space.sample(mask=m) for m in obs2["action_mask"]])
        obs2, rew, term, trunc, info = envs.step(actions)
        assert obs2 in envs.observation_space
        assert masked_count_ok(obs2, mask_repeats)
        assert rew.shape == (envs.num_envs,) and np.issubdtype(rew.dtype, np.floating)
        assert term.dtype == np.bool_ and trunc.dtype == np.bool_
        assert not np.any(term & trunc)
        done = term | trunc
        if done.any():
            done_seen += int(done.sum())
            assert np.array_equal(info["_final_obs"], done)
            assert np.array_equal(info["_final_info"], done)
            assert np.array_equal(info["final_info"]["episode"]["_l"], done)
            for i in np.flatnonzero(done):
                assert info["final_obs"][i] in envs.single_observation_space
                assert masked_count_ok(info["final_obs"][i], mask_repeats)
                assert info["final_info"]["episode"]["l"][i] >= 1
            for i in np.flatnonzero(~done):
                assert info["final_obs"][i] is None
            # Same-step autoreset: a finished slot already shows its next episode's first state.
            assert np.all(obs2["step"][done] == 0)
        else:
            assert "final_obs" not in info
        calls.append(obs2)
    for a in range(len(calls)):
        for b in range(a + 1, len(calls)):
            assert not data_shares_objects(calls[a], calls[b])
    return done_seen


@pytest.mark.parametrize("num_envs,mask_repeats", [(1, False), (5, True)])
def test_vector_env_checks(sim_dir, num_envs, mask_repeats):
    envs = recarena.make(sim_dir, num_envs=num_envs, seed=3, mask_repeats=mask_repeats)
    assert check_vector_env(envs, mask_repeats=mask_repeats) > 0  # episodes of at most 10 steps end within 40 steps


def test_vector_env_matches_gymnasiums_sync_vector_env(sim_dir):
    # B = 1: our same-step autoreset against Gymnasium's own SyncVectorEnv(SAME_STEP) over the single
    # env, step by step (observations, rewards, flags and the final_obs infos).
    ours = recarena.make(sim_dir, num_envs=1, seed=11, mask_repeats=True)
    ref = SyncVectorEnv([lambda: recarena.make_env(sim_dir, seed=11, mask_repeats=True)],
                        autoreset_mode=AutoresetMode.SAME_STEP)
    o1, _ = ours.reset(seed=11)
    o2, _ = ref.reset(seed=11)
    assert data_equivalence(o1, o2, exact=True)
    rng = np.random.default_rng(0)
    finals = 0
    for _ in range(60):
        a = np.array([rng.choice(np.flatnonzero(o1["action_mask"][0]))])
        o1, r1, t1, u1, i1 = ours.step(a)
        o2, r2, t2, u2, i2 = ref.step(a)
        assert data_equivalence(o1, o2, exact=True)
        assert np.array_equal(r1.astype(np.float64), r2) and np.array_equal(t1, t2)
        assert np.array_equal(u1, u2)
        if t1[0] or u1[0]:
            finals += 1
            assert data_equivalence(i1["final_obs"], i2["final_obs"], exact=True)
            assert np.array_equal(i1["_final_info"], i2["_final_info"])
            # The ended episode's totals and number, in the same dict-of-arrays layout.
            for key in ("episode", "_episode", "episode_id", "_episode_id"):
                assert data_equivalence(i1["final_info"][key], i2["final_info"][key]), key
        # The current episode's number (a reset episode's for the slot that just ended).
        assert np.array_equal(i1["episode_id"], i2["episode_id"])
    assert finals > 0


def test_record_episode_statistics_wrapper_agrees(sim_dir):
    envs = gymnasium.wrappers.vector.RecordEpisodeStatistics(
        recarena.make(sim_dir, num_envs=4, seed=5))
    envs.reset(seed=5)
    matched = 0
    for _ in range(30):
        _, _, term, trunc, info = envs.step(envs.action_space.sample())
        for i in np.flatnonzero(term | trunc):
            assert info["episode"]["r"][i] == pytest.approx(info["final_info"]["episode"]["r"][i],
                                                            rel=1e-5)
            assert info["episode"]["l"][i] == info["final_info"]["episode"]["l"][i]
            matched += 1
    assert matched > 0
