// The incremental SASRec (models/sasrec.h, SasRecCache): ForwardCaching and Append give forward's
// last state, to rounding, for every length and for sequences grown one item at a time.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "models/sasrec.h"

using recarena::models::EncoderOptions;
using recarena::models::SasRecImpl;

namespace {

EncoderOptions Options(int64_t blocks, int64_t heads) {
  EncoderOptions o;
  o.num_items = 50;
  o.state_len = 6;
  o.hidden = 16;
  o.num_heads = heads;
  o.num_blocks = blocks;
  o.dropout = 0.3;  // eval mode: no dropout, as in the simulator
  return o;
}

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("SasRec cache: ForwardCaching and Append equal forward", "[models][sasrec_cache]") {
  torch::NoGradGuard ng;
  for (const auto& [blocks, heads] : {std::pair<int64_t, int64_t>{1, 1}, {2, 2}}) {
    torch::manual_seed(3);
    auto enc = std::make_shared<SasRecImpl>(Options(blocks, heads));
    enc->eval();
    const int64_t B = 8, L = 6, N = 50;
    // Full sequences; row b starts with length 1 + b % 3 and grows to L one item at a time.
    auto full = torch::randint(0, N, {B, L}, torch::kInt64);
    auto lengths = 1 + torch::arange(B, torch::kInt64).remainder(3);
    auto padded = [&](const torch::Tensor& len) {
      auto keep = torch::arange(L, torch::kInt64).unsqueeze(0) < len.unsqueeze(1);
      return torch::where(keep, full, torch::full_like(full, N));
    };
    auto cache = enc->MakeCache(B + 3);  // more rows than used: rows are addressed by index
    auto rows = torch::arange(B, torch::kInt64) + 2;
    auto first = enc->ForwardCaching(padded(lengths), lengths, cache, rows);
    CHECK(MaxDiff(first, enc->forward(padded(lengths), lengths).last) < 1e-5);
    // Grow every row whose length is below L, comparing each step with a full forward.
    for (int step = 0; step < L; ++step) {
      auto grow = (lengths < L).nonzero().squeeze(1);
      if (grow.numel() == 0) break;
      auto pos = lengths.index_select(0, grow);
      auto item = full.index_select(0, grow).gather(1, pos.unsqueeze(1)).squeeze(1);
      auto got = enc->Append(item, pos, cache, rows.index_select(0, grow));
      lengths.index_add_(0, grow, torch::ones_like(grow));
      auto want = enc->forward(padded(lengths), lengths).last.index_select(0, grow);
      CHECK(MaxDiff(got, want) < 1e-5);
    }
    CHECK((lengths == L).all().item<bool>());
  }
}

TEST_CASE("SasRec cache: a stale cache row gives a different state", "[models][sasrec_cache]") {
  // The cache is what Append reads: appending to a row whose cache holds another sequence must not
  // reproduce the right answer (so the test above is not passing by ignoring the cache).
  torch::NoGradGuard ng;
  torch::manual_seed(4);
  auto enc = std::make_shared<SasRecImpl>(Options(1, 1));
  enc->eval();
  auto items = torch::tensor({{3, 4, 50, 50, 50, 50}, {7, 8, 50, 50, 50, 50}}, torch::kInt64);
  auto lengths = torch::tensor({2, 2}, torch::kInt64);
  auto cache = enc->MakeCache(2);
  enc->ForwardCaching(items, lengths, cache, torch::tensor({1, 0}, torch::kInt64));  // swapped
  auto got = enc->Append(torch::tensor({9}, torch::kInt64), torch::tensor({2}, torch::kInt64),
                         cache, torch::tensor({0}, torch::kInt64));
  auto extended = torch::tensor({{3, 4, 9, 50, 50, 50}}, torch::kInt64);
  auto want = enc->forward(extended, torch::tensor({3}, torch::kInt64)).last;
  CHECK(MaxDiff(got, want) > 1e-3);
}
