// GRU4Rec's one-position step (models/gru4rec.h, Step): appending items one at a time from the
// carried hidden state gives forward's last state, to rounding, at every length.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "models/gru4rec.h"

using recarena::models::EncoderOptions;
using recarena::models::Gru4RecImpl;

TEST_CASE("Gru4Rec Step equals forward at every length", "[models][gru4rec_step]") {
  torch::NoGradGuard ng;
  torch::manual_seed(4);
  EncoderOptions o;
  o.num_items = 50;
  o.state_len = 7;
  o.hidden = 16;
  o.dropout = 0.3;  // eval mode: no dropout, as in the simulator
  auto enc = std::make_shared<Gru4RecImpl>(o);
  enc->eval();
  const int64_t B = 5, L = o.state_len, N = o.num_items;
  auto full = torch::randint(0, N, {B, L}, torch::kInt64);
  auto padded = [&](int64_t len) {
    auto keep = torch::arange(L, torch::kInt64).unsqueeze(0) < len;
    return torch::where(keep, full, torch::full_like(full, N));
  };
  auto lengths = [&](int64_t len) { return torch::full({B}, len, torch::kInt64); };
  torch::Tensor h = enc->forward(padded(1), lengths(1)).last;
  for (int64_t len = 2; len <= L; ++len) {
    h = enc->Step(full.select(1, len - 1), h);
    const auto want = enc->forward(padded(len), lengths(len)).last;
    INFO("length " << len);
    CHECK((h - want).abs().max().item<double>() < 1e-5);
  }
  // Another last item gives another state: the comparison above can fail.
  const auto before = enc->forward(padded(L - 1), lengths(L - 1)).last;
  const auto wrong = enc->Step((full.select(1, L - 1) + 1).remainder(N), before);
  CHECK((wrong - enc->forward(padded(L), lengths(L)).last).abs().max().item<double>() > 1e-4);
}
