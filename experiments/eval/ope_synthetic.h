// The synthetic world as a testbed for off-policy evaluation (experiments/eval/ope.h), where the
// logging policy and every true value are known. One decision shows one item to a user drawn
// uniformly; the logging policy is the generator's slot distribution (docs/synthetic_world.md)
//   mu(i|u) = (1 - logging_utility_share) P_pop(i) + logging_utility_share P_util(i|u),
//   P_pop(i) ∝ pop_i^logging_pop_power,  P_util(i|u) ∝ exp(utility(u, i) / choice_temperature),
// and the reward is a click on that one-item slate, with the generator's choice model
//   p(u, i) = exp(utility(u, i) / T) / (exp(utility(u, i) / T) + exp(no_click_utility / T)).
// The true value of a policy pi is (1/U) sum_u sum_i pi(i|u) p(u, i).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/rng.h"
#include "data/synthetic_world.h"
#include "experiments/eval/ope.h"

namespace recarena::experiments {

// pi(.|u) over the catalog [num_items], summing to 1.
using UserPolicy = std::function<std::vector<double>(int32_t user)>;

class SyntheticBandit {
 public:
  SyntheticBandit(const data::SyntheticConfig& cfg, const data::SyntheticGroundTruth& truth);

  int32_t num_users() const { return num_users_; }
  int32_t num_items() const { return num_items_; }
  const std::vector<double>& LoggingPolicy(int32_t u) const { return mu_[static_cast<size_t>(u)]; }
  double ClickProbability(int32_t u, int32_t i) const;
  double TrueValue(const UserPolicy& pi) const;

  // n logged decisions (u uniform, a ~ mu(.|u), r ~ Bernoulli(p(u, a))) as OPE samples of the
  // target policy pi, with the reward model qhat(u, i) = item_model[i] for DR.
  std::vector<OpeSample> Log(int64_t n, const UserPolicy& pi, const std::vector<double>& item_model,
                             Rng& rng) const;
  // A fitted reward model for DR: each item's click rate in n logged decisions of the logging
  // policy, shrunk towards the overall rate with `prior` pseudo-decisions.
  std::vector<double> FitItemClickRates(int64_t n, double prior, Rng& rng) const;

 private:
  int32_t num_users_, num_items_;
  std::vector<std::vector<double>> mu_, click_;  // [U][I]
};

}  // namespace recarena::experiments
