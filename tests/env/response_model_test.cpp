// Response models (env/response_model.h): DeepFM's warm start of its global bias.
#include <catch2/catch.hpp>

#include <cmath>

#include "env/response_model.h"

using namespace recarena;

namespace {

env::DeepFmShape Shape() {
  env::DeepFmShape shape;
  shape.num_users = 7;
  shape.num_items = 11;
  return shape;
}

// Rows over every (user, item) pair; items [B, 1] padding, as the DeepFM ignores the history.
env::ResponseInput AllPairs() {
  const auto users = torch::arange(7, torch::kInt64).repeat_interleave(11);
  const auto items = torch::arange(11, torch::kInt64).repeat({7});
  const int64_t n = users.size(0);
  return {torch::full({n, 1}, 11, torch::kInt64), torch::ones({n}, torch::kInt64), users, items};
}

}  // namespace

TEST_CASE("DeepFM's warm start puts the mean output at the targets' mean rating",
          "[env][response]") {
  torch::manual_seed(3);
  env::DeepFmResponseImpl model(Shape(), 4, {8});
  const auto in = AllPairs();
  const auto targets = 1.0 + 4.0 * torch::rand({in.users.size(0)});  // ratings in [1, 5]
  const double goal = targets.mean().item<double>();
  torch::NoGradGuard no_grad;
  const double before = model.forward(in).mean().item<double>();
  REQUIRE(std::abs(before - goal) > 1.0);  // the zero start is far from a 1-5 scale's mean
  model.WarmStart(in, targets, env::ResponseTarget::kRating);
  CHECK(model.forward(in).mean().item<double>() == Approx(goal).margin(1e-5));
  CHECK(model.is_training());  // the mode is restored
}

TEST_CASE("DeepFM's warm start puts the mean logit at the click rate's logit", "[env][response]") {
  torch::manual_seed(4);
  env::DeepFmResponseImpl model(Shape(), 4, {8});
  const auto in = AllPairs();
  auto targets = torch::zeros({in.users.size(0)});
  targets.slice(0, 0, 11).fill_(1.0);  // 11 of 77 rows clicked: rate 1/7
  torch::NoGradGuard no_grad;
  model.WarmStart(in, targets, env::ResponseTarget::kClick);
  CHECK(model.forward(in).mean().item<double>() == Approx(std::log(1.0 / 6.0)).margin(1e-5));
  // All-zero targets: the rate is clamped, so the bias stays finite.
  model.WarmStart(in, torch::zeros_like(targets), env::ResponseTarget::kClick);
  const double all_zero = model.forward(in).mean().item<double>();
  CHECK(std::isfinite(all_zero));
  CHECK(all_zero == Approx(std::log(1e-4 / (1.0 - 1e-4))).margin(1e-4));
}
