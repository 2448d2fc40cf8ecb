// ResponseStepCache (env/response_cache.h): states kept per slot give the ensemble's Expected after
// recomputes and incremental appends, are really what Expected reads, and are refused for models
// without a history state.
#include "env/response_cache.h"

#include <catch2/catch.hpp>

#include "env/simulator.h"
#include "sim_fixtures.h"

namespace env = recarena::env;
using recarena::testing::FitTiny;
using recarena::testing::SimVariants;
using recarena::testing::TinySimConfig;

namespace {

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("ResponseStepCache: recompute, append and stale rows", "[simulator][response_cache]") {
  auto cfg = TinySimConfig();
  cfg.sim.response.encoder.num_blocks = 2;
  cfg.sim.response.history_bag = true;
  // SASRec appends from its key/value cache, GRU4Rec from its carried hidden state.
  const auto kind =
      GENERATE(recarena::models::EncoderKind::kSasRec, recarena::models::EncoderKind::kGru4Rec);
  cfg.sim.response.encoder.kind = kind;
  INFO("encoder kind " << static_cast<int>(kind));
  auto sim = FitTiny(cfg, env::SimRole::kTrain);
  const auto& ens = *sim->response;
  const int64_t B = 6, L = sim->state_len, N = sim->num_items;
  torch::manual_seed(9);
  // Rows of lengths 1..L-1 (row 5 full), random items, padding N.
  auto lengths = torch::tensor(std::vector<int64_t>{1, 2, 3, 4, 2, L}, torch::kInt64);
  auto items = torch::randint(0, N, {B, L}, torch::kInt64);
  items.masked_fill_(torch::arange(L).unsqueeze(0) >= lengths.unsqueeze(1), N);
  auto users = torch::arange(B, torch::kInt64);
  auto actions = torch::randint(0, N, {B}, torch::kInt64);
  auto cache = env::ResponseStepCache::Make(ens, B);
  REQUIRE(cache != nullptr);
  cache->Refresh(items, lengths, torch::arange(B, torch::kInt64), torch::empty({0}, torch::kInt64));
  CHECK(MaxDiff(cache->Expected({items, lengths, users, actions}),
                ens.Expected({items, lengths, users, actions})) < 1e-6);

  // Append one item to rows 0, 2 and 4; slide row 5's window (a recompute).
  auto grown = torch::tensor({0, 2, 4}, torch::kInt64);
  auto next_items = items.clone(), next_lengths = lengths.clone();
  for (int64_t r : {0, 2, 4}) {
    next_items[r][next_lengths[r].item<int64_t>()] = (r * 7 + 3) % N;
    next_lengths[r] += 1;
  }
  next_items[5] = torch::cat({items[5].slice(0, 1), torch::tensor({11 % N}, torch::kInt64)});
  const env::ResponseInput next{next_items, next_lengths, users, actions};

  // Stale: the cache has not been told; the changed rows differ, the others do not.
  auto stale = cache->Expected(next);
  auto want = ens.Expected(next);
  auto row_diff = (stale - want).abs();
  CHECK(row_diff.index_select(0, torch::tensor({1, 3}, torch::kInt64)).max().item<double>() < 1e-6);
  CHECK(row_diff.index_select(0, torch::tensor({0, 2, 4, 5}, torch::kInt64)).min().item<double>() >
        1e-6);

  cache->Refresh(next_items, next_lengths, torch::tensor({5}, torch::kInt64), grown);
  CHECK(MaxDiff(cache->Expected(next), want) < 1e-6);
}

TEST_CASE("ResponseStepCache: only for ensembles of sequential models",
          "[simulator][response_cache]") {
  for (const auto& variant : SimVariants()) {
    auto sim = FitTiny(variant.cfg, variant.role);
    const bool sequential = variant.role != env::SimRole::kEval &&
                            variant.cfg.sim.response.kind == env::ResponseKind::kSequential;
    INFO(variant.name);
    CHECK((env::ResponseStepCache::Make(*sim->response, 4) != nullptr) == sequential);
  }
  auto sim = FitTiny(TinySimConfig(), env::SimRole::kTrain);
  CHECK_THROWS_WITH(env::ResponseStepCache::Make(*sim->response, 0), Catch::Contains("B must be"));
}
