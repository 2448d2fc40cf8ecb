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
// grad_clip > 0 (exactly torch::nn::utils::clip_grad_norm_'s arithmetic); optimizer.step(). Returns
// the global L2 norm of the gradients BEFORE clipping (parameters without a gradient count 0) as a
// 0-dim float64 tensor on the parameters' device: nothing here waits for the device
// (clip_grad_norm_ itself reads its norm back to the host, so it is not called).
torch::Tensor GradientStep(const torch::Tensor& loss, const std::vector<torch::Tensor>& parameters,
                           torch::optim::Optimizer& optimizer, double grad_clip,
                           dist::GradientSync* sync = nullptr);

// The metrics of one update, read to the host at once: each value is a one-element tensor (any
// dtype, any device); the result keeps the order and names. One device -> host copy in all.
MetricList ReadMetrics(const std::vector<std::pair<std::string, torch::Tensor>>& values);

}  // namespace recarena::agents
