// Experience replay for off-policy agents (DQN): a FIFO ring of single transitions, and the
// per-slot n-step accumulator that turns a VectorEnv's batched one-step transitions into n-step
// transitions.
//
// Storage. Every entry is one slot's transition (s, a, R, s', next_mask, k, terminated): R is the
// (possibly n-step) discounted reward sum, k >= 1 the number of environment steps between s and s',
// terminated whether the episode ended by the user leaving within those k steps. Everything lives
// on the CPU; Sample moves the batch to the learner's device. The discount of an entry,
// gamma^k or 0 when terminated, is computed at sampling time from the gamma passed in (the
// bootstrapping contract of agents/online_agent.h: truncation keeps the bootstrap).
//
// next_mask is stored sparsely, as the list of items it disallows (padded with -1 to the widest
// row stored so far, K): with repeats allowed K = 0, with repeats masked K is the start history
// plus the items shown so far, against N bytes a row for the dense mask (at N = 9,742 and 20,000
// entries that was 195 MB in memory and in every checkpoint). Gather rebuilds the dense rows.
// Memory: capacity * (2 * (L + 3) * 8 + 8 K + 29) bytes. The next_mask width N is fixed by the
// first Add.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <deque>

#include "agents/online_agent.h"
#include "core/rng.h"
#include "env/vector_env.h"

namespace recarena::agents {

class ReplayBuffer {
 public:
  // capacity >= 1 entries; state_len = L, the width of Observation::items. Throws recarena::Error
  // otherwise.
  ReplayBuffer(int64_t capacity, int64_t state_len);

  // Stores the B rows of a one-step transition as B entries (k = 1), in row order, overwriting the
  // oldest entries once full. t.mask and t.truncated are not stored (not needed to learn).
  void Add(const Transition& t);
  // The same with per-row step counts n_steps [B] int64 >= 1 (rewards are then the n-step sums).
  // Throws recarena::Error on shape mismatches (items not [B, L], next_mask not [B, N] with the N
  // of the first Add) or a next_mask row with no allowed item.
  void Add(const Transition& t, const torch::Tensor& n_steps);

  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }
  int64_t state_len() const { return state_len_; }
  // Entries ever added (not capped at capacity).
  int64_t num_added() const { return num_added_; }

  struct Batch {
    env::Observation obs, next_obs;  // items [S, L], lengths, users, step [S]
    torch::Tensor actions;           // [S] int64
    torch::Tensor rewards;           // [S] float: sum_{j<k} gamma^j r_{t+j}
    torch::Tensor discounts;         // [S] float: gamma^k, 0 if terminated within the k steps
    torch::Tensor next_mask;         // [S, N] bool: allowed items at next_obs
  };
  // batch_size indices drawn uniformly with replacement, idx_i = rng.UniformInt(size()) in order;
  // the batch is moved to device. Throws recarena::Error when the buffer is empty.
  Batch Sample(int64_t batch_size, double gamma, Rng& rng, torch::Device device) const;
  // The entries at storage positions indices [S] int64 (each in [0, size())). Storage position p
  // holds the p-th added entry modulo capacity (a ring: entry number e sits at e % capacity).
  Batch Gather(const torch::Tensor& indices, double gamma, torch::Device device) const;

  // Writes / reads the whole state (contents, ring position, counters). Load throws
  // recarena::Error when the archive's capacity or state_len differ from this buffer's.
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);

 private:
  void Allocate(int64_t num_items);

  int64_t capacity_, state_len_;
  int64_t num_items_ = -1;  // next_mask width; -1 until the first Add
  int64_t pos_ = 0;         // next storage position to write
  int64_t size_ = 0;
  int64_t num_added_ = 0;
  torch::Tensor items_, lengths_, users_, steps_;                      // s
  torch::Tensor next_items_, next_lengths_, next_users_, next_steps_;  // s'
  torch::Tensor actions_, rewards_, n_steps_, terminated_;
  torch::Tensor blocked_;  // [capacity, K] int64: the items next_mask disallows, -1 padded
  // blocked_ rows for mask [B, N] bool (K columns at least; wider when a row needs it).
  torch::Tensor Blocked(const torch::Tensor& mask);
  // Widens blocked_ to k columns (new columns -1).
  void WidenBlocked(int64_t k);
};

// n-step returns (CleanRL / dopamine style). For every VectorEnv slot it keeps the last (up to n)
// transitions of the slot's current episode. Per Push (one environment step):
//   - the step's transition is appended to each slot's window;
//   - a slot whose step ended the episode (terminated or truncated) flushes its whole window: the
//     entry that started k steps before the end (k = 1..window size) is emitted as
//     (s_t, a_t, sum_{j<k} gamma^j r_{t+j}, final s', k, terminated);
//   - otherwise, a slot whose window holds n transitions emits its oldest one as
//     (s_t, a_t, sum_{j<n} gamma^j r_{t+j}, s_{t+n}, n, false) and drops it.
// So every transition is emitted exactly once, with k = n except within n steps of an episode
// end, where the return is truncated at the end: discount 0 if the user left (no bootstrap),
// gamma^k if the episode was truncated (bootstrapped from the final observation).
// Emission order within one Push: oldest start first (largest k), then by slot. With n = 1 this is
// exactly ReplayBuffer::Add(t). The batch size B is fixed by the first Push.
class NStepAccumulator {
 public:
  // n >= 1, gamma in [0, 1]; throws recarena::Error otherwise.
  NStepAccumulator(int64_t n, double gamma);

  // Appends the step's transition (any device; kept on the CPU) and adds the emitted entries to
  // buffer.
  void Push(const Transition& t, ReplayBuffer& buffer);

  int64_t n() const { return n_; }
  // Transitions currently waiting in slot b's window.
  int64_t pending(int64_t slot) const;

  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);

 private:
  struct Step {
    env::Observation obs;
    torch::Tensor actions, rewards;  // [B] int64, [B] float
  };
  int64_t n_;
  double gamma_;
  std::deque<Step> window_;  // the last (up to n) steps, newest at the back; CPU
  torch::Tensor count_;      // [B] int64: how many of window_'s newest steps belong to the
                             // slot's current episode (<= window_.size())
};

}  // namespace recarena::agents
