// VectorEnv: B simulated users stepped at once, as tensors on CPU or CUDA.
//
// Episodes. An episode is one simulated session of one user. Episodes are numbered 0, 1, 2, ...:
// Reset gives episodes 0..B-1 to slots 0..B-1; whenever slots finish in a Step, they receive the
// next episode numbers in increasing slot order. Episode e draws every random number it needs (its
// start user, its clicks, its leave decisions) from its own stream Rng(seed).Fork(e), in a fixed
// order per step (one uniform for the response, one for the hazard, always drawn). So episode e's
// trajectory depends only on the seed and the actions taken in it, never on B or on the other
// slots: a policy that is a function of the observation gives the same episodes for every B.
//
// Auto-reset contract (one for every simulator). Step returns, per slot:
//   reward, accepted, terminated, truncated: of the step just taken;
//   observation, candidate_mask, episode_id: of the slot's CURRENT episode. When the step ended
//   the episode (done = terminated | truncated), these already belong to the slot's new episode
//   (first observation after reset), and info.final_observation holds the ended episode's last
//   observation (rows of not-done slots are a copy of observation), info.episode_return and
//   info.episode_length its totals (0 for not-done slots), info.final_episode_id its number.
// terminated = the user left (a leave rule fired, leave rules enabled); truncated = the step cap
// (max_length) was reached without leaving, or no allowed item is left (repeats masked).
// Terminated and truncated are never both true.
//
// Candidate mask. [B, num_items] bool, true = may be recommended. With repeats masked, the items of
// the start history and every item already recommended in the episode are false; otherwise all
// true, as a broadcast view of one all-true row made for this step (expand: no [B, num_items]
// tensor is allocated and filled per step, 8 MB at B = 4,096 and 2,000 items): its rows share
// memory, so .clone() before writing into it and .contiguous() before raw pointer access. Step
// throws recarena::Error when an action is out of range or masked.
//
// Incremental step (options.incremental, default on): the response model's per-slot state is kept
// between steps and updated only where a history changed (env/response_cache.h); results equal the
// full recompute to rounding (the conformance suite runs both).
//
// Observation. items [B, L] int64 (L = state_len) right-padded with num_items: the last L items of
// the history (start items, then consumed items in order; rejected items too when
// sim.rejected_in_history), lengths [B] int64 in 1..L, users [B] int64 (dense user ids), step [B]
// int64 (steps taken in the episode). All on the env's device.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "env/response_cache.h"
#include "env/simulator.h"

namespace recarena::env {

struct VectorEnvOptions {
  int64_t num_envs = 1;       // B
  bool mask_repeats = false;  // evaluation mode: repeats masked or allowed
  bool leave_enabled = true;  // false: episodes run exactly max_length steps (truncated)
  int64_t max_length = 0;     // 0: the simulator's sim.max_length
  torch::Device device = torch::kCPU;
  // Keep each slot's response-model state between steps (env/response_cache.h) instead of
  // recomputing every history every step. Same results to rounding; false = the full recompute
  // (the reference the tests and benchmarks compare with).
  bool incremental = true;
  // Episode numbering: this env's k-th episode (k = 0, 1, ... in the order above) is episode
  // episode_offset + k * episode_stride. Sharded simulation (docs/distributed.md) gives rank r of W
  // offset r and stride W, so the ranks step disjoint episodes whose union, for a policy that is a
  // function of the observation, is exactly the single-process set. Defaults: 0, 1, 2, ...
  int64_t episode_offset = 0;
  int64_t episode_stride = 1;
};

struct Observation {
  torch::Tensor items;    // [B, L] int64
  torch::Tensor lengths;  // [B] int64
  torch::Tensor users;    // [B] int64
  torch::Tensor step;     // [B] int64
};

struct StepInfo {
  Observation final_observation;
  torch::Tensor episode_return;           // [B] float
  torch::Tensor episode_length;           // [B] int64
  std::vector<int64_t> final_episode_id;  // [B] the episode that ended (-1 if none)
  torch::Tensor expected_reward;  // [B] float: the response model's expected reward (before draws)
};

struct StepResult {
  Observation observation;
  torch::Tensor reward;             // [B] float, within the simulator's declared bounds
  torch::Tensor accepted;           // [B] bool: the user consumed the item
  torch::Tensor terminated;         // [B] bool
  torch::Tensor truncated;          // [B] bool
  torch::Tensor candidate_mask;     // [B, num_items] bool
  std::vector<int64_t> episode_id;  // [B] (host) current episode of each slot
  StepInfo info;
};

class VectorEnv {
 public:
  // sim must live on options.device (LoadSimulator(dir, role, device)).
  VectorEnv(std::shared_ptr<const Simulator> sim, const VectorEnvOptions& options);

  // Starts the first B episodes (0..B-1 with the default numbering) with seed;
  // reward/accepted/terminated/truncated are zeros/false.
  StepResult Reset(uint64_t seed);
  // actions [B] int64 (any device; moved to the env's device).
  StepResult Step(const torch::Tensor& actions);

  // Expected reward of every item for every slot's current state [B, num_items] (oracle policies).
  torch::Tensor ExpectedRewardsAll() const;

  int64_t num_envs() const { return options_.num_envs; }
  int64_t num_items() const { return sim_->num_items; }
  int64_t state_len() const { return sim_->state_len; }
  int64_t max_length() const { return max_length_; }
  int64_t episode_offset() const { return options_.episode_offset; }
  int64_t episode_stride() const { return options_.episode_stride; }
  float reward_min() const;
  float reward_max() const;
  const Simulator& simulator() const { return *sim_; }
  torch::Device device() const { return options_.device; }

 private:
  // Throws when the simulator's tensors live on another device type than the env.
  void CheckSimulatorDevice() const;
  // Starts the next episode in each listed slot.
  void StartEpisodes(const std::vector<int64_t>& slots);
  Observation CurrentObservation() const;
  torch::Tensor CandidateMask() const;
  ResponseInput Input(const torch::Tensor& actions) const;
  // sigmoid(utility(user, action)) [B] under the ground-truth model (world_patience only).
  torch::Tensor WorldSatisfaction(const torch::Tensor& actions) const;

  std::shared_ptr<const Simulator> sim_;
  VectorEnvOptions options_;
  int64_t max_length_ = 0;
  uint64_t seed_ = 0;
  int64_t next_episode_ = 0;
  std::vector<int64_t> episode_;  // per slot
  std::vector<Rng> rng_;          // per slot: the current episode's stream
  torch::TensorOptions i64_, f32_, b_;
  // Per-slot state on the device.
  torch::Tensor history_, lengths_, users_, steps_, returns_, patience_, recent_, seen_;
  torch::Tensor satisfaction_;                // [B] float: m_t of the conditional leave hazard
  torch::Tensor hazard_;                      // [max_length] float
  std::unique_ptr<ResponseStepCache> cache_;  // null: full recompute (see the options)
};

// A single-session environment: VectorEnv with B = 1 and scalar results.
struct SessionStep {
  std::vector<int64_t> history;  // the observation's real items
  int64_t user = 0;
  float reward = 0.0f;
  bool accepted = false, terminated = false, truncated = false;
  std::vector<uint8_t> candidate_mask;  // [num_items]
};

class SessionEnv {
 public:
  SessionEnv(std::shared_ptr<const Simulator> sim, VectorEnvOptions options);
  SessionStep Reset(uint64_t seed);
  // After a done step, the next Step continues with the next episode (auto-reset), and the
  // returned history is the new episode's (see VectorEnv's contract).
  SessionStep Step(int64_t action);

 private:
  SessionStep Convert(const StepResult& r) const;
  VectorEnv env_;
};

}  // namespace recarena::env
