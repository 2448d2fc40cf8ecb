#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "experiments/eval/conformal.h"
#include "experiments/eval/conformal_weighted.h"

using namespace recarena::experiments;
using recarena::Rng;

namespace {
const double kInf = std::numeric_limits<double>::infinity();

// p = [0.1, 0.5, 0.2, 0.2]: ranking item1 (0.5), item2 (0.2), item3 (0.2, tie -> larger id after),
// item0 (0.1). o = {item0: 4, item1: 1, item2: 2, item3: 3}. Sum of p before each position
// (rank order): 0, 0.5, 0.7, 0.9. p_max = 0.5.
const std::vector<double> kP = {0.1, 0.5, 0.2, 0.2};

std::vector<double> RandomProbs(Rng& rng, size_t n, double conc) {
  std::vector<double> p(n);
  double s = 0;
  for (auto& v : p) s += (v = rng.Gamma(conc));
  for (auto& v : p) v /= s;
  return p;
}
}  // namespace

TEST_CASE("conformal: golden scores, not randomized (u = 1), with a tie in p", "[conformal]") {
  ScoreParams params;
  params.lambda = 0.1;
  params.k_reg = 2;
  QueryScorer s(params);
  s.Reset(kP, 1.0);
  CHECK(s.order() == std::vector<uint32_t>{1, 2, 3, 0});
  CHECK(s.Rank(1) == 1);
  CHECK(s.Rank(2) == 2);
  CHECK(s.Rank(3) == 3);
  CHECK(s.Rank(0) == 4);
  // THR 1 - p_y: 0.9, 0.5, 0.8, 0.8.
  CHECK(s.Score(ScoreKind::kThr, 0) == Approx(0.9));
  CHECK(s.Score(ScoreKind::kThr, 1) == Approx(0.5));
  CHECK(s.Score(ScoreKind::kThr, 2) == Approx(0.8));
  CHECK(s.Score(ScoreKind::kThr, 3) == Approx(0.8));
  // APS before + 1 * p: item1 0 + .5 = .5; item2 .5 + .2 = .7; item3 .7 + .2 = .9; item0 .9 + .1
  // = 1.
  CHECK(s.Score(ScoreKind::kAps, 1) == Approx(0.5));
  CHECK(s.Score(ScoreKind::kAps, 2) == Approx(0.7));
  CHECK(s.Score(ScoreKind::kAps, 3) == Approx(0.9));
  CHECK(s.Score(ScoreKind::kAps, 0) == Approx(1.0));
  // RAPS = APS + 0.1 max(0, o - 2): item1 .5 + 0; item2 .7 + 0; item3 .9 + .1 = 1.0;
  // item0 1.0 + .2 = 1.2.
  CHECK(s.Score(ScoreKind::kRaps, 1) == Approx(0.5));
  CHECK(s.Score(ScoreKind::kRaps, 2) == Approx(0.7));
  CHECK(s.Score(ScoreKind::kRaps, 3) == Approx(1.0));
  CHECK(s.Score(ScoreKind::kRaps, 0) == Approx(1.2));
  // SAPS: o = 1 -> u p_max = .5; else .5 + .1 (o - 2 + 1): item2 .6, item3 .7, item0 .8.
  CHECK(s.Score(ScoreKind::kSaps, 1) == Approx(0.5));
  CHECK(s.Score(ScoreKind::kSaps, 2) == Approx(0.6));
  CHECK(s.Score(ScoreKind::kSaps, 3) == Approx(0.7));
  CHECK(s.Score(ScoreKind::kSaps, 0) == Approx(0.8));
  // RANK o - 1 + 1 = o.
  CHECK(s.Score(ScoreKind::kRank, 1) == 1.0);
  CHECK(s.Score(ScoreKind::kRank, 2) == 2.0);
  CHECK(s.Score(ScoreKind::kRank, 3) == 3.0);
  CHECK(s.Score(ScoreKind::kRank, 0) == 4.0);
}

TEST_CASE("conformal: golden scores, randomized with u = 0.25", "[conformal]") {
  ScoreParams params;
  params.randomized = true;
  params.lambda = 0.1;
  params.k_reg = 2;
  QueryScorer s(params);
  s.Reset(kP, 0.25);
  // THR ignores u.
  CHECK(s.Score(ScoreKind::kThr, 2) == Approx(0.8));
  // APS before + .25 p: item1 .125; item2 .5 + .05 = .55; item3 .7 + .05 = .75;
  // item0 .9 + .025 = .925.
  CHECK(s.Score(ScoreKind::kAps, 1) == Approx(0.125));
  CHECK(s.Score(ScoreKind::kAps, 2) == Approx(0.55));
  CHECK(s.Score(ScoreKind::kAps, 3) == Approx(0.75));
  CHECK(s.Score(ScoreKind::kAps, 0) == Approx(0.925));
  // RAPS: item3 .75 + .1 = .85; item0 .925 + .2 = 1.125.
  CHECK(s.Score(ScoreKind::kRaps, 1) == Approx(0.125));
  CHECK(s.Score(ScoreKind::kRaps, 3) == Approx(0.85));
  CHECK(s.Score(ScoreKind::kRaps, 0) == Approx(1.125));
  // SAPS: item1 .25 * .5 = .125; item2 .5 + .1 (0 + .25) = .525; item3 .5 + .1 * 1.25 = .625;
  // item0 .5 + .1 * 2.25 = .725.
  CHECK(s.Score(ScoreKind::kSaps, 1) == Approx(0.125));
  CHECK(s.Score(ScoreKind::kSaps, 2) == Approx(0.525));
  CHECK(s.Score(ScoreKind::kSaps, 3) == Approx(0.625));
  CHECK(s.Score(ScoreKind::kSaps, 0) == Approx(0.725));
  // RANK o - 1 + .25: .25, 1.25, 2.25, 3.25.
  CHECK(s.Score(ScoreKind::kRank, 1) == 0.25);
  CHECK(s.Score(ScoreKind::kRank, 2) == 1.25);
  CHECK(s.Score(ScoreKind::kRank, 3) == 2.25);
  CHECK(s.Score(ScoreKind::kRank, 0) == 3.25);
  // The default RAPS/SAPS lambda and k_reg.
  ScoreParams def;
  CHECK(def.lambda == 0.01);
  CHECK(def.k_reg == 5);
  CHECK_FALSE(def.randomized);
  Rng rng(1);
  CHECK(DrawU(def, rng) == 1.0);
}

TEST_CASE("conformal: label-only scores are bitwise equal to the sorted scorer", "[conformal]") {
  Rng rng(5);
  ScoreParams params;
  params.lambda = 0.03;
  params.k_reg = 3;
  QueryScorer s(params);
  for (int t = 0; t < 50; ++t) {
    const size_t n = 1 + rng.UniformInt(30);
    std::vector<double> p(n);
    // Values from a small set: many ties.
    for (auto& v : p) v = static_cast<double>(rng.UniformInt(4)) / 7.0;
    const double u = t % 2 ? rng.Uniform() : 1.0;
    s.Reset(p, u);
    for (size_t y = 0; y < n; ++y) {
      double all[5];
      LabelScoresAll(p.data(), n, y, u, params, all);
      for (ScoreKind k : AllScoreKinds()) {
        CHECK(all[static_cast<size_t>(k)] == s.Score(k, y));
        CHECK(LabelScore(k, p.data(), n, y, u, params) == s.Score(k, y));
      }
    }
  }
}

TEST_CASE("conformal: sets are {y : s(y) <= q} and a score equal to q_hat is in", "[conformal]") {
  QueryScorer s;
  s.Reset(kP, 1.0);
  // APS scores item1 .5, item2 .7, item3 .9, item0 1.0; q = item2's exact score.
  const double q = s.Score(ScoreKind::kAps, 2);
  CHECK(s.SetMembers(ScoreKind::kAps, q) == std::vector<uint32_t>{1, 2});
  CHECK(s.SetSize(ScoreKind::kAps, q) == 2);
  CHECK(s.SetSize(ScoreKind::kAps, std::nextafter(q, 0.0)) == 1);
  // THR: items 2 and 3 tie at 1 - 0.2; both are in at q = that value.
  const double qt = s.Score(ScoreKind::kThr, 2);
  CHECK(s.SetMembers(ScoreKind::kThr, qt) == std::vector<uint32_t>{1, 2, 3});
  // q = +infinity gives every item.
  for (ScoreKind k : AllScoreKinds()) CHECK(s.SetSize(k, kInf) == 4);
  std::vector<double> all;
  s.AllScores(ScoreKind::kRank, &all);
  CHECK(all == std::vector<double>{4, 1, 2, 3});
  // Float input.
  std::vector<float> pf = {0.25f, 0.75f};
  s.Reset(pf.data(), pf.size(), 1.0);
  CHECK(s.Score(ScoreKind::kAps, 0) == 1.0);
  CHECK_THROWS_AS(s.Reset(std::vector<double>{0.5, -0.1}, 1.0), recarena::Error);
  CHECK_THROWS_AS(s.Reset(kP, 1.5), recarena::Error);
}

TEST_CASE("conformal: PrefixSet gives QueryScorer's sets bit for bit", "[conformal]") {
  Rng rng(17);
  ScoreParams params;
  params.lambda = 0.02;
  params.k_reg = 4;
  QueryScorer s(params);
  PrefixSet prefix(params);
  size_t checked = 0, partial = 0;
  for (int t = 0; t < 120; ++t) {
    // Sizes around the 64 / 256 / 1024 selection steps; ties (t % 3 == 0) and zeros included.
    const size_t n = 1 + rng.UniformInt(t % 4 == 0 ? 2000 : 300);
    std::vector<double> p = RandomProbs(rng, n, t % 2 ? 0.2 : 2.0);
    if (t % 3 == 0)
      for (auto& v : p) v = static_cast<double>(rng.UniformInt(5)) / 10.0;
    const double u = t % 2 ? rng.Uniform() : 1.0;
    s.Reset(p, u);
    for (ScoreKind k : AllScoreKinds()) {
      std::vector<double> all;
      s.AllScores(k, &all);
      // Thresholds: each item's own score (ties at q are in), just below one, -inf and +inf.
      std::vector<double> qs = {-kInf, kInf};
      for (int j = 0; j < 4; ++j) {
        const double own = all[rng.UniformInt(n)];
        qs.push_back(own);
        qs.push_back(std::nextafter(own, -kInf));
      }
      for (double q : qs) {
        const auto want = s.SetMembers(k, q);
        const size_t size = prefix.Find(k, p.data(), n, u, q);
        std::vector<uint32_t> got;
        prefix.Members(&got);
        INFO("t " << t << " n " << n << " kind " << static_cast<int>(k) << " q " << q);
        REQUIRE(size == want.size());
        CHECK(got == want);
        for (size_t y = 0; y < n; ++y) {
          const bool in = std::binary_search(want.begin(), want.end(), static_cast<uint32_t>(y));
          if (prefix.Contains(y) != in) FAIL("Contains(" << y << ") != " << in);
        }
        ++checked;
        partial += size > 64 && size < n ? 1 : 0;
      }
    }
  }
  CHECK(checked > 5000);
  CHECK(partial > 50);  // sets past the first selection step, short of the whole catalog
  CHECK_THROWS_AS(prefix.Find(ScoreKind::kAps, kP.data(), kP.size(), 1.5, 0.5), recarena::Error);
  const std::vector<double> bad = {0.5, -0.1};
  CHECK_THROWS_AS(prefix.Find(ScoreKind::kThr, bad.data(), bad.size(), 1.0, 0.5), recarena::Error);
}

TEST_CASE("conformal: softmax is stable, masks and -inf give 0", "[conformal]") {
  auto p = Softmax({0.0, std::log(2.0), -kInf});
  CHECK(p[0] == Approx(1.0 / 3));
  CHECK(p[1] == Approx(2.0 / 3));
  CHECK(p[2] == 0.0);
  auto m = Softmax({0.0, std::log(2.0), 5.0}, {0, 1, 1});
  CHECK(m == std::vector<double>{1.0, 0.0, 0.0});
  auto big = Softmax({1000.0, 1000.0});
  CHECK(big[0] == 0.5);
  CHECK(big[1] == 0.5);
  CHECK_THROWS_AS(Softmax({-kInf, -kInf}), recarena::Error);
  CHECK_THROWS_AS(Softmax({0.0, std::nan("")}), recarena::Error);
}

TEST_CASE("conformal: quantile index is exact at the edges", "[conformal][quantile]") {
  // n = 1: ceil(2 * 0.9) = 2 > 1 -> +inf; ceil(2 * 0.5) = 1.
  CHECK(QuantileIndex(1, "0.1") == 2);
  CHECK(QuantileIndex(1, "0.5") == 1);
  CHECK(ConformalQuantile(std::vector<double>{3.0}, "0.1") == kInf);
  CHECK(ConformalQuantile(std::vector<double>{3.0}, "0.5") == 3.0);
  // (n + 1)(1 - alpha) an integer: 20 * .95 = 19, 10 * .9 = 9, 100 * .9 = 90.
  CHECK(QuantileIndex(19, "0.05") == 19);
  CHECK(QuantileIndex(9, "0.1") == 9);
  CHECK(QuantileIndex(99, "0.1") == 90);
  CHECK(QuantileIndex(19, 0.05) == 19);
  CHECK(QuantileIndex(9, 0.1) == 9);
  CHECK(QuantileIndex(99, 0.1) == 90);
  // A case the naive double formula gets wrong: 10 * (1 - 0.7) = 3 exactly, but in doubles
  // 1 - 0.7 = 0.30000000000000004 and 10 * that = 3.0000000000000004 -> ceil 4.
  volatile double a = 0.7;
  const double naive = std::ceil(10.0 * (1.0 - a));
  CHECK(naive == 4.0);
  CHECK(QuantileIndex(9, "0.7") == 3);
  CHECK(QuantileIndex(9, 0.7) == 3);
  // Spellings of the same decimal.
  for (const char* s : {"0.05", ".05", "5e-2", "0.050", "50E-3"}) {
    CHECK(ParseDecimalFraction(s).text == "0.05");
    CHECK(QuantileIndex(19, s) == 19);
  }
  CHECK(DecimalFromDouble(0.1).text == "0.1");
  CHECK(DecimalFromDouble(1e-5).text == "0.00001");
  for (const char* bad : {"0", "1", "1.5", "-0.1", "abc", "0.1x", "", "0.", "e-2"})
    CHECK_THROWS_AS(ParseDecimalFraction(bad), recarena::Error);
  // n = 0: index 1 > 0 -> +inf.
  CHECK(ConformalQuantile(std::vector<double>{}, "0.1") == kInf);
  // scores {5,1,4,2,3}: alpha .2 -> ceil(6 * .8) = 5 -> 5; alpha .5 -> 3 -> 3;
  // alpha .1 -> ceil(5.4) = 6 > 5 -> +inf.
  const std::vector<double> sc = {5, 1, 4, 2, 3};
  CHECK(ConformalQuantile(sc, "0.2") == 5.0);
  CHECK(ConformalQuantile(sc, "0.5") == 3.0);
  CHECK(ConformalQuantile(sc, "0.1") == kInf);
  CHECK(ConformalQuantile(sc, 0.5) == 3.0);
  // Exhaustive agreement with exact rational arithmetic for alpha = k / 100.
  for (int k = 1; k < 100; ++k) {
    for (int64_t n = 0; n < 300; ++n) {
      const int64_t exact = ((n + 1) * (100 - k) + 99) / 100;
      std::string s = std::to_string(k);
      s = "0." + std::string(2 - s.size(), '0') + s;
      REQUIRE(QuantileIndex(n, s) == exact);
      REQUIRE(QuantileIndex(n, k / 100.0) == exact);
    }
  }
}

TEST_CASE("conformal: empirical coverage is 1 - alpha on exchangeable data",
          "[conformal][coverage]") {
  // Fresh exchangeable data per trial: p ~ normalised Gamma(0.3) over 15 items, label ~ p.
  const size_t n_items = 15, n_cal = 200, n_test = 200, trials = 300;
  const std::string alpha = "0.1";
  // Expected marginal coverage for continuous scores: ceil(201 * .9) / 201 = 181 / 201.
  const double target = 0.9;
  for (bool randomized : {false, true}) {
    for (ScoreKind kind : AllScoreKinds()) {
      ScoreParams params;
      params.randomized = randomized;
      params.k_reg = 2;
      params.lambda = 0.05;
      Rng rng(100 + static_cast<int>(kind) + (randomized ? 10 : 0));
      QueryScorer scorer(params);
      double sum = 0, sum2 = 0;
      for (size_t t = 0; t < trials; ++t) {
        std::vector<double> cal;
        for (size_t i = 0; i < n_cal; ++i) {
          auto p = RandomProbs(rng, n_items, 0.3);
          const size_t y = rng.Categorical(p);
          cal.push_back(LabelScore(kind, p.data(), n_items, y, DrawU(params, rng), params));
        }
        const double q = ConformalQuantile(cal, alpha);
        size_t covered = 0;
        for (size_t i = 0; i < n_test; ++i) {
          auto p = RandomProbs(rng, n_items, 0.3);
          const size_t y = rng.Categorical(p);
          scorer.Reset(p, DrawU(params, rng));
          const auto set = scorer.SetMembers(kind, q);
          covered += std::find(set.begin(), set.end(), y) != set.end() ? 1 : 0;
        }
        const double c = static_cast<double>(covered) / n_test;
        sum += c;
        sum2 += c * c;
        // Per trial: a binomial tolerance around 1 - alpha (test sd sqrt(.09/200) = .021, plus
        // the calibration's own variability of about the same size): 5 combined sd's.
        CHECK(c >= target - 0.15);
      }
      const double mean = sum / trials;
      const double sd = std::sqrt(std::max(0.0, sum2 / trials - mean * mean));
      const double tol = 4.0 * sd / std::sqrt(static_cast<double>(trials)) + 1e-9;
      INFO("kind " << static_cast<int>(kind) << " randomized " << randomized << " mean " << mean
                   << " sd " << sd);
      CHECK(mean >= target - tol);
      // With u drawn per query the scores have no ties: coverage is also at most
      // 1 - alpha + 1 / (n + 1).
      if (randomized) CHECK(mean <= target + 1.0 / (n_cal + 1) + tol);
    }
  }
}

TEST_CASE("conformal: simplex grid order and size and weight step parsing",
          "[conformal][weighted]") {
  const auto g = SimplexGrid(3, 2);
  const std::vector<std::vector<int>> expected = {{2, 0, 0}, {1, 1, 0}, {1, 0, 1},
                                                  {0, 2, 0}, {0, 1, 1}, {0, 0, 2}};
  CHECK(g == expected);
  CHECK(SimplexGrid(5, 10).size() == 1001);  // C(14, 4)
  CHECK(SimplexGrid(1, 7) == std::vector<std::vector<int>>{{7}});
  CHECK(GridStepsFromDecimal("0.1") == 10);
  CHECK(GridStepsFromDecimal("0.25") == 4);
  CHECK(GridStepsFromDecimal("0.05") == 20);
  CHECK(GridStepsFromDecimal("1") == 1);
  CHECK_THROWS_AS(GridStepsFromDecimal("0.3"), recarena::Error);
  CHECK_THROWS_AS(GridStepsFromDecimal("0"), recarena::Error);
  CHECK_THROWS_AS(GridStepsFromDecimal("2"), recarena::Error);
}

TEST_CASE("conformal: VFCP/EFCP/DLCP/DLCP+ index sets", "[conformal][weighted]") {
  std::vector<size_t> train = {9, 0, 1, 2, 3, 4, 5, 6, 7, 8}, test = {14, 10, 11, 12, 13};
  std::vector<size_t> tr_sorted(10), te_sorted = {10, 11, 12, 13, 14}, all(15);
  std::iota(tr_sorted.begin(), tr_sorted.end(), 0);
  std::iota(all.begin(), all.end(), 0);
  Rng rng(3);
  auto v = BuildSplitIndices(SplitStrategy::kVfcp, train, test, 0.5, rng);
  CHECK(v.i1.size() == 5);
  CHECK(v.i3.size() == 5);
  CHECK(v.i1 == v.i2);
  std::vector<size_t> uni;
  std::set_union(v.i1.begin(), v.i1.end(), v.i3.begin(), v.i3.end(), std::back_inserter(uni));
  CHECK(uni == tr_sorted);  // I1 and I3 partition train
  CHECK(std::is_sorted(v.i1.begin(), v.i1.end()));
  Rng rng2(3);
  auto v3 = BuildSplitIndices(SplitStrategy::kVfcp, train, test, 0.3, rng2);
  CHECK(v3.i1.size() == 3);
  CHECK(v3.i3.size() == 7);
  auto e = BuildSplitIndices(SplitStrategy::kEfcp, train, test, 0.5, rng);
  CHECK(e.i1 == tr_sorted);
  CHECK(e.i2 == tr_sorted);
  CHECK(e.i3 == tr_sorted);
  auto d = BuildSplitIndices(SplitStrategy::kDlcp, train, test, 0.5, rng);
  CHECK(d.i1 == tr_sorted);
  CHECK(d.i2 == te_sorted);
  CHECK(d.i3 == tr_sorted);
  auto dp = BuildSplitIndices(SplitStrategy::kDlcpPlus, train, test, 0.5, rng);
  CHECK(dp.i1 == tr_sorted);
  CHECK(dp.i2 == all);
  CHECK(dp.i3 == tr_sorted);
  CHECK_THROWS_AS(BuildSplitIndices(SplitStrategy::kVfcp, {1}, test, 0.5, rng), recarena::Error);
  CHECK_THROWS_AS(BuildSplitIndices(SplitStrategy::kDlcp, train, {}, 0.5, rng), recarena::Error);
}

namespace {
// Query i: n items with 2 score functions. Column 0 is informative (1 - true p, the label drawn
// from p), column 1 is pure noise (uniform per item). Rows in item order.
std::vector<ScoreMatrix> InformativeVsNoise(Rng& rng, size_t queries, size_t n,
                                            std::vector<size_t>* labels) {
  std::vector<ScoreMatrix> out;
  for (size_t q = 0; q < queries; ++q) {
    auto p = RandomProbs(rng, n, 0.2);
    labels->push_back(rng.Categorical(p));
    ScoreMatrix m(2);
    for (size_t y = 0; y < n; ++y) {
      const double r[2] = {1.0 - p[y], rng.Uniform()};
      m.AppendRow(r);
    }
    out.push_back(std::move(m));
  }
  return out;
}

// Brute force |{y : sum_j m_j c_j(s_j(y)) <= q}| straight from the definition.
size_t BruteSize(const WeightedScoreSelector& sel, const std::vector<int>& m, int64_t q,
                 const ScoreMatrix& items) {
  size_t count = 0;
  for (size_t y = 0; y < items.rows(); ++y) {
    int64_t z = 0;
    for (size_t j = 0; j < items.d; ++j) z += m[j] * sel.CountAtMost(j, items.row(y)[j]);
    count += (q == WeightedScoreSelector::kInfinity || z <= q) ? 1 : 0;
  }
  return count;
}
}  // namespace

TEST_CASE("conformal: weighted selection puts the mass on the better score",
          "[conformal][weighted]") {
  Rng rng(11);
  std::vector<size_t> labels;
  const auto items = InformativeVsNoise(rng, 400, 30, &labels);
  std::vector<size_t> train(300), test(100);
  std::iota(train.begin(), train.end(), 0);
  std::iota(test.begin(), test.end(), 300);
  for (SplitStrategy st : {SplitStrategy::kVfcp, SplitStrategy::kEfcp, SplitStrategy::kDlcp,
                           SplitStrategy::kDlcpPlus}) {
    Rng srng(1);
    const auto split = BuildSplitIndices(st, train, test, 0.5, srng);
    const auto sel = SelectWeights(items, labels, split, ParseDecimalFraction("0.1"), 10);
    INFO("split " << static_cast<int>(st) << " w0 " << sel.weights[0]);
    CHECK(sel.weights[0] >= 0.8);
    CHECK(sel.weights[0] + sel.weights[1] == Approx(1.0));
    CHECK(sel.grid.size() == 11);
    // The chosen candidate has the smallest mean I2 size, and the first such in grid order.
    const double best = *std::min_element(sel.mean_set_sizes.begin(), sel.mean_set_sizes.end());
    CHECK(sel.mean_set_sizes[sel.chosen] == best);
    for (size_t c = 0; c < sel.chosen; ++c) CHECK(sel.mean_set_sizes[c] > best);
    // Pure noise needs about 90% of the 30 items; the informative score far fewer.
    CHECK(sel.mean_set_sizes.back() > 20.0);  // (0, 10): all weight on noise
    CHECK(best < 15.0);
  }
}

TEST_CASE("conformal: weighted set counting equals brute force (pruning, binary search)",
          "[conformal][weighted]") {
  Rng rng(12);
  std::vector<size_t> labels;
  const auto items = InformativeVsNoise(rng, 120, 25, &labels);
  WeightedScoreSelector sel(2, 4, ParseDecimalFraction("0.2"));
  ScoreMatrix i1(2);
  for (size_t i = 0; i < 60; ++i) i1.AppendRow(items[i].row(labels[i]));
  sel.FitCalibration(i1);
  // Feed I2 twice: rows in item order (not monotone: linear count) and sorted by column 0
  // (column 1 is noise: still not monotone), and a query whose columns are both sorted
  // (monotone: binary search path).
  std::vector<uint64_t> expect(sel.grid().size(), 0);
  size_t n2 = 0;
  for (size_t i = 60; i < 120; ++i) {
    ScoreMatrix mono(2);
    std::vector<double> a, b;
    for (size_t y = 0; y < items[i].rows(); ++y) {
      a.push_back(items[i].row(y)[0]);
      b.push_back(items[i].row(y)[1]);
    }
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    for (size_t y = 0; y < a.size(); ++y) {
      const double r[2] = {a[y], b[y]};
      mono.AppendRow(r);
    }
    for (const ScoreMatrix* m : {&items[i], static_cast<const ScoreMatrix*>(&mono)}) {
      sel.AddSelectionQuery(m->values.data(), m->rows());
      ++n2;
      for (size_t c = 0; c < sel.grid().size(); ++c)
        expect[c] += BruteSize(sel, sel.grid()[c], sel.q1()[c], *m);
    }
  }
  const auto sizes = sel.mean_set_sizes();
  for (size_t c = 0; c < sizes.size(); ++c)
    CHECK(sizes[c] == Approx(static_cast<double>(expect[c]) / n2).epsilon(1e-12));
  sel.Choose();
  ScoreMatrix i3(2);
  for (size_t i = 60; i < 120; ++i) i3.AppendRow(items[i].row(labels[i]));
  sel.FitFinal(i3);
  for (size_t i = 0; i < 120; ++i) {
    CHECK(sel.SetSize(items[i].values.data(), items[i].rows()) ==
          BruteSize(sel, sel.grid()[sel.chosen()], sel.q_final(), items[i]));
  }
  // F scale: q on the common scale is the integer over steps * n1.
  CHECK(sel.q_final_scaled() == Approx(static_cast<double>(sel.q_final()) / (4.0 * 60)));
}

TEST_CASE("conformal: weighted ties go to the first grid candidate", "[conformal][weighted]") {
  // Two identical score functions: every candidate gives the same sets -> (steps, 0) wins.
  Rng rng(13);
  std::vector<ScoreMatrix> items;
  std::vector<size_t> labels;
  for (size_t q = 0; q < 50; ++q) {
    auto p = RandomProbs(rng, 10, 0.5);
    labels.push_back(rng.Categorical(p));
    ScoreMatrix m(2);
    for (size_t y = 0; y < 10; ++y) {
      const double r[2] = {1 - p[y], 1 - p[y]};
      m.AppendRow(r);
    }
    items.push_back(std::move(m));
  }
  std::vector<size_t> train(30), test(20);
  std::iota(train.begin(), train.end(), 0);
  std::iota(test.begin(), test.end(), 30);
  Rng srng(1);
  const auto sel =
      SelectWeights(items, labels, BuildSplitIndices(SplitStrategy::kEfcp, train, test, 0.5, srng),
                    ParseDecimalFraction("0.1"), 10);
  CHECK(sel.chosen == 0);
  CHECK(sel.weights == std::vector<double>{1.0, 0.0});
  // I1 = I3 (EFCP): the final threshold is Q^(1) of the chosen candidate.
  CHECK(sel.q_hat == sel.q1[sel.chosen]);
}

TEST_CASE("score registry: rows in enumerator order, names round-trip, formulas", "[conformal]") {
  const auto& rows = ScoreFunctionRegistry();
  REQUIRE(rows.size() == kNumScoreKinds);
  REQUIRE(AllScoreKinds().size() == kNumScoreKinds);
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO(rows[i].name);
    CHECK(static_cast<size_t>(rows[i].kind) == i);
    CHECK(AllScoreKinds()[i] == rows[i].kind);
    CHECK(recarena::config::EnumToString(rows[i].kind) == rows[i].name);
    CHECK(recarena::config::ParseEnum<ScoreKind>(rows[i].name, "--score") == rows[i].kind);
  }
  // The item at rank position 2 (0-based) of p = (0.5, 0.3, 0.2), u = 0.5, lambda 0.1, k_reg 1.
  ScoreParams params;
  params.lambda = 0.1;
  params.k_reg = 1;
  const ScoreParts parts{2, 0.8, 0.2, 0.5, 0.5};
  auto score = [&](ScoreKind k) { return rows[static_cast<size_t>(k)].score(parts, params); };
  CHECK(score(ScoreKind::kThr) == Approx(0.8));
  CHECK(score(ScoreKind::kAps) == Approx(0.9));
  CHECK(score(ScoreKind::kRaps) == Approx(0.9 + 0.1 * 2));
  CHECK(score(ScoreKind::kSaps) == Approx(0.5 + 0.1 * 1.5));
  CHECK(score(ScoreKind::kRank) == Approx(2.5));
  // The registry's formulas are the ones QueryScorer uses.
  QueryScorer q(params);
  q.Reset(std::vector<double>{0.5, 0.3, 0.2}, 0.5);
  for (ScoreKind k : AllScoreKinds()) CHECK(q.Score(k, 2) == score(k));
}
