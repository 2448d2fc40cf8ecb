// models::MaskedAttention against the textbook formula softmax(q k^T / sqrt(dh), masked) v: the
// kTextbook layout is that formula bit for bit; kShortWindow (one query per row; fewer than 16
// keys) gives the same values and gradients to rounding. Heads merged as [B, T, H * dh].
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "models/attention.h"

using recarena::models::AttentionLayout;
using recarena::models::MaskedAttention;

namespace {

torch::Tensor Textbook(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& allowed) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), dh = q.size(3);
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  return torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({B, T, H * dh});
}

}  // namespace

TEST_CASE("MaskedAttention equals the textbook formula in both layouts", "[models][attention]") {
  torch::nn::Dropout no_dropout(0.0);
  const int64_t B = 5, dh = 4;
  // S < 16 takes the keys-first softmax, S >= 16 the last-dim one; T = 1 the multiply-and-sum.
  for (int64_t S : {1, 6, 15, 16, 24}) {
    for (int64_t T : {int64_t{1}, S}) {
      for (int64_t H : {1, 2}) {
        CAPTURE(S, T, H);
        torch::manual_seed(11 + S * 7 + T + H);
        auto q = torch::randn({B, H, T, dh}, torch::requires_grad());
        auto k = torch::randn({B, H, S, dh}, torch::requires_grad());
        auto v = torch::randn({B, H, S, dh}, torch::requires_grad());
        // Random masks broadcast over heads, key 0 always allowed (the contract: no empty row).
        auto allowed = torch::rand({B, 1, T, S}) < 0.6;
        allowed.select(3, 0).fill_(true);
        auto want = Textbook(q, k, v, allowed);
        CHECK(torch::equal(MaskedAttention(q, k, v, allowed, no_dropout), want));
        auto got = MaskedAttention(q, k, v, allowed, no_dropout, AttentionLayout::kShortWindow);
        REQUIRE(got.sizes() == want.sizes());
        CHECK((got - want).abs().max().item<double>() < 1e-5);
        auto w = torch::randn_like(got);
        auto g = torch::autograd::grad({(got * w).sum()}, {q, k, v});
        auto h = torch::autograd::grad({(want * w).sum()}, {q, k, v});
        for (size_t i = 0; i < 3; ++i) CHECK((g[i] - h[i]).abs().max().item<double>() < 1e-5);
        // A key blocked for every query gets no weight: its value's gradient is zero.
        auto blocked_v = allowed.logical_not().all(2).transpose(1, 2).unsqueeze(-1);  // [B,S,1,1]
        CHECK((g[2].transpose(1, 2).abs() * blocked_v).sum().item<double>() == 0.0);
      }
    }
  }
}
