// The decision transformer in the simulator (agents/dt_online.h) and its sequence storage
// (agents/sequence_buffer.h): returns-to-go bookkeeping, the target-novelty lever, learning from
// the sequences the simulator generates, checkpoints.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <sstream>

#include "agents/dt_online.h"
#include "agents/sequence_buffer.h"
#include "core/error.h"
#include "core/rng.h"
#include "toy_env.h"

using recarena::Rng;
using recarena::agents::DtOnlineAgent;
using recarena::agents::DtSetup;
using recarena::agents::MakeTransition;
using recarena::agents::SequenceBatch;
using recarena::agents::SequenceBuffer;

namespace {

DtSetup Setup(int64_t num_items, int64_t state_len, std::vector<uint8_t> long_tail) {
  DtSetup s;
  s.model.encoder.kind = recarena::models::EncoderKind::kSasRec;
  s.model.encoder.num_items = num_items;
  s.model.encoder.state_len = state_len;
  s.model.encoder.hidden = 16;
  s.model.encoder.dropout = 0.0;
  s.model.lr = 0.01;
  s.transformer.num_heads = 2;
  s.transformer.dropout = 0.0;
  s.long_tail = std::move(long_tail);
  s.target_accuracy = static_cast<double>(state_len);
  s.target_novelty = 1.0;
  return s;
}

recarena::policies::ExplorationOptions Greedy() {
  recarena::policies::ExplorationOptions e;
  e.kind = recarena::policies::ExplorationKind::kGreedy;
  return e;
}

// Head items 0 and 1 (long_tail 0), tail items 2..N-1.
std::vector<uint8_t> HeadTwo(int64_t n) {
  std::vector<uint8_t> lt(static_cast<size_t>(n), 1);
  lt[0] = lt[1] = 0;
  return lt;
}

}  // namespace

TEST_CASE("sequence buffer: FIFO, windows and checkpoints", "[agents][dt_online]") {
  SequenceBuffer buf(2, 10);
  CHECK_FALSE(buf.Add({3}));  // one item gives no example
  CHECK(buf.Add({1, 2, 3, 4, 5}));
  CHECK(buf.Add({6, 7}));
  CHECK(buf.Add({8, 9, 0}));  // drops {1..5}
  CHECK(buf.size() == 2);
  CHECK(buf.num_added() == 3);
  CHECK(buf.sequences().front() == std::vector<int32_t>{6, 7});
  CHECK_THROWS_WITH(buf.Add({1, 10}), Catch::Contains("item id 10"));
  Rng rng(3);
  const SequenceBatch b = buf.Sample(200, 2, rng, torch::kCPU);
  REQUIRE(b.items.sizes() == torch::IntArrayRef({200, 2}));
  // Every row is a contiguous slice of a stored sequence followed by its target.
  for (int64_t r = 0; r < 200; ++r) {
    const int64_t len = b.lengths[r].item<int64_t>();
    std::vector<int32_t> row;
    for (int64_t t = 0; t < len; ++t)
      row.push_back(static_cast<int32_t>(b.items[r][t].item<int64_t>()));
    row.push_back(static_cast<int32_t>(b.targets[r].item<int64_t>()));
    bool found = false;
    for (const auto& s : buf.sequences()) {
      for (size_t from = 0; from + row.size() <= s.size(); ++from) {
        found = found || std::equal(row.begin(), row.end(), s.begin() + static_cast<long>(from));
      }
    }
    CHECK(found);
    for (int64_t t = len; t < 2; ++t) CHECK(b.items[r][t].item<int64_t>() == 10);  // padding
  }
  // Round trip.
  torch::serialize::OutputArchive out;
  buf.Save(out);
  std::stringstream ss;
  out.save_to(ss);
  torch::serialize::InputArchive in;
  in.load_from(ss);
  SequenceBuffer back(2, 10);
  back.Load(in);
  CHECK(back.sequences() == buf.sequences());
  CHECK(back.num_added() == 3);
  SequenceBuffer empty(2, 10);
  CHECK_THROWS_WITH(empty.Sample(1, 2, rng, torch::kCPU), Catch::Contains("empty"));
}

TEST_CASE("dt online: returns-to-go follow what the user consumed", "[agents][dt_online]") {
  torch::manual_seed(1);
  const int64_t N = 6, L = 3;
  auto sim = recarena::testing::ToySimulator(N, /*best=*/1, /*margin=*/0.0, /*max_length=*/4, L);
  DtSetup setup = Setup(N, L, HeadTwo(N));
  setup.target_accuracy = 3.0;
  setup.target_novelty = 2.0;
  DtOnlineAgent agent(setup, Greedy(), N, torch::kCPU);
  recarena::env::VectorEnvOptions vo;
  vo.num_envs = 3;
  recarena::env::VectorEnv env(sim, vo);
  auto r = env.Reset(5);
  Rng rng(1);
  // At the start of an episode the decision step carries the full targets.
  auto ret = agent.CurrentReturns(r.observation);
  for (int64_t b = 0; b < 3; ++b) {
    CHECK(ret[b][0][0].item<float>() == 3.0f);
    CHECK(ret[b][0][1].item<float>() == 2.0f);
  }
  int checked_accept = 0;
  for (int step = 0; step < 12; ++step) {
    // Force a tail item (2 + slot) so that every consumption counts for novelty.
    auto actions = torch::tensor({2, 3, 4}, torch::kInt64);
    agent.Act(r.observation, r.candidate_mask, false, rng);
    auto next = env.Step(actions);
    const auto t = MakeTransition(r, actions, next);
    // Expected to-go values before the step's bookkeeping.
    auto before = agent.CurrentReturns(r.observation);
    agent.Track(t);
    auto after = agent.CurrentReturns(next.observation);
    for (int64_t b = 0; b < 3; ++b) {
      const bool done = t.terminated[b].item<bool>() || t.truncated[b].item<bool>();
      const int64_t p_before = r.observation.lengths[b].item<int64_t>() - 1;
      const int64_t p_after = next.observation.lengths[b].item<int64_t>() - 1;
      const float acc0 = before[b][p_before][0].item<float>();
      const float nov0 = before[b][p_before][1].item<float>();
      const float acc1 = after[b][p_after][0].item<float>();
      const float nov1 = after[b][p_after][1].item<float>();
      if (done) {
        CHECK(next.observation.step[b].item<int64_t>() == 0);
        CHECK(acc1 == 3.0f);  // a new episode starts from the full targets
        CHECK(nov1 == 2.0f);
      } else if (t.accepted[b].item<bool>()) {
        CHECK(acc1 == std::max(1.0f, acc0 - 1.0f));
        CHECK(nov1 == std::max(0.0f, nov0 - 1.0f));
        ++checked_accept;
      } else {
        CHECK(acc1 == acc0);
        CHECK(nov1 == nov0);
      }
    }
    r = next;
  }
  CHECK(checked_accept > 3);
  // A transition without the accepted flags cannot be counted.
  auto actions = torch::tensor({2, 3, 4}, torch::kInt64);
  agent.Act(r.observation, r.candidate_mask, false, rng);
  auto t = MakeTransition(r, actions, env.Step(actions));
  t.accepted = torch::Tensor();
  CHECK_THROWS_WITH(agent.Track(t), Catch::Contains("accepted"));
}

TEST_CASE("dt online: raising the target novelty return raises the long-tail share",
          "[agents][dt_online]") {
  torch::manual_seed(7);
  const int64_t N = 12, L = 4;
  DtSetup setup = Setup(N, L, HeadTwo(N));
  DtOnlineAgent agent(setup, Greedy(), N, torch::kCPU);
  // Logged windows: every item is a head item (0 or 1) with probability 1/2, else a tail item
  // (2..11), independently of the history. Only the novelty return tells which comes next.
  Rng data(11);
  auto draw = [&]() -> int64_t {
    return data.Bernoulli(0.5) ? static_cast<int64_t>(data.UniformInt(2))
                               : 2 + static_cast<int64_t>(data.UniformInt(N - 2));
  };
  for (int it = 0; it < 300; ++it) {
    const int64_t B = 64;
    auto items = torch::full({B, L}, N, torch::kInt64);
    auto lengths = torch::empty({B}, torch::kInt64);
    auto targets = torch::empty({B}, torch::kInt64);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t n = 1 + static_cast<int64_t>(data.UniformInt(L));
      for (int64_t t = 0; t < n; ++t) items[b][t] = draw();
      lengths[b] = n;
      targets[b] = draw();
    }
    agent.model().Update(SequenceBatch{items, lengths, targets});
  }
  // Act in a simulator where every item is accepted half of the time.
  auto tail_share = [&](double novelty) {
    agent.SetTargets(static_cast<double>(L), novelty);
    auto sim = recarena::testing::ToySimulator(N, 1, 0.0, /*max_length=*/4, L);
    recarena::env::VectorEnvOptions vo;
    vo.num_envs = 8;
    recarena::env::VectorEnv env(sim, vo);
    auto r = env.Reset(3);
    Rng rng(2);
    int64_t tail = 0, total = 0;
    for (int step = 0; step < 40; ++step) {
      auto sel = agent.Act(r.observation, r.candidate_mask, false, rng);
      auto next = env.Step(sel.actions);
      agent.Track(MakeTransition(r, sel.actions, next));
      for (int64_t b = 0; b < 8; ++b) tail += sel.actions[b].item<int64_t>() >= 2 ? 1 : 0;
      total += 8;
      r = next;
    }
    return static_cast<double>(tail) / static_cast<double>(total);
  };
  const double none = tail_share(0.0), some = tail_share(2.0), all = tail_share(4.0);
  INFO("long-tail share at target novelty 0 / 2 / 4: " << none << " / " << some << " / " << all);
  CHECK(none < 0.25);
  CHECK(all > 0.75);
  CHECK(some > none);
  CHECK(all >= some);
}

TEST_CASE("dt online: learns the preferred item from the sequences the simulator generates",
          "[agents][dt_online]") {
  torch::manual_seed(3);
  const int64_t N = 6, L = 3, best = 1;
  auto sim = recarena::testing::ToySimulator(N, best, 2.0, /*max_length=*/5, L);
  DtSetup setup = Setup(N, L, HeadTwo(N));
  setup.learning_starts = 4;
  setup.batch_size = 32;
  recarena::policies::ExplorationOptions uniform;  // epsilon-greedy with epsilon 1: uniform
  uniform.epsilon.start = 1.0;
  uniform.epsilon.end = 1.0;
  DtOnlineAgent agent(setup, uniform, N, torch::kCPU);
  recarena::env::VectorEnvOptions vo;
  vo.num_envs = 4;
  recarena::env::VectorEnv env(sim, vo);
  auto r = env.Reset(1);
  auto prob_best = [&]() {
    recarena::env::VectorEnv probe(sim, vo);
    auto p = probe.Reset(9);
    return torch::softmax(agent.Scores(p.observation), 1).select(1, best).mean().item<double>();
  };
  const double before = prob_best();
  Rng rng(4);
  int updates = 0;
  for (int step = 0; step < 150; ++step) {
    auto sel = agent.Act(r.observation, r.candidate_mask, true, rng);
    auto next = env.Step(sel.actions);
    const auto m = agent.Observe(MakeTransition(r, sel.actions, next));
    if (!m.empty()) {
      ++updates;
      CHECK(m[0].first == "loss");
    }
    r = next;
  }
  CHECK(agent.step() == 150);
  CHECK(agent.buffer().size() >= 4);
  CHECK(updates > 100);
  const double after = prob_best();
  INFO("P(best) before " << before << " after " << after);
  CHECK(after > before + 0.2);

  // Checkpoint round trip: same scores, same buffer, same step.
  torch::serialize::OutputArchive out;
  agent.Save(out);
  std::stringstream ss;
  out.save_to(ss);
  torch::serialize::InputArchive in;
  in.load_from(ss);
  torch::manual_seed(99);
  DtOnlineAgent back(setup, uniform, N, torch::kCPU);
  back.Load(in);
  CHECK(back.step() == 150);
  CHECK(back.buffer().sequences() == agent.buffer().sequences());
  recarena::env::VectorEnv probe(sim, vo);
  auto p = probe.Reset(9);
  CHECK(torch::allclose(back.Scores(p.observation), agent.Scores(p.observation)));
}

TEST_CASE("dt online: bad setups are refused", "[agents][dt_online]") {
  DtSetup s = Setup(6, 3, HeadTwo(6));
  CHECK_THROWS_WITH(DtOnlineAgent(s, Greedy(), 7, torch::kCPU), Catch::Contains("7"));
  s.target_accuracy = 0.5;
  CHECK_THROWS_WITH(DtOnlineAgent(s, Greedy(), 6, torch::kCPU), Catch::Contains("agent.dt.target"));
  s = Setup(6, 3, HeadTwo(6));
  s.init_checkpoint = "/nonexistent/best.pt";
  CHECK_THROWS_WITH(DtOnlineAgent(s, Greedy(), 6, torch::kCPU),
                    Catch::Contains("/nonexistent/best.pt"));
}
