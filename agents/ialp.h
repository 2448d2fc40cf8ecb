// The iALP family of thesis Ch. 7 in the simulator (agent kinds ialp, ialp_ft, ialp_ap;
// docs/llm.md). All start from a policy pi_theta distilled from LLM preferences by `recarena llm
// distill` (Alg. 5, experiments/train/ialp_distill.h): a thesis-variant actor-critic (agents/a2c.h)
// whose encoder, actor and Q-critic are loaded from the distill run's agent.pt.
//
// - ialp:    pi_theta frozen, no online updates (the thesis's iALP baseline).
// - ialp_ft: A-iALP_ft, pi_theta fine-tuned online with the simulator's rewards by the thesis A2C
//            (Eqs. 7.12-7.13): an A2cAgent (thesis variant) started from theta.
// - ialp_ap: A-iALP_ap (Eqs. 7.14-7.15, Alg. 6): pi_theta frozen, a learnable actor-critic beta,
//            actions from the mixture pi~ = (1 - alpha) pi_theta + alpha pi_beta over the allowed
//            items, alpha rising linearly from agent.ialp.alpha0 to 1 over agent.ialp.alpha_steps
//            environment steps. beta's critic learns by Eq. 7.12; its actor by Eq. 7.15,
//            L = -log pi~(a|s) * A with A the TD error of beta's critic. beta starts as a copy of
//            theta (Alg. 6, line 2) or fresh (Sec. 7.5.4's "initialises randomly"):
//            agent.ialp.beta_init copy | fresh.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agents/actor_critic.h"
#include "agents/candidate_chooser.h"
#include "agents/online_agent.h"
#include "models/encoder.h"
#include "policies/exploration.h"

namespace recarena::agents {

struct OnlineAgentOptions;

// What the iALP agents need beyond their options section, resolved by experiments/train
// (ResolveIalpSetup) from agent.ialp.init_from.
struct IalpSetup {
  models::EncoderOptions encoder;             // theta's encoder (beta's too); num_items filled in
  std::string init_checkpoint;                // the distill run's agent.pt ('' = fresh theta)
  std::shared_ptr<CandidateChooser> chooser;  // llm_online: the LLM that picks among candidates
};

// Hands the networks section ("net", an ActorCritic archive) of a distill run's agent.pt to load
// (e.g. ActorCritic::LoadNetworks); nothing when checkpoint is ''. FileError naming the file when
// it cannot be read or is not a distilled policy.
void LoadDistilledNetworks(const std::string& checkpoint,
                           const std::function<void(torch::serialize::InputArchive&)>& load);

// log((1 - alpha) exp(log_theta) + alpha exp(log_beta)) elementwise (Eq. 7.14 in log space);
// -inf where both are -inf. log_theta, log_beta [B, N] float; alpha in [0, 1].
torch::Tensor MixLogProbs(const torch::Tensor& log_theta, const torch::Tensor& log_beta,
                          double alpha);

class IalpApAgent : public OnlineAgent {
 public:
  // options: encoder (replaced by setup.encoder), lr, gamma, grad_clip, a2c.value_coef, ialp.
  IalpApAgent(const OnlineAgentOptions& options, const IalpSetup& setup,
              const policies::ExplorationOptions& exploration, int64_t num_items,
              torch::Device device);

  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  // log pi~(.|s) over the whole catalog [B, N] (eval mode, no grad).
  torch::Tensor Scores(const env::Observation& obs) override;
  // One update of beta per environment step: {"actor_loss", "critic_loss", "alpha", "grad_norm"}.
  MetricList Observe(const Transition& t) override;
  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  int64_t step() const override { return step_; }
  std::string name() const override { return "ialp_ap"; }

  // alpha after `step` environment steps.
  double Alpha(int64_t step) const;
  std::vector<torch::Tensor> theta_parameters() const { return theta_.parameters(); }
  std::vector<torch::Tensor> beta_parameters() const { return beta_.parameters(); }

 private:
  // log pi~(.|s) [B, N] with the mask's items excluded; beta in train mode with grad when
  // beta_out is given (it receives beta's forward), else eval mode.
  torch::Tensor MixedLogProbs(const env::Observation& obs, const torch::Tensor& mask, double alpha,
                              ActorCritic::Output* beta_out);

  double alpha0_;
  int64_t alpha_steps_;
  double gamma_, value_coef_;
  torch::Device device_;
  ActorCritic theta_, beta_;
  policies::Explorer explorer_;
  int64_t step_ = 0, updates_ = 0;
};

}  // namespace recarena::agents
