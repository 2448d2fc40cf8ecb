#include "policies/exploration.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "cuda_util.h"

using recarena::ConfigError;
using recarena::Rng;
using recarena::policies::ExplorationKind;
using recarena::policies::ExplorationOptions;
using recarena::policies::Explorer;
using recarena::policies::ScheduleKind;
using recarena::policies::ScheduleOptions;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

const std::vector<ExplorationKind> kAllKinds = {
    ExplorationKind::kGreedy,    ExplorationKind::kEpsilonGreedy, ExplorationKind::kCategorical,
    ExplorationKind::kBoltzmann, ExplorationKind::kTopK,          ExplorationKind::kUcb};

// [rows, cols] float tensor from row-major values.
torch::Tensor Floats(const std::vector<double>& v, int64_t rows, int64_t cols) {
  std::vector<float> f(v.begin(), v.end());
  return torch::tensor(f).view({rows, cols});
}

// The same row repeated `rows` times.
torch::Tensor RepeatRow(const std::vector<double>& row, int64_t rows) {
  return Floats(row, 1, static_cast<int64_t>(row.size())).repeat({rows, 1});
}

torch::Tensor RepeatMask(const std::vector<bool>& row, int64_t rows) {
  std::vector<int64_t> v(row.begin(), row.end());
  return torch::tensor(v).to(torch::kBool).view({1, -1}).repeat({rows, 1});
}

ExplorationOptions Options(ExplorationKind kind) {
  ExplorationOptions o;
  o.kind = kind;
  return o;
}

// Counts of each item id among actions ([B] int64), as doubles.
std::vector<double> Histogram(const torch::Tensor& actions, int64_t n) {
  const torch::Tensor c = torch::bincount(actions.cpu(), {}, n).to(torch::kDouble);
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + n);
}

// |observed frequency - p| within 4 standard deviations of a binomial proportion over `rows`.
void CheckFrequency(double count, double rows, double p, const std::string& what) {
  const double sigma = std::sqrt(p * (1.0 - p) / rows);
  INFO(what << ": observed " << count / rows << ", expected " << p << " (sigma " << sigma << ")");
  CHECK(std::abs(count / rows - p) <= 4.0 * sigma + 1e-12);
}

// Random scores (some masked entries set to +1e4, NaN, +-inf) and masks with >= 1 allowed item
// per row, all from rng.
std::pair<torch::Tensor, torch::Tensor> RandomProblem(Rng& rng, int64_t rows, int64_t n) {
  std::vector<float> scores(static_cast<size_t>(rows * n));
  std::vector<int64_t> mask(static_cast<size_t>(rows * n));
  for (int64_t b = 0; b < rows; ++b) {
    for (int64_t i = 0; i < n; ++i) {
      const size_t at = static_cast<size_t>(b * n + i);
      mask[at] = rng.Bernoulli(0.4) ? 1 : 0;
      scores[at] = static_cast<float>(rng.Normal());
      if (!mask[at]) {
        const double r = rng.Uniform();
        if (r < 0.25) {
          scores[at] = 1e4f;
        } else if (r < 0.4) {
          scores[at] = std::numeric_limits<float>::quiet_NaN();
        } else if (r < 0.55) {
          scores[at] = std::numeric_limits<float>::infinity();
        } else if (r < 0.7) {
          scores[at] = -std::numeric_limits<float>::infinity();
        }
      }
    }
    // One allowed item with a finite score in every row.
    const size_t forced = static_cast<size_t>(b * n) + rng.UniformInt(static_cast<uint64_t>(n));
    mask[forced] = 1;
    if (!std::isfinite(scores[forced])) scores[forced] = static_cast<float>(rng.Normal());
  }
  return {torch::tensor(scores).view({rows, n}),
          torch::tensor(mask).to(torch::kBool).view({rows, n})};
}

}  // namespace

TEST_CASE("Greedy: argmax among allowed items, ties to the smallest id",
          "[policies][exploration]") {
  Explorer ex(Options(ExplorationKind::kGreedy), 5);
  // row 0: plain argmax (item 3). row 1: tie between items 1 and 4 -> 1. row 2: the largest score
  // (item 0) and a NaN (item 2) are masked -> item 4. row 3: only item 2 allowed, its score -3.
  const torch::Tensor scores = Floats({0,    1,    2,    5, 3,  //
                                       0,    7,    2,    5, 7,  //
                                       99,   1,    kNan, 5, 6,  //
                                       kInf, kNan, -3,   4, -kInf},
                                      4, 5);
  const torch::Tensor mask = torch::tensor({1, 1, 1, 1, 1,  //
                                            1, 1, 1, 1, 1,  //
                                            0, 1, 0, 1, 1,  //
                                            0, 0, 1, 0, 0})
                                 .to(torch::kBool)
                                 .view({4, 5});
  Rng rng(3);
  const auto sel = ex.Select(scores, mask, 0, rng);
  CHECK(sel.actions.scalar_type() == torch::kInt64);
  CHECK(torch::equal(sel.actions, torch::tensor({3, 1, 4, 2}, torch::kInt64)));
  CHECK(sel.greedy.all().item<bool>());
  const torch::Tensor p = ex.Probabilities(scores, mask, 0);
  CHECK(torch::equal(p, torch::one_hot(sel.actions, 5).to(torch::kFloat)));
}

TEST_CASE("Select rejects inputs that break the contract", "[policies][exploration]") {
  Explorer ex(Options(ExplorationKind::kCategorical), 3);
  Rng rng(1);
  const torch::Tensor ok_mask = torch::ones({2, 3}, torch::kBool);
  CHECK_THROWS_WITH(ex.Select(torch::zeros({2, 4}), torch::ones({2, 4}, torch::kBool), 0, rng),
                    Catch::Contains("[B, 3]"));
  CHECK_THROWS_WITH(ex.Select(torch::zeros({2, 3}), torch::ones({2, 3}), 0, rng),
                    Catch::Contains("mask must be a bool tensor"));
  torch::Tensor mask = ok_mask.clone();
  mask[1].fill_(false);
  CHECK_THROWS_WITH(ex.Select(torch::zeros({2, 3}), mask, 0, rng),
                    Catch::Contains("row 1 has no allowed item"));
  // Allowed, but every allowed score is -inf: no finite allowed score.
  CHECK_THROWS_WITH(ex.Select(Floats({0, 0, 0, -kInf, -kInf, -kInf}, 2, 3), ok_mask, 0, rng),
                    Catch::Contains("row 1"));
  CHECK_THROWS_WITH(ex.Select(Floats({0, 0, 0, 1, kNan, 2}, 2, 3), ok_mask, 0, rng),
                    Catch::Contains("allowed item 1 in row 1") && Catch::Contains("nan"));
  CHECK_THROWS_WITH(ex.Probabilities(Floats({kInf, 0, 0, 1, 1, 2}, 2, 3), ok_mask, 0),
                    Catch::Contains("allowed item 0 in row 0"));
  // A failed call consumes no randomness.
  Rng fresh(1);
  CHECK(rng.NextU64() == fresh.NextU64());
}

TEST_CASE("Epsilon-greedy: explore rate eps * (n-1)/n, uniform over allowed items",
          "[policies][exploration]") {
  ExplorationOptions o = Options(ExplorationKind::kEpsilonGreedy);
  o.epsilon = ScheduleOptions{ScheduleKind::kConstant, 0.3, 0.3, 1};
  Explorer ex(o, 7);
  const int64_t rows = 20000;
  // Items 1 and 5 are masked (and hold the largest scores); the 5 allowed ones are 0, 2, 3, 4, 6
  // and the greedy item is 3.
  const std::vector<double> row = {0.1, 50.0, 0.3, 0.9, -1.0, 60.0, 0.2};
  const std::vector<bool> allowed = {true, false, true, true, true, false, true};
  const torch::Tensor scores = RepeatRow(row, rows);
  const torch::Tensor mask = RepeatMask(allowed, rows);
  Rng rng(2024);
  const auto sel = ex.Select(scores, mask, 123, rng);
  const std::vector<double> h = Histogram(sel.actions, 7);
  CHECK(h[1] == 0);
  CHECK(h[5] == 0);
  const double non_greedy = rows - h[3];
  CheckFrequency(non_greedy, rows, 0.3 * 4.0 / 5.0, "non-greedy rate");
  for (int item : {0, 2, 4, 6})
    CheckFrequency(h[item], rows, 0.3 / 5.0, "item " + std::to_string(item));
  CHECK(torch::equal(sel.greedy, sel.actions.eq(3)));

  const torch::Tensor p = ex.Probabilities(scores.narrow(0, 0, 1), mask.narrow(0, 0, 1), 123);
  const torch::Tensor expected = Floats({0.06, 0, 0.06, 0.76, 0.06, 0, 0.06}, 1, 7);
  CHECK(torch::allclose(p, expected, 1e-6, 1e-7));
}

TEST_CASE("Epsilon-greedy follows the randomness contract exactly", "[policies][exploration]") {
  // Epsilon annealed linearly 1 -> 0 over 10 steps; at step 4 it is 0.6.
  ExplorationOptions o = Options(ExplorationKind::kEpsilonGreedy);
  o.epsilon = ScheduleOptions{ScheduleKind::kLinear, 1.0, 0.0, 10};
  Explorer ex(o, 6);
  Rng problem_rng(77);
  auto [scores, mask] = RandomProblem(problem_rng, 64, 6);
  Rng rng(5), replay(5);
  const auto sel = ex.Select(scores, mask, 4, rng);
  const torch::Tensor greedy = scores.masked_fill(mask.logical_not(), -kInf).argmax(1);
  for (int64_t b = 0; b < 64; ++b) {
    const double u1 = replay.Uniform(), u2 = replay.Uniform();
    std::vector<int64_t> allowed;
    for (int64_t i = 0; i < 6; ++i) {
      if (mask[b][i].item<bool>()) allowed.push_back(i);
    }
    const int64_t expected = u1 < 0.6
                                 ? allowed[static_cast<size_t>(std::floor(u2 * allowed.size()))]
                                 : greedy[b].item<int64_t>();
    INFO("row " << b);
    CHECK(sel.actions[b].item<int64_t>() == expected);
  }
  CHECK(rng.NextU64() == replay.NextU64());  // exactly 2 draws per row
}

TEST_CASE("Categorical: frequencies follow softmax(scores / T) - golden probabilities",
          "[policies][exploration]") {
  ExplorationOptions o = Options(ExplorationKind::kCategorical);
  o.temperature = 2.0;
  {
    // scores / 2 = (0, ln 2, ln 4) -> (1, 2, 4) / 7; the masked item 3 has the largest score.
    Explorer ex(o, 4);
    const double ln2 = std::log(2.0);
    const torch::Tensor scores = Floats({0.0, 2 * ln2, 4 * ln2, 100.0}, 1, 4);
    const torch::Tensor mask = RepeatMask({true, true, true, false}, 1);
    const torch::Tensor p = ex.Probabilities(scores, mask, 0);
    CHECK(p.scalar_type() == torch::kFloat);
    CHECK(p[0][0].item<double>() == Approx(1.0 / 7.0).epsilon(1e-6));
    CHECK(p[0][1].item<double>() == Approx(2.0 / 7.0).epsilon(1e-6));
    CHECK(p[0][2].item<double>() == Approx(4.0 / 7.0).epsilon(1e-6));
    CHECK(p[0][3].item<double>() == 0.0);
  }
  const std::vector<double> row = {1.0, 2.0, 0.5, 3.0, -1.0};
  Explorer ex(o, 5);
  const int64_t rows = 40000;
  const torch::Tensor scores = RepeatRow(row, rows);
  const torch::Tensor mask = torch::ones({rows, 5}, torch::kBool);
  Rng rng(11);
  const auto sel = ex.Select(scores, mask, 0, rng);
  const std::vector<double> h = Histogram(sel.actions, 5);
  double z = 0;
  for (double s : row) z += std::exp(s / 2.0);
  const torch::Tensor p = ex.Probabilities(scores.narrow(0, 0, 1), mask.narrow(0, 0, 1), 0);
  for (int i = 0; i < 5; ++i) {
    const double expected = std::exp(row[static_cast<size_t>(i)] / 2.0) / z;
    CHECK(p[0][i].item<double>() == Approx(expected).epsilon(1e-6));
    CheckFrequency(h[static_cast<size_t>(i)], rows, expected, "item " + std::to_string(i));
  }
  CHECK(torch::equal(sel.greedy, sel.actions.eq(3)));
}

TEST_CASE("Categorical follows the inverse-CDF contract exactly", "[policies][exploration]") {
  Explorer ex(Options(ExplorationKind::kCategorical), 6);
  Rng problem_rng(8);
  auto [scores, mask] = RandomProblem(problem_rng, 64, 6);
  Rng rng(9), replay(9);
  const auto sel = ex.Select(scores, mask, 0, rng);
  const torch::Tensor p = ex.Probabilities(scores, mask, 0).to(torch::kDouble);
  for (int64_t b = 0; b < 64; ++b) {
    const double u1 = replay.Uniform();
    replay.Uniform();  // u2 is unused by categorical
    double cdf = 0;
    int64_t expected = -1;
    for (int64_t i = 0; i < 6 && expected < 0; ++i) {
      cdf += p[b][i].item<double>();
      if (cdf > u1) expected = i;
    }
    INFO("row " << b << " u1 " << u1);
    CHECK(sel.actions[b].item<int64_t>() == expected);
  }
}

TEST_CASE("Boltzmann: the temperature anneals and the distribution sharpens",
          "[policies][exploration]") {
  ExplorationOptions o = Options(ExplorationKind::kBoltzmann);
  o.boltzmann_temperature = ScheduleOptions{ScheduleKind::kExponential, 1.0, 0.05, 100};
  Explorer ex(o, 3);
  const torch::Tensor q = Floats({0.0, 1.0, 2.0}, 1, 3);
  const torch::Tensor mask = torch::ones({1, 3}, torch::kBool);
  auto softmax = [](std::vector<double> s, double t) {
    double z = 0;
    for (double& x : s) z += (x = std::exp(x / t));
    for (double& x : s) x /= z;
    return s;
  };
  for (auto [step, temp] : std::vector<std::pair<int64_t, double>>{
           {0, 1.0}, {50, std::sqrt(0.05)}, {100, 0.05}, {5000, 0.05}}) {
    const torch::Tensor p = ex.Probabilities(q, mask, step);
    const std::vector<double> expected = softmax({0.0, 1.0, 2.0}, temp);
    INFO("step " << step);
    for (int i = 0; i < 3; ++i) {
      CHECK(p[0][i].item<double>() == Approx(expected[static_cast<size_t>(i)]).margin(1e-7));
    }
  }
  CHECK(ex.Probabilities(q, mask, 0)[0][2].item<double>() == Approx(0.6652409558));
  CHECK(ex.Probabilities(q, mask, 100)[0][2].item<double>() > 0.9999999);
  // Sampling follows: early steps explore, late steps are (almost surely) greedy.
  const int64_t rows = 2000;
  Rng rng(4);
  const auto early = ex.Select(q.repeat({rows, 1}), mask.repeat({rows, 1}), 0, rng);
  const auto late = ex.Select(q.repeat({rows, 1}), mask.repeat({rows, 1}), 100, rng);
  CheckFrequency(rows - early.greedy.sum().item<double>(), rows, 1 - 0.6652409558, "early");
  CHECK(late.greedy.all().item<bool>());
}

TEST_CASE("Top-k: only the k best allowed items, renormalised, ties to the smallest ids",
          "[policies][exploration]") {
  ExplorationOptions o = Options(ExplorationKind::kTopK);
  o.top_k = 2;
  Explorer ex(o, 6);
  // Item 5 is masked with the best score; allowed scores 5, 3, 3, 3, 1 -> kept: items 0 and 1
  // (items 1, 2, 3 tie at the 2nd score; the smallest id wins).
  const torch::Tensor scores = Floats({5, 3, 3, 3, 1, 9}, 1, 6);
  const torch::Tensor mask = RepeatMask({true, true, true, true, true, false}, 1);
  const torch::Tensor p = ex.Probabilities(scores, mask, 0);
  const double e5 = std::exp(5.0), e3 = std::exp(3.0);
  CHECK(p[0][0].item<double>() == Approx(e5 / (e5 + e3)));
  CHECK(p[0][1].item<double>() == Approx(e3 / (e5 + e3)));
  CHECK(p.narrow(1, 2, 4).abs().sum().item<double>() == 0.0);

  // A batch mixing rows with and without a tie at the k-th score.
  const torch::Tensor mixed = Floats({5, 3, 3, 3, 1, 9,  //
                                      5, 4, 3, 2, 1, 0,  //
                                      1, 1, 1, 1, 1, 1,  //
                                      0, 2, 1, 2, 2, 0},
                                     4, 6);
  const torch::Tensor pm = ex.Probabilities(mixed, mask.repeat({4, 1}), 0);
  const torch::Tensor kept = pm.gt(0);
  const torch::Tensor expected_kept = torch::tensor({1, 1, 0, 0, 0, 0,  //
                                                     1, 1, 0, 0, 0, 0,  //
                                                     1, 1, 0, 0, 0, 0,  //
                                                     0, 1, 0, 1, 0, 0})
                                          .to(torch::kBool)
                                          .view({4, 6});
  CHECK(torch::equal(kept, expected_kept));
  CHECK(pm[2][0].item<double>() == Approx(0.5));
  {
    Rng rng(3);
    const auto sel = ex.Select(mixed.repeat({500, 1}), mask.repeat({2000, 1}), 0, rng);
    CHECK(expected_kept.repeat({500, 1}).gather(1, sel.actions.unsqueeze(1)).all().item<bool>());
  }

  // Fewer allowed items than k: all of them.
  o.top_k = 3;
  Explorer ex3(o, 6);
  const torch::Tensor two = RepeatMask({false, false, true, false, true, false}, 1);
  const torch::Tensor p2 = ex3.Probabilities(scores, two, 0);
  CHECK(p2[0][2].item<double>() == Approx(e3 / (e3 + std::exp(1.0))));
  CHECK(p2[0][4].item<double>() == Approx(std::exp(1.0) / (e3 + std::exp(1.0))));

  // Random problems: every action is one of the row's 3 best allowed items, and the
  // probabilities are the softmax over those 3 (allowed scores are distinct here).
  const int64_t rows = 3000, n = 20;
  Rng problem_rng(31);
  auto [rs, rm] = RandomProblem(problem_rng, rows, n);
  Explorer ex_n(o, n);
  Rng rng(32);
  const auto sel = ex_n.Select(rs, rm, 0, rng);
  const torch::Tensor masked = rs.masked_fill(rm.logical_not(), -kInf);
  const torch::Tensor best = std::get<1>(masked.topk(3, 1));
  const torch::Tensor in_best = best.eq(sel.actions.unsqueeze(1)).any(1);
  const torch::Tensor n_allowed = rm.sum(1);
  CHECK(in_best.logical_or(n_allowed.lt(3)).all().item<bool>());
  CHECK(rm.gather(1, sel.actions.unsqueeze(1)).all().item<bool>());
  const torch::Tensor pr = ex_n.Probabilities(rs, rm, 0);
  CHECK(torch::allclose(pr.sum(1), torch::ones({rows}), 1e-5, 1e-6));
  const torch::Tensor keep =
      torch::zeros({rows, n}, torch::kBool).scatter_(1, best, true).logical_and(rm);
  CHECK(pr.masked_select(keep.logical_not()).abs().sum().item<double>() == 0.0);
  const torch::Tensor ref =
      torch::softmax(rs.to(torch::kDouble).masked_fill(keep.logical_not(), -kInf), 1);
  CHECK(torch::allclose(pr.to(torch::kDouble), ref, 1e-5, 1e-7));
}

TEST_CASE("UCB: the bonus of observed items drops - counts survive Save/Load",
          "[policies][exploration]") {
  ExplorationOptions o = Options(ExplorationKind::kUcb);
  o.ucb_coef = 1.0;
  Explorer ex(o, 3);
  const torch::Tensor equal = torch::zeros({2, 3});
  const torch::Tensor mask = torch::ones({2, 3}, torch::kBool);
  Rng rng(1);
  // No counts: equal bonuses, tie -> item 0 (also the greedy item).
  auto sel = ex.Select(equal, mask, 0, rng);
  CHECK(torch::equal(sel.actions, torch::tensor({0, 0}, torch::kInt64)));
  CHECK(sel.greedy.all().item<bool>());
  ex.Observe(torch::tensor({0}, torch::kInt64));
  // count (1, 0, 0), total 1: bonus(0) = sqrt(ln 2 / 2) < bonus(1) = bonus(2) = sqrt(ln 2).
  sel = ex.Select(equal, mask, 1, rng);
  CHECK(torch::equal(sel.actions, torch::tensor({1, 1}, torch::kInt64)));
  CHECK_FALSE(sel.greedy.any().item<bool>());  // the greedy item of equal scores is 0
  CHECK(torch::equal(ex.Probabilities(equal, mask, 1), Floats({0, 1, 0, 0, 1, 0}, 2, 3)));
  ex.Observe(sel.actions);  // counts (1, 2, 0)
  CHECK(torch::equal(ex.counts(), torch::tensor({1, 2, 0}, torch::kInt64)));
  CHECK(ex.Select(equal, mask, 2, rng).actions[0].item<int64_t>() == 2);

  // Scores matter: counts (10, 0, 0), total 10. Item 0: 1 + sqrt(ln 11 / 11) = 1.467;
  // item 1: 0.5 + sqrt(ln 11) = 2.049; item 2: 0 + sqrt(ln 11) = 1.549.
  Explorer ex2(o, 3);
  ex2.Observe(torch::full({10}, 0, torch::kInt64));
  const torch::Tensor s = Floats({1.0, 0.5, 0.0}, 1, 3);
  const torch::Tensor m1 = torch::ones({1, 3}, torch::kBool);
  CHECK(ex2.Select(s, m1, 0, rng).actions[0].item<int64_t>() == 1);
  // With a smaller coefficient the score wins: 1 + 0.1 * 0.467 > 0.5 + 0.1 * 1.549.
  o.ucb_coef = 0.1;
  Explorer ex3(o, 3);
  ex3.Observe(torch::full({10}, 0, torch::kInt64));
  CHECK(ex3.Select(s, m1, 0, rng).actions[0].item<int64_t>() == 0);

  // Save / Load round trip.
  std::stringstream buffer;
  {
    torch::serialize::OutputArchive out;
    ex.Save(out);
    out.save_to(buffer);
  }
  o.ucb_coef = 1.0;
  Explorer restored(o, 3);
  {
    torch::serialize::InputArchive in;
    in.load_from(buffer);
    restored.Load(in);
  }
  CHECK(torch::equal(restored.counts(), torch::tensor({1, 2, 0}, torch::kInt64)));
  Rng r1(6), r2(6);
  CHECK(torch::equal(restored.Select(equal, mask, 3, r1).actions,
                     ex.Select(equal, mask, 3, r2).actions));
  // A checkpoint for another catalog size is rejected.
  buffer.seekg(0);
  Explorer other(o, 4);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  CHECK_THROWS_WITH(other.Load(in), Catch::Contains("explorer_counts") && Catch::Contains("[4]"));
  // Bad action ids are rejected; other kinds do not count.
  CHECK_THROWS_WITH(ex.Observe(torch::tensor({3}, torch::kInt64)), Catch::Contains("got 3"));
  Explorer cat(Options(ExplorationKind::kCategorical), 3);
  cat.Observe(torch::tensor({0, 1}, torch::kInt64));
  CHECK(cat.counts().sum().item<int64_t>() == 0);
}

TEST_CASE("No kind ever picks a masked item - probabilities are distributions over allowed items",
          "[policies][exploration]") {
  const int64_t rows = 3000, n = 12;
  Rng problem_rng(99);
  auto [scores, mask] = RandomProblem(problem_rng, rows, n);
  for (ExplorationKind kind : kAllKinds) {
    ExplorationOptions o = Options(kind);
    o.epsilon = ScheduleOptions{ScheduleKind::kConstant, 0.5, 0.5, 1};
    o.top_k = 3;
    o.temperature = 5.0;  // flat, so low-score items get picked too
    Explorer ex(o, n);
    INFO("kind " << recarena::config::EnumToString(kind));
    ex.Observe(torch::tensor({0, 0, 1}, torch::kInt64));
    Rng rng(7);
    const auto sel = ex.Select(scores, mask, 10, rng);
    CHECK(sel.actions.sizes() == torch::IntArrayRef({rows}));
    CHECK(mask.gather(1, sel.actions.unsqueeze(1)).all().item<bool>());
    const torch::Tensor p = ex.Probabilities(scores, mask, 10);
    CHECK(p.masked_select(mask.logical_not()).abs().sum().item<double>() == 0.0);
    CHECK(torch::allclose(p.sum(1), torch::ones({rows}), 1e-5, 1e-6));
    // Every chosen action has positive probability under Probabilities().
    CHECK(p.gather(1, sel.actions.unsqueeze(1)).gt(0).all().item<bool>());
    const torch::Tensor greedy = scores.masked_fill(mask.logical_not(), -kInf).argmax(1);
    CHECK(torch::equal(sel.greedy, sel.actions.eq(greedy)));
  }
}

TEST_CASE("Allowed -inf scores are never sampled", "[policies][exploration]") {
  const int64_t rows = 5000;
  const torch::Tensor scores = RepeatRow({-kInf, 0.0, 0.0, -kInf}, rows);
  const torch::Tensor mask = torch::ones({rows, 4}, torch::kBool);
  for (ExplorationKind kind : {ExplorationKind::kCategorical, ExplorationKind::kBoltzmann,
                               ExplorationKind::kTopK, ExplorationKind::kGreedy}) {
    Explorer ex(Options(kind), 4);
    Rng rng(12);
    const std::vector<double> h = Histogram(ex.Select(scores, mask, 0, rng).actions, 4);
    CHECK(h[0] == 0);
    CHECK(h[3] == 0);
  }
}

TEST_CASE("Reproducibility: same seed, same actions - the stream does not depend on the kind",
          "[policies][exploration]") {
  const int64_t rows = 500, n = 100;
  const torch::Tensor scores = torch::zeros({rows, n});
  const torch::Tensor mask = torch::ones({rows, n}, torch::kBool);
  Explorer ex(Options(ExplorationKind::kCategorical), n);
  Rng a(42), b(42), c(43);
  const torch::Tensor xa = ex.Select(scores, mask, 0, a).actions;
  const torch::Tensor xb = ex.Select(scores, mask, 0, b).actions;
  const torch::Tensor xc = ex.Select(scores, mask, 0, c).actions;
  CHECK(torch::equal(xa, xb));
  CHECK(xa.ne(xc).sum().item<int64_t>() > rows / 2);
  // A second call continues the stream: different actions again.
  CHECK_FALSE(torch::equal(ex.Select(scores, mask, 0, a).actions, xa));

  // Every kind consumes exactly 2 * rows draws.
  for (ExplorationKind kind : kAllKinds) {
    Explorer e(Options(kind), n);
    Rng r(5), ref(5);
    e.Select(scores, mask, 0, r);
    for (int64_t i = 0; i < 2 * rows; ++i) ref.Uniform();
    INFO("kind " << recarena::config::EnumToString(kind));
    CHECK(r.NextU64() == ref.NextU64());
  }
  // An empty batch draws nothing and returns empty tensors.
  Rng r(5), ref(5);
  const auto empty = ex.Select(torch::zeros({0, n}), torch::ones({0, n}, torch::kBool), 0, r);
  CHECK(empty.actions.numel() == 0);
  CHECK(r.NextU64() == ref.NextU64());
}

TEST_CASE("A batch picks what row-by-row calls pick (row-order draws, CPU chunking)",
          "[policies][exploration]") {
  // N = 20000 makes the CPU path split 110 rows into several chunks.
  const int64_t rows = 110, n = 20000;
  Rng problem_rng(5);
  auto [scores, mask] = RandomProblem(problem_rng, rows, n);
  scores.narrow(1, 0, 8).fill_(2.5f);  // exact ties, for greedy / ucb / top_k
  for (ExplorationKind kind : kAllKinds) {
    ExplorationOptions o = Options(kind);
    o.epsilon = ScheduleOptions{ScheduleKind::kConstant, 0.5, 0.5, 1};
    o.top_k = 4;
    Explorer ex(o, n);
    ex.Observe(torch::tensor({0, 3, 3}, torch::kInt64));
    Rng batch_rng(21), row_rng(21);
    const auto all = ex.Select(scores, mask, 0, batch_rng);
    const torch::Tensor probs = ex.Probabilities(scores, mask, 0);
    INFO("kind " << recarena::config::EnumToString(kind));
    int64_t same = 0;
    bool probs_same = true;
    for (int64_t b = 0; b < rows; ++b) {
      const auto one = ex.Select(scores.narrow(0, b, 1), mask.narrow(0, b, 1), 0, row_rng);
      if (one.actions[0].item<int64_t>() == all.actions[b].item<int64_t>()) ++same;
      probs_same = probs_same &&
                   torch::equal(probs.narrow(0, b, 1),
                                ex.Probabilities(scores.narrow(0, b, 1), mask.narrow(0, b, 1), 0));
    }
    CHECK(same == rows);
    CHECK(probs_same);
    CHECK(batch_rng.NextU64() == row_rng.NextU64());
  }
  // Errors name the row of the whole batch, also in a later chunk.
  Explorer ex(Options(ExplorationKind::kGreedy), n);
  scores[100][7] = std::numeric_limits<float>::quiet_NaN();
  mask[100][7] = true;
  Rng rng(1);
  CHECK_THROWS_WITH(ex.Select(scores, mask, 0, rng), Catch::Contains("item 7 in row 100"));
  Rng fresh(1);
  CHECK(rng.NextU64() == fresh.NextU64());  // the failed call left rng as it was
}

TEST_CASE("Large batch: 4096 x 20000 runs with tensor ops", "[policies][exploration][slow]") {
  const int64_t rows = 4096, n = 20000;
  torch::Tensor scores = torch::arange(n, torch::kFloat).remainder(97).repeat({rows, 1});
  torch::Tensor mask = torch::arange(n).remainder(3).ne(0).repeat({rows, 1});
  for (ExplorationKind kind :
       {ExplorationKind::kEpsilonGreedy, ExplorationKind::kCategorical, ExplorationKind::kTopK}) {
    Explorer ex(Options(kind), n);
    Rng rng(1);
    const auto sel = ex.Select(scores, mask, 0, rng);
    INFO("kind " << recarena::config::EnumToString(kind));
    CHECK(mask.gather(1, sel.actions.unsqueeze(1)).all().item<bool>());
  }
}

TEST_CASE("CUDA Select picks the same actions as CPU", "[policies][exploration][cuda]") {
  RECARENA_REQUIRE_CUDA();
  const int64_t rows = 2048, n = 300;
  Rng problem_rng(123);
  auto [scores, mask] = RandomProblem(problem_rng, rows, n);
  // Add exact ties so the tie rule is compared too.
  scores.narrow(1, 0, 4).fill_(3.0f);
  const torch::Device cuda(torch::kCUDA);
  for (ExplorationKind kind : kAllKinds) {
    ExplorationOptions o = Options(kind);
    o.epsilon = ScheduleOptions{ScheduleKind::kConstant, 0.4, 0.4, 1};
    o.top_k = 5;
    Explorer cpu(o, n), gpu(o, n);
    cpu.Observe(torch::tensor({1, 2, 2}, torch::kInt64));
    gpu.Observe(torch::tensor({1, 2, 2}, torch::kInt64).to(cuda));
    Rng r1(17), r2(17);
    const auto a = cpu.Select(scores, mask, 3, r1);
    const auto b = gpu.Select(scores.to(cuda), mask.to(cuda), 3, r2);
    INFO("kind " << recarena::config::EnumToString(kind));
    CHECK(b.actions.device().is_cuda());
    CHECK(torch::equal(a.actions, b.actions.cpu()));
    CHECK(torch::equal(a.greedy, b.greedy.cpu()));
    CHECK(torch::allclose(cpu.Probabilities(scores, mask, 3),
                          gpu.Probabilities(scores.to(cuda), mask.to(cuda), 3).cpu(), 1e-5, 1e-7));
  }
}
