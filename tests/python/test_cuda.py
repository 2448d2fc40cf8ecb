"""CUDA: the simulator on the GPU gives the CPU's episodes (tagged for the GPU machine)."""

import numpy as np
import pytest
import torch

import recarena

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="RECARENA_SKIPPED: no CUDA GPU on this machine")


def test_cuda_episodes_equal_cpu_episodes(sim_dir):
    lengths = {}
    for device in ("cpu", "cuda"):
        envs = recarena.make(sim_dir, num_envs=16, seed=4, device=device, mask_repeats=True)
        obs, _ = envs.reset()
        popularity = torch.tensor(envs.core.logged_item_counts, dtype=torch.float32)
        ended = []
        for _ in range(40):
            mask = torch.as_tensor(obs["action_mask"]).bool().cpu()
            a = torch.where(mask, popularity, float("-inf")).argmax(1)
            obs, _, term, trunc, info = envs.step(a.to(device) if device == "cuda" else a.numpy())
            done = torch.as_tensor(term | trunc).cpu().numpy()
            for i in np.flatnonzero(done):
                ended.append((int(info["final_info"]["episode_id"][i]),
                              int(info["final_info"]["episode"]["l"][i])))
        lengths[device] = sorted(ended)
        if device == "cuda":
            assert isinstance(obs["items"], torch.Tensor) and obs["items"].is_cuda
    assert lengths["cpu"] == lengths["cuda"]
