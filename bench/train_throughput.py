#!/usr/bin/env python3
"""Training-throughput benchmark, PyTorch (Python) side.

The same benchmark as bench/train_throughput.cpp, written in Python: sequences per second of one
training step of the supervised ("Normal") agent -- encoder forward + Linear(D, num_items) head +
cross-entropy + backward + Adam step, plus what recarena's SupervisedAgent::Update does besides
(the encoder's input range check with one host sync, the pre-clip grad norm kept on the device,
and one read of the loss and the norm) -- for GRU4Rec and SASRec. It prints one JSON line per (impl, encoder, device) with the
same keys as the C++ program; bench/run_train_throughput.sh runs both side by side.

The modules mirror models/encoder.cpp, models/gru4rec.cpp and models/sasrec.cpp and
agents/supervised.cpp: same parameter shapes, same initialisation, same forward computation and
dropout placement, and modules are created in the same order as the C++ constructors create theirs,
so that after torch.manual_seed(seed) both programs start from the same weights and draw the same
dropout masks (first_loss in the JSON lines shows it). Keep them in step with the C++ code.
"""

import argparse
import json
import math
import statistics
import sys

import torch
import torch.nn.functional as F
from torch import nn

from bench_util import (check_minimums, resolve_devices, resolve_threads, split_list,
                        timed_seconds, torch_device)

PROG = "train_throughput.py"
ENCODERS = ("gru4rec", "sasrec")


def layer_norm(dim):
    # models/sasrec.cpp MakeLayerNorm: eps 1e-8 as in the SASRec reference code.
    return nn.LayerNorm(dim, eps=1e-8)


def length_mask(lengths, L):
    """[B, L] bool: True at positions t < lengths[b] (models::LengthMask)."""
    positions = torch.arange(L, dtype=torch.long, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def gather_last(states, lengths):
    """states [B, L, D], lengths [B] -> states[b, lengths[b] - 1] (models::GatherLast)."""
    D = states.size(2)
    index = (lengths - 1).view(-1, 1, 1).expand(states.size(0), 1, D)
    return states.gather(1, index).squeeze(1)


class SequenceEncoder(nn.Module):
    """models::SequenceEncoderImpl: item embedding (padding row N, zero) + input dropout."""

    def __init__(self, num_items, state_len, hidden, dropout):
        super().__init__()
        self.num_items = num_items
        self.state_len = state_len
        self.hidden = hidden
        self.item_embedding = nn.Embedding(num_items + 1, hidden, padding_idx=num_items)
        with torch.no_grad():
            self.item_embedding.weight.normal_(0.0, 0.01)
            self.item_embedding.weight[num_items].zero_()
        self.input_dropout = nn.Dropout(dropout)

    def check_inputs(self, items, lengths):
        """SequenceEncoderImpl::CheckInputs: shape checks and one host sync for the ranges."""
        if items.dim() != 2 or items.dtype != torch.long:
            raise ValueError("items must be a [B, L] int64 tensor")
        if lengths.dim() != 1 or lengths.dtype != torch.long or lengths.size(0) != items.size(0):
            raise ValueError("lengths must be a [B] int64 tensor with B = items.size(0)")
        L = items.size(1)
        if L < 1 or L > self.state_len:
            raise ValueError(f"items has {L} positions; expected 1..{self.state_len}")
        r = torch.stack([lengths.min(), lengths.max(), items.min(), items.max()]).cpu().tolist()
        if r[0] < 1 or r[1] > L:
            raise ValueError(f"lengths must lie in [1, {L}], got [{r[0]}, {r[1]}]")
        if r[2] < 0 or r[3] > self.num_items:
            raise ValueError(f"item ids must lie in [0, {self.num_items}], got [{r[2]}, {r[3]}]")

    def embed_inputs(self, items, lengths):
        mask = length_mask(lengths, items.size(1)).unsqueeze(-1)
        x = self.item_embedding(items) * mask.float()
        return self.input_dropout(x)


class Gru4Rec(SequenceEncoder):
    """models::Gru4RecImpl: embedding + one GRU layer; states zeroed at padding; last at len-1."""

    def __init__(self, num_items, state_len, hidden, dropout):
        super().__init__(num_items, state_len, hidden, dropout)
        self.gru = nn.GRU(hidden, hidden, num_layers=1, batch_first=True)

    def forward(self, items, lengths):
        self.check_inputs(items, lengths)
        x = self.embed_inputs(items, lengths)
        states = self.gru(x)[0]
        mask = length_mask(lengths, items.size(1)).unsqueeze(-1)
        states = states * mask.to(states.dtype)
        return gather_last(states, lengths), states


def _softmax_over_short_keys(scores):
    """models/attention.cpp SoftmaxOverShortKeys: below 16 keys, softmax along a leading keys dim."""
    if scores.size(-1) >= 16:
        return torch.softmax(scores, -1)
    return torch.softmax(scores.movedim(-1, 0).contiguous(), 0).movedim(0, -1)


class SasRecBlock(nn.Module):
    """models::SasRecBlockImpl: q = LN(x); x = q + Dropout(Attn(q, x, x));
    h = LN(x); x = h + Dropout(W2 Dropout(ReLU(W1 h))); x *= mask."""

    def __init__(self, dim, num_heads, dropout):
        super().__init__()
        self.dim = dim
        self.num_heads = num_heads
        # Same creation order as the C++ constructor (it decides which random numbers each gets).
        self.attn_norm = layer_norm(dim)
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.ffn_norm = layer_norm(dim)
        self.ffn1 = nn.Linear(dim, dim)
        self.ffn2 = nn.Linear(dim, dim)
        self.attn_dropout = nn.Dropout(dropout)
        self.dropout = nn.Dropout(dropout)

    def _heads(self, t):  # [B, T, D] -> [B, H, T, dh]
        return t.view(t.size(0), t.size(1), self.num_heads, self.dim // self.num_heads).transpose(1, 2)

    def _attention(self, q, k, v, allowed, short_window=False):
        """models::MaskedAttention: q [B, H, T, dh], k/v [B, H, L, dh] -> [B, T, D];
        short_window: AttentionLayout::kShortWindow (the cache paths), else kTextbook."""
        scale = math.sqrt(q.size(-1))
        short_window = short_window and q.is_cpu
        if short_window and q.size(2) == 1:  # one query per row: multiply-and-sum
            scores = (k * q).sum(-1) / scale
            scores = scores.masked_fill(allowed.select(2, 0).logical_not(), float("-inf"))
            attn = self.attn_dropout(_softmax_over_short_keys(scores))
            context = (attn.unsqueeze(-1) * v).sum(2, keepdim=True)
        else:
            scores = torch.matmul(q, k.transpose(-2, -1)) / scale
            scores = scores.masked_fill(allowed.logical_not(), float("-inf"))
            attn = _softmax_over_short_keys(scores) if short_window else torch.softmax(scores, -1)
            context = torch.matmul(self.attn_dropout(attn), v)
        return context.transpose(1, 2).reshape(q.size(0), q.size(2), self.dim)

    def _feedforward(self, q_in, context):
        h = q_in + self.dropout(self.out(context))
        h = self.ffn_norm(h)
        return h + self.dropout(self.ffn2(self.dropout(torch.relu(self.ffn1(h)))))

    def forward(self, x, allowed, mask, kv=None):
        """kv: a list that receives this block's keys and values [B, H, L, dh] (the cache)."""
        q_in = self.attn_norm(x)
        q = self._heads(self.query(q_in))
        k = self._heads(self.key(x))
        v = self._heads(self.value(x))
        if kv is not None:
            kv.extend((k, v))
        return self._feedforward(q_in, self._attention(q, k, v, allowed, kv is not None)) * mask

    def step(self, x, keys, values, pos, allowed):
        """SasRecBlockImpl::Step: x [R, 1, D] at positions pos [R]; keys/values [R, H, L, dh]
        (gathered copies) receive the new position. Returns (out [R, 1, D], new k, new v)."""
        R, H, dh = x.size(0), self.num_heads, self.dim // self.num_heads
        q_in = self.attn_norm(x)
        q = self._heads(self.query(q_in))
        k, v = self._heads(self.key(x)), self._heads(self.value(x))  # [R, H, 1, dh]
        at = pos.view(R, 1, 1, 1).expand(R, H, 1, dh)
        keys.scatter_(2, at, k)
        values.scatter_(2, at, v)
        out = self._feedforward(q_in, self._attention(q, keys, values, allowed, True))
        return out, k.squeeze(2), v.squeeze(2)


class SasRec(SequenceEncoder):
    """models::SasRecImpl: item + learned positional embedding, dropout, padding zeroed; blocks
    with causal + key-padding masks; final layer norm; states zeroed at padding; last at len-1."""

    def __init__(self, num_items, state_len, hidden, dropout, num_heads=1, num_blocks=1):
        super().__init__(num_items, state_len, hidden, dropout)
        self.position_embedding = nn.Embedding(state_len, hidden)
        with torch.no_grad():
            self.position_embedding.weight.normal_(0.0, 0.01)
        self.blocks = nn.ModuleList(
            [SasRecBlock(hidden, num_heads, dropout) for _ in range(num_blocks)])
        self.final_norm = layer_norm(hidden)

    def forward(self, items, lengths, cache=None, rows=None):
        """cache (make_cache) and rows [R]: also writes every block's keys/values of these rows
        into the cache (SasRecImpl::ForwardCaching)."""
        self.check_inputs(items, lengths)
        L = items.size(1)
        positions = torch.arange(L, dtype=torch.long, device=items.device)
        valid = length_mask(lengths, L)
        mask = valid.unsqueeze(-1).float()
        x = self.item_embedding(items) + self.position_embedding(positions)
        x = self.input_dropout(x) * mask
        causal = positions.unsqueeze(1) >= positions.unsqueeze(0)
        allowed = (causal.unsqueeze(0) & valid.unsqueeze(1)).unsqueeze(1)
        for i, block in enumerate(self.blocks):
            kv = None if cache is None else []
            x = block(x, allowed, mask, kv)
            if cache is not None:
                cache[0][i].index_copy_(0, rows, kv[0].transpose(1, 2))
                cache[1][i].index_copy_(0, rows, kv[1].transpose(1, 2))
        states = self.final_norm(x) * mask
        return gather_last(states, lengths), states

    def make_cache(self, B):
        """SasRecImpl::MakeCache: per block keys and values [B, L, H, dh], zeros."""
        blk = self.blocks[0]
        shape = (B, self.state_len, blk.num_heads, blk.dim // blk.num_heads)
        w = self.item_embedding.weight
        return ([torch.zeros(shape, dtype=w.dtype, device=w.device) for _ in self.blocks],
                [torch.zeros(shape, dtype=w.dtype, device=w.device) for _ in self.blocks])

    def append(self, item, pos, cache, rows):
        """SasRecImpl::Append: the state of rows [R] after item [R] was appended at pos [R]; only
        the new position is computed, from the cached keys/values of the earlier ones."""
        R, L = item.size(0), self.state_len
        x = self.item_embedding(item) + self.position_embedding(pos)
        x = self.input_dropout(x).unsqueeze(1)  # [R, 1, D]
        s = torch.arange(L, dtype=pos.dtype, device=pos.device)
        allowed = (s.unsqueeze(0) <= pos.unsqueeze(1)).view(R, 1, 1, L)
        for i, block in enumerate(self.blocks):
            k = cache[0][i].index_select(0, rows).transpose(1, 2)
            v = cache[1][i].index_select(0, rows).transpose(1, 2)
            x, new_k, new_v = block.step(x, k, v, pos, allowed)
            cache[0][i].index_put_((rows, pos), new_k)
            cache[1][i].index_put_((rows, pos), new_v)
        return self.final_norm(x).squeeze(1)


class SupervisedAgent:
    """agents::SupervisedAgent: encoder + Linear(D, N) head, mean cross-entropy, Adam(lr)."""

    def __init__(self, encoder_name, num_items, state_len, hidden, device, lr=1e-3):
        cls = {"gru4rec": Gru4Rec, "sasrec": SasRec}[encoder_name]
        self.encoder = cls(num_items, state_len, hidden, dropout=0.1)
        self.head = nn.Linear(hidden, num_items)
        self.encoder.to(device)
        self.head.to(device)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr, weight_decay=0.0)

    def parameters(self):
        return list(self.encoder.parameters()) + list(self.head.parameters())

    def update(self, items, lengths, targets):
        """SupervisedAgent::Update: one Adam step; returns (loss, grad_norm) like its metrics."""
        self.encoder.train()
        self.head.train()
        self.optimizer.zero_grad()
        last, _ = self.encoder(items, lengths)
        logits = self.head(last)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        with torch.no_grad():
            # agents::GradientStep: the pre-clip norm stays a device tensor (no per-parameter read).
            norms = [p.grad.norm(2) for p in self.parameters() if p.grad is not None]
            norm = torch.stack(norms).double().pow(2).sum().sqrt()
        self.optimizer.step()
        # agents::ReadMetrics: every metric of the update reaches the host in one copy.
        host = torch.cat([loss.detach().reshape(1).double(), norm.reshape(1)]).cpu()
        return float(host[0]), float(host[1])


def make_batches(args, count, device):
    """The batch scheme of train_throughput.cpp MakeBatches (same generator calls, same order)."""
    torch.manual_seed(args.seed)
    positions = torch.arange(args.state_len, dtype=torch.long)
    out = []
    for _ in range(count):
        lengths = torch.randint(1, args.state_len + 1, (args.batch,), dtype=torch.long)
        items = torch.randint(0, args.items, (args.batch, args.state_len), dtype=torch.long)
        items = items.masked_fill(positions.unsqueeze(0) >= lengths.unsqueeze(1), args.items)
        targets = torch.randint(0, args.items, (args.batch,), dtype=torch.long)
        out.append((items.to(device), lengths.to(device), targets.to(device)))
    return out


def run_one(args, encoder, device_name):
    device = torch_device(device_name)
    timed_pool = min(args.steps, 64)
    batches = make_batches(args, args.warmup + timed_pool, device)
    torch.manual_seed(args.seed)
    agent = SupervisedAgent(encoder, args.items, args.state_len, args.hidden, device)
    params = sum(p.numel() for p in agent.parameters())

    losses = []

    def train(batch):
        loss, _ = agent.update(*batch)
        losses.append(loss)

    for i in range(args.warmup):
        train(batches[i])
    def timed_window():
        for i in range(args.steps):
            train(batches[args.warmup + i % timed_pool])

    rates = []
    for _ in range(args.repeats):
        rates.append(args.steps * args.batch / timed_seconds(device, timed_window))
    return {
        "impl": "python", "encoder": encoder, "device": device_name, "threads": args.threads,
        "items": args.items, "batch": args.batch, "state_len": args.state_len,
        "hidden": args.hidden, "warmup": args.warmup, "steps": args.steps,
        "repeats": args.repeats, "seed": args.seed, "params": params,
        "first_loss": losses[0], "last_loss": losses[-1],
        "seq_per_s": statistics.median(rates), "runs_seq_per_s": rates,
        "torch": torch.__version__,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--encoders", default="gru4rec,sasrec", help="comma-separated: gru4rec, sasrec")
    p.add_argument("--items", type=int, default=10000, help="catalog size N")
    p.add_argument("--batch", type=int, default=256, help="batch size B")
    p.add_argument("--state-len", type=int, default=10, help="sequence length L")
    p.add_argument("--hidden", type=int, default=64, help="hidden size D")
    p.add_argument("--steps", type=int, default=50, help="timed steps per repeat")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps before the first repeat")
    p.add_argument("--repeats", type=int, default=3, help="timed windows; the median is reported")
    p.add_argument("--threads", type=int, default=0,
                   help="intra-op threads (torch.set_num_threads); 0 = os.cpu_count()")
    p.add_argument("--device", default="auto",
                   help="comma-separated: cpu, cuda, auto (= cpu, plus cuda when available)")
    p.add_argument("--seed", type=int, default=1, help="torch.manual_seed value")
    args = p.parse_args()
    encoders = split_list(PROG, "encoders", args.encoders)
    for e in encoders:
        if e not in ENCODERS:
            raise SystemExit(f"{PROG}: --encoders: unknown encoder '{e}'; "
                             f"choices: {', '.join(ENCODERS)}")
    check_minimums(PROG, args, (("items", 1), ("batch", 1), ("state_len", 1), ("hidden", 1),
                                ("steps", 1), ("warmup", 0), ("repeats", 1), ("threads", 0)))
    args.threads = resolve_threads(args.threads)
    devices = resolve_devices(PROG, split_list(PROG, "device", args.device))
    torch.set_num_threads(args.threads)
    for device in devices:
        for encoder in encoders:
            print(json.dumps(run_one(args, encoder, device)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
