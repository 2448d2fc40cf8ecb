#include "policies/baseline_policies.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <limits>
#include <vector>

using recarena::policies::MaskedArgmax;

namespace {

std::vector<int64_t> ToVec(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kInt64).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace

TEST_CASE("MaskedArgmax: golden rows (ties, NaN, infinities, nothing allowed)", "[policies]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto scores = torch::tensor({3.0f, 5.0f, 5.0f,  1.0f,   // tie: the smaller id
                               9.0f, nan,  -1.0f, -2.0f,  // NaN counts as 0; 9 masked
                               -inf, -inf, 2.0f,  7.0f,   // -inf allowed beats nothing
                               1.0f, 2.0f, 3.0f,  4.0f,   // nothing allowed: 0
                               inf,  1.0f, inf,   0.0f})  // +inf ties: the first
                    .view({5, 4});
  auto mask = torch::tensor({1, 1, 1, 1,  //
                             0, 1, 1, 1,  //
                             1, 1, 0, 0,  //
                             0, 0, 0, 0,  //
                             1, 1, 1, 1},
                            torch::kInt64)
                  .to(torch::kBool)
                  .view({5, 4});
  CHECK(ToVec(MaskedArgmax(scores, mask)) == std::vector<int64_t>{1, 1, 0, 0, 0});
}

TEST_CASE("MaskedArgmax: the CPU loop agrees with the tensor path on random rows", "[policies]") {
  // Float CPU input takes the one-pass loop; double input takes the tensor path (where + argmax,
  // also the CUDA path). Same values (float -> double is exact), so the answers must agree.
  torch::manual_seed(5);
  const int64_t B = 300, N = 977;
  auto scores = torch::randn({B, N}).mul_(3).round_();  // many ties
  scores.masked_fill_(torch::rand({B, N}) < 0.01, std::numeric_limits<float>::quiet_NaN());
  scores.masked_fill_(torch::rand({B, N}) < 0.005, std::numeric_limits<float>::infinity());
  scores.masked_fill_(torch::rand({B, N}) < 0.005, -std::numeric_limits<float>::infinity());
  auto mask = torch::rand({B, N}) < torch::rand({B, 1});  // from ~0 to ~all allowed per row
  mask[7].fill_(false);
  auto loop = MaskedArgmax(scores, mask);
  auto tensor = MaskedArgmax(scores.to(torch::kDouble), mask);
  CHECK(ToVec(loop) == ToVec(tensor));
  // Non-contiguous input (a transposed view) goes through the same loop.
  auto t_scores = scores.t().contiguous().t();
  CHECK(ToVec(MaskedArgmax(t_scores, mask)) == ToVec(tensor));
  // Every answer is allowed unless the row allows nothing.
  auto allowed = mask.gather(1, loop.unsqueeze(1)).squeeze(1);
  CHECK((allowed | mask.any(1).logical_not()).all().item<bool>());
}
