// Discrete CQL and BCQ (agents/offline_q.h): golden regulariser, allowed set and ranking on
// hand-made tensors, the agent's target sync and checkpoint, and toy logs whose behaviour is
// sub-optimal, where both must beat behaviour cloning (and fall back to it when made strict).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "agents/offline_q.h"
#include "core/error.h"
#include "test_util.h"
#include "tiny_agents.h"

using namespace recarena::agents;

namespace {

using recarena::testing::I;
using recarena::testing::M;

SupervisedOptions TinyModel(int64_t items) { return recarena::testing::TinyGruOptions(items, 1); }

// A logged bandit with two contexts (state = one item): after item 1 the behaviour shows item 0
// three times (reward 0.2) and item 2 once (reward 1.0); after item 3 it shows item 4 three times
// (0.2) and item 5 once (1.0). Behaviour cloning ranks the frequent, worse item first.
SequenceBatch SubOptimalLog() {
  return {torch::tensor({{1}, {1}, {1}, {1}, {3}, {3}, {3}, {3}}, torch::kInt64),
          torch::ones({8}, torch::kInt64), I({0, 0, 0, 2, 4, 4, 4, 5}),
          torch::tensor({0.2f, 0.2f, 0.2f, 1.0f, 0.2f, 0.2f, 0.2f, 1.0f}),
          torch::zeros({8}).to(torch::kBool)};
}

OfflineQOptions BanditOptions() {
  OfflineQOptions o;
  o.discount = 0.0;
  o.reward.kind = RewardKind::kValue;
  return o;
}

// The top-ranked item after each of the two contexts.
std::pair<int64_t, int64_t> TopItems(SupervisedAgent& agent) {
  const SequenceBatch b = SubOptimalLog();
  const torch::Tensor top = agent.Scores(b.items, b.lengths).argmax(1);
  return {top[0].item<int64_t>(), top[4].item<int64_t>()};
}

}  // namespace

TEST_CASE("CqlPenalty: logsumexp_a Q(s, a) - Q(s, a_logged), gradient softmax - onehot",
          "[offline_q][golden]") {
  auto q = M({{1, 0, 0}, {0, 2, 0}}).requires_grad_(true);
  const auto p = CqlPenalty(q, I({0, 1}));
  CHECK(p[0].item<double>() == Approx(std::log(std::exp(1.0) + 2.0) - 1.0).epsilon(1e-6));
  CHECK(p[1].item<double>() == Approx(std::log(std::exp(2.0) + 2.0) - 2.0).epsilon(1e-6));
  p.sum().backward();
  const double z0 = std::exp(1.0) + 2.0;
  CHECK(q.grad()[0][0].item<double>() == Approx(std::exp(1.0) / z0 - 1.0).epsilon(1e-6));
  CHECK(q.grad()[0][1].item<double>() == Approx(1.0 / z0).epsilon(1e-6));
}

TEST_CASE("BcqAllowed / BcqScores: G(a)/max G >= threshold, the rest ranked below by G",
          "[offline_q][golden]") {
  // G = [1, 0.5, 0.2, 0.25] up to normalisation; threshold 0.3 allows items 0 and 1.
  const auto g = torch::log(M({{1.0f, 0.5f, 0.2f, 0.25f}}));
  const auto allowed = BcqAllowed(g, 0.3);
  CHECK(torch::equal(allowed, torch::tensor({{true, true, false, false}})));
  CHECK(BcqAllowed(g, 1.0).sum().item<int64_t>() == 1);  // only the argmax
  // Q = [1, 3, 5, 4]: the best Q (item 2) is not allowed. min allowed Q = 1, so items 2 and 3
  // score 1 - 2 + 0.2 and 1 - 2 + 0.25.
  const auto s = BcqScores(M({{1, 3, 5, 4}}), g, 0.3);
  CHECK(s[0][0].item<double>() == Approx(1.0));
  CHECK(s[0][1].item<double>() == Approx(3.0));
  CHECK(s[0][2].item<double>() == Approx(-0.8).epsilon(1e-5));
  CHECK(s[0][3].item<double>() == Approx(-0.75).epsilon(1e-5));
  CHECK(s.argmax(1).item<int64_t>() == 1);
}

TEST_CASE("OfflineQOptions::Validate names the key", "[offline_q]") {
  OfflineQOptions o;
  CHECK_NOTHROW(o.Validate());
  o.bcq_threshold = 0.0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("offline_q.bcq_threshold"));
  o = OfflineQOptions();
  o.target_update_every = 0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("offline_q.target_update_every"));
  o = OfflineQOptions();
  o.cql_alpha = -1;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("offline_q.cql_alpha"));
}

TEST_CASE(
    "OfflineQAgent: the target follows every target_update_every steps, checkpoints "
    "round-trip",
    "[offline_q]") {
  for (const auto variant : {OfflineQVariant::kCql, OfflineQVariant::kBcq}) {
    torch::manual_seed(4);
    OfflineQOptions o;
    o.target_update_every = 3;
    OfflineQAgent agent(TinyModel(6), o, variant, torch::kCPU);
    const SequenceBatch b = SubOptimalLog();
    for (int s = 0; s < 5; ++s) agent.Update(b);  // synced before steps 0 and 3
    torch::manual_seed(99);
    OfflineQAgent copy(TinyModel(6), o, variant, torch::kCPU);
    recarena::testing::CopyThroughArchive(agent, copy);
    CHECK(copy.step() == 5);
    CHECK(torch::equal(agent.Scores(b.items, b.lengths), copy.Scores(b.items, b.lengths)));
    // Step 5 bootstraps from the target synced at step 3: equal only if the target was restored.
    CHECK(agent.Update(b) == copy.Update(b));
    CHECK(agent.Update(b) == copy.Update(b));  // step 6 syncs, also equal
  }
  SequenceBatch no_done = SubOptimalLog();
  no_done.done = torch::Tensor();
  OfflineQAgent agent(TinyModel(6), OfflineQOptions(), OfflineQVariant::kCql, torch::kCPU);
  CHECK_THROWS_AS(agent.Update(no_done), recarena::Error);
}

TEST_CASE(
    "Toy log with sub-optimal behaviour: CQL and BCQ pick the better item, BC the frequent "
    "one, strict settings fall back to behaviour",
    "[offline_q][toy]") {
  const SequenceBatch log = SubOptimalLog();
  auto train = [&](SupervisedAgent& a) {
    for (int s = 0; s < 500; ++s) a.Update(log);
  };
  torch::manual_seed(6);
  SupervisedAgent bc(TinyModel(6), torch::kCPU);
  train(bc);
  CHECK(TopItems(bc) == std::make_pair<int64_t, int64_t>(0, 4));

  // CQL(H) with alpha 0.1: the reward gap (0.8) outweighs the conservatism; alpha 5 keeps the
  // policy near the behaviour (the tabular fixed point prefers the frequent item for alpha >~ 1).
  OfflineQOptions o = BanditOptions();
  o.cql_alpha = 0.1;
  torch::manual_seed(6);
  OfflineQAgent cql(TinyModel(6), o, OfflineQVariant::kCql, torch::kCPU);
  train(cql);
  CHECK(TopItems(cql) == std::make_pair<int64_t, int64_t>(2, 5));
  // Conservative: every action the log never shows is valued below both logged ones.
  const auto q = cql.QValues(log.items, log.lengths);
  INFO("CQL Q " << q);
  for (int64_t unseen : {1, 3, 4, 5}) CHECK(q[0][unseen].item<float>() < q[0][0].item<float>());
  o.cql_alpha = 5.0;
  torch::manual_seed(6);
  OfflineQAgent strict_cql(TinyModel(6), o, OfflineQVariant::kCql, torch::kCPU);
  train(strict_cql);
  CHECK(TopItems(strict_cql) == std::make_pair<int64_t, int64_t>(0, 4));

  // BCQ with threshold 0.3 allows the rarer item (G ratio 1/3) and picks it by Q; threshold 0.5
  // allows only the frequent one.
  o = BanditOptions();
  torch::manual_seed(6);
  OfflineQAgent bcq(TinyModel(6), o, OfflineQVariant::kBcq, torch::kCPU);
  train(bcq);
  CHECK(TopItems(bcq) == std::make_pair<int64_t, int64_t>(2, 5));
  const auto s = bcq.Scores(log.items, log.lengths);
  for (int64_t unseen : {1, 3, 4, 5}) CHECK(s[0][unseen].item<float>() < s[0][0].item<float>());
  o.bcq_threshold = 0.5;
  torch::manual_seed(6);
  OfflineQAgent strict_bcq(TinyModel(6), o, OfflineQVariant::kBcq, torch::kCPU);
  train(strict_bcq);
  CHECK(TopItems(strict_bcq) == std::make_pair<int64_t, int64_t>(0, 4));
}
