#include "experiments/eval/offline_eval.h"

#include <torch/torch.h>

#include <algorithm>

namespace recarena::experiments {

std::vector<int64_t> SelectRows(const data::Windows& w, bool last_only, int64_t max_queries) {
  std::vector<int64_t> rows;
  const auto n = static_cast<int64_t>(w.size());
  for (int64_t i = 0; i < n; ++i) {
    // The last window of a sequence is the one followed by another sequence's window (or the end).
    const bool last = i + 1 == n || w.sequence_index[i + 1] != w.sequence_index[i];
    if (!last_only || last) rows.push_back(i);
  }
  if (max_queries > 0 && static_cast<int64_t>(rows.size()) > max_queries) {
    std::vector<int64_t> sub;
    sub.reserve(max_queries);
    const double stride = static_cast<double>(rows.size()) / static_cast<double>(max_queries);
    for (int64_t j = 0; j < max_queries; ++j) sub.push_back(rows[static_cast<size_t>(j * stride)]);
    rows.swap(sub);
  }
  return rows;
}

std::pair<torch::Tensor, torch::Tensor> WindowTensors(const data::Windows& w,
                                                      const std::vector<int64_t>& rows) {
  const int64_t L = w.state_len;
  auto items = torch::empty({static_cast<int64_t>(rows.size()), L}, torch::kInt64);
  auto lengths = torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt64);
  auto* ip = items.data_ptr<int64_t>();
  auto* lp = lengths.data_ptr<int64_t>();
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto row = rows[r];
    for (int64_t j = 0; j < L; ++j) ip[r * L + j] = w.states[static_cast<size_t>(row * L + j)];
    lp[r] = w.lengths[static_cast<size_t>(row)];
  }
  return {items, lengths};
}

std::map<std::string, double> EvaluateWindows(const BatchScorer& scorer, const data::Windows& w,
                                              const MetricsContext& ctx,
                                              const OfflineEvalOptions& opts) {
  MetricsContext context = ctx;
  context.has_history = !opts.history.empty();
  MetricsConfig mcfg;
  mcfg.ks = opts.ks;
  RankingMetricsAccumulator acc(context, mcfg);
  const int max_k = *std::max_element(opts.ks.begin(), opts.ks.end());
  const auto rows = SelectRows(w, opts.last_only, opts.max_queries);
  for (size_t begin = 0; begin < rows.size(); begin += static_cast<size_t>(opts.batch_size)) {
    const size_t end = std::min(rows.size(), begin + static_cast<size_t>(opts.batch_size));
    std::vector<int64_t> batch(rows.begin() + static_cast<long>(begin),
                               rows.begin() + static_cast<long>(end));
    auto [items, lengths] = WindowTensors(w, batch);
    torch::Tensor scores = scorer(items, lengths).to(torch::kCPU, torch::kFloat32).contiguous();
    const auto n = static_cast<int32_t>(scores.size(1));
    const float* sp = scores.data_ptr<float>();
    for (size_t r = 0; r < batch.size(); ++r) {
      const auto row = static_cast<size_t>(batch[r]);
      const float* s = sp + r * static_cast<size_t>(n);
      RankingQuery q;
      q.query_id = static_cast<int64_t>(row);
      q.target = w.targets[row];
      q.ranked = TopK(s, n, max_k);
      q.target_rank = RankOf(s, n, q.target);
      q.user = w.users[row];
      q.session = w.sequence_index[row];
      if (context.has_history) q.history = opts.history[row];
      acc.Add(q);
    }
  }
  return acc.Result();
}

}  // namespace recarena::experiments
