// SQN / SAC / SNQN / SA2C (agents/sqn.h): golden losses on hand-made batches, the window append,
// the agent's update, checkpoint and phase schedule, and a toy check that the Q head learns
// rewards.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "agents/sqn.h"
#include "core/error.h"
#include "test_util.h"
#include "tiny_agents.h"

using namespace recarena::agents;

namespace {

torch::Tensor F(std::initializer_list<float> v) { return torch::tensor(std::vector<float>(v)); }
using recarena::testing::I;
using recarena::testing::M;

// Two rows, three items. Logits all 0 (CE = log 3 per row); Q(s, .) = [[1, 0, 0], [0, 2, 0]];
// actions 0 and 1 (Q(s, a) = 1 and 2); rewards 0.2; the second row ends its sequence.
// Positive targets: row 0 a* = 1, y = 0.2 + 0.5 * 2 = 1.2, L_q = 0.5 * 0.2^2 = 0.02;
//                   row 1 done, y = 0.2, L_q = 0.5 * 1.8^2 = 1.62.
// Negatives [[1, 2], [0, 2]] have Q 0; their targets 0.5 * Q_tgt(s, argmax Q_main(s)) = 0.5 * [4,
// 3], so sum_j L_q- = [2 * 0.5 * 2^2, 2 * 0.5 * 1.5^2] = [4, 2.25].
SqnLossInputs HandBatch() {
  SqnLossInputs in;
  in.logits = torch::zeros({2, 3}).requires_grad_(true);
  in.q = M({{1, 0, 0}, {0, 2, 0}}).requires_grad_(true);
  in.actions = I({0, 1});
  in.rewards = F({0.2f, 0.2f});
  in.not_done = F({1.0f, 0.0f});
  in.next_selector = M({{0, 1, 0}, {1, 0, 0}});
  in.next_target = M({{1, 2, 3}, {5, 5, 5}});
  in.negatives = torch::tensor({{1, 2}, {0, 2}}, torch::kInt64);
  in.cur_selector = M({{0, 0, 1}, {0, 1, 0}});
  in.cur_target = M({{1, 1, 4}, {2, 3, 2}});
  in.behaviour = F({0.5f, 0.25f, 0.25f});
  return in;
}

const double kCe = std::log(3.0);
const double kQPos[2] = {0.02, 1.62};
const double kQNeg[2] = {4.0, 2.25};

}  // namespace

TEST_CASE("DoubleQLoss: target from the selector's argmax, 0.5 td^2, target detached",
          "[sqn][golden]") {
  auto q = F({1.0f, 0.5f}).requires_grad_(true);
  const auto sel = M({{0, 3, 1}, {5, 0, 0}});
  const auto tgt = M({{2, 4, 6}, {1, 1, 1}});
  // a* = [1, 0]; y = [0.2 + 0.5 * 4, 1 + 0 * 1] = [2.2, 1.0].
  auto l = DoubleQLoss(q, F({0.2f, 1.0f}), F({0.5f, 0.0f}), sel, tgt);
  CHECK(l[0].item<float>() == Approx(0.72));
  CHECK(l[1].item<float>() == Approx(0.125));
  l.sum().backward();
  CHECK(q.grad()[0].item<float>() == Approx(-1.2));  // -(y - q)
  CHECK(q.grad()[1].item<float>() == Approx(-0.5));
  // [B, K] actions share their row's target.
  auto qk = M({{1, 2}, {0, 0}});
  auto lk = DoubleQLoss(qk, F({0.2f, 1.0f}), F({0.5f, 0.0f}), sel, tgt);
  CHECK(lk[0][1].item<float>() == Approx(0.02));
  CHECK(lk[1][0].item<float>() == Approx(0.5));
  // Ties in the selector go to the smallest item id.
  auto tie = DoubleQLoss(F({0.0f}), F({0.0f}), F({1.0f}), M({{1, 1, 0}}), M({{3, 7, 9}}));
  CHECK(tie[0].item<float>() == Approx(4.5));
}

TEST_CASE("AppendToWindow appends the target, dropping the oldest item of a full window", "[sqn]") {
  const auto items = torch::tensor({{1, 2, 9, 9}, {1, 2, 3, 4}, {5, 9, 9, 9}}, torch::kInt64);
  auto [next, len] = AppendToWindow(items, I({2, 4, 1}), I({7, 8, 6}), 9);
  CHECK(
      torch::equal(next, torch::tensor({{1, 2, 7, 9}, {2, 3, 4, 8}, {5, 6, 9, 9}}, torch::kInt64)));
  CHECK(torch::equal(len, I({3, 4, 2})));
}

TEST_CASE("SqnLoss golden values: SQN, SAC, SNQN, SA2C (with and without IPS)", "[sqn][golden]") {
  SqnOptions o;  // discount 0.5, advantage in [0, 10], IPS off
  SECTION("SQN: CE + L_q; gradients of logits and Q") {
    auto in = HandBatch();
    auto t = SqnLoss(in, SqnVariant::kSqn, o);
    CHECK(t.ce.item<float>() == Approx(kCe));
    CHECK(t.q_pos.item<float>() == Approx((kQPos[0] + kQPos[1]) / 2));
    CHECK(t.q_neg.item<float>() == Approx(0.0));
    CHECK(t.total.item<float>() == Approx(kCe + (kQPos[0] + kQPos[1]) / 2));
    t.total.backward();
    CHECK(in.q.grad()[0][0].item<float>() == Approx(-0.1));  // -(1.2 - 1) / 2
    CHECK(in.q.grad()[1][1].item<float>() == Approx(0.9));   // -(0.2 - 2) / 2
    CHECK(in.q.grad()[0][1].item<float>() == Approx(0.0));
    CHECK(in.logits.grad()[0][0].item<float>() == Approx((1.0 / 3 - 1) / 2));
  }
  SECTION("SAC: CE weighted by the detached Q(s, a)") {
    auto in = HandBatch();
    auto t = SqnLoss(in, SqnVariant::kSac, o);
    CHECK(t.total.item<float>() == Approx((kCe * 1 + kQPos[0] + kCe * 2 + kQPos[1]) / 2));
    t.total.backward();
    CHECK(in.logits.grad()[1][1].item<float>() == Approx((1.0 / 3 - 1) * 2 / 2));
    CHECK(in.q.grad()[1][1].item<float>() == Approx(0.9));  // the CE weight sends no gradient
  }
  SECTION("SNQN: CE + L_q + the negatives' L_q") {
    auto in = HandBatch();
    auto t = SqnLoss(in, SqnVariant::kSnqn, o);
    CHECK(t.q_neg.item<float>() == Approx((kQNeg[0] + kQNeg[1]) / 2));
    CHECK(t.total.item<float>() == Approx(kCe + (kQPos[0] + kQPos[1] + kQNeg[0] + kQNeg[1]) / 2));
    t.total.backward();
    CHECK(in.q.grad()[0][2].item<float>() == Approx(-2.0 / 2));  // negative item 2, y- = 2
  }
  SECTION("SA2C: advantage over positive and negatives, clipped; IPS weights") {
    // A = Q(s, a) - (Q(s, a) + sum_j Q(s, a-)) / 3 = [2/3, 4/3].
    const double a0 = 2.0 / 3, a1 = 4.0 / 3;
    auto in = HandBatch();
    auto t = SqnLoss(in, SqnVariant::kSa2c, o);
    CHECK(t.advantage.item<float>() == Approx((a0 + a1) / 2));
    CHECK(t.ips.item<float>() == Approx(1.0));
    CHECK(t.total.item<float>() ==
          Approx((kQPos[0] + kQNeg[0] + kCe * a0 + kQPos[1] + kQNeg[1] + kCe * a1) / 2));
    SqnOptions clipped = o;
    clipped.advantage_max = 1.0;
    clipped.q_weight = 0.5;
    auto tc = SqnLoss(HandBatch(), SqnVariant::kSa2c, clipped);
    CHECK(tc.total.item<float>() ==
          Approx((0.5 * (kQPos[0] + kQNeg[0]) + kCe * a0 + 0.5 * (kQPos[1] + kQNeg[1]) + kCe) / 2));
    // IPS: pi = 1/3 everywhere, beta = [0.5, 0.25, 0.25] -> w = [2/3, 4/3] (smooth 1), clipped to
    // [0.1, 1.0] -> [2/3, 1].
    SqnOptions ips = o;
    ips.ips_smooth = 1.0;
    ips.ips_max = 1.0;
    auto ti = SqnLoss(HandBatch(), SqnVariant::kSa2c, ips);
    CHECK(ti.ips.item<float>() == Approx((2.0 / 3 + 1.0) / 2));
    CHECK(ti.total.item<float>() ==
          Approx((kQPos[0] + kQNeg[0] + kCe * a0 * 2.0 / 3 + kQPos[1] + kQNeg[1] + kCe * a1) / 2));
  }
}

TEST_CASE("RewardOptions map values to rewards, SqnOptions::Validate names the key", "[sqn]") {
  RewardOptions r;
  const auto v = F({1.0f, 4.0f, 5.0f});
  CHECK(torch::allclose(r.Rewards(v), F({0.2f, 0.2f, 0.2f})));
  r.kind = RewardKind::kThreshold;
  CHECK(torch::allclose(r.Rewards(v), F({0.2f, 1.0f, 1.0f})));
  r.kind = RewardKind::kValue;
  r.scale = 0.5;
  CHECK(torch::allclose(r.Rewards(v), F({0.5f, 2.0f, 2.5f})));
  SqnOptions o;
  o.discount = 1.5;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("rl.discount"));
  o = SqnOptions();
  o.advantage_max = -1.0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("rl.advantage_max"));
}

namespace {

SupervisedOptions TinyModel(int64_t items) { return recarena::testing::TinyGruOptions(items, 3); }

SequenceBatch TinyBatch() {
  return {torch::tensor({{0, 1, 6}, {2, 6, 6}, {3, 4, 5}}, torch::kInt64), I({2, 1, 3}),
          I({2, 3, 0}), F({1.0f, 5.0f, 3.0f}), torch::tensor({false, true, false})};
}

std::vector<float> Uniform(int64_t n) {
  return std::vector<float>(static_cast<size_t>(n), 1.0f / static_cast<float>(n));
}

}  // namespace

TEST_CASE("SqnAgent: updates alternate networks, SA2C switches phase, checkpoints round-trip",
          "[sqn]") {
  torch::manual_seed(3);
  SqnOptions rl;
  rl.num_negatives = 2;
  rl.sa2c_switch_step = 3;
  SqnAgent agent(TinyModel(6), rl, SqnVariant::kSa2c, Uniform(6), 7, torch::kCPU);
  const auto before0 = agent.QValues(0, TinyBatch().items, TinyBatch().lengths);
  const auto before1 = agent.QValues(1, TinyBatch().items, TinyBatch().lengths);
  for (int s = 0; s < 8; ++s) {
    const MetricList m = agent.Update(TinyBatch());
    const double adv = m[4].second;
    INFO("step " << s);
    CHECK(m[4].first == "advantage");
    if (s < 3) CHECK(adv == 0.0);  // SNQN phase
    if (s >= 3) CHECK(adv >= 0.0);
    CHECK(std::isfinite(m[0].second));
  }
  CHECK(agent.step() == 8);
  // Both networks were the main network at least once in 8 coin flips of this seed.
  CHECK_FALSE(torch::equal(before0, agent.QValues(0, TinyBatch().items, TinyBatch().lengths)));
  CHECK_FALSE(torch::equal(before1, agent.QValues(1, TinyBatch().items, TinyBatch().lengths)));

  torch::manual_seed(99);
  SqnAgent copy(TinyModel(6), rl, SqnVariant::kSa2c, Uniform(6), 7, torch::kCPU);
  recarena::testing::CopyThroughArchive(agent, copy);
  CHECK(copy.step() == 8);
  const auto b = TinyBatch();
  CHECK(torch::equal(agent.Scores(b.items, b.lengths), copy.Scores(b.items, b.lengths)));
  CHECK(torch::equal(agent.QValues(1, b.items, b.lengths), copy.QValues(1, b.items, b.lengths)));
  // The same next step (same coin, same negatives, same optimizer state) on both.
  const MetricList ma = agent.Update(b), mb = copy.Update(b);
  CHECK(ma == mb);

  SequenceBatch no_values = b;
  no_values.values = torch::Tensor();
  CHECK_THROWS_AS(agent.Update(no_values), recarena::Error);
}

TEST_CASE("SNQN toy: with gamma 0 the Q head learns the logged rewards, negatives go to 0",
          "[sqn][toy]") {
  // Item 0 after item 1 earns 1.0, item 2 after item 3 earns 0.2 (reward = value); negatives 0.
  torch::manual_seed(5);
  SqnOptions rl;
  rl.discount = 0.0;
  rl.num_negatives = 3;
  rl.reward.kind = RewardKind::kValue;
  SupervisedOptions model = TinyModel(6);
  model.encoder.state_len = 1;
  SqnAgent agent(model, rl, SqnVariant::kSnqn, Uniform(6), 1, torch::kCPU);
  const SequenceBatch b{torch::tensor({{1}, {3}}, torch::kInt64), I({1, 1}), I({0, 2}),
                        F({1.0f, 0.2f}), torch::tensor({false, false})};
  for (int s = 0; s < 600; ++s) agent.Update(b);
  for (int net = 0; net < 2; ++net) {
    const auto q = agent.QValues(net, b.items, b.lengths);
    INFO("network " << net << " Q " << q);
    CHECK(q[0][0].item<float>() == Approx(1.0).margin(0.05));
    CHECK(q[1][2].item<float>() == Approx(0.2).margin(0.05));
    CHECK(std::abs(q[0][4].item<float>()) < 0.05);
    CHECK(std::abs(q[1][5].item<float>()) < 0.05);
  }
}

TEST_CASE("SmorlRewards and SmorlQLoss golden values", "[sqn][smorl][golden]") {
  // v0 = (1, 0), v1 = (0, 1), v2 = (1, 1); long tail = {1, 2}.
  const auto v = M({{1, 0}, {0, 1}, {1, 1}});
  const auto r = SmorlRewards(F({0.2f, 1.0f}), I({0, 2}), I({1, 0}), v, F({0, 1, 1}));
  CHECK(r[0][0].item<double>() == Approx(0.2));
  CHECK(r[0][1].item<double>() == Approx(1.0));  // cos(v0, v1) = 0
  CHECK(r[0][2].item<double>() == Approx(1.0));  // item 1 is in the long tail
  CHECK(r[1][0].item<double>() == Approx(1.0));
  CHECK(r[1][1].item<double>() == Approx(1.0 - 1.0 / std::sqrt(2.0)));
  CHECK(r[1][2].item<double>() == Approx(0.0));

  // Weights (1, 0.5, 2): the scalarised selector is [1, 2], so a* = 1 and Q_tgt(s', a*) = [6, 8,
  // 10]; y = [0.2, 0.5, 1] + 0.5 * [6, 8, 10] = [3.2, 4.5, 6] against q_sa = [1, 2, 3]:
  // 0.5 * (2.2^2 * 1 + 2.5^2 * 0.5 + 3^2 * 2) = 12.9825.
  auto q_sa = M({{1, 2, 3}}).requires_grad_(true);
  const auto sel = torch::tensor({{{1.0f, 0.0f}, {0.0f, 4.0f}, {0.0f, 0.0f}}});
  const auto tgt = torch::tensor({{{5.0f, 6.0f}, {7.0f, 8.0f}, {9.0f, 10.0f}}});
  const auto w = F({1.0f, 0.5f, 2.0f});
  const auto l = SmorlQLoss(q_sa, M({{0.2f, 0.5f, 1.0f}}), F({0.5f}), sel, tgt, w);
  CHECK(l[0].item<double>() == Approx(12.9825));
  l.sum().backward();  // d/dq_o = -w_o (y_o - q_o): the target is detached
  CHECK(q_sa.grad()[0][0].item<double>() == Approx(-2.2));
  CHECK(q_sa.grad()[0][2].item<double>() == Approx(-6.0));
  // Done: no bootstrap, y = r.
  const auto done = SmorlQLoss(M({{1, 2, 3}}), M({{0.2f, 0.5f, 1.0f}}), F({0.0f}), sel, tgt, w);
  CHECK(done[0].item<double>() == Approx(0.5 * (0.64 + 2.25 * 0.5 + 4.0 * 2.0)));

  SqnOptions o;
  o.smorl.alpha = -1.0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("rl.smorl.alpha"));
}

TEST_CASE("SMORL toy: with gamma 0 each objective's Q head learns its reward of the logged item",
          "[sqn][smorl][toy]") {
  // Item 0 after item 1 (value 1.0), item 2 after item 3 (value 0.2). Once the supervised head
  // predicts the logged items, r_div = 1 - cos(v1, v0) = 1 and 1 - cos(v3, v2) = 1 - 1/sqrt(2);
  // r_nov = 1 for item 0 (long tail), 0 for item 2.
  torch::manual_seed(5);
  SqnOptions rl;
  rl.discount = 0.0;
  rl.reward.kind = RewardKind::kValue;
  rl.smorl.similarity = ReturnSimilarity::kFeatures;
  SupervisedOptions model = TinyModel(6);
  model.encoder.state_len = 1;
  const auto vectors = M({{0, 1}, {1, 0}, {1, 0}, {1, 1}, {1, 1}, {0, 1}});
  SqnAgent agent(model, rl, SqnVariant::kSmorl, Uniform(6), 1, torch::kCPU, {1, 0, 0, 0, 0, 0},
                 vectors);
  const SequenceBatch b{torch::tensor({{1}, {3}}, torch::kInt64), I({1, 1}), I({0, 2}),
                        F({1.0f, 0.2f}), torch::tensor({false, false})};
  for (int s = 0; s < 600; ++s) agent.Update(b);
  CHECK(torch::equal(agent.Scores(b.items, b.lengths).argmax(1), I({0, 2})));
  for (int net = 0; net < 2; ++net) {
    const auto q = agent.ObjectiveQValues(net, b.items, b.lengths);  // [2, 3, 6]
    INFO("network " << net << " Q " << q);
    CHECK(q[0][0][0].item<float>() == Approx(1.0).margin(0.05));
    CHECK(q[0][1][0].item<float>() == Approx(1.0).margin(0.05));
    CHECK(q[0][2][0].item<float>() == Approx(1.0).margin(0.05));
    CHECK(q[1][0][2].item<float>() == Approx(0.2).margin(0.05));
    CHECK(q[1][1][2].item<float>() == Approx(1.0 - 1.0 / std::sqrt(2.0)).margin(0.05));
    CHECK(q[1][2][2].item<float>() == Approx(0.0).margin(0.05));
    // QValues scalarises with the (equal) weights.
    CHECK(agent.QValues(net, b.items, b.lengths)[0][0].item<float>() ==
          Approx(q[0].select(1, 0).sum().item<float>()));
  }
  SqnAgent copy(model, rl, SqnVariant::kSmorl, Uniform(6), 1, torch::kCPU, {1, 0, 0, 0, 0, 0},
                vectors);
  recarena::testing::CopyThroughArchive(agent, copy);
  CHECK(agent.Update(b) == copy.Update(b));
}
