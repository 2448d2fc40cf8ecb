"""recarena's simulator as Gymnasium environments (docs/python.md).

Both classes drive the C++ VectorEnv (env/vector_env.h) through the compiled module _recarena. Every
array they return is a view of the buffer the C++ step produced (DLPack, no copy), so it is never
reused by a later step.

Observation (a Dict space, per user):
    items        int64 [L]  the last L items of the history, right-padded with num_items
    length       int64 []   real items in `items`, 1..L
    user         int64 []   the dense user id
    step         int64 []   steps taken in the episode
    action_mask  int8  [N]  1 = the item may be recommended (Gymnasium's masking convention:
                            action_space.sample(mask=obs["action_mask"]))
Action: Discrete(N), the recommended item. A masked or out-of-range action raises ValueError.
Reward, terminated (the user left) and truncated (the step cap, or no allowed item left) are the
C++ step's; the two are never both true.

Seeds. Episode e of seed s draws all its randomness from its own stream (Rng(s).Fork(e)), so a seed
fixes every episode whatever the batch size; `recarena sim rollout --seed s` gives the same
episodes. reset(seed=s) starts episodes 0, 1, ... of s; reset() without a seed uses the seed given to
make() the first time, and later a fresh seed drawn from the env's np_random. A single env's reset()
right after an episode ended continues with the next episode of the same seed.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

import _recarena

_ENV_OPTIONS = ("mask_repeats", "leave", "max_length")


def _core(sim_dir, role, num_envs, device, overrides) -> _recarena.VectorEnv:
    unknown = sorted(set(overrides) - set(_ENV_OPTIONS))
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; the options are {list(_ENV_OPTIONS)}")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: torch sees no CUDA GPU on this machine")
    return _recarena.VectorEnv(
        str(sim_dir),
        role,
        int(num_envs),
        str(device),
        bool(overrides.get("mask_repeats", False)),
        bool(overrides.get("leave", True)),
        int(overrides.get("max_length", 0)),
    )


def _spaces(core, user_features) -> tuple[spaces.Dict, spaces.Discrete]:
    n, length = core.num_items, core.state_len
    fields = {
        "items": spaces.Box(0, n, (length,), np.int64),
        "length": spaces.Box(1, length, (), np.int64),
        "user": spaces.Box(0, max(core.num_users - 1, 0), (), np.int64),
        "step": spaces.Box(0, core.max_length, (), np.int64),
        "action_mask": spaces.MultiBinary(n),
    }
    if user_features is not None:
        # Bounded by the table's own column ranges (every user's row lies in them).
        table = user_features.float().cpu().numpy()
        fields["user_features"] = spaces.Box(table.min(0), table.max(0), (table.shape[1],),
                                             np.float32)
    return spaces.Dict(fields), spaces.Discrete(n)


class _Converter:
    """C++ results (DLPack capsules) to NumPy views (CPU) or torch tensors (CUDA), without copies."""

    def __init__(self, device: str):
        self.numpy = not str(device).startswith("cuda")

    def __call__(self, capsule, mask: bool = False):
        t = torch.from_dlpack(capsule)
        if mask:
            t = t.view(torch.int8)
        return t.numpy() if self.numpy else t

    def observation(self, r: dict, prefix: str = "") -> dict:
        return {
            "items": self(r[prefix + "items"]),
            "length": self(r[prefix + "lengths"]),
            "user": self(r[prefix + "users"]),
            "step": self(r[prefix + "step"]),
        }


def _actions_capsule(actions, num_envs: int):
    """actions (a NumPy array, torch tensor, list or int) as a DLPack capsule of int64 [num_envs]."""
    if isinstance(actions, torch.Tensor):
        t = actions.reshape(-1)
        if t.dtype != torch.int64:
            t = t.to(torch.int64)
        return torch.utils.dlpack.to_dlpack(t.contiguous())
    a = np.ascontiguousarray(np.asarray(actions, dtype=np.int64).reshape(-1))
    if a.shape[0] != num_envs:
        raise ValueError(f"expected {num_envs} action(s), got {a.shape[0]}")
    return torch.utils.dlpack.to_dlpack(torch.from_numpy(a))


def _row(v, i: int):
    """Row i of a batched array as a view; a 0-d array (not a NumPy scalar) for 1-d batches, as the
    Box spaces of shape () expect."""
    return v[i] if v.ndim > 1 or isinstance(v, torch.Tensor) else v[i:i + 1].reshape(())


def _final_mask(last_mask, actions, rows, mask_repeats: bool):
    """The ended episodes' action masks after their last action (C++ reports the new episodes')."""
    if not mask_repeats:
        return [np.ones_like(last_mask[i]) for i in rows]
    out = []
    for i in rows:
        m = last_mask[i].copy()
        m[int(actions[i])] = 0
        out.append(m)
    return out


class RecarenaVectorEnv(gymnasium.vector.VectorEnv):
    """B simulated users stepped at once (Gymnasium VectorEnv, same-step autoreset).

    When a sub-environment's episode ends, the observation returned for it already belongs to its
    next episode; info["final_obs"][i] holds the ended episode's last observation and
    info["final_info"] its totals ("episode": {"r", "l"}) and number ("episode_id"), each with the
    "_key" masks of the rows that ended, as Gymnasium's SyncVectorEnv does in
    AutoresetMode.SAME_STEP. info["episode_id"] numbers every slot's current episode,
    info["accepted"] says whether each user consumed the item, info["expected_reward"] is the
    response model's expected reward before the random draw.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, sim_dir, role: str = "test", num_envs: int = 1, seed: int = 0,
                 device: str = "cpu", **overrides):
        self._core = _core(sim_dir, role, num_envs, device, overrides)
        self._mask_repeats = bool(overrides.get("mask_repeats", False))
        self._convert = _Converter(device)
        self.num_envs = int(num_envs)
        # The simulator's user feature table (DeepFM fitted with user features), or None.
        uf = self._core.user_features()
        self._user_features = None if uf is None else torch.from_dlpack(uf)
        self.single_observation_space, self.single_action_space = _spaces(
            self._core, self._user_features)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._first_seed = int(seed)
        self._started = False
        self._np_random, _ = gymnasium.utils.seeding.np_random(int(seed))
        self._last_mask = None

    @property
    def core(self) -> _recarena.VectorEnv:
        """The C++ VectorEnv (sizes, logged item counts, expected rewards)."""
        return self._core

    def _observation(self, r: dict) -> dict:
        obs = self._convert.observation(r)
        obs["action_mask"] = self._last_mask = self._convert(r["candidate_mask"], mask=True)
        self._add_user_features(obs)
        return obs

    def _add_user_features(self, obs: dict) -> None:
        # Gathered per step (the rows of the users in the batch: a small copy, not a view).
        if self._user_features is not None:
            users = torch.as_tensor(obs["user"], device=self._user_features.device)
            rows = self._user_features.index_select(0, users.reshape(-1)).float()
            obs["user_features"] = rows.numpy() if self._convert.numpy else rows

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            if not isinstance(seed, (int, np.integer)):
                raise ValueError("seed must be one int: the episodes of all sub-environments come "
                                 "from one seed's streams (one per episode)")
            self._np_random, _ = gymnasium.utils.seeding.np_random(int(seed))
            core_seed = int(seed)
        elif not self._started:
            core_seed = self._first_seed
        else:
            core_seed = int(self._np_random.integers(0, 2**63 - 1))
        self._started = True
        r = self._core.reset(core_seed)
        return self._observation(r), {"episode_id": self._convert(r["episode_id"]),
                                      "_episode_id": np.ones(self.num_envs, dtype=np.bool_)}

    def step(self, actions):
        prev_mask = self._last_mask
        r = self._core.step(_actions_capsule(actions, self.num_envs))
        obs = self._observation(r)
        terminated = self._convert(r["terminated"])
        truncated = self._convert(r["truncated"])
        every = np.ones(self.num_envs, dtype=np.bool_)
        info: dict[str, Any] = {
            "episode_id": self._convert(r["episode_id"]), "_episode_id": every,
            "accepted": self._convert(r["accepted"]), "_accepted": every.copy(),
        }
        if r["expected_reward"] is not None:
            info["expected_reward"] = self._convert(r["expected_reward"])
            info["_expected_reward"] = every.copy()
        done = np.asarray((terminated | truncated) if self._convert.numpy
                          else (terminated | truncated).cpu().numpy())
        if done.any():
            info.update(self._final_infos(r, done, actions, prev_mask, info))
        return obs, self._convert(r["reward"]), terminated, truncated, info

    def _final_infos(self, r: dict, done: np.ndarray, actions, prev_mask, step_info) -> dict:
        """final_obs (object array) and final_info (arrays with "_key" masks), as Gymnasium's
        SyncVectorEnv builds them in AutoresetMode.SAME_STEP."""
        final = self._convert.observation(r, "final_")
        rows = np.flatnonzero(done)
        acts = actions.cpu().numpy() if isinstance(actions, torch.Tensor) else np.asarray(actions)
        masks = _final_mask(prev_mask if self._convert.numpy else prev_mask.cpu().numpy(),
                            acts.reshape(-1), rows, self._mask_repeats)
        self._add_user_features(final)
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i, m in zip(rows, masks):
            final_obs[i] = {k: _row(v, i).copy() if self._convert.numpy else v[i].clone()
                            for k, v in final.items()}
            final_obs[i]["action_mask"] = m

        def host(capsule):
            return np.asarray(torch.from_dlpack(capsule).cpu())

        def masked(values):
            out = np.zeros_like(values)
            out[rows] = values[rows]
            return out

        final_info = {
            "episode": {"r": masked(host(r["episode_return"]).astype(np.float64)), "_r": done.copy(),
                        "l": masked(host(r["episode_length"])), "_l": done.copy()},
            "_episode": done.copy(),
            "episode_id": masked(host(r["final_episode_id"])), "_episode_id": done.copy(),
        }
        for key in ("accepted", "expected_reward"):
            if key in step_info:
                final_info[key] = masked(np.asarray(step_info[key].cpu() if isinstance(
                    step_info[key], torch.Tensor) else step_info[key]))
                final_info["_" + key] = done.copy()
        return {"final_obs": final_obs, "_final_obs": done.copy(),
                "final_info": final_info, "_final_info": done.copy()}

    def action_masks(self):
        """The current action masks [B, N] int8 (sb3-contrib's MaskablePPO convention)."""
        return self._last_mask

    def close_extras(self, **kwargs):
        self._core = None


class RecarenaEnv(gymnasium.Env):
    """One simulated user session at a time (Gymnasium Env over the VectorEnv with B = 1)."""

    metadata = {"render_modes": []}

    def __init__(self, sim_dir, role: str = "test", seed: int = 0, device: str = "cpu",
                 **overrides):
        self._vec = RecarenaVectorEnv(sim_dir, role, 1, seed, device, **overrides)
        self.observation_space = self._vec.single_observation_space
        self.action_space = self._vec.single_action_space
        self._pending = None  # the next episode's first observation after an ended one
        # reset() without a seed draws from np_random: seeded by make_env's seed until reset(seed=)
        self._np_random, _ = gymnasium.utils.seeding.np_random(int(seed))

    @property
    def core(self) -> _recarena.VectorEnv:
        return self._vec.core

    @staticmethod
    def _row(obs: dict) -> dict:
        return {k: _row(v, 0) for k, v in obs.items()}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is None and self._pending is not None:
            obs, info = self._pending
            self._pending = None
            return obs, info
        self._pending = None
        if seed is None and self._vec._started:
            seed = int(self.np_random.integers(0, 2**63 - 1))
        obs, info = self._vec.reset(seed=seed)
        return self._row(obs), {"episode_id": int(info["episode_id"][0])}

    def step(self, action):
        obs, reward, terminated, truncated, info = self._vec.step(np.array([action], np.int64))
        out_info = {"episode_id": int(info["episode_id"][0]), "accepted": bool(info["accepted"][0])}
        if "expected_reward" in info:
            out_info["expected_reward"] = float(info["expected_reward"][0])
        done = bool(terminated[0] or truncated[0])
        if done:
            self._pending = (self._row(obs), {"episode_id": out_info["episode_id"]})
            fi = info["final_info"]
            out_info["episode_id"] = int(fi["episode_id"][0])
            out_info["episode"] = {"r": float(fi["episode"]["r"][0]), "l": int(fi["episode"]["l"][0])}
            obs = info["final_obs"][0]
        else:
            self._pending = None
            obs = self._row(obs)
        return obs, float(reward[0]), bool(terminated[0]), bool(truncated[0]), out_info

    def action_masks(self):
        return self._vec.action_masks()[0]


def make(sim_dir, role: str = "test", num_envs: int = 1, seed: int = 0, device: str = "cpu",
         **overrides) -> RecarenaVectorEnv:
    """A Gymnasium VectorEnv of num_envs users of a fitted simulator (`recarena sim fit`).

    role: "train" | "test" | "eval"; device: "cpu", "cuda" or "config" (the fit's run.device; on
    CUDA the arrays are torch tensors on the GPU). overrides: mask_repeats (never recommend an item
    twice per episode, default False), leave (leave rules on, default True), max_length (step cap,
    0 = the simulator's).
    """
    return RecarenaVectorEnv(sim_dir, role, num_envs, seed, device, **overrides)


def make_env(sim_dir, role: str = "test", seed: int = 0, device: str = "cpu",
             **overrides) -> RecarenaEnv:
    """A single-session Gymnasium Env over a fitted simulator (options as for make)."""
    return RecarenaEnv(sim_dir, role, seed, device, **overrides)
