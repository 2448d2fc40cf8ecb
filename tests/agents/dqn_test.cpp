#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <sstream>
#include <vector>

#include "agents/dqn.h"
#include "agents/online_config.h"
#include "agents/replay_buffer.h"
#include "env/vector_env.h"
#include "policies/baseline_policies.h"
#include "toy_env.h"

using recarena::Rng;
using recarena::agents::DqnAgent;
using recarena::agents::NStepAccumulator;
using recarena::agents::OnlineAgentOptions;
using recarena::agents::ReplayBuffer;
using recarena::agents::Transition;
using recarena::env::Observation;

namespace {

torch::Tensor I64(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }
torch::Tensor F32(std::vector<float> v) { return torch::tensor(v, torch::kFloat); }
torch::Tensor Bool(std::vector<int64_t> v) {
  return torch::tensor(v, torch::kInt64).to(torch::kBool);
}

// B rows with state_len 3: row b holds items {code_b}, users b, step `step`.
Observation Obs(const std::vector<int64_t>& codes, int64_t step, int64_t num_items = 8) {
  const int64_t B = static_cast<int64_t>(codes.size());
  auto items = torch::full({B, 3}, num_items, torch::kInt64);
  for (int64_t b = 0; b < B; ++b) items[b][0] = codes[static_cast<size_t>(b)];
  return {items, torch::ones({B}, torch::kInt64), torch::arange(B, torch::kInt64),
          torch::full({B}, step, torch::kInt64)};
}

// A one-step transition with actions `actions`, everything else simple.
Transition Simple(const std::vector<int64_t>& actions, int64_t num_items = 8) {
  const int64_t B = static_cast<int64_t>(actions.size());
  Transition t;
  t.obs = Obs(std::vector<int64_t>(static_cast<size_t>(B), 0), 0, num_items);
  t.next_obs = Obs(std::vector<int64_t>(static_cast<size_t>(B), 1), 1, num_items);
  t.mask = torch::ones({B, num_items}, torch::kBool);
  t.next_mask = torch::ones({B, num_items}, torch::kBool);
  t.actions = I64(actions);
  t.rewards = t.actions.to(torch::kFloat) * 0.5;
  t.terminated = torch::zeros({B}, torch::kBool);
  t.truncated = torch::zeros({B}, torch::kBool);
  return t;
}

std::vector<int64_t> ToVec(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kInt64).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}
std::vector<float> ToVecF(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::string Serialize(const std::function<void(torch::serialize::OutputArchive&)>& save) {
  torch::serialize::OutputArchive out;
  save(out);
  std::ostringstream os;
  out.save_to(os);
  return os.str();
}
void Deserialize(const std::string& bytes,
                 const std::function<void(torch::serialize::InputArchive&)>& load) {
  torch::serialize::InputArchive in;
  std::istringstream is(bytes);
  in.load_from(is);
  load(in);
}

OnlineAgentOptions SmallOptions(int64_t num_items = 4) {
  OnlineAgentOptions o;
  o.encoder.kind = recarena::models::EncoderKind::kGru4Rec;
  o.encoder.num_items = num_items;
  o.encoder.hidden = 16;
  o.encoder.state_len = 3;
  o.encoder.dropout = 0.0;
  o.encoder.caser_heights = {1, 2, 3};  // validated for every kind: must fit state_len 3
  o.lr = 0.01;
  o.gamma = 0.5;
  o.dqn.buffer_size = 5000;
  o.dqn.batch_size = 32;
  o.dqn.learning_starts = 32;
  o.dqn.target_every = 20;
  return o;
}

recarena::policies::ExplorationOptions Epsilon(double eps) {
  recarena::policies::ExplorationOptions e;
  e.kind = recarena::policies::ExplorationKind::kEpsilonGreedy;
  e.epsilon.kind = recarena::policies::ScheduleKind::kConstant;
  e.epsilon.start = eps;
  return e;
}

}  // namespace

TEST_CASE("replay buffer: FIFO overwrite at capacity", "[dqn]") {
  ReplayBuffer buf(4, 3);
  CHECK(buf.size() == 0);
  buf.Add(Simple({0, 1, 2}));
  CHECK(buf.size() == 3);
  buf.Add(Simple({3, 4, 5}));
  CHECK(buf.size() == 4);
  CHECK(buf.capacity() == 4);
  CHECK(buf.num_added() == 6);
  auto all = buf.Gather(torch::arange(4, torch::kInt64), 0.9, torch::kCPU);
  // Entries 4 and 5 overwrote the two oldest (0 and 1) in their ring positions.
  CHECK(ToVec(all.actions) == std::vector<int64_t>{4, 5, 2, 3});
  CHECK(ToVecF(all.rewards) == std::vector<float>{2.0f, 2.5f, 1.0f, 1.5f});
  CHECK(ToVec(all.next_obs.items.select(1, 0)) == std::vector<int64_t>{1, 1, 1, 1});
  CHECK(torch::allclose(all.discounts, torch::full({4}, 0.9f)));

  // A batch larger than the capacity keeps its last rows, in the same ring positions.
  ReplayBuffer big(4, 3);
  big.Add(Simple({0, 1, 2, 3, 4, 5}));
  CHECK(big.size() == 4);
  CHECK(ToVec(big.Gather(torch::arange(4, torch::kInt64), 0.9, torch::kCPU).actions) ==
        std::vector<int64_t>{4, 5, 2, 3});
  // Wrong state width and empty masks are refused.
  ReplayBuffer narrow(4, 2);
  CHECK_THROWS_WITH(narrow.Add(Simple({0})), Catch::Contains("[B, 2]"));
  auto bad = Simple({0, 1});
  bad.next_mask[1].fill_(false);
  CHECK_THROWS_WITH(buf.Add(bad), Catch::Contains("allows no item"));
}

TEST_CASE("replay buffer: sampling is uniform from the passed Rng and reproducible", "[dqn]") {
  ReplayBuffer buf(10, 3);
  buf.Add(Simple({0, 1, 2, 3, 4, 5, 6}));
  Rng r1(42), r2(42), manual(42);
  auto a = buf.Sample(50, 0.5, r1, torch::kCPU);
  auto b = buf.Sample(50, 0.5, r2, torch::kCPU);
  CHECK(torch::equal(a.actions, b.actions));
  std::vector<int64_t> expected;
  for (int i = 0; i < 50; ++i) expected.push_back(static_cast<int64_t>(manual.UniformInt(7)));
  CHECK(ToVec(a.actions) == expected);  // action i was stored at position i
  CHECK(r1.NextU64() == manual.NextU64());
  Rng r3(43);
  CHECK_FALSE(torch::equal(buf.Sample(50, 0.5, r3, torch::kCPU).actions, a.actions));
  ReplayBuffer empty(3, 3);
  CHECK_THROWS_WITH(empty.Sample(1, 0.5, r1, torch::kCPU), Catch::Contains("empty"));
}

TEST_CASE("replay buffer: discounts from step counts and termination and save/load", "[dqn]") {
  ReplayBuffer buf(5, 3);
  auto t = Simple({1, 2, 3});
  t.terminated = Bool({0, 1, 0});
  buf.Add(t, I64({2, 2, 3}));
  auto g = buf.Gather(torch::arange(3, torch::kInt64), 0.5, torch::kCPU);
  CHECK(ToVecF(g.discounts) == std::vector<float>{0.25f, 0.0f, 0.125f});

  const std::string bytes = Serialize([&](auto& a) { buf.Save(a); });
  ReplayBuffer copy(5, 3);
  Deserialize(bytes, [&](auto& a) { copy.Load(a); });
  CHECK(copy.size() == 3);
  CHECK(copy.num_added() == 3);
  auto h = copy.Gather(torch::arange(3, torch::kInt64), 0.5, torch::kCPU);
  CHECK(torch::equal(g.obs.items, h.obs.items));
  CHECK(torch::equal(g.next_obs.step, h.next_obs.step));
  CHECK(torch::equal(g.actions, h.actions));
  CHECK(torch::equal(g.rewards, h.rewards));
  CHECK(torch::equal(g.discounts, h.discounts));
  CHECK(torch::equal(g.next_mask, h.next_mask));
  // The ring position is restored: the next entries land in the same places.
  buf.Add(Simple({6, 7, 0}));
  copy.Add(Simple({6, 7, 0}));
  CHECK(ToVec(copy.Gather(torch::arange(5, torch::kInt64), 0.5, torch::kCPU).actions) ==
        std::vector<int64_t>{0, 2, 3, 6, 7});
  CHECK(torch::equal(buf.Gather(torch::arange(5, torch::kInt64), 0.5, torch::kCPU).actions,
                     copy.Gather(torch::arange(5, torch::kInt64), 0.5, torch::kCPU).actions));
  ReplayBuffer other(6, 3);
  CHECK_THROWS_WITH(Deserialize(bytes, [&](auto& a) { other.Load(a); }),
                    Catch::Contains("capacity"));
}

namespace {

// Two slots, steps t = 0..4: slot 0 earns t + 1 and the user leaves at t = 3; slot 1 earns
// 10 (t + 1) and is truncated at t = 1 (a new episode starts at t = 2). obs.step = t identifies the
// start state, action = 4 t + slot.
Transition NStepStep(int64_t t) {
  Transition x;
  x.obs = Obs({t, t}, t);
  x.next_obs = Obs({t + 1, t + 1}, t + 1);
  x.mask = torch::ones({2, 8}, torch::kBool);
  x.next_mask = torch::ones({2, 8}, torch::kBool);
  x.actions = I64({4 * t, 4 * t + 1});
  x.rewards = F32({static_cast<float>(t + 1), static_cast<float>(10 * (t + 1))});
  x.terminated = Bool({t == 3, 0});
  x.truncated = Bool({0, t == 1});
  return x;
}

struct Entry {
  int64_t slot, start, next_step;
  float reward, discount;
};

std::vector<Entry> RunNStep(int64_t n, double gamma) {
  NStepAccumulator acc(n, gamma);
  ReplayBuffer buf(100, 3);
  for (int64_t t = 0; t < 5; ++t) acc.Push(NStepStep(t), buf);
  auto g = buf.Gather(torch::arange(buf.size(), torch::kInt64), gamma, torch::kCPU);
  std::vector<Entry> out;
  for (int64_t i = 0; i < buf.size(); ++i) {
    const int64_t a = g.actions[i].item<int64_t>();
    out.push_back({a % 4, a / 4, g.next_obs.step[i].item<int64_t>(), g.rewards[i].item<float>(),
                   g.discounts[i].item<float>()});
    CHECK(g.obs.step[i].item<int64_t>() == a / 4);  // the stored state is the start state
  }
  return out;
}

void CheckEntries(const std::vector<Entry>& got, const std::vector<Entry>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("entry " << i);
    CHECK(got[i].slot == want[i].slot);
    CHECK(got[i].start == want[i].start);
    CHECK(got[i].next_step == want[i].next_step);
    CHECK(got[i].reward == Approx(want[i].reward));
    CHECK(got[i].discount == Approx(want[i].discount));
  }
}

}  // namespace

TEST_CASE("replay buffer: next_mask stored sparsely, rebuilt exactly, old checkpoints read",
          "[dqn]") {
  const int64_t N = 50;
  ReplayBuffer buf(6, 3);
  // Three adds: all allowed; one and three items blocked; then a row with seven blocked (the
  // disallowed lists widen), overwriting the oldest entries.
  std::vector<torch::Tensor> masks;
  auto add = [&](const std::vector<std::vector<int64_t>>& blocked_per_row) {
    const int64_t B = static_cast<int64_t>(blocked_per_row.size());
    auto t = Simple(std::vector<int64_t>(static_cast<size_t>(B), 1), N);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t item : blocked_per_row[static_cast<size_t>(b)]) t.next_mask[b][item] = false;
      masks.push_back(t.next_mask[b].clone());
    }
    buf.Add(t);
  };
  add({{}, {}});
  add({{3}, {49, 0, 17}});
  add({{1, 2, 3, 4, 5, 6, 7}, {}, {8}});
  // Storage position p holds entry e with e % 6 == p: entries 6, 1, 2, 3, 4, 5.
  auto batch = buf.Gather(torch::arange(6, torch::kInt64), 0.5, torch::kCPU);
  for (int64_t p = 0; p < 6; ++p) {
    const int64_t e = p == 0 ? 6 : p;
    INFO("position " << p);
    CHECK(torch::equal(batch.next_mask[p], masks[static_cast<size_t>(e)]));
  }
  // Save / load round trip.
  const std::string bytes = Serialize([&](auto& a) { buf.Save(a); });
  ReplayBuffer back(6, 3);
  Deserialize(bytes, [&](auto& a) { back.Load(a); });
  auto again = back.Gather(torch::arange(6, torch::kInt64), 0.5, torch::kCPU);
  CHECK(torch::equal(again.next_mask, batch.next_mask));
  // An archive of the dense format (before the sparse masks) loads to the same rows.
  const std::string old_bytes = Serialize([&](auto& a) {
    // Rebuild the old layout: every field of Save, with next_mask dense instead of blocked.
    torch::serialize::InputArchive in;
    std::istringstream is(bytes);
    in.load_from(is);
    for (const char* key :
         {"capacity", "state_len", "num_items", "pos", "size", "num_added", "items", "lengths",
          "users", "steps", "next_items", "next_lengths", "next_users", "next_steps", "actions",
          "rewards", "n_steps", "terminated"}) {
      torch::Tensor x;
      in.read(key, x);
      a.write(key, x);
    }
    a.write("next_mask", batch.next_mask.clone());
  });
  ReplayBuffer old(6, 3);
  Deserialize(old_bytes, [&](auto& a) { old.Load(a); });
  CHECK(torch::equal(old.Gather(torch::arange(6, torch::kInt64), 0.5, torch::kCPU).next_mask,
                     batch.next_mask));
}

TEST_CASE("n-step returns: golden values for n = 1 and n = 3", "[dqn]") {
  // n = 1: every step, both slots, in slot order; discount gamma except where the user left.
  CheckEntries(RunNStep(1, 0.5), {{0, 0, 1, 1, 0.5f},
                                  {1, 0, 1, 10, 0.5f},
                                  {0, 1, 2, 2, 0.5f},
                                  {1, 1, 2, 20, 0.5f},  // truncated: bootstrap kept
                                  {0, 2, 3, 3, 0.5f},
                                  {1, 2, 3, 30, 0.5f},
                                  {0, 3, 4, 4, 0.0f},  // terminated: no bootstrap
                                  {1, 3, 4, 40, 0.5f},
                                  {0, 4, 5, 5, 0.5f},
                                  {1, 4, 5, 50, 0.5f}});
  // n = 3, gamma = 0.5 (hand-computed):
  //  t=1 slot 1 truncated -> flush s0 (10 + 0.5*20 = 20, k=2, 0.25) and s1 (20, k=1, 0.5);
  //  t=2 slot 0 has 3 steps -> s0: 1 + 0.5*2 + 0.25*3 = 2.75, k=3, 0.125, next s3;
  //  t=3 slot 0 terminated -> s1: 2 + 1.5 + 1 = 4.5, s2: 3 + 2 = 5, s3: 4, all discount 0;
  //  t=4 slot 1's new episode (t=2..4) has 3 steps -> s2: 30 + 20 + 12.5 = 62.5, 0.125, next s5.
  CheckEntries(RunNStep(3, 0.5), {{1, 0, 2, 20, 0.25f},
                                  {1, 1, 2, 20, 0.5f},
                                  {0, 0, 3, 2.75f, 0.125f},
                                  {0, 1, 4, 4.5f, 0.0f},
                                  {0, 2, 4, 5, 0.0f},
                                  {0, 3, 4, 4, 0.0f},
                                  {1, 2, 5, 62.5f, 0.125f}});
  // The windows after t = 4: slot 0 holds s4, slot 1 holds s3, s4.
  NStepAccumulator acc(3, 0.5);
  ReplayBuffer buf(100, 3);
  for (int64_t t = 0; t < 5; ++t) acc.Push(NStepStep(t), buf);
  CHECK(acc.pending(0) == 1);
  CHECK(acc.pending(1) == 2);
  // Save/load of the windows: both continue identically.
  NStepAccumulator copy(3, 0.5);
  Deserialize(Serialize([&](auto& a) { acc.Save(a); }), [&](auto& a) { copy.Load(a); });
  ReplayBuffer b1(100, 3), b2(100, 3);
  auto x = NStepStep(5);
  x.terminated = Bool({0, 1});
  acc.Push(x, b1);
  copy.Push(x, b2);
  REQUIRE(b1.size() == 3);  // slot 1 flushes s3, s4, s5
  auto g1 = b1.Gather(torch::arange(3, torch::kInt64), 0.5, torch::kCPU);
  auto g2 = b2.Gather(torch::arange(3, torch::kInt64), 0.5, torch::kCPU);
  CHECK(torch::equal(g1.actions, g2.actions));
  CHECK(torch::equal(g1.rewards, g2.rewards));
  CHECK(ToVecF(g1.rewards) == std::vector<float>{40 + 25 + 15, 50 + 30, 60});
}

TEST_CASE("dqn: TD targets, double-Q and masked next items", "[dqn]") {
  torch::manual_seed(1);
  auto opts = SmallOptions(4);
  auto run = [&](bool double_q, recarena::agents::MetricList* update = nullptr) {
    opts.dqn.double_q = double_q;
    DqnAgent agent(opts, Epsilon(0.1), 4, torch::kCPU, 1);
    {
      torch::NoGradGuard ng;
      // Q = bias whatever the state: online [0, 3, 9, 2], target [4, 1, 10, 6].
      agent.head()->weight.zero_();
      agent.head()->bias.copy_(F32({0, 3, 9, 2}));
      agent.target_head()->weight.zero_();
      agent.target_head()->bias.copy_(F32({4, 1, 10, 6}));
    }
    ReplayBuffer::Batch b;
    b.obs = Obs({0, 1, 2}, 0, 4);
    b.next_obs = Obs({1, 2, 3}, 1, 4);
    b.actions = I64({0, 1, 2});
    b.rewards = F32({1, 0.5, 2});
    b.discounts = F32({0.5, 0.25, 0});
    b.next_mask = Bool({1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}).view({3, 4});
    auto y = ToVecF(agent.TdTargets(b));
    if (update != nullptr) *update = agent.Update(b);
    return y;
  };
  // double: row 0 a* = argmax online over {0, 1, 3} = 1 -> target Q 1: 1 + 0.5 * 1; row 1 a* = 2
  // -> 10: 0.5 + 0.25 * 10; row 2 discount 0: r. Item 2 (the best by both nets) is masked in row 0.
  CHECK(run(true) == std::vector<float>{1.5f, 3.0f, 2.0f});
  // max over allowed of the target: row 0 max{4, 1, 6} = 6, row 1 max = 10.
  CHECK(run(false) == std::vector<float>{4.0f, 3.0f, 2.0f});
  // Losses: Q(s, a) = online bias at a = [0, 3, 9]; double-Q errors [-1.5, 0, 7].
  recarena::agents::MetricList m;
  opts.dqn.loss = recarena::agents::TdLoss::kMse;
  run(true, &m);
  REQUIRE(m.size() == 4);
  CHECK(m[0].first == "loss");
  CHECK(m[0].second == Approx((2.25 + 0 + 49) / 3));
  CHECK(m[1].first == "q_mean");
  CHECK(m[1].second == Approx(4.0));
  CHECK(m[2].first == "target_mean");
  CHECK(m[2].second == Approx(6.5 / 3));
  opts.dqn.loss = recarena::agents::TdLoss::kHuber;  // |e| >= 1: |e| - 0.5
  run(true, &m);
  CHECK(m[0].second == Approx((1.0 + 0 + 6.5) / 3));
}

TEST_CASE("dqn: the gathered loss equals the full-catalog computation, gradients included",
          "[dqn]") {
  // Update computes Q(s, a) and the double-Q target from the chosen rows of the head only
  // (DqnAgent::QAt); the reference here is the textbook computation over all N items, gathered
  // afterwards. SASRec, 300 items, repeated actions and masked next items.
  const int64_t N = 300, S = 64;
  for (const bool double_q : {true, false}) {
    torch::manual_seed(11);
    auto opts = SmallOptions(N);
    opts.encoder.kind = recarena::models::EncoderKind::kSasRec;
    opts.dqn.double_q = double_q;
    DqnAgent agent(opts, Epsilon(0.1), N, torch::kCPU, 1);
    ReplayBuffer::Batch b;
    b.obs.items = torch::randint(0, N + 1, {S, 3}, torch::kInt64);
    b.obs.items.select(1, 0).clamp_max_(N - 1);
    b.obs.lengths = torch::randint(1, 4, {S}, torch::kInt64);
    b.next_obs.items = torch::randint(0, N, {S, 3}, torch::kInt64);
    b.next_obs.lengths = torch::full({S}, 3, torch::kInt64);
    b.actions = torch::randint(0, 20, {S}, torch::kInt64);  // many repeats
    b.rewards = torch::rand({S});
    b.discounts = torch::where(torch::rand({S}) < 0.2, torch::zeros({S}), torch::full({S}, 0.9));
    b.next_mask = torch::rand({S, N}) < 0.7;
    {
      torch::NoGradGuard ng;  // a target net that differs from the online one
      for (auto& p : agent.parameters()) p.add_(0.05 * torch::randn_like(p));
    }
    const auto got = agent.ComputeLoss(b);
    auto params = agent.parameters();
    auto g_got = torch::autograd::grad({got.loss}, params);

    // Reference: full [S, N] Q-values of both networks.
    torch::Tensor y_ref;
    {
      torch::NoGradGuard ng;
      auto qt = agent.TargetScores(b.next_obs);
      torch::Tensor v;
      if (double_q) {
        auto a_star = recarena::policies::MaskedArgmax(agent.Scores(b.next_obs), b.next_mask);
        v = qt.gather(1, a_star.unsqueeze(1)).squeeze(1);
      } else {
        v = torch::where(b.next_mask, qt, torch::full_like(qt, -1e30)).amax(1);
      }
      y_ref = torch::where(b.discounts > 0, b.rewards + b.discounts * v, b.rewards);
    }
    agent.encoder().train();
    auto q = agent.head()->forward(agent.encoder().forward(b.obs.items, b.obs.lengths).last);
    auto q_sa = q.gather(1, b.actions.unsqueeze(1)).squeeze(1);
    auto loss_ref = torch::smooth_l1_loss(q_sa, y_ref, at::Reduction::Mean, 1.0);
    auto g_ref = torch::autograd::grad({loss_ref}, params);

    CHECK(torch::allclose(got.y, y_ref, 1e-6, 1e-6));
    CHECK(torch::allclose(got.q_sa, q_sa, 1e-6, 1e-6));
    CHECK(got.loss.item<double>() == Approx(loss_ref.item<double>()).epsilon(1e-6));
    REQUIRE(g_got.size() == g_ref.size());
    double max_diff = 0.0;
    for (size_t i = 0; i < g_got.size(); ++i) {
      max_diff = std::max(max_diff, (g_got[i] - g_ref[i]).abs().max().item<double>());
    }
    CHECK(max_diff < 1e-6);
    // The head's gradient is dense: zero exactly on the rows no action chose.
    auto head_grad = g_got[g_got.size() - 2];
    CHECK(head_grad.size(0) == N);
    CHECK(head_grad.slice(0, 20).abs().max().item<double>() == 0.0);
    CHECK(head_grad.slice(0, 0, 20).abs().max().item<double>() > 0.0);
  }
}

TEST_CASE("dqn: target network updates (hard and Polyak)", "[dqn]") {
  torch::manual_seed(2);
  auto opts = SmallOptions(4);
  opts.dqn.target_every = 2;
  DqnAgent hard(opts, Epsilon(0.1), 4, torch::kCPU, 1);
  ReplayBuffer buf(16, 3);
  auto t = Simple({0, 1, 2, 3}, 4);
  buf.Add(t);
  auto batch = buf.Gather(torch::arange(4, torch::kInt64), 0.5, torch::kCPU);
  auto same = [](const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!torch::equal(a[i], b[i])) return false;
    }
    return true;
  };
  CHECK(same(hard.parameters(), hard.target_parameters()));
  hard.Update(batch);
  CHECK_FALSE(same(hard.parameters(), hard.target_parameters()));
  hard.Update(batch);
  CHECK(same(hard.parameters(), hard.target_parameters()));

  opts.dqn.target_update = recarena::agents::TargetUpdate::kPolyak;
  opts.dqn.tau = 0.25;
  DqnAgent polyak(opts, Epsilon(0.1), 4, torch::kCPU, 1);
  std::vector<torch::Tensor> before;
  for (auto& p : polyak.target_parameters()) before.push_back(p.clone());
  polyak.Update(batch);
  auto online = polyak.parameters(), target = polyak.target_parameters();
  for (size_t i = 0; i < online.size(); ++i) {
    CHECK(torch::allclose(target[i], 0.25 * online[i] + 0.75 * before[i], 1e-5, 1e-6));
  }
  CHECK_FALSE(same(online, target));
}

TEST_CASE("dqn: gradient clipping bounds the update", "[dqn]") {
  ReplayBuffer buf(16, 3);
  auto t = Simple({0, 1, 2, 3}, 4);
  buf.Add(t);
  auto batch = buf.Gather(torch::arange(4, torch::kInt64), 0.5, torch::kCPU);
  auto step_norm = [&](double clip, double* grad_norm) {
    torch::manual_seed(3);
    auto opts = SmallOptions(4);
    opts.grad_clip = clip;
    opts.dqn.loss = recarena::agents::TdLoss::kMse;
    DqnAgent agent(opts, Epsilon(0.1), 4, torch::kCPU, 1);
    std::vector<torch::Tensor> before;
    for (auto& p : agent.parameters()) before.push_back(p.detach().clone());
    auto m = agent.Update(batch);
    REQUIRE(m[3].first == "grad_norm");
    *grad_norm = m[3].second;
    double sq = 0;
    auto after = agent.parameters();
    for (size_t i = 0; i < after.size(); ++i)
      sq += (after[i] - before[i]).pow(2).sum().item<double>();
    return std::sqrt(sq);
  };
  double g_clip = 0, g_free = 0;
  const double clipped = step_norm(1e-12, &g_clip);
  const double free = step_norm(0.0, &g_free);
  // The reported norm is the pre-clip norm, the same in both runs.
  CHECK(g_clip == Approx(g_free));
  CHECK(g_free > 1e-3);
  // First Adam step: |dθ_i| = lr |g_i| / (|g_i| + eps) <= lr |g_i| / eps, so ||dθ|| <= lr * clip /
  // 1e-8 = 1e-6 when the gradient really is clipped to 1e-12; unclipped it is ~lr per coordinate.
  CHECK(clipped <= 0.01 * 1e-12 / 1e-8 * 1.01);
  CHECK(free > 0.01);
}

TEST_CASE("dqn: Act never picks masked items", "[dqn]") {
  torch::manual_seed(4);
  const int64_t N = 6, B = 64;
  auto opts = SmallOptions(N);
  Rng mask_rng(9);
  auto mask = torch::zeros({B, N}, torch::kBool);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < N; ++j) mask[b][j] = mask_rng.Bernoulli(0.4);
    mask[b][static_cast<int64_t>(mask_rng.UniformInt(N - 1)) + 1] = true;  // >= 1 allowed
    if (b % 2 == 0) mask[b][0] = false;
  }
  std::vector<int64_t> codes;
  for (int64_t b = 0; b < B; ++b) codes.push_back(b % N);
  auto obs = Obs(codes, 0, N);
  for (double eps : {0.0, 0.5, 1.0}) {
    DqnAgent agent(opts, Epsilon(eps), N, torch::kCPU, 1);
    {
      torch::NoGradGuard ng;
      agent.head()->bias[0] = 100.0;  // the masked item 0 is every row's best Q
    }
    Rng rng(5);
    for (bool explore : {true, false}) {
      for (int rep = 0; rep < 5; ++rep) {
        auto sel = agent.Act(obs, mask, explore, rng);
        REQUIRE(sel.actions.sizes() == torch::IntArrayRef{B});
        CHECK(mask.gather(1, sel.actions.unsqueeze(1)).all().item<bool>());
        if (!explore) {
          CHECK(
              torch::equal(sel.actions, recarena::policies::MaskedArgmax(agent.Scores(obs), mask)));
          CHECK(sel.greedy.all().item<bool>());
        }
      }
    }
  }
}

namespace {

// Trains a DQN agent in the toy environment (4 items, item 1 best) for `steps` env steps.
std::unique_ptr<DqnAgent> TrainToy(int64_t steps, recarena::env::StepResult* last = nullptr) {
  torch::manual_seed(11);
  auto sim = recarena::testing::ToySimulator();
  recarena::env::VectorEnvOptions vo;
  vo.num_envs = 8;
  recarena::env::VectorEnv env(sim, vo);
  auto agent = std::make_unique<DqnAgent>(SmallOptions(4), Epsilon(0.2), 4, torch::kCPU, 7);
  Rng rng(3);
  auto cur = env.Reset(5);
  for (int64_t i = 0; i < steps; ++i) {
    auto sel = agent->Act(cur.observation, cur.candidate_mask, true, rng);
    auto next = env.Step(sel.actions);
    agent->Observe(recarena::agents::MakeTransition(cur, sel.actions, next));
    cur = next;
  }
  if (last != nullptr) *last = cur;
  return agent;
}

}  // namespace

TEST_CASE("dqn: learns the best item of the toy environment, reproducibly", "[dqn]") {
  recarena::env::StepResult last;
  auto agent = TrainToy(300, &last);
  CHECK(agent->step() == 300);
  CHECK(agent->grad_steps() == 300 - 3);  // 8 transitions a step, updates from 32 stored on
  CHECK(agent->buffer().size() == 2400);
  // States: the current ones of the 8 slots plus the reset state.
  auto sim = recarena::testing::ToySimulator();
  recarena::env::VectorEnv env(sim, {});
  auto reset = env.Reset(1);
  for (const auto& obs : {last.observation, reset.observation}) {
    auto q = agent->Scores(obs);
    INFO("Q = " << q);
    for (int64_t j : {0, 2, 3}) CHECK((q.select(1, 1) > q.select(1, j)).all().item<bool>());
    // Close to the true values (gamma 0.5, truncation bootstrapped, best item forever after):
    // V = sigmoid(2) / (1 - 0.5) = 1.7616, Q(s, other) = sigmoid(-2) + 0.5 V = 1.0.
    CHECK((q.select(1, 1) - 1.7616).abs().max().item<double>() < 0.1);
    for (int64_t j : {0, 2, 3}) CHECK((q.select(1, j) - 1.0).abs().max().item<double>() < 0.1);
    Rng rng(0);
    auto greedy = agent->Act(obs, torch::ones({q.size(0), 4}, torch::kBool), false, rng);
    CHECK((greedy.actions == 1).all().item<bool>());
  }
  // Same seeds, same Q-values, bit for bit.
  auto again = TrainToy(300);
  CHECK(torch::equal(agent->Scores(last.observation), again->Scores(last.observation)));
}

TEST_CASE("dqn: save/load mid-training continues identically", "[dqn]") {
  torch::manual_seed(21);
  auto opts = SmallOptions(4);
  opts.dqn.n_step = 2;
  opts.dqn.learning_starts = 16;
  opts.dqn.batch_size = 8;
  opts.dqn.target_every = 3;
  opts.dqn.updates_per_step = 2;
  auto explore = Epsilon(0.3);
  explore.kind = recarena::policies::ExplorationKind::kUcb;  // exercises the explorer's counts
  auto sim = recarena::testing::ToySimulator();
  recarena::env::VectorEnvOptions vo;
  vo.num_envs = 4;
  recarena::env::VectorEnv env(sim, vo);
  DqnAgent a(opts, explore, 4, torch::kCPU, 5);
  Rng rng(8);
  auto cur = env.Reset(2);
  std::string checkpoint;
  struct Record {
    recarena::env::StepResult cur;
    Rng rng;
    torch::Tensor actions;
    Transition t;
    recarena::agents::MetricList metrics;
  };
  std::vector<Record> records;
  for (int i = 0; i < 20; ++i) {
    if (i == 12) checkpoint = Serialize([&](auto& ar) { a.Save(ar); });
    Rng before = rng;
    auto sel = a.Act(cur.observation, cur.candidate_mask, true, rng);
    auto next = env.Step(sel.actions);
    auto t = recarena::agents::MakeTransition(cur, sel.actions, next);
    auto m = a.Observe(t);
    if (i >= 12) records.push_back({cur, before, sel.actions, t, m});
    cur = next;
  }
  REQUIRE_FALSE(records.back().metrics.empty());
  torch::manual_seed(999);  // a different global state: nothing may depend on it
  DqnAgent b(opts, explore, 4, torch::kCPU, 77);
  Deserialize(checkpoint, [&](auto& ar) { b.Load(ar); });
  CHECK(b.step() == 12);
  for (auto& r : records) {
    auto sel = b.Act(r.cur.observation, r.cur.candidate_mask, true, r.rng);
    CHECK(torch::equal(sel.actions, r.actions));
    auto m = b.Observe(r.t);
    REQUIRE(m.size() == r.metrics.size());
    for (size_t k = 0; k < m.size(); ++k) {
      CHECK(m[k].first == r.metrics[k].first);
      CHECK(m[k].second == r.metrics[k].second);
    }
  }
  CHECK(torch::equal(a.Scores(cur.observation), b.Scores(cur.observation)));
  CHECK(b.grad_steps() == a.grad_steps());
}
