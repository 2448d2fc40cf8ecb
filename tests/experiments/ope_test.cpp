// Off-policy evaluation (experiments/eval/ope.h): golden estimates on hand-made samples, errors by
// name, and the validation on the synthetic world, whose logging policy and true values are known:
// over replicate logs the 95% intervals of IPS, SNIPS and DR must cover the true value of several
// policies at about their nominal rate, without systematic bias.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "core/error.h"
#include "core/rng.h"
#include "data/synthetic_world.h"
#include "experiments/eval/ope.h"
#include "experiments/eval/ope_synthetic.h"

using namespace recarena;
using namespace recarena::experiments;

namespace {

OpeSample S(double r, double mu, double pi, double q, double v) {
  OpeSample s;
  s.reward = r;
  s.behaviour = mu;
  s.target = pi;
  s.model_logged = q;
  s.model_value = v;
  return s;
}

std::map<std::string, OpeEstimate> ByName(const std::vector<OpeEstimate>& es) {
  std::map<std::string, OpeEstimate> m;
  for (const auto& e : es) m[e.estimator] = e;
  return m;
}

}  // namespace

TEST_CASE("OPE golden values: IPS, SNIPS, DR and their clipped forms on three samples",
          "[ope][golden]") {
  // Weights 2, 2, 0.5.
  const std::vector<OpeSample> s = {S(1, 0.5, 1.0, 0.5, 0.6), S(0, 0.25, 0.5, 0.2, 0.3),
                                    S(1, 0.5, 0.25, 0.5, 0.4)};
  OpeOptions o;
  o.clip = 1.5;
  const auto e = ByName(EstimatePolicyValue(s, o));
  CHECK(e.at("ips").value == Approx(2.5 / 3));
  CHECK(e.at("ips").std_error == Approx(std::sqrt(13.0 / 12.0 / 3.0)));  // sd^2 = 13/12
  CHECK(e.at("ips").low == Approx(2.5 / 3 - 1.959964 * std::sqrt(13.0 / 36.0)));
  CHECK(e.at("snips").value == Approx(2.5 / 4.5));
  const double v = 2.5 / 4.5;
  CHECK(e.at("snips").std_error ==
        Approx(std::sqrt(4 * (1 - v) * (1 - v) + 4 * v * v + 0.25 * (1 - v) * (1 - v)) / 4.5));
  CHECK(e.at("dr").value == Approx((1.6 - 0.1 + 0.65) / 3));
  CHECK(e.at("ips").ess == Approx(4.5 * 4.5 / 8.25));
  CHECK(e.at("ips").max_weight == Approx(2.0));
  CHECK(e.at("ips").mean_weight == Approx(1.5));
  CHECK(e.at("ips_clipped").mean_weight == Approx(3.5 / 3));
  CHECK(e.at("ips_clipped").value == Approx(2.0 / 3));
  CHECK(e.at("snips_clipped").value == Approx(2.0 / 3.5));
  CHECK(e.at("dr_clipped").value == Approx((0.6 + 0.75 + 0.3 - 0.3 + 0.4 + 0.25) / 3));
  CHECK(e.at("ips_clipped").max_weight == Approx(1.5));
  CHECK(e.at("ips").n == 3);
}

TEST_CASE("OPE refuses a zero behaviour probability and a bad clip, naming them", "[ope]") {
  CHECK_THROWS_WITH(EstimatePolicyValue({S(1, 0.5, 1, 0, 0), S(1, 0.0, 1, 0, 0)}, OpeOptions()),
                    Catch::Contains("sample 1") && Catch::Contains("behaviour probability 0"));
  CHECK_THROWS_AS(EstimatePolicyValue({}, OpeOptions()), Error);
  OpeOptions bad;
  bad.clip = 0;
  CHECK_THROWS_WITH(EstimatePolicyValue({S(1, 0.5, 1, 0, 0)}, bad), Catch::Contains("ope.clip"));
}

TEST_CASE("OPE on the synthetic world: intervals cover the true values of several policies",
          "[ope][synthetic]") {
  data::SyntheticConfig cfg;
  cfg.num_users = 200;
  cfg.num_items = 100;
  Rng world_rng(11);
  const data::SyntheticWorld world = data::GenerateSyntheticWorld(cfg, world_rng);
  const SyntheticBandit bandit(cfg, world.truth);

  // Target policies, precomputed per user: a utility-seeking softmax (far from the logging policy),
  // popularity (close to it) and uniform.
  std::map<std::string, std::vector<std::vector<double>>> tables;
  for (int32_t u = 0; u < bandit.num_users(); ++u) {
    const std::vector<double> util = world.truth.UserUtilities(u);
    std::vector<double> soft(util.size()), pop(util.size()), uni(util.size(), 1.0 / 100);
    double z = 0.0, zp = 0.0;
    for (size_t i = 0; i < util.size(); ++i) z += soft[i] = std::exp(util[i] / 0.5);
    for (size_t i = 0; i < util.size(); ++i) {
      soft[i] /= z;
      zp += pop[i] = world.truth.item_popularity[i];
    }
    for (double& p : pop) p /= zp;
    tables["utility-softmax"].push_back(soft);
    tables["popularity"].push_back(pop);
    tables["uniform"].push_back(uni);
  }
  const UserPolicy logging = [&](int32_t u) { return bandit.LoggingPolicy(u); };
  const double logging_value = bandit.TrueValue(logging);

  Rng fit_rng(5);
  const std::vector<double> qhat = bandit.FitItemClickRates(20000, 10.0, fit_rng);
  const int kReplicates = 30;
  const int64_t kLogSize = 4000;
  for (const auto& [name, table] : tables) {
    const UserPolicy pi = [&table = table](int32_t u) { return table[static_cast<size_t>(u)]; };
    const double truth = bandit.TrueValue(pi);
    std::map<std::string, int> covered;
    std::map<std::string, std::vector<double>> values;
    double mean_weight = 0.0;
    for (int rep = 0; rep < kReplicates; ++rep) {
      Rng rng = Rng(2024).Fork(static_cast<uint64_t>(rep));
      for (const auto& e : EstimatePolicyValue(bandit.Log(kLogSize, pi, qhat, rng), OpeOptions())) {
        covered[e.estimator] += e.low <= truth && truth <= e.high;
        if (e.estimator == "ips") mean_weight += e.mean_weight / kReplicates;
        values[e.estimator].push_back(e.value);
      }
    }
    // With the true logging policy as mu the weights average 1.
    CHECK(mean_weight == Approx(1.0).margin(0.05));
    for (const std::string est : {"ips", "snips", "dr"}) {
      const auto& xs = values[est];
      double m = 0.0, ss = 0.0;
      for (double x : xs) m += x;
      m /= kReplicates;
      for (double x : xs) ss += (x - m) * (x - m);
      const double sd = std::sqrt(ss / (kReplicates - 1));
      INFO(name << " " << est << ": truth " << truth << ", logging " << logging_value
                << ", mean estimate " << m << " (sd " << sd << "), covered " << covered[est] << "/"
                << kReplicates);
      // Nominal 95%: 30 replicates cover >= 24 times with probability > 0.99.
      CHECK(covered[est] >= 24);
      // Unbiased (SNIPS up to O(1/n)): the mean of the replicates within 4 of its standard errors.
      CHECK(std::abs(m - truth) < 4.0 * sd / std::sqrt(kReplicates) + 1e-3);
    }
  }
  // The policies differ in truth, so covering them is not trivial: the utility-seeking policy is
  // worth more than logging, uniform less.
  const UserPolicy soft = [&](int32_t u) { return tables["utility-softmax"][size_t(u)]; };
  const UserPolicy uni = [&](int32_t u) { return tables["uniform"][size_t(u)]; };
  CHECK(bandit.TrueValue(soft) > logging_value + 0.05);
  CHECK(bandit.TrueValue(uni) < logging_value);
}
