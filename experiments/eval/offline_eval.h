// Full-catalog offline evaluation of a scoring function on next-item windows (no sampled
// negatives). Tie rule and metric definitions: docs/metrics.md (TopK / RankOf in
// experiments/eval/metrics.h).
#pragma once

#include <torch/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/windows.h"
#include "experiments/eval/metrics.h"

namespace recarena::experiments {

// Maps a batch of states (items [B, L] int64 right-padded, lengths [B] int64, both CPU) to scores
// [B, num_items] (float, any device).
using BatchScorer =
    std::function<torch::Tensor(const torch::Tensor& items, const torch::Tensor& lengths)>;

struct OfflineEvalOptions {
  std::vector<int> ks{5, 10, 20};
  int64_t batch_size = 512;
  bool last_only = false;   // only the last target position of each sequence
  int64_t max_queries = 0;  // > 0: evaluate an evenly spaced deterministic subsample
  // Earlier-session items per window (for UP@k / serendipity); empty = no history metrics.
  std::vector<std::vector<int32_t>> history;
};

// Builds the [B, L] / [B] CPU tensors of windows rows [begin, end) (or the listed rows).
std::pair<torch::Tensor, torch::Tensor> WindowTensors(const data::Windows& w,
                                                      const std::vector<int64_t>& rows);

// Evaluates scorer on every selected window of w. ctx gives the catalog size and long-tail flags.
std::map<std::string, double> EvaluateWindows(const BatchScorer& scorer, const data::Windows& w,
                                              const MetricsContext& ctx,
                                              const OfflineEvalOptions& opts);

// The rows of w that OfflineEvalOptions selects (last_only / max_queries), in order.
std::vector<int64_t> SelectRows(const data::Windows& w, bool last_only, int64_t max_queries);

}  // namespace recarena::experiments
