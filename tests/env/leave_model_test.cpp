// The session-conditioned leave hazard: its pieces (similarity count, satisfaction, hazard), the
// maximum-likelihood fit recovering planted weights, the logged rows, and its effect in the env.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/rng.h"
#include "env/leave_model.h"
#include "env/vector_env.h"
#include "sim_fixtures.h"
#include "test_util.h"

using namespace recarena;

TEST_CASE("leave features: similar-recent count, satisfaction average, hazard", "[leave]") {
  // Ids only: item 3 against recent [3, -1, 3] -> 2; with keys, items 0 and 1 are similar.
  auto items = torch::tensor({3, 0}, torch::kInt64);
  auto recent = torch::tensor({3, -1, 3, 1, 2, -1}, torch::kInt64).view({2, 3});
  auto count = env::SimilarRecentCount(items, recent, torch::Tensor(), 0.5);
  CHECK(count[0].item<int64_t>() == 2);
  CHECK(count[1].item<int64_t>() == 0);
  auto keys = torch::tensor({1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 1.0f}).view({4, 2});
  count = env::SimilarRecentCount(items, recent, keys, 0.5);
  CHECK(count[0].item<int64_t>() == 2);  // item 3 ~ 3 (twice); the -1 slot never counts
  CHECK(count[1].item<int64_t>() == 1);  // item 0 ~ 1, not 2
  // Without repeats: item 3's two copies no longer count; item 0's similar item 1 still does.
  count = env::SimilarRecentCount(items, recent, keys, 0.5, /*count_repeats=*/false);
  CHECK(count[0].item<int64_t>() == 0);
  CHECK(count[1].item<int64_t>() == 1);
  auto other = torch::tensor({2}, torch::kInt64);  // item 2 ~ 3 (keys [0, 1]): distinct, similar
  CHECK(
      env::SimilarRecentCount(other, recent.slice(0, 0, 1), keys, 0.5, false)[0].item<int64_t>() ==
      2);

  // m_1 = r_1; m_2 = 0.5 * 0.2 + 0.5 * 0.6.
  auto f1 = env::LeaveFeatures(torch::tensor({0.2f}), torch::tensor({0.9f}), torch::tensor({true}),
                               torch::tensor({0.0f}), 0.5);
  CHECK(f1.satisfaction[0].item<float>() == Approx(0.2f));
  auto f2 = env::LeaveFeatures(torch::tensor({0.6f}), f1.satisfaction, torch::tensor({false}),
                               torch::tensor({1.0f / 3}), 0.5);
  CHECK(f2.satisfaction[0].item<float>() == Approx(0.4f));
  REQUIRE(f2.features.sizes() == torch::IntArrayRef({1, env::kLeaveFeatures}));
  CHECK(f2.features[0][0].item<float>() == Approx(0.6f));
  CHECK(f2.features[0][1].item<float>() == Approx(0.4f));
  CHECK(f2.features[0][2].item<float>() == Approx(1.0f / 3));

  // Zero weights: the baseline; otherwise sigmoid(logit(h0) + c + w . x).
  auto base = torch::tensor({0.1f, 0.3f});
  auto x = torch::tensor({0.5f, 0.5f, 0.0f, 1.0f, 0.0f, 1.0f}).view({2, 3});
  auto h = env::ConditionalHazard(base, x, {0, 0, 0, 0});
  CHECK(h[0].item<float>() == Approx(0.1f));
  CHECK(h[1].item<float>() == Approx(0.3f));
  h = env::ConditionalHazard(base, x, {0.5, -2.0, 1.0, 3.0});
  const double want = 1.0 / (1.0 + std::exp(-(std::log(0.1 / 0.9) + 0.5 - 1.0 + 0.5)));
  CHECK(h[0].item<float>() == Approx(want).epsilon(1e-5));
  CHECK_THROWS_WITH(env::ConditionalHazard(base, x, {0.0}), Catch::Contains("needs 4 weights"));
}

namespace {

// n logged steps with uniform features, steps 1..10 and leave labels drawn from the planted hazard
// around a baseline that rises with the step.
env::HazardRows Planted(const std::vector<double>& beta, const std::vector<double>& baseline,
                        int64_t n, Rng& rng) {
  env::HazardRows rows;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t step = 1 + static_cast<int64_t>(rng.UniformInt(10));
    const double h0 = baseline[static_cast<size_t>(step - 1)];
    double eta = std::log(h0 / (1 - h0)) + beta[0];
    for (int k = 0; k < 3; ++k) {
      const auto v = static_cast<float>(rng.Uniform());
      rows.features.push_back(v);
      eta += beta[static_cast<size_t>(1 + k)] * v;
    }
    rows.step.push_back(step);
    rows.left.push_back(rng.Bernoulli(1.0 / (1.0 + std::exp(-eta))) ? 1 : 0);
  }
  return rows;
}

}  // namespace

TEST_CASE("conditional hazard: the maximum-likelihood fit recovers planted weights", "[leave]") {
  std::vector<double> baseline;
  for (int t = 1; t <= 10; ++t) baseline.push_back(0.05 + 0.03 * t);
  Rng rng(4);
  // A strong planted dependence on the step reward (users leave after poor recommendations).
  const std::vector<double> planted = {0.3, -2.5, 0.8, 1.5};
  const auto beta = env::FitConditionalHazard(Planted(planted, baseline, 60000, rng), baseline);
  REQUIRE(beta.size() == 4u);
  for (size_t k = 0; k < 4; ++k) {
    INFO("weight " << k << ": fitted " << beta[k] << ", planted " << planted[k]);
    CHECK(std::abs(beta[k] - planted[k]) < 0.2);
  }
  // No dependence planted: the fit stays at the baseline.
  const auto none =
      env::FitConditionalHazard(Planted({0, 0, 0, 0}, baseline, 60000, rng), baseline);
  for (double b : none) CHECK(std::abs(b) < 0.15);
  CHECK_THROWS_WITH(env::FitConditionalHazard(env::HazardRows{}, baseline),
                    Catch::Contains("zero logged steps"));
}

TEST_CASE("conditional hazard: logged rows follow the sessions", "[leave]") {
  auto cfg = testing::TinySimConfig();
  auto sim = testing::FitTiny(cfg, env::SimRole::kTrain);
  data::Sequence a;
  a.user = 0;
  a.items = {3, 3, 3, 5};
  a.timestamps = {0, 60, 120, 100000};  // a gap of > 10 minutes before the last item
  data::Sequence b;
  b.user = 1;
  b.items = {7};
  b.timestamps = {0};
  const int64_t W = 3;
  auto rows = env::LoggedHazardRows({a, b}, *sim->response, sim->num_items, sim->state_len,
                                    /*max_length=*/12, /*gap_minutes=*/10, torch::Tensor(), 0.5, W,
                                    0.5, /*count_repeats=*/true, torch::kCPU);
  // Sessions [3, 3, 3], [5] and [7].
  REQUIRE(rows.size() == 5);
  CHECK(rows.step == std::vector<int64_t>{1, 2, 3, 1, 1});
  CHECK(rows.left == std::vector<uint8_t>{0, 0, 1, 1, 1});
  auto f = [&](int64_t i, int k) { return rows.features[static_cast<size_t>(i * 3 + k)]; };
  // Similar share: the repeats of item 3 within the session, none across the gap.
  CHECK(f(0, 2) == 0.0f);
  CHECK(f(1, 2) == Approx(1.0 / W));
  CHECK(f(2, 2) == Approx(2.0 / W));
  CHECK(f(3, 2) == 0.0f);
  // share_counts_repeats false: a repeated item is not similar to itself.
  auto distinct = env::LoggedHazardRows({a, b}, *sim->response, sim->num_items, sim->state_len, 12,
                                        10, torch::Tensor(), 0.5, W, 0.5, false, torch::kCPU);
  for (int64_t i = 0; i < distinct.size(); ++i) {
    CHECK(distinct.features[static_cast<size_t>(i * 3 + 2)] == 0.0f);
  }
  // Satisfaction: m_1 = r_1, then the running average.
  CHECK(f(0, 1) == f(0, 0));
  CHECK(f(1, 1) == Approx(0.5 * f(0, 1) + 0.5 * f(1, 0)));
  CHECK(f(3, 1) == f(3, 0));
  for (int64_t i = 0; i < rows.size(); ++i) {
    CHECK(f(i, 0) >= 0.0f);
    CHECK(f(i, 0) <= 1.0f);
  }
  // A step cap of 2: the third step of the first session is dropped, so it never ends there.
  rows = env::LoggedHazardRows({a}, *sim->response, sim->num_items, sim->state_len, 2, 10,
                               torch::Tensor(), 0.5, W, 0.5, true, torch::kCPU);
  CHECK(rows.step == std::vector<int64_t>{1, 2, 1});
  CHECK(rows.left == std::vector<uint8_t>{0, 0, 1});
}

namespace {

double MeanLength(std::shared_ptr<const env::Simulator> sim, bool oracle, int episodes = 300) {
  env::VectorEnvOptions o;
  o.num_envs = 16;
  env::VectorEnv venv(sim, o);
  auto r = venv.Reset(11);
  Rng rng(5);
  double total = 0;
  int done = 0;
  while (done < episodes) {
    torch::Tensor a;
    if (oracle) {
      a = venv.ExpectedRewardsAll().argmax(1);
    } else {
      std::vector<int64_t> v;
      for (int64_t b = 0; b < venv.num_envs(); ++b) {
        v.push_back(static_cast<int64_t>(rng.UniformInt(static_cast<uint64_t>(venv.num_items()))));
      }
      a = torch::tensor(v, torch::kInt64);
    }
    r = venv.Step(a);
    auto len = r.info.episode_length;
    for (int64_t b = 0; b < venv.num_envs(); ++b) {
      if (r.info.final_episode_id[static_cast<size_t>(b)] >= 0) {
        total += static_cast<double>(len[b].item<int64_t>());
        ++done;
      }
    }
  }
  return total / done;
}

}  // namespace

TEST_CASE("conditional hazard in the env: users stay longer when recommendations are good",
          "[leave][simulator]") {
  auto cfg = testing::TinySimConfig();
  cfg.sim.leave.repetition.enabled = false;
  cfg.sim.leave.hazard.conditional = true;
  auto fitted = testing::FitTiny(cfg, env::SimRole::kTrain);
  REQUIRE(fitted->leave_weights.size() == 4u);
  // Zero weights reproduce the unconditional hazard (up to the float rounding of
  // sigmoid(logit(h0))).
  auto zero = std::make_shared<env::Simulator>(*fitted);
  zero->leave_weights = {0, 0, 0, 0};
  auto plain = std::make_shared<env::Simulator>(*fitted);
  plain->leave_weights.clear();
  CHECK(MeanLength(zero, false) == Approx(MeanLength(plain, false)).epsilon(0.02));
  // A planted strong dependence on the step reward around a flat h0 = 0.1: the oracle keeps users
  // far longer than random.
  auto planted = std::make_shared<env::Simulator>(*fitted);
  planted->hazard.assign(planted->hazard.size(), 0.1);
  planted->leave_weights = {3.0, -8.0, 0.0, 0.0};
  const double oracle_len = MeanLength(planted, true), random_len = MeanLength(planted, false);
  INFO("oracle " << oracle_len << ", random " << random_len);
  CHECK(oracle_len > random_len + 1.0);
  // Without it (and without the repetition rule), leaving depends on the step alone: both policies
  // give the same lengths, draw for draw.
  CHECK(MeanLength(plain, true) == MeanLength(plain, false));
}

TEST_CASE("conditional hazard: stored with the simulator, refused when missing", "[leave]") {
  auto cfg = testing::TinySimConfig();
  cfg.sim.leave.hazard.conditional = true;
  testing::TempDir dir;
  env::FitSimulator(cfg, dir.path());
  auto sim = env::LoadSimulator(dir.path(), env::SimRole::kTrain);
  auto again = testing::FitTiny(cfg, env::SimRole::kTrain);
  REQUIRE(sim->leave_weights.size() == 4u);
  for (size_t k = 0; k < 4; ++k) CHECK(sim->leave_weights[k] == Approx(again->leave_weights[k]));
  cfg.sim.leave.hazard.enabled = false;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("sim.leave.hazard.conditional"));
  cfg = testing::TinySimConfig();
  cfg.sim.leave.hazard.satisfaction_decay = 0.0;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("sim.leave.hazard.satisfaction_decay"));
}

TEST_CASE("ground truth with the world's patience: leaving follows the world's rule",
          "[leave][simulator]") {
  auto cfg = testing::TinySimConfig();
  cfg.sim.eval.kind = env::EvalSimKind::kGroundTruth;
  cfg.sim.eval.leave = env::EvalLeaveKind::kWorld;
  // Patience 1: a rejected item (cost 1) ends the session at once, an accepted one costs
  // 1 - sigmoid(utility) < 1 and never does on the first step.
  cfg.data.synthetic.patience_init = 1.0;
  cfg.data.synthetic.patience_cost_no_click = 1.0;
  cfg.data.synthetic.patience_cost_click = 1.0;
  testing::TempDir dir;
  env::FitSimulator(cfg, dir.path());
  for (auto sim : {testing::FitTiny(cfg, env::SimRole::kEval),
                   std::shared_ptr<const env::Simulator>(
                       env::LoadSimulator(dir.path(), env::SimRole::kEval))}) {
    REQUIRE(sim->world_patience);
    CHECK_FALSE(sim->cfg.leave.hazard.enabled);
    CHECK_FALSE(sim->cfg.leave.repetition.enabled);
    CHECK(sim->cfg.leave.patience.enabled);
    env::VectorEnvOptions o;
    o.num_envs = 64;
    env::VectorEnv venv(sim, o);
    venv.Reset(3);
    auto r = venv.Step(torch::arange(64, torch::kInt64) % venv.num_items());
    int64_t rejected = 0;
    for (int64_t b = 0; b < 64; ++b) {
      const bool accepted = r.accepted[b].item<bool>();
      rejected += accepted ? 0 : 1;
      CHECK(r.terminated[b].item<bool>() == !accepted);
    }
    CHECK(rejected > 0);
    CHECK(rejected < 64);
  }
  // The learned roles keep the fitted rules.
  auto train = env::LoadSimulator(dir.path(), env::SimRole::kTrain);
  CHECK_FALSE(train->world_patience);
  CHECK(train->cfg.leave.hazard.enabled);
  auto bad = testing::TinySimConfig();
  bad.sim.eval.leave = env::EvalLeaveKind::kWorld;
  CHECK_THROWS_WITH(bad.Validate(), Catch::Contains("sim.eval.leave world needs"));
}
