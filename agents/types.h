// Small types shared by agents: metric lists and sequence batches.
#pragma once

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace recarena::agents {

// What an update reports, as name-value pairs in a stable order. Only the runner logs them.
using MetricList = std::vector<std::pair<std::string, double>>;

// A mini-batch of next-item examples. All tensors on the agent's device.
struct SequenceBatch {
  torch::Tensor items;    // [B, L] int64, right-padded with the padding id (= num_items)
  torch::Tensor lengths;  // [B] int64, >= 1
  torch::Tensor targets;  // [B] int64 in [0, num_items)
  // Filled by the offline trainer for the learners that need a transition (agents/sqn.h); may be
  // undefined otherwise.
  torch::Tensor values{};  // [B] float: Interaction::value of each target (rating, click, count)
  torch::Tensor done{};    // [B] bool: the target is the last item of its sequence
};

}  // namespace recarena::agents
