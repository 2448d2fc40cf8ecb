#include "agents/gradient_step.h"

#include <cmath>

namespace recarena::agents {

double GradientStep(const torch::Tensor& loss, const std::vector<torch::Tensor>& parameters,
                    torch::optim::Optimizer& optimizer, double grad_clip) {
  optimizer.zero_grad();
  loss.backward();
  double sq = 0.0;
  {
    torch::NoGradGuard ng;
    for (const auto& p : parameters) {
      if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
    }
  }
  if (grad_clip > 0.0) torch::nn::utils::clip_grad_norm_(parameters, grad_clip);
  optimizer.step();
  return std::sqrt(sq);
}

}  // namespace recarena::agents
