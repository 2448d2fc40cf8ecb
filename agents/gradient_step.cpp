#include "agents/gradient_step.h"

#include "core/error.h"

namespace recarena::agents {

torch::Tensor GradientStep(const torch::Tensor& loss, const std::vector<torch::Tensor>& parameters,
                           torch::optim::Optimizer& optimizer, double grad_clip,
                           dist::GradientSync* sync) {
  optimizer.zero_grad();
  loss.backward();
  if (sync != nullptr) sync->Synchronize(parameters);
  torch::Tensor norm;
  {
    torch::NoGradGuard ng;
    // One pass over each gradient: its L2 norm serves the metric and the clipping alike.
    std::vector<torch::Tensor> grads, norms;
    for (const auto& p : parameters) {
      if (!p.grad().defined()) continue;
      grads.push_back(p.grad());
      norms.push_back(p.grad().norm(2));
    }
    norm = norms.empty() ? torch::zeros({}, loss.options().dtype(torch::kDouble))
                         : torch::stack(norms).to(torch::kDouble).pow(2).sum().sqrt();
    if (grad_clip > 0.0 && !grads.empty()) {
      // clip_grad_norm_ (torch/nn/utils/clip_grad.h) without its final read of the norm.
      const torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
      const torch::Tensor coef = torch::clamp(grad_clip / (total + 1e-6), std::nullopt, 1.0);
      for (auto& g : grads) g.mul_(coef);
    }
  }
  if (!FusedAdamStep(optimizer)) optimizer.step();
  return norm;
}

bool FusedAdamStep(torch::optim::Optimizer& optimizer) {
  auto* adam = dynamic_cast<torch::optim::Adam*>(&optimizer);
  if (adam == nullptr) return false;
  for (const auto& group : adam->param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    if (o.amsgrad()) return false;
    for (const auto& p : group.params()) {
      if (!p.device().is_cpu() || (p.grad().defined() && p.grad().is_sparse())) return false;
    }
  }
  torch::NoGradGuard no_grad;
  auto& states = adam->state();
  for (auto& group : adam->param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto it = states.find(p.unsafeGetTensorImpl());
      if (it == states.end()) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = states.emplace(p.unsafeGetTensorImpl(), std::move(fresh)).first;
      }
      auto& st = static_cast<torch::optim::AdamParamState&>(*it->second);
      st.step(st.step() + 1);
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(st.exp_avg());
      exp_avg_sqs.push_back(st.exp_avg_sq());
      // The kernel reads the step (already incremented, as Adam::step does) as a float scalar.
      steps.push_back(torch::full({}, static_cast<float>(st.step()), torch::kFloat));
    }
    if (params.empty()) continue;
    const auto [beta1, beta2] = o.betas();
    at::_fused_adam_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, o.lr(),
                     beta1, beta2, o.weight_decay(), o.eps(), /*amsgrad=*/false,
                     /*maximize=*/false);
  }
  return true;
}

MetricList ReadMetrics(const std::vector<std::pair<std::string, torch::Tensor>>& values) {
  if (values.empty()) return {};
  std::vector<torch::Tensor> flat;
  flat.reserve(values.size());
  for (const auto& [name, v] : values) {
    if (!v.defined() || v.numel() != 1) {
      throw Error("ReadMetrics: metric '" + name + "' must be a one-element tensor");
    }
    flat.push_back(v.detach().reshape({1}).to(values.front().second.device(), torch::kDouble));
  }
  const torch::Tensor host = torch::cat(flat).to(torch::kCPU).contiguous();
  const double* p = host.data_ptr<double>();
  MetricList out;
  out.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) out.emplace_back(values[i].first, p[i]);
  return out;
}

}  // namespace recarena::agents
