// On-policy storage of the last T environment steps of a VectorEnv with B slots, as Transitions.
//
// Used by the standard A2C (one rollout of rollout_len steps, cleared after each update) and by
// REINFORCE (steps kept until every episode that touches them has been used; see PgAgent). The
// Transitions are stored as given (tensors on the agent's device; no copies are made, so the caller
// must not modify them in place afterwards). All stored steps must have the same B, N and L.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agents/online_agent.h"

namespace recarena::agents {

// A copy of t with every tensor on device (tensors already there are shared, not copied).
Transition TransitionToDevice(const Transition& t, torch::Device device);

// The stored steps stacked along a new leading time axis T (oldest first).
struct RolloutBatch {
  torch::Tensor items;         // [T, B, L] int64
  torch::Tensor lengths;       // [T, B] int64
  torch::Tensor mask;          // [T, B, N] bool
  torch::Tensor actions;       // [T, B] int64
  torch::Tensor rewards;       // [T, B] float
  torch::Tensor next_items;    // [T, B, L] int64
  torch::Tensor next_lengths;  // [T, B] int64
  torch::Tensor next_mask;     // [T, B, N] bool
  torch::Tensor terminated;    // [T, B] bool
  torch::Tensor truncated;     // [T, B] bool
};

class RolloutBuffer {
 public:
  // max_steps >= 1: keeps the last max_steps steps (Add drops the oldest step when full);
  // max_steps == 0: unbounded (the owner drops steps with DropFront). < 0 throws recarena::Error.
  explicit RolloutBuffer(int64_t max_steps);

  // Appends one VectorEnv step. Throws recarena::Error when a tensor is missing or B differs from
  // the stored steps'.
  void Add(const Transition& t);
  int64_t steps() const { return static_cast<int64_t>(data_.size()); }
  int64_t max_steps() const { return max_steps_; }
  void Clear() { data_.clear(); }
  // Removes the k oldest steps (0 <= k <= steps(), else recarena::Error).
  void DropFront(int64_t k);
  // Oldest first.
  const std::vector<Transition>& steps_data() const { return data_; }
  // Requires steps() >= 1 (recarena::Error otherwise).
  RolloutBatch Stacked() const;

  // Checkpointing: every stored tensor under the sub-archive `key` of archive. Load replaces the
  // contents (the tensors are moved to `device`) and throws recarena::Error when the sub-archive is
  // missing or malformed.
  void Save(torch::serialize::OutputArchive& archive, const std::string& key) const;
  void Load(torch::serialize::InputArchive& archive, const std::string& key, torch::Device device);

 private:
  int64_t max_steps_;
  // A vector (not a deque) so that steps_data() can hand out a const reference; the front
  // erasures cost O(T) pointer moves per call, negligible next to the tensors.
  std::vector<Transition> data_;
};

}  // namespace recarena::agents
