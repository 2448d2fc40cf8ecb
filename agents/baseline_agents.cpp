#include "agents/baseline_agents.h"

#include "agents/online_config.h"

#include "core/error.h"
#include "policies/baseline_policies.h"

namespace recarena::agents {

policies::ActionSelection RandomAgent::Act(const env::Observation& /*obs*/,
                                           const torch::Tensor& mask, bool /*explore*/, Rng& rng) {
  auto a = policies::RandomActions(mask, rng);
  return {a, torch::zeros_like(a, a.options().dtype(torch::kBool))};
}

torch::Tensor RandomAgent::Scores(const env::Observation& obs) {
  return torch::zeros({obs.items.size(0), num_items_}, obs.items.options().dtype(torch::kFloat));
}

MetricList RandomAgent::Observe(const Transition& /*t*/) {
  ++step_;
  return {};
}

void RandomAgent::Save(torch::serialize::OutputArchive& archive) const {
  archive.write("step", torch::tensor(step_));
}

void RandomAgent::Load(torch::serialize::InputArchive& archive) {
  torch::Tensor s;
  archive.read("step", s);
  step_ = s.item<int64_t>();
}

PopularAgent::PopularAgent(int64_t num_items, torch::Tensor popularity)
    : RandomAgent(num_items), popularity_(popularity.to(torch::kFloat)) {
  if (popularity_.numel() != num_items) {
    throw Error("PopularAgent: popularity has " + std::to_string(popularity_.numel()) +
                " entries for " + std::to_string(num_items) + " items");
  }
}

policies::ActionSelection PopularAgent::Act(const env::Observation& /*obs*/,
                                            const torch::Tensor& mask, bool /*explore*/,
                                            Rng& /*rng*/) {
  auto a = policies::PopularActions(mask, popularity_);
  return {a, torch::ones_like(a, a.options().dtype(torch::kBool))};
}

torch::Tensor PopularAgent::Scores(const env::Observation& obs) {
  return popularity_.to(obs.items.device()).unsqueeze(0).expand({obs.items.size(0), num_items_});
}

OracleAgent::OracleAgent(std::shared_ptr<const env::Simulator> sim)
    : RandomAgent(sim ? sim->num_items : 0), sim_(std::move(sim)) {
  if (!sim_) throw Error("OracleAgent needs the simulator it is evaluated in");
}

torch::Tensor OracleAgent::Scores(const env::Observation& obs) {
  return sim_->response->ExpectedAll(env::ResponseInput{obs.items, obs.lengths, obs.users, {}});
}

policies::ActionSelection OracleAgent::Act(const env::Observation& obs, const torch::Tensor& mask,
                                           bool /*explore*/, Rng& /*rng*/) {
  auto a = policies::MaskedArgmax(Scores(obs), mask);
  return {a, torch::ones_like(a, a.options().dtype(torch::kBool))};
}

std::unique_ptr<OnlineAgent> MakeRandomAgent(const OnlineAgentContext& c) {
  return std::make_unique<RandomAgent>(c.num_items);
}

std::unique_ptr<OnlineAgent> MakePopularAgent(const OnlineAgentContext& c) {
  if (!c.popularity.defined()) throw Error("the popular agent needs item popularity");
  return std::make_unique<PopularAgent>(c.num_items, c.popularity.to(c.device));
}

std::unique_ptr<OnlineAgent> MakeOracleAgent(const OnlineAgentContext& c) {
  return std::make_unique<OracleAgent>(c.oracle_sim);
}

}  // namespace recarena::agents
