// MoTrans (models/decision_transformer.h): token layout of both orders and causal masking.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "models/decision_transformer.h"

using recarena::models::DecisionTransformer;
using recarena::models::DecisionTransformerOptions;
using recarena::models::TokenOrder;

namespace {

constexpr int64_t kD = 8, kT = 4, kItems = 10;

DecisionTransformer Make(TokenOrder order) {
  torch::manual_seed(5);
  DecisionTransformerOptions o;
  o.hidden = kD;
  o.num_heads = 2;
  o.num_blocks = 2;
  o.dropout = 0.0;
  o.token_order = order;
  o.max_len = kT;
  o.num_items = kItems;
  DecisionTransformer dt(o);
  dt->eval();
  return dt;
}

struct Inputs {
  torch::Tensor states = torch::randn({2, kT, kD});
  torch::Tensor returns = torch::rand({2, kT, 3}) * 3;
  torch::Tensor actions = torch::tensor(
      {{1, 2, 3, 4}, {5, 6, static_cast<int>(kItems), static_cast<int>(kItems)}}, torch::kInt64);
  torch::Tensor lengths = torch::tensor({4, 2}, torch::kInt64);
};

}  // namespace

TEST_CASE("decision transformer: token layout of both orders", "[models][dt]") {
  for (TokenOrder order : {TokenOrder::kModt4r, TokenOrder::kMrdt}) {
    auto dt = Make(order);
    Inputs in;
    in.returns = torch::zeros({2, kT, 3});  // return tokens = P_t only
    auto out = dt->forward(in.states, in.returns, in.actions, in.lengths);
    REQUIRE(out.tokens.sizes() == torch::IntArrayRef({2, 5 * kT, kD}));
    const auto pos = dt->named_parameters()["position_embedding.weight"];
    const auto act = dt->named_parameters()["action_embedding.weight"];
    const int64_t s_slot = order == TokenOrder::kModt4r ? 0 : 3;
    const int64_t r_first = order == TokenOrder::kModt4r ? 1 : 0;
    CHECK(dt->StateSlot() == s_slot);
    CHECK(dt->ReturnSlot(0) == r_first);
    for (int64_t t = 0; t < kT; ++t) {
      CHECK(torch::allclose(out.tokens[0][5 * t + s_slot], in.states[0][t] + pos[t]));
      for (int64_t o = 0; o < 3; ++o)
        CHECK(torch::allclose(out.tokens[0][5 * t + r_first + o], pos[t]));
      CHECK(torch::allclose(out.tokens[0][5 * t + 4],
                            act[in.actions[0][t].item<int64_t>()] + pos[t]));
    }
    // Return token = R * E_o + P_t.
    in.returns[0][1][2] = 2.0;
    auto out2 = dt->forward(in.states, in.returns, in.actions, in.lengths);
    const auto e = dt->named_parameters()["return_embedding"];
    CHECK(torch::allclose(out2.tokens[0][5 + r_first + 2], 2.0 * e[2] + pos[1]));
    REQUIRE(out.action_repr.sizes() == torch::IntArrayRef({2, kT, kD}));
    REQUIRE(out.return_preds.sizes() == torch::IntArrayRef({2, kT, 3}));
    // MRDT has no source for R_{1,acc}; padded steps are masked too.
    CHECK(out.return_mask[0][0][0].item<float>() == (order == TokenOrder::kMrdt ? 0.0F : 1.0F));
    CHECK(out.return_mask[1][2].sum().item<float>() == 0.0F);
  }
}

TEST_CASE("decision transformer: a_t and later tokens do not reach step-t predictions",
          "[models][dt]") {
  for (TokenOrder order : {TokenOrder::kModt4r, TokenOrder::kMrdt}) {
    auto dt = Make(order);
    Inputs in;
    const auto base = dt->forward(in.states, in.returns, in.actions, in.lengths);
    for (int64_t t = 0; t < kT; ++t) {
      // Change a_t: step <= t predictions unchanged, step t+1 changes (if any).
      auto a = in.actions.clone();
      a[0][t] = (a[0][t].item<int64_t>() + 3) % kItems;
      auto o = dt->forward(in.states, in.returns, a, in.lengths);
      CHECK(torch::allclose(o.action_repr[0].slice(0, 0, t + 1),
                            base.action_repr[0].slice(0, 0, t + 1)));
      CHECK(torch::allclose(o.return_preds[0].slice(0, 0, t + 1),
                            base.return_preds[0].slice(0, 0, t + 1)));
      if (t + 1 < kT) {
        CHECK_FALSE(torch::allclose(o.action_repr[0][t + 1], base.action_repr[0][t + 1]));
      }
      // Change every token of steps after t: nothing at step <= t changes.
      if (t + 1 < kT) {
        auto s = in.states.clone();
        auto r = in.returns.clone();
        s[0].slice(0, t + 1) += 1.0;
        r[0].slice(0, t + 1) += 1.0;
        auto o2 = dt->forward(s, r, in.actions, in.lengths);
        CHECK(torch::allclose(o2.action_repr[0].slice(0, 0, t + 1),
                              base.action_repr[0].slice(0, 0, t + 1)));
        CHECK(torch::allclose(o2.return_preds[0].slice(0, 0, t + 1),
                              base.return_preds[0].slice(0, 0, t + 1)));
        CHECK_FALSE(torch::allclose(o2.action_repr[0][t + 1], base.action_repr[0][t + 1]));
      }
    }
    // The returns of step t DO reach the action prediction of step t (it is conditioned on them).
    auto r = in.returns.clone();
    r[0][1][0] += 2.0;
    auto o = dt->forward(in.states, r, in.actions, in.lengths);
    CHECK_FALSE(torch::allclose(o.action_repr[0][1], base.action_repr[0][1]));
    CHECK(torch::allclose(o.action_repr[0][0], base.action_repr[0][0]));
    // Padding steps of row 1 do not affect it, and its outputs there are zero.
    auto s = in.states.clone();
    s[1].slice(0, 2) += 5.0;
    auto o3 = dt->forward(s, in.returns, in.actions, in.lengths);
    CHECK(torch::allclose(o3.action_repr[1], base.action_repr[1]));
    CHECK(base.action_repr[1].slice(0, 2).abs().sum().item<float>() == 0.0F);
  }
}

TEST_CASE("decision transformer: invalid options and shapes throw", "[models][dt]") {
  DecisionTransformerOptions o;
  o.hidden = 6;
  o.num_heads = 4;
  o.num_items = 3;
  CHECK_THROWS_AS(DecisionTransformer(o), recarena::Error);
  o.num_heads = 2;
  o.max_len = 2;
  DecisionTransformer dt(o);
  CHECK_THROWS_AS(dt->forward(torch::zeros({1, 3, 6}), torch::zeros({1, 3, 3}),
                              torch::zeros({1, 3}, torch::kInt64), torch::ones({1}, torch::kInt64)),
                  recarena::Error);
}
