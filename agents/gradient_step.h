// One optimizer step on a loss, shared by every learner (SupervisedAgent and its subclasses,
// HdtAgent, DqnAgent, and PG / A2C through ActorCritic::Step): backward, the global L2 gradient
// norm, optional clipping, the step; and the one read that brings an update's metrics to the host.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "agents/types.h"
#include "dist/grad_sync.h"

namespace recarena::agents {

// zero_grad; loss.backward(); with sync, the gradients averaged over the data-parallel ranks
// (dist/grad_sync.h; nullptr = one process); clips the gradients to global L2 norm grad_clip when
// grad_clip > 0 (exactly torch::nn::utils::clip_grad_norm_'s arithmetic); the optimizer's step
// (FusedAdamStep below for Adam on the CPU, else optimizer.step()). Returns
// the global L2 norm of the gradients BEFORE clipping (parameters without a gradient count 0) as a
// 0-dim float64 tensor on the parameters' device: nothing here waits for the device
// (clip_grad_norm_ itself reads its norm back to the host, so it is not called).
torch::Tensor GradientStep(const torch::Tensor& loss, const std::vector<torch::Tensor>& parameters,
                           torch::optim::Optimizer& optimizer, double grad_clip,
                           dist::GradientSync* sync = nullptr);

// optimizer.step() for a torch::optim::Adam on the CPU (amsgrad off) as at::_fused_adam_, the
// one-pass kernel behind PyTorch's Adam(fused=True), on the optimizer's own state (AdamParamState:
// step, exp_avg, exp_avg_sq, created as Adam::step creates them), so checkpoints and a later
// Adam::step see the same state. Returns false, doing nothing, for another optimizer, amsgrad, or
// parameters off the CPU (the caller then calls step()). Same update as Adam::step to rounding
// (the kernel interpolates exp_avg with lerp): LibTorch's Adam makes about ten passes over every
// parameter, which at 0.6M parameters took 4-6 ms per step against 0.5 ms fused on this machine.
bool FusedAdamStep(torch::optim::Optimizer& optimizer);

// The metrics of one update, read to the host at once: each value is a one-element tensor (any
// dtype, any device); the result keeps the order and names. One device -> host copy in all.
MetricList ReadMetrics(const std::vector<std::pair<std::string, torch::Tensor>>& values);

}  // namespace recarena::agents
