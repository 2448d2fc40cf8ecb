// Advantage actor-critic (agent name "a2c") in two variants, and the GAE helper. See
// docs/agents.md, "A2C".
//
// Both variants share one encoder between actor and critic (agents/actor_critic.h), optimise
// actor + critic with one Adam step (global-norm clipping) and use the policy softmax over the
// ALLOWED items only. Bootstrapping follows agents/online_agent.h: `terminated` stops it,
// `truncated` does not (the value of next_obs, the ended episode's final observation, is used).
//
// standard (a2c.variant = standard): V-critic Linear(D, 1). Every a2c.rollout_len env steps, on
// the stored rollout [T = rollout_len, B]:
//   V_t = V(s_t) (train mode, with grad), V'_t = V(s'_t) (eval mode, no grad; s' = next_obs)
//   A_t = Gae(r, V, V', terminated, truncated, gamma, gae_lambda)   (from the detached V)
//   loss = -mean log pi(a_t|s_t) A_t + value_coef * mean (V_t - (A_t + V_t).detach())^2
//          - entropy_coef * mean H(pi(.|s_t))
// then the rollout is cleared (on-policy).
//
// thesis (a2c.variant = thesis): the A2C of the thesis, Ch. 7, Eqs. 7.6-7.10 (online form
// Eqs. 7.12-7.13): Q-critic Linear(D, N), Q(s, .) = Critic[s] (7.7). One update per env step on
// the step's B transitions:
//   y   = r + gamma (1 - terminated) max_{a' allowed at s'} Q(s', a')   (same network, eval mode,
//         no grad; s' = next_obs, allowed = next_mask)
//   L_Q = mean (y - Q(s, a))^2                                          (7.8)
//   A   = y - Q(s, a), detached                                         (7.9: the TD error)
//   L_A = -mean log pi(a|s) * A                                         (7.6 scaled by 7.9)
//   L   = L_A + value_coef * L_Q                                        (7.10 for value_coef = 1)
// No entropy bonus (entropy_coef belongs to the standard variant); the entropy is still reported.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agents/actor_critic.h"
#include "agents/online_agent.h"
#include "agents/online_config.h"
#include "agents/rollout_buffer.h"

namespace recarena::agents {

// Generalised advantage estimation. All inputs [T, B] (terminated/truncated bool or 0/1 float;
// values and next_values are V(s_t) and V(s_{t+1}) with s_{t+1} = next_obs of step t):
//   delta_t = r_t + gamma V(s_{t+1}) (1 - terminated_t) - V(s_t)
//   A_t     = delta_t + gamma lambda (1 - done_t) A_{t+1},  done = terminated | truncated, A_T = 0
// (a truncated step still bootstraps V(next_obs) in its delta; only the recursion is cut). Same
// dtype and device as rewards.
torch::Tensor Gae(const torch::Tensor& rewards, const torch::Tensor& values,
                  const torch::Tensor& next_values, const torch::Tensor& terminated,
                  const torch::Tensor& truncated, double gamma, double lambda);

class A2cAgent : public OnlineAgent {
 public:
  // Uses options.encoder (num_items set from num_items), lr, gamma, grad_clip and options.a2c.
  // Throws recarena::ConfigError for a2c.rollout_len < 1, gamma or gae_lambda outside [0, 1],
  // negative entropy_coef or value_coef.
  A2cAgent(const OnlineAgentOptions& options, const policies::ExplorationOptions& exploration,
           int64_t num_items, torch::Device device);
  // The iALP agents of thesis Ch. 7 are this agent's thesis variant started from a distilled
  // policy (agents/ialp.h): `name` is what name() reports, and learns = false freezes it (iALP
  // without online updates: Observe only counts steps).
  A2cAgent(const OnlineAgentOptions& options, const policies::ExplorationOptions& exploration,
           int64_t num_items, torch::Device device, std::string name, bool learns);
  // Loads the networks (not the optimizer) of an ActorCritic archive (a distilled iALP agent).
  void InitNetworks(torch::serialize::InputArchive& archive) { net_.LoadNetworks(archive); }

  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  // Policy logits [B, N] (eval mode, no grad).
  torch::Tensor Scores(const env::Observation& obs) override;
  // Metrics {"actor_loss", "critic_loss" (unweighted: the value MSE, or L_Q), "entropy" (mean
  // masked-policy entropy of the update's rows), "grad_norm" (before clipping)} when an update
  // happened: every rollout_len steps (standard) or every step (thesis).
  MetricList Observe(const Transition& t) override;
  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  int64_t step() const override { return step_; }
  std::string name() const override { return name_; }
  // Every rank's rollouts have the same number of slots: each update's share is 1 / world size.
  bool SetGradientSync(dist::GradientSync* sync) override;

  // The critic's output (eval mode, no grad): V(s) [B, 1] (standard) or Q(s, .) [B, N] (thesis).
  torch::Tensor CriticValues(const env::Observation& obs);
  std::vector<torch::Tensor> parameters() const { return net_.parameters(); }
  A2cVariant variant() const { return options_.a2c.variant; }
  int64_t updates() const { return updates_; }

 private:
  MetricList UpdateStandard();
  MetricList UpdateThesis(const Transition& t);

  OnlineAgentOptions options_;
  torch::Device device_;
  ActorCritic net_;
  policies::Explorer explorer_;
  RolloutBuffer buffer_;  // standard: the current rollout; thesis: unused (one-step updates)
  int64_t step_ = 0;
  int64_t updates_ = 0;
  std::string name_ = "a2c";
  bool learns_ = true;
};

}  // namespace recarena::agents
