"""User features in the observation, where the simulator has them (Coat's DeepFM, real data)."""

import os
import pathlib
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import recarena
from conftest import ROOT, run_cli

DATA = pathlib.Path(os.environ.get("RECARENA_DATA_DIR", ROOT.parent / "shared" / "data"))
if not (DATA / "coat").is_dir():
    if os.environ.get("RECARENA_REQUIRE_DATA"):
        raise RuntimeError(f"RECARENA_REQUIRE_DATA is set but {DATA / 'coat'} is missing")
    pytest.skip(f"RECARENA_SKIPPED: no Coat data in {DATA}", allow_module_level=True)


@pytest.fixture(scope="module")
def coat(tmp_path_factory):
    """A quickly fitted Coat simulator (DeepFM with user and item features) and its prepared data."""
    tmp = tmp_path_factory.mktemp("coat")
    run_cli("sim", "fit", "--config", ROOT / "configs/sim/coat.yaml", "--out", tmp / "sim",
            "sim.response.epochs=2", "sim.response.ensemble=1", "run.device=cpu",
            "run.log_level=warn")
    # The same data section and seed as configs/sim/coat.yaml, so the same dense user ids.
    run_cli("data", "prepare", "--dataset", "coat", "--out", tmp / "data",
            "data.preprocess.sequence_unit=user", "run.seed=42", "run.log_level=warn")
    return tmp / "sim", tmp / "data"


def test_observation_carries_the_users_features(coat):
    sim, data = coat
    lines = (data / "user_features.tsv").read_text().splitlines()
    table = np.array([[float(x) for x in line.split("\t")] for line in lines[1:]], np.float32)
    envs = recarena.make(sim, num_envs=6, seed=2)
    assert envs.single_observation_space["user_features"].shape == (table.shape[1],)
    obs, _ = envs.reset()
    for _ in range(15):
        np.testing.assert_array_equal(obs["user_features"], table[obs["user"]])
        obs, _, term, trunc, info = envs.step(envs.action_space.sample())
        for i in np.flatnonzero(term | trunc):
            final = info["final_obs"][i]
            np.testing.assert_array_equal(final["user_features"], table[int(final["user"])])
    assert obs in envs.observation_space


def test_check_env_passes_with_user_features(coat):
    env = recarena.make_env(coat[0], seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True, skip_close_check=True)
    assert not [str(w.message) for w in caught]
