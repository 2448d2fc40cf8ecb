#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "agents/hdt.h"
#include "agents/hdt_batches.h"
#include "agents/session_returns.h"
#include "core/error.h"

using recarena::agents::HdtAgent;
using recarena::agents::HdtAgentOptions;
using recarena::agents::HdtBatch;
using recarena::agents::HdtQuery;
using recarena::agents::HdtReturnInputs;
using recarena::agents::HdtScoring;
using recarena::agents::UserSessions;
using recarena::models::EncoderKind;

namespace {
constexpr int64_t kItems = 10;

HdtAgentOptions SmallOptions(EncoderKind kind) {
  HdtAgentOptions o;
  o.encoder.kind = kind;
  o.encoder.num_items = kItems;
  o.encoder.hidden = 16;
  o.encoder.state_len = 5;
  o.encoder.dropout = 0.0;
  o.encoder.num_heads = 1;
  o.encoder.caser_h_filters = 4;
  o.encoder.caser_heights = {2, 3};
  o.encoder.nextitnet_dilations = {1, 2};
  o.hdt.dim = 16;
  o.hdt.num_heads = 2;
  o.hdt.max_steps = 4;
  o.hdt.dropout = 0.0;
  o.lr = 0.01;
  return o;
}

HdtReturnInputs Returns() {
  HdtReturnInputs r;
  for (int64_t i = 0; i < kItems; ++i) {
    const double a = 0.6 * static_cast<double>(i);
    r.item_vectors.push_back({std::cos(a), std::sin(a)});
  }
  r.dis_max = recarena::agents::MaxPairwiseDissimilarity(r.item_vectors);
  r.is_novel = recarena::agents::NovelItemSet(std::vector<int64_t>(kItems, 1), 0.9);
  return r;
}

// Toy users: after item 3 the next item is always 7.
std::vector<UserSessions> ToyUsers() {
  return {{0, {{1, 3, 7}, {2, 3, 7, 4}, {5, 3, 7}}},
          {1, {{3, 7, 8}, {6, 3, 7}}},
          {2, {{0, 3, 7}, {9, 2, 3, 7}, {3, 7}, {4, 3, 7, 1}}},
          {3, {{8, 3, 7, 2}, {1, 3, 7}}}};
}

// P(7 | history, current = [5, 3]) under the agent's scores (softmax over the log-scores).
double PreferredProbability(HdtAgent& agent, const HdtReturnInputs& ret) {
  HdtQuery q;
  q.history = {{1, 3, 7}, {2, 3, 7, 4}};
  q.history_returns =
      recarena::agents::InterSessionUnexpectedReturns(q.history, ret.item_vectors, ret.dis_max);
  q.inter_return = q.history_returns.back();
  q.current = {5, 3};
  q.novelty_returns = {2.0, 1.0};
  return torch::softmax(agent.Scores({q}), 1)[0][7].item<double>();
}

std::vector<HdtBatch> ToyBatches() {
  return recarena::agents::BuildUserParallelBatches(ToyUsers(), Returns(), 2, kItems);
}
}  // namespace

TEST_CASE("hdt agent: loss falls and the preferred item's probability rises", "[agents][hdt]") {
  const HdtReturnInputs ret = Returns();
  const auto batches = ToyBatches();
  REQUIRE(batches.size() >= 4);
  for (HdtScoring scoring : {HdtScoring::kSequentialAction, HdtScoring::kSequential}) {
    for (EncoderKind kind : {EncoderKind::kGru4Rec, EncoderKind::kSasRec}) {
      torch::manual_seed(7);
      HdtAgentOptions opts = SmallOptions(kind);
      opts.scoring = scoring;
      HdtAgent agent(opts, torch::kCPU);
      const double before = PreferredProbability(agent, ret);
      double first_epoch = 0.0, last_epoch = 0.0;
      const int epochs = 10;  // ~50 updates
      for (int e = 0; e < epochs; ++e) {
        agent.ResetCarriedStates();
        double sum = 0.0;
        for (const auto& b : batches) {
          const auto m = agent.Update(b);
          REQUIRE(m.size() == 6);
          REQUIRE(m[0].first == "loss");
          REQUIRE(m[5].first == "grad_norm");
          REQUIRE(std::isfinite(m[0].second));
          sum += m[0].second;
        }
        if (e == 0) first_epoch = sum;
        last_epoch = sum;
      }
      INFO("encoder " << static_cast<int>(kind) << " scoring " << static_cast<int>(scoring));
      CHECK(agent.step() == epochs * static_cast<int64_t>(batches.size()));
      CHECK(last_epoch < 0.7 * first_epoch);
      const double after = PreferredProbability(agent, ret);
      CHECK(after > before + 0.3);
    }
  }
}

TEST_CASE("hdt agent: every encoder kind trains one step", "[agents][hdt]") {
  for (EncoderKind kind : {EncoderKind::kCaser, EncoderKind::kNextItNet}) {
    torch::manual_seed(2);
    HdtAgent agent(SmallOptions(kind), torch::kCPU);
    const auto m = agent.Update(ToyBatches().front());
    CHECK(std::isfinite(m[0].second));
    CHECK(m[5].second > 0.0);
    const auto s = agent.Scores(recarena::agents::BuildTestQueries(
        recarena::agents::SplitLastSession(ToyUsers()).test, Returns()));
    CHECK(s.size(1) == kItems);
  }
}

TEST_CASE("hdt agent: the intra-session novelty return and the carried state are used",
          "[agents][hdt]") {
  torch::manual_seed(4);
  HdtAgentOptions opts = SmallOptions(EncoderKind::kGru4Rec);
  opts.scoring = HdtScoring::kAction;
  HdtAgent agent(opts, torch::kCPU);
  const auto batches = ToyBatches();
  for (const auto& b : batches) agent.Update(b);
  HdtQuery q;
  q.history = {{1, 3, 7}};
  q.history_returns = {0.5};
  q.inter_return = 0.4;
  q.current = {5, 3};
  q.novelty_returns = {2.0, 1.0};
  const torch::Tensor a = agent.Scores({q});
  HdtQuery q2 = q;
  q2.novelty_returns = {0.0, 0.0};
  CHECK_FALSE(torch::allclose(a, agent.Scores({q2})));
  HdtQuery q3 = q;
  q3.history = {{8, 9, 0}};
  CHECK_FALSE(torch::allclose(a, agent.Scores({q3})));
  // A continuing row (new_user false) reads its slot's carried state: the loss differs from the
  // same batch flagged as new users.
  HdtBatch cont = batches[1];
  HdtBatch fresh = batches[1];
  fresh.new_user = torch::ones_like(cont.new_user);
  std::ostringstream snapshot;
  {
    torch::serialize::OutputArchive out;
    agent.Save(out);
    out.save_to(snapshot);
  }
  const double loss_cont = agent.Update(cont)[0].second;
  std::istringstream is(snapshot.str());
  torch::serialize::InputArchive in;
  in.load_from(is);
  agent.Load(in);
  const double loss_fresh = agent.Update(fresh)[0].second;
  CHECK(loss_cont != loss_fresh);
}

TEST_CASE("hdt agent: save/load restores networks, optimizer, step and carried states",
          "[agents][hdt]") {
  torch::manual_seed(5);
  const HdtAgentOptions opts = SmallOptions(EncoderKind::kSasRec);
  const auto batches = ToyBatches();
  HdtAgent a(opts, torch::kCPU);
  for (size_t i = 0; i < 3; ++i) a.Update(batches[i]);
  torch::serialize::OutputArchive out;
  a.Save(out);
  std::ostringstream os;
  out.save_to(os);
  torch::manual_seed(99);
  HdtAgent b(opts, torch::kCPU);
  std::istringstream is(os.str());
  torch::serialize::InputArchive in;
  in.load_from(is);
  b.Load(in);
  CHECK(b.step() == 3);
  const auto queries = recarena::agents::BuildTestQueries(
      recarena::agents::SplitLastSession(ToyUsers()).test, Returns());
  CHECK(torch::allclose(a.Scores(queries), b.Scores(queries)));
  const auto ma = a.Update(batches[3]);
  const auto mb = b.Update(batches[3]);
  for (size_t k = 0; k < ma.size(); ++k) CHECK(ma[k].second == Approx(mb[k].second).epsilon(1e-5));
  CHECK(torch::allclose(a.Scores(queries), b.Scores(queries), 1e-5, 1e-5));
}

TEST_CASE("hdt agent: options are validated with the key named", "[agents][hdt]") {
  HdtAgentOptions o = SmallOptions(EncoderKind::kGru4Rec);
  o.hdt.dim = 8;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("model.hdt.dim"));
  o = SmallOptions(EncoderKind::kGru4Rec);
  o.hdt.max_steps = 3;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("model.hdt.max_steps"));
  o = SmallOptions(EncoderKind::kGru4Rec);
  o.lambda = -1.0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("model.lambda"));
  o = SmallOptions(EncoderKind::kGru4Rec);
  o.encoder.num_items = 0;
  CHECK_THROWS_AS(HdtAgent(o, torch::kCPU), recarena::Error);
}

TEST_CASE("hdt agent: scoring many queries at once equals scoring each alone", "[agents][hdt]") {
  // Consecutive queries of a user share their history; Scores reuses its state, which must not
  // change any score (also when the next user's history differs).
  torch::manual_seed(5);
  HdtAgent agent(SmallOptions(EncoderKind::kGru4Rec), torch::kCPU);
  for (const HdtBatch& b : ToyBatches()) agent.Update(b);
  const auto queries = recarena::agents::BuildTestQueries(ToyUsers(), Returns());
  REQUIRE(queries.size() >= 4);
  const torch::Tensor together = agent.Scores(queries);
  for (size_t i = 0; i < queries.size(); ++i) {
    const torch::Tensor alone = agent.Scores({queries[i]});
    CHECK(torch::allclose(together[static_cast<int64_t>(i)], alone[0], 1e-5, 1e-5));
  }
  // Two users' queries interleaved: a changed history is never served from the previous one.
  const std::vector<HdtQuery> mixed = {queries.front(), queries.back(), queries.front()};
  const torch::Tensor m = agent.Scores(mixed);
  CHECK(torch::allclose(m[0], m[2], 1e-5, 1e-5));
  CHECK(torch::allclose(m[1], agent.Scores({queries.back()})[0], 1e-5, 1e-5));
  CHECK_FALSE(torch::allclose(m[0], m[1], 1e-5, 1e-5));
}
