// The non-learning baselines as OnlineAgents: random, most-popular and the oracle (the policies of
// policies/baseline_policies.h). Observe stores nothing; Save/Load keep only the step counter.
#pragma once

#include <memory>
#include <string>

#include "agents/online_agent.h"
#include "env/simulator.h"

namespace recarena::agents {

class RandomAgent : public OnlineAgent {
 public:
  explicit RandomAgent(int64_t num_items) : num_items_(num_items) {}
  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  torch::Tensor Scores(const env::Observation& obs) override;  // zeros
  MetricList Observe(const Transition& t) override;
  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  int64_t step() const override { return step_; }
  std::string name() const override { return "random"; }
  bool SetGradientSync(dist::GradientSync* /*sync*/) override { return true; }  // never updates

 protected:
  int64_t num_items_;
  int64_t step_ = 0;
};

class PopularAgent : public RandomAgent {
 public:
  // popularity [num_items] float (e.g. the train simulator's logged consumption counts).
  PopularAgent(int64_t num_items, torch::Tensor popularity);
  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  torch::Tensor Scores(const env::Observation& obs) override;
  std::string name() const override { return "popular"; }

 private:
  torch::Tensor popularity_;
};

// Picks the item with the highest expected reward under sim's response model: the upper bound a
// table can show when sim is the simulator the agent is evaluated in.
class OracleAgent : public RandomAgent {
 public:
  explicit OracleAgent(std::shared_ptr<const env::Simulator> sim);
  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  torch::Tensor Scores(const env::Observation& obs) override;
  std::string name() const override { return "oracle"; }

 private:
  std::shared_ptr<const env::Simulator> sim_;
};

}  // namespace recarena::agents
