#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "agents/gradient_step.h"

TEST_CASE("gradient step: pre-clip norm, clipping and one optimizer step", "[agents]") {
  for (const double clip : {0.0, 1.0}) {
    INFO("grad_clip " << clip);
    torch::Tensor p = torch::tensor({3.0, 4.0}, torch::kDouble).requires_grad_(true);
    torch::optim::SGD sgd({p}, torch::optim::SGDOptions(1.0));
    // loss = |p|^2 / 2: gradient p, norm 5.
    const double norm =
        recarena::agents::GradientStep(0.5 * p.pow(2).sum(), {p}, sgd, clip).item<double>();
    CHECK(norm == Approx(5.0));
    // Without clipping p - p = 0; clipped to norm 1 the step is p / 5.
    const std::vector<double> want =
        clip > 0.0 ? std::vector<double>{2.4, 3.2} : std::vector<double>{0.0, 0.0};
    CHECK(p[0].item<double>() == Approx(want[0]).margin(1e-9));
    CHECK(p[1].item<double>() == Approx(want[1]).margin(1e-9));
  }
}

TEST_CASE("gradient step: clipping matches clip_grad_norm_ exactly", "[agents]") {
  // Two parameters, float: the clipped gradients must be bitwise those of LibTorch's own function
  // (GradientStep repeats its arithmetic without its read of the norm).
  torch::manual_seed(4);
  const auto a0 = torch::randn({5, 3}), b0 = torch::randn({3});
  auto loss_of = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a.sum(1) * 3.0).pow(2).sum() + (b * 7.0).exp().sum();
  };
  torch::Tensor a = a0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
  torch::optim::SGD sgd({a, b}, torch::optim::SGDOptions(0.0));  // lr 0: keeps the gradients
  recarena::agents::GradientStep(loss_of(a, b), {a, b}, sgd, 0.5);
  torch::Tensor a2 = a0.clone().requires_grad_(true), b2 = b0.clone().requires_grad_(true);
  loss_of(a2, b2).backward();
  torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{a2, b2}, 0.5);
  CHECK(torch::equal(a.grad(), a2.grad()));
  CHECK(torch::equal(b.grad(), b2.grad()));
}

TEST_CASE("ReadMetrics: names, order and values in one read", "[agents]") {
  const auto m = recarena::agents::ReadMetrics({{"loss", torch::tensor(1.5f)},
                                                {"steps", torch::tensor(int64_t{3})},
                                                {"norm", torch::full({1}, 0.25, torch::kDouble)}});
  REQUIRE(m.size() == 3);
  CHECK(m[0] == std::make_pair(std::string("loss"), 1.5));
  CHECK(m[1] == std::make_pair(std::string("steps"), 3.0));
  CHECK(m[2] == std::make_pair(std::string("norm"), 0.25));
  CHECK_THROWS_WITH(recarena::agents::ReadMetrics({{"bad", torch::zeros({2})}}),
                    Catch::Contains("'bad' must be a one-element tensor"));
}
