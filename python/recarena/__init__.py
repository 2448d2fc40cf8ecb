"""recarena for Python: the learned user simulator as Gymnasium environments, and the offline
metrics and conformal sets of the C++ library (docs/python.md).

    import recarena
    envs = recarena.make("runs/quickstart/sim", role="test", num_envs=64, seed=0)
    obs, info = envs.reset()
    obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
"""

import torch  # noqa: F401  (loads LibTorch before the module that links it)

import _recarena  # noqa: F401

from recarena.envs import RecarenaEnv, RecarenaVectorEnv, make, make_env
from recarena.evaluation import conformal_sets, load_dataset, metrics

__all__ = ["RecarenaEnv", "RecarenaVectorEnv", "make", "make_env", "metrics", "conformal_sets",
           "load_dataset"]
__version__ = "0.12.0"

import gymnasium as _gym

# gymnasium.make("recarena/Session-v0", sim_dir=...) and
# gymnasium.make_vec("recarena/Session-v0", num_envs=B, vectorization_mode="vector_entry_point", ...).
if "recarena/Session-v0" not in _gym.registry:
    _gym.register("recarena/Session-v0", entry_point="recarena.envs:RecarenaEnv",
                  vector_entry_point="recarena.envs:RecarenaVectorEnv", disable_env_checker=False)
