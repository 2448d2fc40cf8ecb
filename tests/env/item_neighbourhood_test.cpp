// The item co-occurrence similarities and the response model's neighbourhood term
// (env/item_neighbourhood.h, SequentialResponseImpl with neighbourhood).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "env/item_neighbourhood.h"
#include "env/response_model.h"
#include "env/sim_fit.h"
#include "env/simulator.h"
#include "sim_fixtures.h"
#include "test_util.h"

using namespace recarena;
using recarena::testing::Seq;

namespace {

// User 0 logs 0 1 2, user 1 logs 0 2 (3 items, window 2). c(0, 1) = 1, c(0, 2) = 2, c(1, 2) = 1;
// item counts n = (2, 1, 2).
const std::vector<data::Sequence>& TwoUsers() {
  static const std::vector<data::Sequence> s = {Seq(0, {0, 1, 2}), Seq(1, {0, 2})};
  return s;
}

torch::Tensor Items(std::vector<std::vector<int64_t>> rows) {
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kInt64)
      .view({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())});
}

}  // namespace

TEST_CASE("co-occurrence golden similarities and history scores", "[env][neighbourhood]") {
  const auto c = env::BuildCoOccurrence(TwoUsers(), 3, 2);
  CHECK(c.keys.equal(torch::tensor({1, 2, 5}, torch::kInt64)));  // (0,1) (0,2) (1,2)
  const double r2 = std::sqrt(2.0);
  CHECK(c.values[0].item<float>() == Approx(1.0 / r2));  // 1 / sqrt(2 * 1)
  CHECK(c.values[1].item<float>() == Approx(1.0));       // 2 / sqrt(2 * 2)
  CHECK(c.values[2].item<float>() == Approx(1.0 / r2));  // 1 / sqrt(1 * 2)
  CHECK_NOTHROW(env::CheckCoOccurrence(c));
  // Padding is id 3; a repeated history item counts once; nothing follows item 2.
  const auto items = Items({{0, 1, 3}, {0, 0, 3}, {2, 3, 3}, {1, 0, 3}});
  const auto actions = torch::tensor({2, 2, 0, 1}, torch::kInt64);
  const auto f = env::NeighbourhoodScore(c, items, actions);
  CHECK(f[0].item<float>() == Approx(1.0 + 1.0 / r2));
  CHECK(f[1].item<float>() == Approx(1.0));
  CHECK(f[2].item<float>() == 0.0f);
  CHECK(f[3].item<float>() == Approx(1.0 / r2));
  // Every action at once equals one action at a time.
  const auto all = env::NeighbourhoodScoreAll(c, items);
  REQUIRE(all.sizes() == torch::IntArrayRef({4, 3}));
  for (int64_t a = 0; a < 3; ++a) {
    CHECK(torch::allclose(all.select(1, a),
                          env::NeighbourhoodScore(c, items, torch::full({4}, a, torch::kInt64))));
  }
  CHECK_THROWS_AS(env::BuildCoOccurrence(TwoUsers(), 3, 0), Error);
  CHECK_THROWS_AS(env::BuildCoOccurrence({Seq(0, {0, 5})}, 3, 2), Error);
}

TEST_CASE("co-occurrence checks name the fault", "[env][neighbourhood]") {
  auto c = env::BuildCoOccurrence(TwoUsers(), 3, 2);
  auto bad = c;
  bad.keys = torch::tensor({2, 1, 5}, torch::kInt64);
  CHECK_THROWS_WITH(env::CheckCoOccurrence(bad), Catch::Contains("strictly increasing"));
  bad = c;
  bad.keys = torch::tensor({1, 2, 9}, torch::kInt64);
  CHECK_THROWS_WITH(env::CheckCoOccurrence(bad), Catch::Contains("outside [0, 9)"));
  bad = c;
  bad.values = torch::tensor({0.5f, -1.0f, 0.5f});
  CHECK_THROWS_WITH(env::CheckCoOccurrence(bad), Catch::Contains("finite positive"));
  bad = c;
  bad.values = torch::tensor({0.5f, 0.5f});
  CHECK_THROWS_WITH(env::CheckCoOccurrence(bad), Catch::Contains("[nnz]"));
}

TEST_CASE("out-of-fold scores leave the row's own user out", "[env][neighbourhood]") {
  // Two folds: user 0's rows are scored on user 1's log alone and vice versa.
  const auto items = Items({{0, 3}, {0, 3}, {0, 3}});
  const auto users = torch::tensor({0, 0, 1}, torch::kInt64);
  const auto actions = torch::tensor({2, 1, 1}, torch::kInt64);
  const auto f = env::OutOfFoldScores(TwoUsers(), 3, 2, 2, items, users, actions);
  REQUIRE(f.size() == 3u);
  CHECK(f[0] == Approx(1.0f));  // user 1: c(0, 2) = 1, n0 = n2 = 1
  CHECK(f[1] == 0.0f);          // 0 -> 1 is logged only by user 0 itself (in full: 1/sqrt 2)
  CHECK(f[2] == Approx(1.0f));  // user 0: c(0, 1) = 1, n0 = n1 = 1
  CHECK_THROWS_AS(env::OutOfFoldScores(TwoUsers(), 3, 2, 1, items, users, actions), Error);
}

TEST_CASE("neighbourhood term: warm start recovers planted weights, given scores are used",
          "[env][neighbourhood]") {
  models::EncoderOptions o;
  o.num_items = 3;
  o.hidden = 4;
  o.state_len = 2;
  env::SequentialResponseImpl m(o, /*history_bag=*/true, /*history_encoder=*/false,
                                /*neighbourhood=*/true);
  m.SetNeighbourhood(env::BuildCoOccurrence(TwoUsers(), 3, 2));
  // Clicks drawn from sigmoid(-2 + 1.5 [f > 0] + 0.8 [f > 0] log f), f given per row.
  const int64_t n = 40000;
  Rng rng(11);
  std::vector<float> fv(n), y(n);
  for (int64_t i = 0; i < n; ++i) {
    const double f = rng.Uniform() < 0.3 ? 0.0 : 0.05 + 3.0 * rng.Uniform();
    const double z = -2.0 + (f > 0 ? 1.5 + 0.8 * std::log(f) : 0.0);
    fv[static_cast<size_t>(i)] = static_cast<float>(f);
    y[static_cast<size_t>(i)] = rng.Uniform() < 1.0 / (1.0 + std::exp(-z)) ? 1.0f : 0.0f;
  }
  env::ResponseInput in{torch::full({n, 2}, 3, torch::kInt64), torch::ones({n}, torch::kInt64),
                        torch::zeros({n}, torch::kInt64), torch::zeros({n}, torch::kInt64),
                        torch::tensor(fv)};
  m.WarmStart(in, torch::tensor(y), env::ResponseTarget::kClick);
  CHECK(m.nb_weight_[0].item<float>() == Approx(-2.0).margin(0.08));
  CHECK(m.nb_weight_[1].item<float>() == Approx(1.5).margin(0.08));
  CHECK(m.nb_weight_[2].item<float>() == Approx(0.8).margin(0.08));
  // The forward uses given scores; without them it computes them from the similarities, and
  // ScoreAll agrees with forward.
  torch::NoGradGuard no_grad;
  m.eval();
  const auto items = Items({{0, 1}, {2, 3}});
  const auto actions = torch::tensor({2, 0}, torch::kInt64);
  env::ResponseInput row{items, torch::tensor({2, 1}, torch::kInt64),
                         torch::zeros({2}, torch::kInt64), actions};
  auto given = row;
  given.neighbourhood =
      env::NeighbourhoodScore(env::BuildCoOccurrence(TwoUsers(), 3, 2), items, actions);
  CHECK(torch::allclose(m.forward(row), m.forward(given)));
  given.neighbourhood = torch::zeros({2});
  CHECK_FALSE(torch::allclose(m.forward(row), m.forward(given)));
  const auto all = m.ScoreAll(row);
  CHECK(all[0][2].item<float>() == Approx(m.forward(row)[0].item<float>()).epsilon(1e-5));
  CHECK(all[1][0].item<float>() == Approx(m.forward(row)[1].item<float>()).epsilon(1e-5));
  given.neighbourhood = torch::zeros({3});
  CHECK_THROWS_WITH(m.forward(given), Catch::Contains("must be [B]"));
  env::SequentialResponseImpl plain(o, true, false);
  CHECK_THROWS_WITH(plain.SetNeighbourhood(env::BuildCoOccurrence(TwoUsers(), 3, 2)),
                    Catch::Contains("no neighbourhood term"));
}

TEST_CASE("the mixed negative sampler draws half uniform, half by popularity",
          "[env][neighbourhood]") {
  // Weights 1 : 10 under popularity, 1 : 1 uniform: P(item 1) = (1/2 + 10/11) / 2.
  env::NegativeSampler mixed(env::NegativeSampling::kMixed, 2, {0, 9});
  Rng rng(4);
  int ones = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) ones += mixed.Draw(rng) == 1;
  CHECK(static_cast<double>(ones) / n == Approx((0.5 + 10.0 / 11.0) / 2).margin(0.01));
}

TEST_CASE("neighbourhood simulator: config check, fit, save and load", "[env][neighbourhood]") {
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.response.neighbourhood = true;
  cfg.sim.response.kind = env::ResponseKind::kDeepFm;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("sim.response.neighbourhood"));
  cfg.sim.response.kind = env::ResponseKind::kSequential;
  cfg.sim.response.calibration = env::CalibrationKind::kIsotonic;
  cfg.sim.response.early_stopping = 1;
  cfg.sim.response.epochs = 3;
  CHECK_NOTHROW(cfg.Validate());
  recarena::testing::TempDir dir;
  env::FitSimulator(cfg, dir.path());
  const auto fitted = recarena::testing::FitTiny(cfg, env::SimRole::kTrain);
  const auto loaded = env::LoadSimulator(dir.path(), env::SimRole::kTrain);
  const auto* a =
      dynamic_cast<const env::SequentialResponseImpl*>(fitted->response->models().at(0).get());
  const auto* b =
      dynamic_cast<const env::SequentialResponseImpl*>(loaded->response->models().at(0).get());
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(a->nb_keys_.numel() > 0);
  CHECK(a->nb_keys_.equal(b->nb_keys_));
  CHECK(a->nb_values_.equal(b->nb_values_));
  CHECK(a->nb_weight_.equal(b->nb_weight_));
  CHECK(loaded->response->calibration().knot_x == fitted->response->calibration().knot_x);
  // The warm start moved the weights off zero.
  CHECK(a->nb_weight_.abs().sum().item<float>() > 0.0f);
}
