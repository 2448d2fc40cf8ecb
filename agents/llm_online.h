// LLMOnline (thesis Sec. 7.6.3, agent kind llm_online): the LLM as a sub-agent online. The
// actor proposes k candidates (its top k, or k sampled from its policy without replacement when
// exploring with agent.ialp.candidates sample), the chooser (the LLM through the preference prompt,
// Eq. 7.2) picks one, and when it picks none the action is a uniformly random candidate. The
// actor-critic learns from the simulator's rewards exactly like the thesis A2C (Eqs. 7.12-7.13;
// it is an A2cAgent, thesis variant, inside), optionally started from a distilled iALP policy.
// With agent.ialp.llm_in_eval false, evaluation acts greedily without the LLM.
//
// Cost: one LLM call per user per step. Observe reports the LLM's wall seconds per step
// ("llm_s_per_step") and the share of steps the LLM picked a candidate ("llm_pick_rate").
#pragma once

#include <memory>
#include <string>

#include "agents/a2c.h"
#include "agents/ialp.h"
#include "agents/online_agent.h"

namespace recarena::agents {

class LlmOnlineAgent : public OnlineAgent {
 public:
  LlmOnlineAgent(const OnlineAgentOptions& options, const IalpSetup& setup,
                 const policies::ExplorationOptions& exploration, int64_t num_items,
                 torch::Device device);

  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  torch::Tensor Scores(const env::Observation& obs) override { return inner_->Scores(obs); }
  MetricList Observe(const Transition& t) override;
  void Save(torch::serialize::OutputArchive& archive) const override { inner_->Save(archive); }
  void Load(torch::serialize::InputArchive& archive) override { inner_->Load(archive); }
  int64_t step() const override { return inner_->step(); }
  std::string name() const override { return "llm_online"; }

  // Candidate lists [B, <=k] of the actor for the rows of logits [B, N] under mask: the top k
  // allowed items by logit (ties to the smaller id), or with sample = true k allowed items drawn
  // without replacement from softmax(logits) (Gumbel top-k from rng, rows in order). Rows with
  // fewer than k allowed items list them all.
  static std::vector<std::vector<int64_t>> Candidates(const torch::Tensor& logits,
                                                      const torch::Tensor& mask, int64_t k,
                                                      bool sample, Rng& rng);

 private:
  std::unique_ptr<A2cAgent> inner_;
  std::shared_ptr<CandidateChooser> chooser_;
  int64_t k_;
  bool sample_, llm_in_eval_;
  double llm_seconds_ = 0;  // chooser seconds since the last Observe
  int64_t picks_ = 0, asked_ = 0;
};

}  // namespace recarena::agents
