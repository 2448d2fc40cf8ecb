#!/usr/bin/env python3
"""A short DQN in plain PyTorch against recarena's simulator, in the style of CleanRL's dqn.py.

Trains in the simulator's train role (its users), then evaluates the greedy policy, the random
policy and the most-popular policy on the same episodes of the test role (held-out users) and
prints each with a 95% interval over episodes:

    .venv/bin/python examples/python/dqn_cleanrl_style.py --sim-dir runs/quickstart/sim

The Q-network embeds the observation's recent items (mean of the history plus the last item) and
scores every item; actions are epsilon-greedy over the allowed items (obs["action_mask"]). The vector
env auto-resets in the same step (AutoresetMode.SAME_STEP), so the transition of an ended episode
takes its next state from info["final_obs"]; only `terminated` (the user left) stops bootstrapping,
a truncated episode (the step cap) still bootstraps.
"""

import argparse
import json
import math
import random
import time

import numpy as np
import torch
from torch import nn

import recarena


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sim-dir", default="runs/quickstart/sim", help="a fitted simulator")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--total-steps", type=int, default=3000, help="vector-env steps of training")
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--buffer-size", type=int, default=50000)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    # A short horizon: at gamma 0.9 this network and budget learn far less (docs/results/
    # python_dqn.md measures both).
    p.add_argument("--gamma", type=float, default=0.5)
    p.add_argument("--target-every", type=int, default=200, help="steps between target syncs")
    p.add_argument("--learning-starts", type=int, default=100)
    p.add_argument("--eps-start", type=float, default=1.0)
    p.add_argument("--eps-end", type=float, default=0.05)
    p.add_argument("--eps-fraction", type=float, default=0.5)
    p.add_argument("--eval-episodes", type=int, default=500)
    p.add_argument("--eval-roles", default="test",
                   help="roles to evaluate in, comma-separated (the synthetic world's simulator "
                        "also has eval: the ground truth)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json-out", default="", help="also write the result as JSON here")
    return p.parse_args()


class QNetwork(nn.Module):
    """Q(s, .) over all items from the history: [mean of the history items, last item] -> MLP."""

    def __init__(self, num_items: int, dim: int = 64):
        super().__init__()
        self.pad = num_items
        self.emb = nn.Embedding(num_items + 1, dim, padding_idx=num_items)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 256), nn.ReLU(), nn.Linear(256, num_items))

    def forward(self, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        e = self.emb(items)  # [B, L, D]; padding rows are zero
        mean = e.sum(1) / lengths.clamp(min=1).unsqueeze(1).float()
        last = e[torch.arange(items.shape[0]), (lengths - 1).clamp(min=0)]
        return self.mlp(torch.cat([mean, last], 1))


def masked_argmax(q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.bool(), q, torch.full_like(q, -math.inf)).argmax(1)


def random_allowed(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.array([rng.choice(np.flatnonzero(m)) for m in mask])


class Replay:
    """Transitions (s, a, r, s', terminated, mask') in preallocated NumPy arrays."""

    def __init__(self, size: int, state_len: int, num_items: int):
        self.size, self.n, self.pos = size, 0, 0
        self.items = np.zeros((size, state_len), np.int64)
        self.lengths = np.zeros(size, np.int64)
        self.actions = np.zeros(size, np.int64)
        self.rewards = np.zeros(size, np.float32)
        self.next_items = np.zeros((size, state_len), np.int64)
        self.next_lengths = np.zeros(size, np.int64)
        self.next_masks = np.zeros((size, num_items), np.int8)
        self.terminated = np.zeros(size, np.float32)

    def add(self, obs, actions, rewards, next_obs, terminated):
        for i in range(len(actions)):
            j = self.pos
            self.items[j], self.lengths[j] = obs["items"][i], obs["length"][i]
            self.actions[j], self.rewards[j] = actions[i], rewards[i]
            self.next_items[j], self.next_lengths[j] = next_obs[i]["items"], next_obs[i]["length"]
            self.next_masks[j] = next_obs[i]["action_mask"]
            self.terminated[j] = terminated[i]
            self.pos = (self.pos + 1) % self.size
            self.n = min(self.n + 1, self.size)

    def sample(self, batch: int, rng: np.random.Generator):
        idx = rng.integers(0, self.n, batch)
        t = torch.from_numpy
        return (t(self.items[idx]), t(self.lengths[idx]), t(self.actions[idx]),
                t(self.rewards[idx]), t(self.next_items[idx]), t(self.next_lengths[idx]),
                t(self.next_masks[idx]), t(self.terminated[idx]))


def train(args) -> QNetwork:
    envs = recarena.make(args.sim_dir, role="train", num_envs=args.num_envs, seed=args.seed,
                         mask_repeats=True)
    n, length = envs.single_action_space.n, envs.core.state_len
    q, target = QNetwork(n), QNetwork(n)
    target.load_state_dict(q.state_dict())
    opt = torch.optim.Adam(q.parameters(), lr=args.lr)
    replay = Replay(args.buffer_size, length, n)
    rng = np.random.default_rng(args.seed)
    obs, _ = envs.reset(seed=args.seed)
    start, returns = time.time(), []
    for step in range(args.total_steps):
        eps = max(args.eps_end, args.eps_start - (args.eps_start - args.eps_end) * step
                  / (args.eps_fraction * args.total_steps))
        with torch.no_grad():
            greedy = masked_argmax(q(torch.from_numpy(obs["items"]),
                                     torch.from_numpy(obs["length"])),
                                   torch.from_numpy(obs["action_mask"])).numpy()
        explore = rng.random(args.num_envs) < eps
        actions = np.where(explore, random_allowed(obs["action_mask"], rng), greedy)
        next_obs, rewards, term, trunc, info = envs.step(actions)
        # The transition's next state: the ended episode's last observation where one ended.
        nxt = [info["final_obs"][i] if (term[i] or trunc[i]) else
               {k: v[i] for k, v in next_obs.items()} for i in range(args.num_envs)]
        replay.add(obs, actions, rewards, nxt, term)
        for i in np.flatnonzero(term | trunc):
            returns.append(float(info["final_info"]["episode"]["r"][i]))
        obs = next_obs
        if step >= args.learning_starts:
            s, ln, a, r, s2, ln2, m2, done = replay.sample(args.batch_size, rng)
            with torch.no_grad():
                # Double DQN target: the online net picks the next action among the allowed ones.
                a2 = masked_argmax(q(s2, ln2), m2)
                q2 = target(s2, ln2).gather(1, a2.unsqueeze(1)).squeeze(1)
                # A next state with no allowed item has no future value.
                q2 = torch.where(m2.bool().any(1), q2, torch.zeros_like(q2))
                y = r + args.gamma * (1.0 - done) * q2
            loss = nn.functional.smooth_l1_loss(q(s, ln).gather(1, a.unsqueeze(1)).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if step % args.target_every == 0:
            target.load_state_dict(q.state_dict())
        if (step + 1) % 500 == 0:
            rate = (step + 1) * args.num_envs / (time.time() - start)
            eta = (args.total_steps - step - 1) * args.num_envs / rate
            recent = np.mean(returns[-200:]) if returns else float("nan")
            print(f"step {step + 1}/{args.total_steps}  eps {eps:.2f}  train return (last 200 "
                  f"episodes) {recent:.3f}  {rate:.0f} user-steps/s  ETA {eta:.0f} s", flush=True)
    return q


def evaluate(args, policy, role) -> list:
    """Returns of the role's episodes 0..eval_episodes-1 of seed 10_000 + seed, by episode id."""
    envs = recarena.make(args.sim_dir, role=role, num_envs=64, seed=10_000 + args.seed,
                         mask_repeats=True)
    obs, _ = envs.reset()
    out = {}
    rng = np.random.default_rng(args.seed + 1)
    while len(out) < args.eval_episodes:
        obs, _, term, trunc, info = envs.step(policy(obs, rng))
        for i in np.flatnonzero(term | trunc):
            e = int(info["final_info"]["episode_id"][i])
            if e < args.eval_episodes:
                out[e] = float(info["final_info"]["episode"]["r"][i])
    return [out[e] for e in range(args.eval_episodes)]


def mean_ci(x) -> dict:
    x = np.asarray(x, np.float64)
    half = 1.96 * x.std(ddof=1) / math.sqrt(len(x))
    return {"mean": float(x.mean()), "ci95": [float(x.mean() - half), float(x.mean() + half)],
            "n": len(x)}


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    start = time.time()
    q = train(args)

    def dqn(obs, rng):
        with torch.no_grad():
            return masked_argmax(q(torch.from_numpy(obs["items"]), torch.from_numpy(obs["length"])),
                                 torch.from_numpy(obs["action_mask"])).numpy()

    def popular(obs, rng):
        # The most popular allowed item of the simulator's logs, ties to the smallest id.
        return np.where(obs["action_mask"] == 1, popularity, -np.inf).argmax(1)

    def rand(obs, rng):
        return random_allowed(obs["action_mask"], rng)

    popularity = np.asarray(recarena.make(args.sim_dir, role="test").core.logged_item_counts,
                            dtype=np.float64)
    result = {"sim_dir": args.sim_dir, "seed": args.seed, "total_steps": args.total_steps,
              "num_envs": args.num_envs, "gamma": args.gamma,
              "train_seconds": round(time.time() - start, 1)}
    for role in args.eval_roles.split(","):
        r = {name: mean_ci(evaluate(args, fn, role))
             for name, fn in (("dqn", dqn), ("random", rand), ("popular", popular))}
        r["dqn_beats_random"] = r["dqn"]["ci95"][0] > r["random"]["ci95"][1]
        result[role] = r
    result["seconds"] = round(time.time() - start, 1)
    print(json.dumps(result, indent=2))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
