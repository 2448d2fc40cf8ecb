// Kendall's tau-b golden values and the two-stage bootstrap of the policy-ranking test.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/rng.h"
#include "experiments/eval/rank_stats.h"

using recarena::Rng;
using namespace recarena::experiments;

TEST_CASE("Kendall's tau-b: golden values with and without ties", "[ranking]") {
  CHECK(KendallTauB({1, 2, 3, 4, 5}, {10, 20, 30, 40, 50}) == Approx(1.0));
  CHECK(KendallTauB({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}) == Approx(-1.0));
  // One discordant pair of six: (5 - 1) / 6.
  CHECK(KendallTauB({1, 2, 3, 4}, {1, 3, 2, 4}) == Approx(4.0 / 6.0));
  // One pair tied in a, one in b, four concordant: 4 / sqrt(5 * 5).
  CHECK(KendallTauB({1, 2, 2, 3}, {1, 2, 3, 3}) == Approx(0.8));
  // Two pairs tied in a and none in b, C = 4, D = 0: 4 / sqrt(4 * 6).
  CHECK(KendallTauB({1, 1, 2, 2}, {1, 2, 3, 4}) == Approx(4.0 / std::sqrt(24.0)));
  CHECK(KendallTauB({3, 3, 3}, {1, 2, 3}) == 0.0);  // no order on one side
  CHECK_THROWS_WITH(KendallTauB({1, 2}, {1, 2, 3}), Catch::Contains("2 scores against 3"));
  CHECK_THROWS_WITH(KendallTauB({1}, {1}), Catch::Contains("at least 2"));
}

TEST_CASE("policy means weigh every seed the same", "[ranking]") {
  // Policy 0: one seed of three episodes at 1 and one seed of one episode at 3: (1 + 3) / 2.
  const PolicySamples s = {{{1, 1, 1}, {3}}, {{5, 7}}};
  const auto m = PolicyMeans(s);
  REQUIRE(m.size() == 2);
  CHECK(m[0] == Approx(2.0));
  CHECK(m[1] == Approx(6.0));
  CHECK_THROWS_WITH(PolicyMeans({{{1.0}}, {}}),
                    Catch::Contains("policy 1") && Catch::Contains("no seeds"));
  CHECK_THROWS_WITH(PolicyMeans({{{}}}), Catch::Contains("without episodes"));
}

namespace {

// n policies with true means 0, 1, ..., n-1 (reversed when descending), seeds x episodes draws of
// mean + noise * N(0, 1).
PolicySamples Planted(int n, double noise, bool descending, Rng& rng) {
  PolicySamples s(static_cast<size_t>(n));
  for (int p = 0; p < n; ++p) {
    const double mean = descending ? n - 1 - p : p;
    for (int seed = 0; seed < 3; ++seed) {
      std::vector<double> eps;
      for (int e = 0; e < 50; ++e) eps.push_back(mean + noise * rng.Normal());
      s[static_cast<size_t>(p)].push_back(eps);
    }
  }
  return s;
}

}  // namespace

TEST_CASE("bootstrap tau: exact agreement, reversal, and noise widening the interval",
          "[ranking]") {
  Rng data(1);
  const auto a = Planted(8, 0.01, false, data);
  const auto b = Planted(8, 0.01, false, data);
  Rng rng(2);
  auto same = BootstrapKendallTau(a, b, 200, rng);
  CHECK(same.tau == Approx(1.0));
  CHECK(same.lo == Approx(1.0));
  CHECK(same.hi == Approx(1.0));
  CHECK(same.replicates == 200);
  auto reversed = BootstrapKendallTau(a, Planted(8, 0.01, true, data), 200, rng);
  CHECK(reversed.tau == Approx(-1.0));
  CHECK(reversed.hi == Approx(-1.0));
  // Noise of the size of the gaps between policies: the point estimate stays positive, the
  // interval has width and holds it.
  const auto na = Planted(8, 4.0, false, data), nb = Planted(8, 4.0, false, data);
  auto noisy = BootstrapKendallTau(na, nb, 400, rng);
  CHECK(noisy.hi - noisy.lo > 0.1);
  CHECK(noisy.lo <= noisy.tau);
  CHECK(noisy.tau <= noisy.hi);
  CHECK(noisy.tau > 0.0);
  // The same generator state gives the same interval.
  Rng r1(9), r2(9);
  const auto x = BootstrapKendallTau(na, nb, 100, r1), y = BootstrapKendallTau(na, nb, 100, r2);
  CHECK(x.lo == y.lo);
  CHECK(x.hi == y.hi);
}

TEST_CASE("bootstrap tau: mismatched inputs are refused", "[ranking]") {
  Rng rng(3);
  const PolicySamples two = {{{1.0}, {2.0}}, {{3.0}, {4.0}}};
  const PolicySamples one_seed = {{{1.0}}, {{3.0}, {4.0}}};
  CHECK_THROWS_WITH(BootstrapKendallTau(two, one_seed, 10, rng),
                    Catch::Contains("policy 0 has 2 seeds in the first evaluation and 1"));
  CHECK_THROWS_WITH(BootstrapKendallTau(two, {{{1.0}}}, 10, rng),
                    Catch::Contains("2 policies against 1"));
  CHECK_THROWS_WITH(BootstrapKendallTau(two, two, 0, rng), Catch::Contains("replicates >= 1"));
}
