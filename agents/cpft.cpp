#include "agents/cpft.h"
#include "agents/gradient_step.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::agents {

void CpftOptions::Validate() const {
  if (!(alpha > 0.0 && alpha < 1.0))
    throw ConfigError("cpft.alpha", fmt::format("cpft.alpha must be in (0, 1), got {}", alpha));
  if (!(beta >= 0.0))
    throw ConfigError("cpft.beta", fmt::format("cpft.beta must be >= 0, got {}", beta));
  if (!(gamma >= 0.0))
    throw ConfigError("cpft.gamma", fmt::format("cpft.gamma must be >= 0, got {}", gamma));
  if (k < 1) throw ConfigError("cpft.k", fmt::format("cpft.k must be >= 1, got {}", k));
  if (!(temperature > 0.0))
    throw ConfigError("cpft.temperature",
                      fmt::format("cpft.temperature must be > 0, got {}", temperature));
  if (calib_batch_size < 1)
    throw ConfigError("cpft.calib_batch_size",
                      fmt::format("cpft.calib_batch_size must be >= 1, got {}", calib_batch_size));
}

int64_t BatchQuantileIndex(int64_t n, double alpha) {
  if (n < 1) throw Error("BatchQuantileIndex: empty calibration batch");
  // The small slack keeps e.g. (9 + 1) * (1 - 0.7) = 3.0000000000000004 at 3.
  const double raw = std::ceil(static_cast<double>(n + 1) * (1.0 - alpha) - 1e-9);
  return std::clamp<int64_t>(static_cast<int64_t>(raw), 1, n);
}

torch::Tensor BatchConformalThreshold(const torch::Tensor& label_values, double alpha) {
  const int64_t n = label_values.numel();
  const int64_t k = BatchQuantileIndex(n, alpha);
  auto v = label_values.detach().reshape({n});
  return std::get<0>(torch::kthvalue(v, k));
}

torch::Tensor SoftSetSize(const torch::Tensor& log_probs, const torch::Tensor& t,
                          double temperature) {
  if (!(temperature > 0.0)) throw Error("SoftSetSize: temperature must be > 0");
  return torch::sigmoid((log_probs + t) / temperature).sum(1);
}

torch::Tensor HardSetMask(const torch::Tensor& log_probs, const torch::Tensor& t) {
  return (-log_probs) <= t;
}

torch::Tensor CpdLoss(const torch::Tensor& item_vectors, const torch::Tensor& set_mask,
                      const torch::Tensor& targets, int64_t k) {
  const int64_t b = targets.size(0);
  const int64_t n = item_vectors.size(0);
  if (k < 1) throw Error("CpdLoss: k must be >= 1");
  auto unit = torch::nn::functional::normalize(
      item_vectors, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
  auto cos = unit.index_select(0, targets).matmul(unit.t());  // [B, N], with autograd
  // Candidates: set members other than the target itself.
  auto not_target = torch::ones({b, n}, torch::dtype(torch::kBool).device(cos.device()));
  not_target.scatter_(1, targets.unsqueeze(1), false);
  auto candidates = set_mask.to(torch::kBool) & not_target;
  const int64_t kk = std::min<int64_t>(k, n);
  auto ranked =
      cos.detach().masked_fill(candidates.logical_not(), -std::numeric_limits<float>::infinity());
  auto top = torch::topk(ranked, kk, /*dim=*/1);
  auto idx = std::get<1>(top);
  auto used = torch::isfinite(std::get<0>(top)).to(cos.dtype());  // fewer than k set items
  auto chosen = cos.gather(1, idx);
  return ((1.0 - chosen) * used).sum() / static_cast<double>(k * b);
}

CpftLossTerms CpftLoss(const torch::Tensor& train_logits, const torch::Tensor& train_targets,
                       const torch::Tensor& calib_logits, const torch::Tensor& calib_targets,
                       const torch::Tensor& item_vectors, const CpftOptions& options) {
  CpftLossTerms r;
  r.ce = torch::nn::functional::cross_entropy(train_logits, train_targets);
  auto log_probs = torch::log_softmax(calib_logits, 1);
  auto label_values = -log_probs.gather(1, calib_targets.unsqueeze(1)).squeeze(1);  // -log p_y
  auto t = BatchConformalThreshold(label_values, options.alpha);
  r.cps = SoftSetSize(log_probs, t, options.temperature).mean();
  if (options.cps_normalization == CpsNormalization::kCatalog) {
    r.cps = r.cps / static_cast<double>(calib_logits.size(1));
  }
  auto mask = HardSetMask(log_probs.detach(), t);
  r.cpd = CpdLoss(item_vectors, mask, calib_targets, options.k);
  r.total = r.ce + options.beta * r.cps + options.gamma * r.cpd;
  {
    torch::NoGradGuard ng;
    r.threshold_q = 1.0 - std::exp(-t.item<double>());
    r.hard_set_size = mask.sum(1).to(torch::kFloat64).mean().item<double>();
    r.coverage = (label_values.detach() <= t).to(torch::kFloat64).mean().item<double>();
  }
  return r;
}

CpftAgent::CpftAgent(const SupervisedOptions& options, const CpftOptions& cpft,
                     torch::Device device)
    : SupervisedAgent(options, device), cpft_(cpft) {
  cpft_.Validate();
}

MetricList CpftAgent::UpdateCpft(const SequenceBatch& train, const SequenceBatch& calib) {
  auto train_logits = TrainLogits(train.items, train.lengths);
  auto calib_logits = TrainLogits(calib.items, calib.lengths);
  CpftLossTerms terms = CpftLoss(train_logits, train.targets, calib_logits, calib.targets,
                                 OutputItemVectors(), cpft_);
  const torch::Tensor norm = ApplyLoss(terms.total);
  MetricList m = ReadMetrics({{"loss", terms.total},
                              {"ce", terms.ce},
                              {"cps", terms.cps},
                              {"cpd", terms.cpd},
                              {"grad_norm", norm}});
  const double grad_norm = m.back().second;
  m.pop_back();
  m.insert(m.end(), {{"set_size", terms.hard_set_size},
                     {"coverage", terms.coverage},
                     {"threshold_q", terms.threshold_q},
                     {"grad_norm", grad_norm}});
  return m;
}

}  // namespace recarena::agents
