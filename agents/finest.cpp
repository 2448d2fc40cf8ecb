#include "agents/finest.h"
#include "agents/gradient_step.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace recarena::agents {

void FinestOptions::Validate() const {
  if (k < 1) throw ConfigError("finest.k", fmt::format("finest.k must be >= 1, got {}", k));
  if (!(margin >= 0.0)) {
    throw ConfigError("finest.margin", fmt::format("finest.margin must be >= 0, got {}", margin));
  }
  if (!(weight >= 0.0)) {
    throw ConfigError("finest.weight", fmt::format("finest.weight must be >= 0, got {}", weight));
  }
  if (!(simulation_ratio >= 0.0 && simulation_ratio <= 1.0)) {
    throw ConfigError(
        "finest.simulation_ratio",
        fmt::format("finest.simulation_ratio must be in [0, 1], got {}", simulation_ratio));
  }
  if (!(lr > 0.0)) throw ConfigError("finest.lr", fmt::format("finest.lr must be > 0, got {}", lr));
}

std::pair<torch::Tensor, torch::Tensor> ReferenceLists(const torch::Tensor& logits, int64_t k) {
  if (logits.dim() != 2 || logits.size(1) < 2 * k || k < 1) {
    throw Error(
        fmt::format("ReferenceLists: need logits [B, N] with N >= 2K, got {} dims, N = {}, "
                    "K = {}",
                    logits.dim(), logits.dim() == 2 ? logits.size(1) : 0, k));
  }
  // The 2K largest by topk (O(N) per row, not a full sort), then ordered by (-logit, id): sort the
  // chosen ids ascending, then stable-sort by descending logit.
  const torch::Tensor z = logits.detach();
  auto [vals, idx] = z.topk(2 * k, /*dim=*/1, /*largest=*/true, /*sorted=*/true);
  const torch::Tensor by_id = std::get<1>(idx.sort(1));
  idx = idx.gather(1, by_id);
  vals = vals.gather(1, by_id);
  const torch::Tensor by_value = std::get<1>(vals.sort(/*stable=*/true, 1, /*descending=*/true));
  torch::Tensor order = idx.gather(1, by_value);
  // A tie at the boundary (an unchosen item equal to the 2K-th value) makes topk's choice among
  // the tied items arbitrary: those rows take the full stable sort, which picks smaller ids.
  const torch::Tensor last = std::get<0>(vals.min(1, /*keepdim=*/true));
  const torch::Tensor tied = (z == last).sum(1) > (vals == last).sum(1);
  if (tied.any().item<bool>()) {
    const torch::Tensor rows = tied.nonzero().squeeze(1);
    const torch::Tensor full =
        std::get<1>(z.index_select(0, rows).sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
    order.index_copy_(0, rows, full.narrow(1, 0, 2 * k));
  }
  return {order.narrow(1, 0, k).contiguous(), order.narrow(1, k, k).contiguous()};
}

torch::Tensor RankPreservingPerRow(const torch::Tensor& logits, const torch::Tensor& reference,
                                   const torch::Tensor& competitive, double margin) {
  const torch::Tensor zr = logits.gather(1, reference);    // [B, K]
  const torch::Tensor zc = logits.gather(1, competitive);  // [B, K]
  const int64_t k = reference.size(1);
  torch::Tensor l1 = torch::zeros({logits.size(0)}, logits.options());
  if (k >= 2) {
    const torch::Tensor gap = zr.narrow(1, 0, k - 1) - zr.narrow(1, 1, k - 1);
    l1 = torch::clamp_min(margin - gap, 0.0).mean(1);
  }
  const torch::Tensor l2 = torch::clamp_min(margin - (zr - zc), 0.0).mean(1);
  return l1 + l2;
}

FinestLossTerms FinestLoss(const torch::Tensor& logits, const torch::Tensor& targets,
                           const torch::Tensor& reference, const torch::Tensor& competitive,
                           const torch::Tensor& include, const FinestOptions& options) {
  FinestLossTerms t;
  t.ce = torch::nn::functional::cross_entropy(logits, targets);
  const torch::Tensor per_row =
      RankPreservingPerRow(logits, reference, competitive, options.margin);
  const torch::Tensor w = include.to(logits.dtype());
  t.reg = (per_row * w).sum() / torch::clamp_min(w.sum(), 1.0);
  t.total = t.ce + options.weight * t.reg;
  return t;
}

int64_t SimulatePerturbation(torch::Tensor& items, int64_t length, int64_t least_popular,
                             int64_t padding_id, Rng& rng) {
  const int64_t cap = items.size(0);
  if (length < 1 || length > cap) {
    throw Error(fmt::format("SimulatePerturbation: length {} outside [1, {}]", length, cap));
  }
  auto a = items.accessor<int64_t, 1>();
  int mode = static_cast<int>(rng.UniformInt(3));  // 0 delete, 1 replace, 2 insert
  if (mode == 0 && length == 1) mode = 1;
  const auto at = static_cast<int64_t>(rng.UniformInt(static_cast<uint64_t>(length)));
  if (mode == 0) {
    for (int64_t i = at; i + 1 < length; ++i) a[i] = a[i + 1];
    a[length - 1] = padding_id;
    return length - 1;
  }
  if (mode == 1) {
    a[at] = least_popular;
    return length;
  }
  // Insert before position `at`; a full state drops its oldest item (position 0) first.
  int64_t pos = at;
  if (length == cap) {
    for (int64_t i = 0; i + 1 < cap; ++i) a[i] = a[i + 1];
    --length;
    pos = std::max<int64_t>(0, pos - 1);
  }
  for (int64_t i = length; i > pos; --i) a[i] = a[i - 1];
  a[pos] = least_popular;
  return length + 1;
}

namespace {
SupervisedOptions WithLr(SupervisedOptions options, double lr) {
  options.lr = lr;
  return options;
}
}  // namespace

FinestAgent::FinestAgent(const SupervisedOptions& options, const FinestOptions& finest,
                         torch::Device device)
    : SupervisedAgent(WithLr(options, finest.lr), device), finest_(finest) {
  finest_.Validate();
}

std::pair<torch::Tensor, torch::Tensor> FinestAgent::References(const torch::Tensor& items,
                                                                const torch::Tensor& lengths) {
  const torch::Tensor logits = Scores(items, lengths);
  auto [r, c] = ReferenceLists(logits, finest_.k);
  return {r.to(torch::kCPU, torch::kInt32), c.to(torch::kCPU, torch::kInt32)};
}

MetricList FinestAgent::UpdateFinest(const SequenceBatch& batch, const torch::Tensor& reference,
                                     const torch::Tensor& competitive,
                                     const torch::Tensor& include) {
  const torch::Tensor logits = TrainLogits(batch.items, batch.lengths);
  FinestLossTerms t = FinestLoss(logits, batch.targets, reference, competitive, include, finest_);
  const torch::Tensor norm = ApplyLoss(t.total);
  return ReadMetrics({{"loss", t.total}, {"ce", t.ce}, {"reg", t.reg}, {"grad_norm", norm}});
}

}  // namespace recarena::agents
