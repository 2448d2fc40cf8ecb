#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "core/error.h"
#include "models/hierarchical_dt.h"

using recarena::models::HdtOptions;
using recarena::models::InterDt;
using recarena::models::IntraDt;
using recarena::models::IntraDtOutput;

namespace {
constexpr int64_t kN = 6, kD = 8, kT = 4;

HdtOptions Options() {
  HdtOptions o;
  o.num_items = kN;
  o.dim = kD;
  o.num_heads = 2;
  o.intra_blocks = 2;
  o.max_steps = kT;
  o.dropout = 0.0;
  return o;
}

struct IntraInputs {
  torch::Tensor goal, novelty, states, actions, steps;
};

IntraInputs RandomInputs(int64_t B) {
  return {torch::randn({B, kD}), torch::randn({B, kT}), torch::randn({B, kT, kD}),
          torch::randint(0, kN, {B, kT}, torch::kInt64), torch::full({B}, kT, torch::kInt64)};
}

IntraDtOutput Run(IntraDt& dt, const IntraInputs& in) {
  torch::NoGradGuard ng;
  return dt->forward(in.goal, in.novelty, in.states, in.actions, in.steps);
}

bool Same(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::allclose(a, b, 1e-6, 1e-6);
}
}  // namespace

TEST_CASE("IntraDT: no prediction sees its own action or a later token", "[models][hdt]") {
  torch::manual_seed(11);
  IntraDt dt(Options());
  dt->eval();
  const IntraInputs base = RandomInputs(1);
  const IntraDtOutput ref = Run(dt, base);
  REQUIRE(ref.return_hidden.sizes() == torch::IntArrayRef({1, kT, kD}));
  REQUIRE(ref.state_hidden.sizes() == torch::IntArrayRef({1, kT, kD}));
  auto step = [](const torch::Tensor& h, int64_t t) { return h.select(1, t); };

  for (int64_t t = 0; t < kT; ++t) {
    // Changing a_{c,t}: predictions at steps <= t stay, later ones (if any) change.
    IntraInputs in = base;
    in.actions = base.actions.clone();
    in.actions[0][t] = (base.actions[0][t].item<int64_t>() + 1) % kN;
    const IntraDtOutput out = Run(dt, in);
    for (int64_t k = 0; k <= t; ++k) {
      CHECK(Same(step(out.state_hidden, k), step(ref.state_hidden, k)));
      CHECK(Same(step(out.return_hidden, k), step(ref.return_hidden, k)));
    }
    for (int64_t k = t + 1; k < kT; ++k) {
      CHECK_FALSE(Same(step(out.state_hidden, k), step(ref.state_hidden, k)));
      CHECK_FALSE(Same(step(out.return_hidden, k), step(ref.return_hidden, k)));
    }
  }
  // Changing s_{c,2}: steps 0, 1 and the return hidden of step 2 (token k = 0 precedes s) stay;
  // the state hidden of step 2 changes.
  IntraInputs in = base;
  in.states = base.states.clone();
  in.states[0][2] += 1.0;
  IntraDtOutput out = Run(dt, in);
  CHECK(Same(step(out.state_hidden, 1), step(ref.state_hidden, 1)));
  CHECK(Same(step(out.return_hidden, 2), step(ref.return_hidden, 2)));
  CHECK_FALSE(Same(step(out.state_hidden, 2), step(ref.state_hidden, 2)));
  CHECK_FALSE(Same(step(out.return_hidden, 3), step(ref.return_hidden, 3)));
  // Changing R^n_{c,1}: the return hidden of step 1 stays, its state hidden changes.
  in = base;
  in.novelty = base.novelty.clone();
  in.novelty[0][1] += 2.0;
  out = Run(dt, in);
  CHECK(Same(step(out.state_hidden, 0), step(ref.state_hidden, 0)));
  CHECK(Same(step(out.return_hidden, 1), step(ref.return_hidden, 1)));
  CHECK_FALSE(Same(step(out.state_hidden, 1), step(ref.state_hidden, 1)));
}

TEST_CASE("IntraDT: token layout and padding steps", "[models][hdt]") {
  torch::manual_seed(12);
  IntraDt dt(Options());
  dt->eval();
  // Two rows sharing R~_c but nothing else: the return hidden of step 1 (token 0, attends only
  // to itself) is identical, the state hidden is not.
  IntraInputs in = RandomInputs(2);
  in.goal[1] = in.goal[0];
  IntraDtOutput out = Run(dt, in);
  CHECK(Same(out.return_hidden[0][0], out.return_hidden[1][0]));
  CHECK_FALSE(Same(out.state_hidden[0][0], out.state_hidden[1][0]));
  CHECK_FALSE(Same(out.return_hidden[0][1], out.return_hidden[1][1]));
  // Row 1 has 2 real steps: what is stored at steps 2, 3 changes nothing, and outputs there are 0.
  in.steps = torch::tensor({kT, int64_t{2}}, torch::kInt64);
  out = Run(dt, in);
  IntraInputs junk = in;
  junk.states = in.states.clone();
  junk.states[1][3] = 100.0;
  junk.actions = in.actions.clone();
  junk.actions[1][2] = kN;  // the padding id is a valid action input
  junk.novelty = in.novelty.clone();
  junk.novelty[1][2] = -7.0;
  const IntraDtOutput out2 = Run(dt, junk);
  CHECK(Same(out.state_hidden, out2.state_hidden));
  CHECK(Same(out.return_hidden, out2.return_hidden));
  CHECK(out.state_hidden[1].narrow(0, 2, 2).abs().max().item<float>() == 0.0f);
  // Contract violations.
  junk.actions[1][2] = kN + 1;
  CHECK_THROWS_AS(Run(dt, junk), recarena::Error);
  in.steps = torch::tensor({kT, int64_t{0}}, torch::kInt64);
  CHECK_THROWS_AS(Run(dt, in), recarena::Error);
}

TEST_CASE("InterDT: block-causal over sessions, goal outputs per session", "[models][hdt]") {
  torch::manual_seed(13);
  InterDt dt(Options());
  dt->eval();
  torch::NoGradGuard ng;
  const torch::Tensor returns = torch::randn({2, 3});
  const torch::Tensor states = torch::randn({2, 3, kD});
  const auto ref = dt->forward(returns, states);
  REQUIRE(ref.goal_state.sizes() == torch::IntArrayRef({2, 3, kD}));
  REQUIRE(ref.goal_return.sizes() == torch::IntArrayRef({2, 3, kD}));
  // Changing R_2 (session index 1): session 0 unchanged, sessions 1 and 2 change in both outputs
  // (the state token of a session sees its return token and vice versa).
  torch::Tensor r2 = returns.clone();
  r2[0][1] += 1.0;
  auto out = dt->forward(r2, states);
  CHECK(Same(out.goal_state[0][0], ref.goal_state[0][0]));
  CHECK(Same(out.goal_return[0][0], ref.goal_return[0][0]));
  CHECK_FALSE(Same(out.goal_state[0][1], ref.goal_state[0][1]));
  CHECK_FALSE(Same(out.goal_return[0][2], ref.goal_return[0][2]));
  CHECK(Same(out.goal_state[1], ref.goal_state[1]));  // rows are independent
  // Changing s_2: the goal return of session 1 changes too.
  torch::Tensor s2 = states.clone();
  s2[0][1] += 1.0;
  out = dt->forward(returns, s2);
  CHECK(Same(out.goal_return[0][0], ref.goal_return[0][0]));
  CHECK_FALSE(Same(out.goal_return[0][1], ref.goal_return[0][1]));
}

TEST_CASE("HdtOptions: Validate names the key", "[models][hdt]") {
  HdtOptions o = Options();
  o.num_heads = 3;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("model.hdt.num_heads"));
  o = Options();
  o.dropout = 1.0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("model.hdt.dropout"));
  o = Options();
  o.max_steps = 0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("model.hdt.max_steps"));
}
