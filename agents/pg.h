// REINFORCE with a learned state-value baseline (agent name "pg"), and the discounted-return
// helper it uses. See docs/agents.md, "PG (REINFORCE)".
//
// Network (agents/actor_critic.h): encoder -> h -> actor Linear(D, N) (policy logits) and, with
// pg.baseline, baseline Linear(D, 1). The policy is the softmax over the ALLOWED items only.
//
// Episodes. Every Observe stores the VectorEnv step (RolloutBuffer, unbounded) and tracks, per
// slot, where the slot's current episode started. An episode is finished when a step of it is
// terminated or truncated (REINFORCE uses complete episodes: a truncated episode's return is just
// the truncated sum, nothing is bootstrapped). As soon as at least pg.episodes_per_update episodes
// are finished, one update uses ALL finished episodes (several slots may finish in the same step):
//   G_t   = sum_{k >= t, same episode} gamma^(k - t) r_k                 (DiscountedReturns)
//   G'_t  = (G_t - mean(G)) / (std(G) + 1e-8) over the update's rows    (if normalize_returns;
//           population std; applied to the returns BEFORE the baseline, which therefore learns
//           to predict the standardised return)
//   loss  = -mean_t log pi(a_t|s_t) * (G'_t - b(s_t)).detach()  [+ mean_t (b(s_t) - G'_t)^2]
// (without the baseline b = 0 and there is no second term), one Adam step with global-norm
// clipping. Steps of an episode still running at an update were partly sampled by the previous
// policy; they are kept (a small off-policy bias, as in common vectorised implementations) and the
// stored steps no running episode needs any more are dropped after each update.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "agents/actor_critic.h"
#include "agents/online_agent.h"
#include "agents/online_config.h"
#include "agents/rollout_buffer.h"

namespace recarena::agents {

// rewards [T, B] float, dones [T, B] bool (or 0/1 float): G_t = r_t + gamma (1 - done_t) G_{t+1},
// G_T = 0, per slot (column). A done step ends its episode, so returns never cross episode ends;
// steps after the last done of a column get the partial sum of the steps stored. Same device and
// dtype as rewards.
torch::Tensor DiscountedReturns(const torch::Tensor& rewards, const torch::Tensor& dones,
                                double gamma);

class PgAgent : public OnlineAgent {
 public:
  // Uses options.encoder (num_items set from num_items), lr, gamma, grad_clip and options.pg.
  // Throws recarena::ConfigError for pg.episodes_per_update < 1 or gamma outside [0, 1].
  PgAgent(const OnlineAgentOptions& options, const policies::ExplorationOptions& exploration,
          int64_t num_items, torch::Device device);

  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  // Policy logits [B, N] (eval mode, no grad); the policy is their softmax over allowed items.
  torch::Tensor Scores(const env::Observation& obs) override;
  // Metrics {"actor_loss", "critic_loss" (baseline MSE, 0 without baseline), "entropy" (mean of
  // the masked policy's entropy over the update's rows), "grad_norm" (before clipping)} when an
  // update happened.
  MetricList Observe(const Transition& t) override;
  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  int64_t step() const override { return step_; }
  std::string name() const override { return "pg"; }
  // Sharded: the ranks update together once their finished episodes add up to
  // pg.episodes_per_update (one small all-reduce per step); each weights its gradients by its
  // share of the update's rows, and normalize_returns uses the mean and spread over every rank's
  // rows, so the update is the one a single process would make on the union of the episodes.
  bool SetGradientSync(dist::GradientSync* sync) override;

  // The baseline b(s) [B] (eval mode, no grad); throws recarena::Error without pg.baseline.
  torch::Tensor Baseline(const env::Observation& obs);
  std::vector<torch::Tensor> parameters() const { return net_.parameters(); }
  int64_t updates() const { return updates_; }
  // Finished episodes waiting for the next update.
  int64_t pending_episodes() const { return static_cast<int64_t>(finished_.size()); }

 private:
  MetricList Update();

  OnlineAgentOptions options_;
  torch::Device device_;
  ActorCritic net_;
  policies::Explorer explorer_;
  RolloutBuffer buffer_{0};
  int64_t step_ = 0;
  int64_t updates_ = 0;
  int64_t buffer_base_ = 0;             // the step number of buffer_'s oldest stored step
  std::vector<int64_t> episode_start_;  // per slot: step number where its current episode began
  std::vector<std::array<int64_t, 3>> finished_;  // (slot, first step, last step) per episode
};

}  // namespace recarena::agents
