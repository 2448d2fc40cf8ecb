// One optimizer step on a loss, shared by the offline agents (SupervisedAgent and its subclasses,
// HdtAgent): backward, the global L2 gradient norm, optional clipping, the step.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace recarena::agents {

// zero_grad; loss.backward(); returns the global L2 norm of the parameters' gradients BEFORE
// clipping (parameters without a gradient count 0); clips it to grad_clip when grad_clip > 0;
// optimizer.step().
double GradientStep(const torch::Tensor& loss, const std::vector<torch::Tensor>& parameters,
                    torch::optim::Optimizer& optimizer, double grad_clip);

}  // namespace recarena::agents
