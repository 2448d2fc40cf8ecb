// VectorEnv's reward draw for rating targets (env/vector_env.cpp, sim.response.rating_noise).
#include <catch2/catch.hpp>

#include <cmath>

#include "env/simulator.h"
#include "env/vector_env.h"
#include "sim_fixtures.h"

namespace env = recarena::env;
using recarena::testing::FitTiny;

namespace {

// The tiny DeepFM rating simulator with wide bounds, so no draw below is clamped.
env::SimFitConfig RatingConfig(double noise) {
  auto c = recarena::testing::TinyDeepFmRatingConfig();
  c.sim.response.reward_min = -20.0;
  c.sim.response.reward_max = 20.0;
  c.sim.response.rating_noise = noise;
  return c;
}

struct FirstStep {
  torch::Tensor expected, reward, accepted;  // [B]
};

FirstStep StepOnce(double noise, int64_t B) {
  const auto sim = FitTiny(RatingConfig(noise), env::SimRole::kTrain);
  env::VectorEnvOptions opt;
  opt.num_envs = B;
  env::VectorEnv venv(sim, opt);
  venv.Reset(11);
  const auto actions = torch::arange(B, torch::kInt64).remainder(venv.num_items());
  const auto expected = venv.ExpectedRewardsAll().gather(1, actions.unsqueeze(1)).squeeze(1);
  const auto r = venv.Step(actions);
  return {expected, r.reward, r.accepted};
}

}  // namespace

TEST_CASE("rating_noise: the reward is the prediction plus N(0, sigma^2)", "[simulator][rating]") {
  constexpr int64_t B = 4096;
  const auto plain = StepOnce(0.0, B);
  CHECK(torch::equal(plain.reward, plain.expected));  // no noise: the prediction itself
  CHECK(torch::equal(plain.accepted, plain.expected >= 0.5f));

  const double sigma = 0.7;
  const auto noisy = StepOnce(sigma, B);
  // Same seed, same fit: the predictions are the same; the draws spread around them.
  CHECK(torch::allclose(noisy.expected, plain.expected));
  const auto d = (noisy.reward - noisy.expected).to(torch::kDouble);
  // Mean and std of 4,096 N(0, 0.7^2) draws: standard errors 0.011 and 0.008.
  CHECK(std::abs(d.mean().item<double>()) < 0.05);
  CHECK(d.std().item<double>() == Approx(sigma).epsilon(0.05));
  CHECK(torch::equal(noisy.accepted, noisy.reward >= 0.5f));  // acceptance reads the draw
}

TEST_CASE("rating_noise is checked", "[simulator][rating]") {
  auto c = RatingConfig(-0.1);
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("sim.response.rating_noise"));
  auto click = recarena::testing::TinySimConfig();
  click.sim.response.rating_noise = 0.5;
  CHECK_THROWS_WITH(click.Validate(), Catch::Contains("sim.response.rating_noise"));
}
