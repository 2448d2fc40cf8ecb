#include "dist/grad_sync.h"

#include <torch/torch.h>

#include "core/error.h"

namespace recarena::dist {

GradientSync::GradientSync(ProcessGroup& group) : group_(group) {}

void GradientSync::SetShare(double share) {
  if (!(share >= 0.0 && share <= 1.0)) {
    throw Error("GradientSync::SetShare: share " + std::to_string(share) + " is outside [0, 1]");
  }
  share_ = share;
}

void GradientSync::Synchronize(const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard ng;
  const auto bucket_bytes = static_cast<int64_t>(group_.world().bucket_mb * 1024.0 * 1024.0);
  std::vector<torch::Tensor> grads;
  grads.reserve(parameters.size());
  for (const auto& p : parameters) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  // Buckets of consecutive gradients of one dtype and device, each flattened into one tensor.
  size_t i = 0;
  while (i < grads.size()) {
    std::vector<torch::Tensor> bucket{grads[i]};
    int64_t bytes = grads[i].numel() * grads[i].element_size();
    size_t j = i + 1;
    while (j < grads.size() && grads[j].scalar_type() == grads[i].scalar_type() &&
           grads[j].device() == grads[i].device() &&
           bytes + grads[j].numel() * grads[j].element_size() <= bucket_bytes) {
      bytes += grads[j].numel() * grads[j].element_size();
      bucket.push_back(grads[j++]);
    }
    std::vector<torch::Tensor> flat{torch::cat(
        [&] {
          std::vector<torch::Tensor> views;
          for (const auto& g : bucket) views.push_back(g.reshape({-1}));
          return views;
        }(),
        0)};
    flat[0].mul_(share_);
    group_.AllReduceSum(flat, "gradients");
    int64_t offset = 0;
    for (auto& g : bucket) {
      g.copy_(flat[0].narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
    bytes_reduced_ += bytes;
    i = j;
  }
  ++syncs_;
}

void GradientSync::BroadcastParameters(const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> data;
  for (const auto& p : parameters) data.push_back(p.detach());
  for (auto& t : data) {
    std::vector<torch::Tensor> one{t};
    group_.Broadcast(one, 0, "parameters");
  }
}

namespace {
std::vector<double> SumOf(ProcessGroup& group, const std::vector<double>& values, double weight,
                          const std::string& what) {
  if (values.empty()) return {};
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kDouble).mul_(weight)};
  group.AllReduceSum(t, what);
  return std::vector<double>(t[0].data_ptr<double>(), t[0].data_ptr<double>() + t[0].numel());
}
}  // namespace

std::vector<double> GradientSync::ReduceShares(const std::vector<double>& values) {
  return SumOf(group_, values, share_, "update metrics");
}

std::vector<double> GradientSync::Sum(const std::vector<double>& values) {
  return SumOf(group_, values, 1.0, "counts");
}

}  // namespace recarena::dist
