"""Clear errors on bad input, and observations that are views of the C++ buffers (no copy)."""

import numpy as np
import pytest
import torch

import recarena


def test_not_a_simulator_names_the_folder(tmp_path):
    with pytest.raises(ValueError, match=str(tmp_path)):
        recarena.make(tmp_path)


def test_unknown_role_lists_the_roles(sim_dir):
    with pytest.raises(ValueError, match="train"):
        recarena.make(sim_dir, role="nope")


def test_unknown_option_is_named(sim_dir):
    with pytest.raises(TypeError, match="mask_repeat"):
        recarena.make(sim_dir, mask_repeat=True)


def test_bad_actions_are_refused(sim_dir):
    envs = recarena.make(sim_dir, num_envs=2, seed=0, mask_repeats=True)
    obs, _ = envs.reset()
    with pytest.raises(ValueError, match="2 action"):
        envs.step(np.array([0, 1, 2]))
    with pytest.raises(ValueError):
        envs.step(np.array([0, envs.single_action_space.n]))  # out of range
    masked = int(np.flatnonzero(obs["action_mask"][0] == 0)[0])  # a start-history item
    with pytest.raises(ValueError):
        envs.step(np.array([masked, 0]))


def test_cuda_without_a_gpu_is_a_clear_error(sim_dir):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        recarena.make(sim_dir, device="cuda")


def test_observations_are_views_of_the_step_results(sim_dir):
    envs = recarena.make(sim_dir, num_envs=8, seed=0, mask_repeats=True)
    obs, _ = envs.reset()
    for _ in range(3):
        obs, reward, term, trunc, _ = envs.step(envs.action_space.sample(
            mask=tuple(obs["action_mask"])))
        for a in (*obs.values(), reward, term, trunc):
            # A NumPy view over memory it does not own: the DLPack buffer of the C++ tensor.
            assert isinstance(a, np.ndarray) and not a.flags.owndata
            assert a.base is not None
    assert obs["action_mask"].dtype == np.int8
    assert obs["items"].dtype == np.int64 and obs["items"].shape == (8, envs.core.state_len)


def test_torch_actions_are_accepted(sim_dir):
    envs = recarena.make(sim_dir, num_envs=3, seed=0)
    envs.reset()
    _, reward, _, _, _ = envs.step(torch.tensor([0, 1, 2]))
    assert reward.shape == (3,)
