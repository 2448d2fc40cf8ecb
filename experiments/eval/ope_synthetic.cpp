#include "experiments/eval/ope_synthetic.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace recarena::experiments {

SyntheticBandit::SyntheticBandit(const data::SyntheticConfig& cfg,
                                 const data::SyntheticGroundTruth& truth)
    : num_users_(truth.num_users), num_items_(truth.num_items) {
  if (num_users_ < 1 || num_items_ < 1) throw Error("SyntheticBandit: empty world");
  const auto ni = static_cast<size_t>(num_items_);
  std::vector<double> pop(ni);
  double pop_sum = 0.0;
  for (size_t i = 0; i < ni; ++i) {
    pop[i] = std::pow(static_cast<double>(truth.item_popularity[i]), cfg.logging_pop_power);
    pop_sum += pop[i];
  }
  const double share = cfg.logging_utility_share, t = cfg.choice_temperature;
  for (int32_t u = 0; u < num_users_; ++u) {
    const std::vector<double> util = truth.UserUtilities(u);
    double max_u = util[0];
    for (double x : util) max_u = std::max(max_u, x);
    std::vector<double> e(ni), mu(ni), click(ni);
    double z = 0.0;
    for (size_t i = 0; i < ni; ++i) z += e[i] = std::exp((util[i] - max_u) / t);
    for (size_t i = 0; i < ni; ++i) {
      mu[i] = (1.0 - share) * pop[i] / pop_sum + share * e[i] / z;
      click[i] = data::ChoiceProbabilities({util[i]}, cfg.no_click_utility, t)[0];
    }
    mu_.push_back(std::move(mu));
    click_.push_back(std::move(click));
  }
}

double SyntheticBandit::ClickProbability(int32_t u, int32_t i) const {
  return click_[static_cast<size_t>(u)][static_cast<size_t>(i)];
}

double SyntheticBandit::TrueValue(const UserPolicy& pi) const {
  double v = 0.0;
  for (int32_t u = 0; u < num_users_; ++u) {
    const std::vector<double> p = pi(u);
    for (size_t i = 0; i < p.size(); ++i) v += p[i] * click_[static_cast<size_t>(u)][i];
  }
  return v / num_users_;
}

std::vector<OpeSample> SyntheticBandit::Log(int64_t n, const UserPolicy& pi,
                                            const std::vector<double>& item_model, Rng& rng) const {
  if (item_model.size() != static_cast<size_t>(num_items_)) {
    throw Error(fmt::format("SyntheticBandit::Log: reward model has {} items, the world {}",
                            item_model.size(), num_items_));
  }
  std::vector<OpeSample> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const auto u = static_cast<int32_t>(rng.UniformInt(static_cast<uint64_t>(num_users_)));
    const std::vector<double>& mu = mu_[static_cast<size_t>(u)];
    const size_t a = rng.Categorical(mu);
    const std::vector<double> p = pi(u);
    OpeSample s;
    s.reward = rng.Bernoulli(click_[static_cast<size_t>(u)][a]) ? 1.0 : 0.0;
    s.behaviour = mu[a];
    s.target = p[a];
    s.model_logged = item_model[a];
    for (size_t i = 0; i < p.size(); ++i) s.model_value += p[i] * item_model[i];
    out.push_back(s);
  }
  return out;
}

std::vector<double> SyntheticBandit::FitItemClickRates(int64_t n, double prior, Rng& rng) const {
  const auto ni = static_cast<size_t>(num_items_);
  std::vector<double> clicks(ni, 0.0), shown(ni, 0.0);
  double total_clicks = 0.0;
  for (int64_t k = 0; k < n; ++k) {
    const auto u = static_cast<size_t>(rng.UniformInt(static_cast<uint64_t>(num_users_)));
    const size_t a = rng.Categorical(mu_[u]);
    const double r = rng.Bernoulli(click_[u][a]) ? 1.0 : 0.0;
    clicks[a] += r;
    shown[a] += 1.0;
    total_clicks += r;
  }
  const double base = n > 0 ? total_clicks / static_cast<double>(n) : 0.0;
  std::vector<double> rate(ni);
  for (size_t i = 0; i < ni; ++i) rate[i] = (clicks[i] + prior * base) / (shown[i] + prior);
  return rate;
}

}  // namespace recarena::experiments
