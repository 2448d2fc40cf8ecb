#!/usr/bin/env python3
"""Environment-throughput benchmark, PyTorch (Python) side.

The same benchmark as bench/sim_throughput.cpp, written in Python: simulated user-steps per second
of a vectorised user simulator stepping B users at once, for several B. It is recarena's
env::VectorEnv (env/vector_env.cpp) ported to PyTorch for the configuration the benchmark uses, and
it prints one JSON line per (impl, device, batch) with the same keys as the C++ program;
bench/run_sim_throughput.sh runs both side by side.

What is ported, operation for operation (keep it in step with env/vector_env.cpp and
env/response_model.cpp):
  - the response model: SASRec encoder (the module of bench/train_throughput.py, which mirrors
    models/sasrec.cpp, its cache paths' AttentionLayout::kShortWindow included) in eval mode, out = h . W[a] + b[a], the ensemble's stack -> sigmoid ->
    mean -> clamp; reward = P(click) (RewardMode::kProbability), accepted = uniform < P;
  - per-slot random streams: episode e draws from recarena::Rng(seed).Fork(e) (SplitMix64-seeded
    xoshiro256**, core/rng.cpp): the start state with UniformInt at episode start, then two
    uniforms per step (response, hazard). The C++ env loops over the slots on the host; here the B
    xoshiro states live in one [B, 4] int64 host tensor and the two draws are vectorised over the
    slots with tensor ops (a Python loop over slots would be the slow way to write it), then moved
    to the device like the C++ host buffer;
  - the leave rules the benchmark enables: repetition (category keys, window, max_similar) and the
    hazard table; the step cap; history append/shift of accepted items; the recent-items window;
  - the step result: observation clones, final observation, candidate mask (all true: repeats are
    allowed; a fresh [B, N] tensor in the full-recompute twin, a broadcast view of one row in the
    incremental one, as VectorEnv returns it), episode return/length, episode ids; auto-reset of done slots with host-side per-slot
    work (episode numbers, stream seeding, start-state draw) and one index_put per state tensor.
Not ported (off in the benchmark): patience, masked repeats, rating targets, DeepFM.

--incremental (impl "python_inc") ports the incremental step too (env/response_cache.cpp,
SasRecImpl::ForwardCaching/Append, ported in bench/train_throughput.py): each slot's state and its
SASRec keys/values are kept between steps; new episodes and slid windows are recomputed, plain
appends compute one position. Same trajectories as every other implementation, so the table
separates what the algorithm buys (python_inc / python) from what C++ buys (cpp / python_inc).

Model weights come from torch.manual_seed(seed) and the same module construction order as the C++
constructors; start states from Rng(seed).Fork(1); actions from torch.randint after
torch.manual_seed(seed), as in the C++ program. So both sides simulate the same trajectories, and
the checksums in the JSON lines (episodes, reward_sum, items_sum, lengths_sum) show whether they do.
"""

import argparse
import json
import math
import sys

import torch
from torch import nn

from bench_util import check_minimums, resolve_devices, resolve_threads, timed_seconds, torch_device
from train_throughput import SasRec  # bench/train_throughput.py: the SASRec port

PROG = "sim_throughput.py"

MASK64 = (1 << 64) - 1


# --- core/rng.cpp, scalar (host-side per-slot work) -------------------------------------------

def _splitmix64(x):
    """One SplitMix64 step: returns (new state, output)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return x, z ^ (z >> 31)


def mix_seed(seed, stream):
    return _splitmix64(seed ^ ((stream * 0xD1B54A32D192ED03 + 0x8CB92BA72F3D8DD7) & MASK64))[1]


def _rotl64(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK64


class Rng:
    """recarena::Rng: SplitMix64-seeded xoshiro256** with Python ints (uint64 arithmetic)."""

    def __init__(self, seed):
        self.seed = seed & MASK64
        x = self.seed
        self.s = []
        for _ in range(4):
            x, z = _splitmix64(x)
            self.s.append(z)

    def fork(self, stream):
        return Rng(mix_seed(self.seed, stream))

    def next_u64(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl64((s1 * 5) & MASK64, 7) * 9) & MASK64
        t = (s1 << 17) & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl64(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform_int(self, n):
        limit = MASK64 - (MASK64 % n)
        while True:
            x = self.next_u64()
            if x < limit:
                return x % n

    def state_i64(self):
        """The four state words as signed int64 values (the bits of the uint64 words)."""
        return [w - (1 << 64) if w >= (1 << 63) else w for w in self.s]


# --- the same generator vectorised over slots: state [B, 4] int64 (uint64 bits) ---------------

def _shr(x, k):
    """Logical right shift of int64 tensors holding uint64 bits."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def _rotl(x, k):
    return (x << k) | _shr(x, 64 - k)


def uniforms(state, draws):
    """draws Rng::Uniform() values per row of state ([B, 4] int64, advanced in place): [B, draws]
    float32, each the C++ static_cast<float>((next >> 11) * 2^-53). int64 multiply and left shift
    wrap like uint64 arithmetic."""
    s0, s1, s2, s3 = (w.clone() for w in state.unbind(1))
    out = []
    for _ in range(draws):
        result = _rotl(s1 * 5, 7) * 9
        t = s1 << 17
        s2 = s2 ^ s0
        s3 = s3 ^ s1
        s1 = s1 ^ s2
        s0 = s0 ^ s3
        s2 = s2 ^ t
        s3 = _rotl(s3, 45)
        out.append(_shr(result, 11).double() * 2.0**-53)
    state.copy_(torch.stack([s0, s1, s2, s3], 1))
    return torch.stack(out, 1).float()


# --- the simulator -----------------------------------------------------------------------------

class SequentialResponse(nn.Module):
    """env::SequentialResponseImpl: encoder + output table W [N, D] and bias b [N, 1]."""

    def __init__(self, num_items, state_len, hidden):
        super().__init__()
        self.encoder = SasRec(num_items, state_len, hidden, dropout=0.1)
        self.out_table = nn.Embedding(num_items, hidden)
        self.out_bias = nn.Embedding(num_items, 1)
        with torch.no_grad():
            self.out_table.weight.normal_(0.0, 1.0 / math.sqrt(hidden))
            self.out_bias.weight.zero_()

    def forward(self, items, lengths, actions):
        h, _ = self.encoder(items, lengths)
        return self.from_state(h, actions)

    def from_state(self, h, actions):
        """SequentialResponseImpl::FromState: out = h . W[a] + b[a] for states h [B, D]."""
        return (h * self.out_table(actions)).sum(-1) + self.out_bias(actions).squeeze(-1)


class StepCache:
    """env::ResponseStepCache for the one SASRec model: every slot's state h [B, D] and the
    encoder's keys/values, brought up to date after each step (recompute rows from scratch, append
    rows by one position)."""

    def __init__(self, model, B):
        self.model = model
        self.kv = model.encoder.make_cache(B)
        self.state = torch.zeros(B, model.out_table.weight.size(1),
                                 dtype=model.out_table.weight.dtype,
                                 device=model.out_table.weight.device)

    def refresh(self, items, lengths, recompute, append):
        with torch.no_grad():
            enc = self.model.encoder
            if recompute.numel() > 0:
                h, _ = enc(items.index_select(0, recompute), lengths.index_select(0, recompute),
                           self.kv, recompute)
                self.state.index_copy_(0, recompute, h)
            if append.numel() > 0:
                pos = lengths.index_select(0, append) - 1
                item = items.index_select(0, append).gather(1, pos.unsqueeze(1)).squeeze(1)
                self.state.index_copy_(0, append, enc.append(item, pos, self.kv, append))


class Simulator:
    """The in-memory simulator of sim_throughput.cpp BuildSimulator."""

    def __init__(self, args, device):
        self.num_items = args.items
        self.state_len = args.state_len
        self.max_length = args.max_length
        self.window, self.max_similar = 5, 3
        torch.manual_seed(args.seed)
        self.model = SequentialResponse(args.items, args.state_len, args.hidden)
        self.params = sum(p.numel() for p in self.model.parameters())
        self.model.eval()  # ResponseEnsemble puts its models in eval mode
        self.hazard = [args.hazard] * args.max_length
        rng = Rng(args.seed).fork(1)
        self.starts = [(p, [rng.uniform_int(args.items)]) for p in range(args.starts)]
        ids = torch.arange(args.items, dtype=torch.long)
        self.item_keys = torch.zeros(args.items, args.categories)
        self.item_keys.index_put_((ids, ids.remainder(args.categories)), torch.tensor(1.0))
        self.similarity_threshold = 0.5
        self.model.to(device)
        self.item_keys = self.item_keys.to(device)

    def expected(self, items, lengths, actions, cache=None):
        """ResponseEnsemble::Expected for one model: stack, sigmoid, mean, clamp to [0, 1]; with a
        StepCache, from its states (ResponseStepCache::Expected)."""
        with torch.no_grad():
            out = (self.model.from_state(cache.state, actions) if cache is not None
                   else self.model(items, lengths, actions))
            return torch.sigmoid(torch.stack([out], 0)).mean(0).clamp(0.0, 1.0)


class VectorEnv:
    """env::VectorEnv (mask_repeats off, leave rules on) with the same auto-reset contract."""

    def __init__(self, sim, num_envs, device, incremental=False):
        self.sim = sim
        self.B = num_envs
        self.device = device
        self.incremental = incremental
        self.cache = None
        self.all_allowed = torch.ones(1, sim.num_items, dtype=torch.bool, device=device)
        self.max_length = sim.max_length
        idx = [min(t, len(sim.hazard) - 1) for t in range(self.max_length)]
        self.hazard = torch.tensor([float(sim.hazard[i]) for i in idx],
                                   dtype=torch.float32).to(device)
        self.episode = []

    def current_observation(self):
        return (self.history.clone(), self.lengths.clone(), self.users.clone(), self.steps.clone())

    def candidate_mask(self):
        if self.incremental:  # VectorEnv::CandidateMask: a broadcast view of one all-true row
            return self.all_allowed.expand(self.B, self.sim.num_items)
        return torch.ones(self.B, self.sim.num_items, dtype=torch.bool, device=self.device)

    def start_episodes(self, slots):
        if not slots:
            return
        sim, L, N = self.sim, self.sim.state_len, self.sim.num_items
        rows, lens, users, states = [], [], [], []
        for slot in slots:
            e = self.next_episode
            self.next_episode += 1
            self.episode[slot] = e
            rng = Rng(mix_seed(self.seed, e))  # Rng(seed).Fork(e)
            user, items = sim.starts[rng.uniform_int(len(sim.starts))]
            keep = min(len(items), L)
            rows.append(items[len(items) - keep:] + [N] * (L - keep))
            lens.append(keep)
            users.append(user)
            states.append(rng.state_i64())
        n = len(slots)
        self.rng_state[torch.tensor(slots, dtype=torch.long)] = torch.tensor(states,
                                                                             dtype=torch.long)
        idx = torch.tensor(slots, dtype=torch.long).to(self.device)
        i64 = dict(dtype=torch.long, device=self.device)
        f32 = dict(dtype=torch.float32, device=self.device)
        self.history.index_put_((idx,), torch.tensor(rows, dtype=torch.long).to(self.device))
        self.lengths.index_put_((idx,), torch.tensor(lens, dtype=torch.long).to(self.device))
        self.users.index_put_((idx,), torch.tensor(users, dtype=torch.long).to(self.device))
        self.steps.index_put_((idx,), torch.zeros(n, **i64))
        self.returns.index_put_((idx,), torch.zeros(n, **f32))
        self.recent.index_put_((idx,), torch.full((n, self.recent.size(1)), -1, **i64))

    def reset(self, seed):
        B, sim = self.B, self.sim
        i64 = dict(dtype=torch.long, device=self.device)
        self.seed = seed
        self.next_episode = 0
        self.episode = [-1] * B
        self.rng_state = torch.zeros(B, 4, dtype=torch.long)  # host, like the C++ Rng vector
        self.history = torch.full((B, sim.state_len), sim.num_items, **i64)
        self.lengths = torch.ones(B, **i64)
        self.users = torch.zeros(B, **i64)
        self.steps = torch.zeros(B, **i64)
        self.returns = torch.zeros(B, dtype=torch.float32, device=self.device)
        self.recent = torch.full((B, max(1, sim.window)), -1, **i64)
        self.start_episodes(list(range(B)))
        if self.incremental:
            self.cache = StepCache(sim.model, B)
            self.cache.refresh(self.history, self.lengths, torch.arange(B, **i64),
                               torch.empty(0, **i64))
        return {"observation": self.current_observation(), "candidate_mask": self.candidate_mask(),
                "episode_id": list(self.episode)}

    def step(self, actions):
        B, sim = self.B, self.sim
        I, L = sim.num_items, sim.state_len
        if actions.dim() != 1 or actions.size(0) != B:
            raise ValueError(f"VectorEnv.step expects actions of shape [{B}]")
        a = actions.to(self.device, torch.long)
        bad = (a < 0) | (a >= I)
        if bad.any().item():
            slot = bad.cpu().nonzero()[0][0].item()
            raise ValueError(f"action {a[slot].item()} of slot {slot} is outside [0, {I})")
        expected = sim.expected(self.history, self.lengths, a, self.cache).float()

        u = uniforms(self.rng_state, 2).to(self.device)  # [response, hazard] per slot
        u_resp, u_leave = u.select(1, 0), u.select(1, 1)
        accepted = u_resp < expected
        reward = expected
        self.steps += 1
        self.returns += reward

        leave = torch.zeros(B, dtype=torch.bool, device=self.device)
        # Repetition: at least max_similar of the last `window` shown items are similar to a.
        valid = self.recent >= 0
        similar = self.recent == a.unsqueeze(1)
        ka = sim.item_keys.index_select(0, a)
        kr = sim.item_keys.index_select(0, self.recent.clamp_min(0).flatten()).view(
            B, self.recent.size(1), -1)
        dot = (kr * ka.unsqueeze(1)).sum(-1)
        similar = similar | (dot >= sim.similarity_threshold)
        count = (similar & valid).sum(1)
        leave = leave | (count >= sim.max_similar)
        # Hazard.
        h = self.hazard.index_select(0, (self.steps - 1).clamp(0, self.max_length - 1))
        leave = leave | (u_leave < h)
        terminated = leave
        capped = self.steps >= self.max_length
        truncated = terminated.logical_not() & capped

        # Transition: the accepted item joins the history.
        append = accepted
        full = self.lengths >= L
        shifted = torch.cat([self.history[:, 1:], a.unsqueeze(1)], 1)
        placed = self.history.scatter(1, self.lengths.clamp_max(L - 1).unsqueeze(1),
                                      a.unsqueeze(1))
        nxt = torch.where(full.unsqueeze(1), shifted, placed)
        self.history = torch.where(append.unsqueeze(1), nxt, self.history)
        self.lengths = torch.where(append, (self.lengths + 1).clamp_max(L), self.lengths)
        self.recent = torch.cat([self.recent[:, 1:], a.unsqueeze(1)], 1)

        done = terminated | truncated
        r = {"reward": reward, "accepted": accepted, "terminated": terminated,
             "truncated": truncated, "expected_reward": expected,
             "final_observation": self.current_observation(),
             "episode_return": torch.where(done, self.returns, torch.zeros_like(self.returns)),
             "episode_length": torch.where(done, self.steps, torch.zeros_like(self.steps))}
        if self.cache is None:
            slots = done.cpu().nonzero().flatten().tolist()
        else:  # one device -> host copy for the bookkeeping and the cache's row lists
            flags = torch.stack([done, append, full]).cpu()
            slots = flags[0].nonzero().flatten().tolist()
        final_ids = [-1] * B
        for s in slots:
            final_ids[s] = self.episode[s]
        r["final_episode_id"] = final_ids
        self.start_episodes(slots)
        if self.cache is not None:
            recompute = flags[0] | (flags[1] & flags[2])
            grown = flags[1] & recompute.logical_not()
            rows = lambda m: m.nonzero().flatten().to(self.device)  # noqa: E731
            self.cache.refresh(self.history, self.lengths, rows(recompute), rows(grown))
        r["observation"] = self.current_observation()
        r["candidate_mask"] = self.candidate_mask()
        r["episode_id"] = list(self.episode)
        return r


# --- the benchmark -----------------------------------------------------------------------------

def run_one(args, sim, device_name, batch, steps):
    device = torch_device(device_name)
    env = VectorEnv(sim, batch, device, incremental=args.incremental)
    env.reset(args.seed)
    torch.manual_seed(args.seed)
    reward_sum = torch.zeros((), dtype=torch.float64, device=device)
    r = None

    def step():
        nonlocal r, reward_sum
        r = env.step(torch.randint(0, args.items, (batch,), dtype=torch.long, device=device))
        reward_sum += r["reward"].sum().double()

    for _ in range(args.warmup):
        step()
    def timed_steps():
        for _ in range(steps):
            step()

    seconds = timed_seconds(device, timed_steps)
    items, lengths, _, _ = r["observation"]
    return {
        "impl": "python_inc" if args.incremental else "python", "device": device_name,
        "batch": batch, "steps": steps,
        "warmup": args.warmup, "threads": args.threads, "items": args.items,
        "state_len": args.state_len, "hidden": args.hidden, "categories": args.categories,
        "starts": args.starts, "max_length": args.max_length, "hazard": args.hazard,
        "seed": args.seed, "params": sim.params, "steps_per_s": batch * steps / seconds,
        "seconds": seconds, "episodes": max(e + 1 for e in r["episode_id"]),
        "reward_sum": reward_sum.item(), "items_sum": items.sum().item(),
        "lengths_sum": lengths.sum().item(), "torch": torch.__version__,
    }


def int_list(flag, value, minimum):
    out = []
    for w in value.split(","):
        try:
            v = int(w.strip())
        except ValueError:
            raise SystemExit(f"{PROG}: --{flag}: not an integer: '{w}' in '{value}'")
        if v < minimum:
            raise SystemExit(f"{PROG}: --{flag}: entries must be >= {minimum}, got {v}")
        out.append(v)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-sizes", default="1,64,1024,4096",
                   help="comma-separated numbers of simulated users B")
    p.add_argument("--steps", default="2000,300,40,15",
                   help="timed steps: one value, or one per batch size")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps after reset")
    p.add_argument("--items", type=int, default=2000, help="catalog size N")
    p.add_argument("--state-len", type=int, default=10, help="history length L")
    p.add_argument("--hidden", type=int, default=32, help="SASRec hidden size D")
    p.add_argument("--categories", type=int, default=20, help="synthetic categories C")
    p.add_argument("--starts", type=int, default=1000, help="start states (users)")
    p.add_argument("--max-length", type=int, default=50, help="episode step cap")
    p.add_argument("--hazard", type=float, default=0.05, help="constant leave hazard per step")
    p.add_argument("--threads", type=int, default=0,
                   help="intra-op threads (torch.set_num_threads); 0 = os.cpu_count()")
    p.add_argument("--device", default="auto",
                   help="cpu, cuda, or auto (= cpu, plus cuda when available); comma-separated")
    p.add_argument("--seed", type=int, default=1,
                   help="seed of the weights, the start states, the env and the actions")
    p.add_argument("--incremental", action="store_true",
                   help="the incremental step (env::ResponseStepCache): impl python_inc")
    args = p.parse_args()
    batch_sizes = int_list("batch-sizes", args.batch_sizes, 1)
    steps = int_list("steps", args.steps, 1)
    if len(steps) == 1:
        steps = steps * len(batch_sizes)
    if len(steps) != len(batch_sizes):
        raise SystemExit(f"{PROG}: --steps: give one value or one per batch size "
                         f"({len(batch_sizes)}), got {len(steps)}")
    check_minimums(PROG, args, (("items", 1), ("state_len", 1), ("hidden", 1), ("categories", 1),
                                ("starts", 1), ("max_length", 1), ("warmup", 0), ("threads", 0)))
    if not 0.0 <= args.hazard <= 1.0:
        raise SystemExit(f"{PROG}: --hazard must be in [0, 1], got {args.hazard}")
    args.threads = resolve_threads(args.threads)
    devices = resolve_devices(PROG, [w.strip() for w in args.device.split(",")])
    torch.set_num_threads(args.threads)
    for device_name in devices:
        sim = Simulator(args, torch_device(device_name))
        for batch, n in zip(batch_sizes, steps):
            print(json.dumps(run_one(args, sim, device_name, batch, n)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
