// Storage of consumed-item sequences for return-conditioned agents trained on what a simulator
// generates (agents/dt_online.h): a FIFO of finished episodes, each the items the simulated user
// consumed in order (the start history first), and uniform sampling of next-item windows from
// them. Separate from the agent (dopamine/CleanRL style); everything lives on the CPU.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "agents/types.h"
#include "core/rng.h"

namespace recarena::agents {

class SequenceBuffer {
 public:
  // capacity >= 1 sequences; num_items >= 1 (padding id = num_items). Throws recarena::Error.
  SequenceBuffer(int64_t capacity, int64_t num_items);

  // Stores items (ids in [0, num_items)) when it has at least 2 items (one (state, next item)
  // example); the oldest sequence is dropped once full. Returns whether it was stored.
  bool Add(const std::vector<int32_t>& items);

  // batch_size windows: per row a stored sequence s = rng.UniformInt(size()) and a target position
  // j = 1 + rng.UniformInt(len(s) - 1), in that order; items = s[max(0, j - state_len) .. j)
  // (right-padded to state_len), targets = s[j]. Moved to device. Throws recarena::Error when
  // empty or batch_size / state_len < 1.
  SequenceBatch Sample(int64_t batch_size, int64_t state_len, Rng& rng, torch::Device device) const;

  int64_t size() const { return static_cast<int64_t>(seqs_.size()); }
  int64_t capacity() const { return capacity_; }
  int64_t num_added() const { return num_added_; }
  const std::deque<std::vector<int32_t>>& sequences() const { return seqs_; }

  // As tensors "seq_buffer_lengths" [S] int64, "seq_buffer_items" [sum of lengths] int32 and
  // "seq_buffer_added" [] int64. Load throws recarena::Error on an inconsistent archive.
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);

 private:
  int64_t capacity_, num_items_;
  int64_t num_added_ = 0;
  std::deque<std::vector<int32_t>> seqs_;
};

}  // namespace recarena::agents
