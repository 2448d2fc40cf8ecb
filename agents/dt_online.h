// A multi-objective decision transformer (MODT4R / MRDT, agents/modt4r.h) acting as a policy in
// the simulator, and optionally learning from the sequences the simulated users consume. See
// docs/decision_transformer.md, "In the simulator".
//
// Acting. The context is the observation's history x_1..x_p (what the user consumed, newest
// last); step p is the recommendation to make. Each episode starts with the target returns
// (DtSetup::target_accuracy / target_novelty) and every step decreases them by what the user
// consumed: one unit of accuracy per consumed item (the unit in which logged sequences count
// Eq. 4.3's return) and one unit of novelty per consumed long-tail item (Eq. 4.4's reward). The
// returns of the context's steps are agents::OnlineReturns (diversity recomputed from the consumed
// items, scaled by lambda); the scores are Eq. 4.19 (A + alpha Y). explore = false: the allowed
// item with the highest score (ties to the smaller id); explore = true: the Explorer.
//
// Per-episode state. Per slot the agent keeps what the user consumed in the current episode. A
// slot whose observation has step == 0 starts a new episode (reset in Act); Track(t) (called by
// Observe during training and by the runner after every evaluation step) adds the step's consumed
// item. Acting without Track keeps the full targets (the policy then ignores consumption).
//
// Learning (train_every > 0). A finished training episode's consumed sequence (start history +
// accepted items) goes into a SequenceBuffer; every train_every environment steps, once
// learning_starts sequences are stored, one Modt4rAgent::Update on batch_size windows sampled
// from it (Algorithm 1's returns: the simulator's sequences are treated like logged ones).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agents/modt4r.h"
#include "agents/online_agent.h"
#include "agents/sequence_buffer.h"
#include "core/rng.h"
#include "policies/exploration.h"

namespace recarena::agents {

// Everything the agent is built from (resolved by the caller from the config: the offline run of
// dt.init_from or the agent's own options).
struct DtSetup {
  SupervisedOptions model;  // UserTrans + W_u; encoder.num_items and state_len filled in
  Modt4rOptions transformer;
  models::TokenOrder order = models::TokenOrder::kModt4r;
  std::vector<uint8_t> long_tail;    // [num_items] 0/1: the novel-item set I_nov
  torch::Tensor similarity_vectors;  // [num_items, F] for transformer.similarity features
  std::string init_checkpoint;       // a best.pt of `recarena train` to load ('' = fresh networks)
  double target_accuracy = 10.0;     // R_acc at the start of every episode (>= 1)
  double target_novelty = 1.0;       // R_nov at the start of every episode (>= 0)
  int64_t batch_size = 32;           // windows per online update
  int64_t train_every = 1;           // environment steps between updates; 0 = never learn online
  int64_t learning_starts = 16;      // stored sequences before the first update
  int64_t buffer_size = 5000;        // sequences kept
};

class DtOnlineAgent : public OnlineAgent {
 public:
  // Builds the transformer on device (fresh parameters from LibTorch's global generator, then
  // init_checkpoint when given: FileError naming it when it cannot be read). The sampling Rng is
  // seeded from LibTorch's global generator after the networks are built (like DqnAgent).
  DtOnlineAgent(const DtSetup& setup, const policies::ExplorationOptions& exploration,
                int64_t num_items, torch::Device device);

  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  // Eq. 4.19 scores [B, N] with the current returns-to-go of each slot (eval mode, no grad).
  torch::Tensor Scores(const env::Observation& obs) override;
  // Track(t), stores finished episodes, updates when due; returns {loss, l_s, l_a, l_r,
  // grad_norm} of an update, else empty.
  MetricList Observe(const Transition& t) override;
  void Track(const Transition& t) override;
  // Networks, optimizer, sequence buffer, step, sampling Rng and explorer (the per-slot episode
  // state is not saved: every segment and evaluation starts new episodes).
  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  int64_t step() const override { return env_steps_; }
  std::string name() const override;

  // The returns [B, L, 3] float (acc, nov, div per context step) Scores conditions on: each
  // slot's targets minus what its user consumed in the episode (agents::OnlineReturns).
  torch::Tensor CurrentReturns(const env::Observation& obs);
  // Changes the targets of episodes that start from now on.
  void SetTargets(double accuracy, double novelty);
  Modt4rAgent& model() { return *model_; }
  const SequenceBuffer& buffer() const { return buffer_; }

 private:
  // Resets slots whose observation starts an episode (step == 0) or all of them when B changed.
  void SyncSlots(const env::Observation& obs);
  void Bookkeep(const Transition& t, bool learn);

  DtSetup setup_;
  torch::Device device_;
  std::unique_ptr<Modt4rAgent> model_;
  policies::Explorer explorer_;
  SequenceBuffer buffer_;
  Rng rng_;
  int64_t env_steps_ = 0;
  // Per slot, the current episode: consumed sequence (start history first), consumed counts.
  std::vector<std::vector<int32_t>> consumed_;
  std::vector<double> got_accuracy_, got_novelty_;
};

}  // namespace recarena::agents
