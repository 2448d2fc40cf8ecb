// OPE on real data with known propensities (experiments/eval/ope_coat.h): Coat's self-selected
// train ratings with Schnabel et al.'s propensities against the value measured on its randomly
// exposed test ratings. Measured (2026-12-05): the propensities are calibrated (mean weight within
// 5% of 1) and remove most of the naive estimate's selection bias, but not all of it — IPS is still
// 0.02-0.08 above the reference — so the check is "much closer than naive", not coverage.
#include <catch2/catch.hpp>

#include <cmath>

#include "data/dataset_registry.h"
#include "data/load_coat.h"
#include "experiments/eval/ope_coat.h"
#include "test_util.h"

using namespace recarena;
using namespace recarena::experiments;

namespace {

double Value(const std::vector<OpeEstimate>& es, const std::string& name) {
  for (const auto& e : es)
    if (e.estimator == name) return e.value;
  FAIL("no estimator " << name);
  return 0.0;
}

}  // namespace

TEST_CASE(
    "OPE on Coat: its propensities move IPS from the naive estimate towards the "
    "random-exposure truth",
    "[ope][real]") {
  RECARENA_REQUIRE_DATASET(dir, "coat");
  const data::Dataset coat = data::LoadDataset(data::DatasetKind::kCoat, dir, {}, nullptr);
  const data::CoatPropensities p = data::LoadCoatPropensities(dir);
  const size_t users = static_cast<size_t>(coat.users.size()), items = coat.items.size();
  // Context-free policies from the train ratings: uniform, popularity, the items liked most
  // (softmax of 5 x like rate), and the least popular.
  std::vector<double> count(items, 1.0), liked(items, 0.0);
  for (const auto& x : coat.interactions) {
    if (x.part != 0) continue;
    count[static_cast<size_t>(x.item)] += 1.0;
    liked[static_cast<size_t>(x.item)] += x.value >= 4 ? 1.0 : 0.0;
  }
  auto normalised = [](std::vector<double> v) {
    double z = 0.0;
    for (double x : v) z += x;
    for (double& x : v) x /= z;
    return v;
  };
  std::vector<double> uni(items, 1.0), pop = count, like(items), anti(items);
  for (size_t i = 0; i < items; ++i) {
    like[i] = std::exp(5.0 * liked[i] / count[i]);
    anti[i] = 1.0 / count[i];
  }
  double err = 0.0, naive_err = 0.0;
  for (const auto& row : {uni, pop, like, anti}) {
    const std::vector<std::vector<double>> pi(users, normalised(row));
    const CoatOpeResult r = EvaluateCoatOpe(coat, p, pi, 4.0, OpeOptions());
    const double ips = Value(r.estimates, "ips"), naive = Value(r.naive, "ips");
    INFO("reference " << r.reference << " +- " << r.reference_half_width << ", IPS " << ips
                      << ", SNIPS " << Value(r.estimates, "snips") << ", DR "
                      << Value(r.estimates, "dr") << ", naive IPS " << naive);
    CHECK(r.reference > 0.1);
    CHECK(r.reference_half_width > 0.0);
    CHECK(r.estimates[0].mean_weight == Approx(1.0).margin(0.06));
    err += std::abs(ips - r.reference);
    naive_err += std::abs(naive - r.reference);
  }
  // Measured 0.18 against 0.50 over the four policies.
  CHECK(err < 0.5 * naive_err);
}
