#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "agents/gradient_step.h"

TEST_CASE("gradient step: pre-clip norm, clipping and one optimizer step", "[agents]") {
  for (const double clip : {0.0, 1.0}) {
    INFO("grad_clip " << clip);
    torch::Tensor p = torch::tensor({3.0, 4.0}, torch::kDouble).requires_grad_(true);
    torch::optim::SGD sgd({p}, torch::optim::SGDOptions(1.0));
    // loss = |p|^2 / 2: gradient p, norm 5.
    const double norm = recarena::agents::GradientStep(0.5 * p.pow(2).sum(), {p}, sgd, clip);
    CHECK(norm == Approx(5.0));
    // Without clipping p - p = 0; clipped to norm 1 the step is p / 5.
    const std::vector<double> want =
        clip > 0.0 ? std::vector<double>{2.4, 3.2} : std::vector<double>{0.0, 0.0};
    CHECK(p[0].item<double>() == Approx(want[0]).margin(1e-9));
    CHECK(p[1].item<double>() == Approx(want[1]).margin(1e-9));
  }
}
