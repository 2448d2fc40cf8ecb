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

namespace {

// Two parameter sets with the same values: [300, 16] (an embedding-like table), [16], [4, 4].
std::vector<torch::Tensor> Params(int64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({300, 16}).requires_grad_(), torch::randn({16}).requires_grad_(),
          torch::randn({4, 4}).requires_grad_()};
}

double MaxDiff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double m = 0.0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}

}  // namespace

TEST_CASE("FusedAdamStep: Adam::step's update to rounding, on Adam's own state", "[agents]") {
  for (const double weight_decay : {0.0, 0.01}) {
    auto fused_p = Params(1), plain_p = Params(1);
    const auto options = torch::optim::AdamOptions(1e-2).weight_decay(weight_decay);
    torch::optim::Adam fused(fused_p, options), plain(plain_p, options);
    torch::manual_seed(2);
    for (int step = 0; step < 60; ++step) {
      for (size_t i = 0; i < fused_p.size(); ++i) {
        auto g = torch::randn_like(fused_p[i]);
        if (i == 0) g.slice(0, 20).zero_();  // most rows without gradient, as a sparse batch
        if (i == 2 && step % 3 == 0) {       // a parameter without a gradient on some steps
          fused_p[i].mutable_grad() = torch::Tensor();
          plain_p[i].mutable_grad() = torch::Tensor();
          continue;
        }
        fused_p[i].mutable_grad() = g.clone();
        plain_p[i].mutable_grad() = g.clone();
      }
      REQUIRE(recarena::agents::FusedAdamStep(fused));
      plain.step();
    }
    INFO("weight_decay " << weight_decay);
    CHECK(MaxDiff(fused_p, plain_p) < 1e-5);
    CHECK(MaxDiff(fused_p, Params(1)) > 0.1);  // the parameters did move
    for (size_t i = 0; i < fused_p.size(); ++i) {
      const auto& fs = static_cast<torch::optim::AdamParamState&>(
          *fused.state().at(fused_p[i].unsafeGetTensorImpl()));
      const auto& ps = static_cast<torch::optim::AdamParamState&>(
          *plain.state().at(plain_p[i].unsafeGetTensorImpl()));
      CHECK(fs.step() == ps.step());
      CHECK((fs.exp_avg_sq() - ps.exp_avg_sq()).abs().max().item<double>() < 1e-6);
    }
    // A later Adam::step continues from the fused steps' state.
    for (auto* opt : {&fused, &plain}) opt->step();
    CHECK(MaxDiff(fused_p, plain_p) < 1e-5);
  }
}

TEST_CASE("FusedAdamStep: other optimizers and amsgrad are left to step()", "[agents]") {
  auto p = Params(3);
  for (auto& t : p) t.mutable_grad() = torch::ones_like(t);
  torch::optim::SGD sgd(p, torch::optim::SGDOptions(0.1));
  torch::optim::Adam ams(p, torch::optim::AdamOptions(0.1).amsgrad(true));
  const auto before = p[1].detach().clone();
  CHECK_FALSE(recarena::agents::FusedAdamStep(sgd));
  CHECK_FALSE(recarena::agents::FusedAdamStep(ams));
  CHECK(torch::equal(p[1], before));
  CHECK(ams.state().empty());
}
