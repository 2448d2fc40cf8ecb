// The iALP agents of thesis Ch. 7 (agents/ialp.h, agents/llm_online.h) on the toy environment:
// the mixture's golden values, alpha's schedule, which parameters learn, warm starts from a
// distilled policy, and LLMOnline's candidates and fallback with a scripted chooser.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "agents/a2c.h"
#include "agents/actor_critic.h"
#include "agents/ialp.h"
#include "agents/llm_online.h"
#include "agents/online_config.h"
#include "agents/rollout_buffer.h"
#include "agents/toy_env.h"
#include "core/error.h"
#include "test_util.h"

using recarena::Rng;
using namespace recarena::agents;

namespace {

constexpr int64_t kItems = 4;  // ToySimulator's catalog; item 1 is the best
constexpr int64_t kBest = 1;

IalpSetup ToySetup(const std::string& checkpoint = "") {
  IalpSetup s;
  s.encoder = recarena::testing::ToyAgentOptions().encoder;
  s.encoder.num_items = kItems;
  s.init_checkpoint = checkpoint;
  return s;
}

recarena::env::VectorEnv ToyEnv(int64_t num_envs = 4) {
  recarena::env::VectorEnvOptions vo;
  vo.num_envs = num_envs;
  return recarena::env::VectorEnv(recarena::testing::ToySimulator(), vo);
}

void Run(OnlineAgent& agent, int steps, uint64_t seed) {
  auto env = ToyEnv();
  auto r = env.Reset(seed);
  Rng rng(seed);
  for (int i = 0; i < steps; ++i) {
    auto sel = agent.Act(r.observation, r.candidate_mask, /*explore=*/true, rng);
    auto next = env.Step(sel.actions);
    agent.Observe(MakeTransition(r, sel.actions, next));
    r = next;
  }
}

std::vector<torch::Tensor> Clone(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone());
  return out;
}

bool Same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

// A distilled policy file as `recarena llm distill` writes it: agent.pt with section "net".
std::string WriteDistilled(const recarena::testing::TempDir& dir, uint64_t seed) {
  torch::manual_seed(seed);
  ActorCritic net(ToySetup().encoder, kItems, kItems, 0.01, 10.0, torch::kCPU);
  torch::serialize::OutputArchive a, n;
  net.Save(n);
  a.write("net", n);
  const auto path = (dir.path() / "agent.pt").string();
  a.save_to(path);
  return path;
}

// Picks candidate `position` for every query (or answers none when position is -1).
class ScriptedChooser : public CandidateChooser {
 public:
  explicit ScriptedChooser(int64_t position) : position_(position) {}
  std::vector<ChoiceResult> Choose(const std::vector<ChoiceQuery>& queries) override {
    std::vector<ChoiceResult> out;
    for (const auto& q : queries) {
      seen.push_back(q);
      out.push_back(position_ >= 0 ? ChoiceResult{position_, false} : ChoiceResult{-1, true});
    }
    return out;
  }
  double seconds() const override { return 0.25 * static_cast<double>(seen.size()); }
  std::vector<ChoiceQuery> seen;

 private:
  int64_t position_;
};

}  // namespace

TEST_CASE("MixLogProbs: golden values of Eq. 7.14 in log space", "[ialp]") {
  const auto lt = torch::log(torch::tensor({{0.5f, 0.5f, 0.0f, 0.0f}}));
  const auto lb = torch::log(torch::tensor({{0.0f, 0.25f, 0.75f, 0.0f}}));
  const auto mix = torch::exp(MixLogProbs(lt, lb, 0.2));
  CHECK(mix[0][0].item<double>() == Approx(0.4));
  CHECK(mix[0][1].item<double>() == Approx(0.45));
  CHECK(mix[0][2].item<double>() == Approx(0.15));
  CHECK(std::isinf(MixLogProbs(lt, lb, 0.2)[0][3].item<float>()));  // masked in both
  CHECK(torch::equal(MixLogProbs(lt, lb, 0.0), lt));
  CHECK(torch::equal(MixLogProbs(lt, lb, 1.0), lb));
  CHECK(mix.sum().item<double>() == Approx(1.0));
}

TEST_CASE("ialp_ap: alpha rises linearly from alpha0 to 1 over alpha_steps", "[ialp]") {
  OnlineAgentOptions o = recarena::testing::ToyAgentOptions();
  o.ialp.alpha0 = 0.2;
  o.ialp.alpha_steps = 100;
  IalpApAgent agent(o, ToySetup(), recarena::testing::ToyCategorical(), kItems, torch::kCPU);
  CHECK(agent.Alpha(0) == Approx(0.2));
  CHECK(agent.Alpha(50) == Approx(0.6));
  CHECK(agent.Alpha(100) == Approx(1.0));
  CHECK(agent.Alpha(1000) == Approx(1.0));
  o.ialp.alpha_steps = 0;
  IalpApAgent at_once(o, ToySetup(), recarena::testing::ToyCategorical(), kItems, torch::kCPU);
  CHECK(at_once.Alpha(0) == 1.0);
  o.ialp.alpha0 = 1.5;
  CHECK_THROWS_WITH(o.ialp.Validate(), Catch::Contains("ialp.alpha0"));
}

TEST_CASE("ialp_ap: theta stays frozen, beta learns, and beta_init copy starts beta at theta",
          "[ialp]") {
  recarena::testing::TempDir dir;
  const auto ckpt = WriteDistilled(dir, 3);
  OnlineAgentOptions o = recarena::testing::ToyAgentOptions();
  o.ialp.alpha_steps = 20;
  for (auto init : {IalpBetaInit::kCopy, IalpBetaInit::kFresh}) {
    o.ialp.beta_init = init;
    torch::manual_seed(9);
    IalpApAgent agent(o, ToySetup(ckpt), recarena::testing::ToyCategorical(), kItems, torch::kCPU);
    // theta is the distilled policy.
    torch::manual_seed(3);
    ActorCritic distilled(ToySetup().encoder, kItems, kItems, 0.01, 10.0, torch::kCPU);
    CHECK(Same(agent.theta_parameters(), distilled.parameters()));
    CHECK(Same(agent.beta_parameters(), agent.theta_parameters()) == (init == IalpBetaInit::kCopy));
    const auto theta0 = Clone(agent.theta_parameters());
    const auto beta0 = Clone(agent.beta_parameters());
    Run(agent, 30, 4);
    CHECK(Same(agent.theta_parameters(), theta0));
    CHECK_FALSE(Same(agent.beta_parameters(), beta0));
    CHECK(agent.step() == 30);
  }
}

TEST_CASE("ialp_ap: at alpha 0 it acts as theta, and beta learns the toy's best item", "[ialp]") {
  OnlineAgentOptions o = recarena::testing::ToyAgentOptions();
  o.gamma = 0.0;
  o.a2c.value_coef = 0.1;
  o.ialp.alpha0 = 0.0;
  o.ialp.alpha_steps = 200;
  torch::manual_seed(21);
  IalpApAgent agent(o, ToySetup(), recarena::testing::ToyCategorical(), kItems, torch::kCPU);
  auto env = ToyEnv(1);
  const auto obs = env.Reset(1).observation;
  torch::manual_seed(21);
  ActorCritic theta(ToySetup().encoder, kItems, kItems, 0.01, 10.0, torch::kCPU);
  const auto want = torch::log_softmax(theta.Forward(obs.items, obs.lengths, false).logits, 1);
  CHECK(torch::allclose(agent.Scores(obs), want, 1e-5, 1e-6));
  const double before = std::exp(agent.Scores(obs)[0][kBest].item<double>());
  Run(agent, 400, 2);  // alpha reaches 1 after 200 steps: the policy is beta's
  const double after = std::exp(agent.Scores(obs)[0][kBest].item<double>());
  INFO(before << " -> " << after);
  CHECK(after > before + 0.2);
}

TEST_CASE("ialp: the distilled policy is loaded and frozen, ialp_ft starts from it and learns",
          "[ialp]") {
  recarena::testing::TempDir dir;
  const auto ckpt = WriteDistilled(dir, 5);
  OnlineAgentOptions o = recarena::testing::ToyAgentOptions();
  const IalpSetup setup = ToySetup(ckpt);
  const torch::Tensor pop = torch::ones({kItems});
  const auto expl = recarena::testing::ToyCategorical();
  OnlineAgentContext c{o, expl, kItems, torch::kCPU, pop, nullptr, nullptr, &setup};
  torch::manual_seed(5);
  ActorCritic distilled(ToySetup().encoder, kItems, kItems, 0.01, 10.0, torch::kCPU);
  auto frozen = MakeIalpAgent(c);
  auto ft = MakeIalpFtAgent(c);
  CHECK(frozen->name() == "ialp");
  CHECK(ft->name() == "ialp_ft");
  auto& fa = dynamic_cast<A2cAgent&>(*frozen);
  auto& fta = dynamic_cast<A2cAgent&>(*ft);
  CHECK(Same(fa.parameters(), distilled.parameters()));
  CHECK(Same(fta.parameters(), distilled.parameters()));
  Run(*frozen, 20, 3);
  Run(*ft, 20, 3);
  CHECK(Same(fa.parameters(), distilled.parameters()));
  CHECK_FALSE(Same(fta.parameters(), distilled.parameters()));
  // No setup, or a file that is not a distilled policy: clear errors.
  OnlineAgentContext none{o, expl, kItems, torch::kCPU, pop, nullptr, nullptr, nullptr};
  CHECK_THROWS_WITH(MakeIalpAgent(none), Catch::Contains("no iALP setup"));
  torch::serialize::OutputArchive other;
  other.write("x", torch::zeros({1}));
  const auto bad = (dir.path() / "other.pt").string();
  other.save_to(bad);
  const IalpSetup bad_setup = ToySetup(bad);
  OnlineAgentContext cb{o, expl, kItems, torch::kCPU, pop, nullptr, nullptr, &bad_setup};
  CHECK_THROWS_WITH(MakeIalpAgent(cb), Catch::Contains("other.pt") && Catch::Contains("'net'"));
}

TEST_CASE("LlmOnline::Candidates: top k with ties to the smaller id, masks, short rows", "[ialp]") {
  Rng rng(1);
  const auto logits = torch::tensor({{0.1f, 3.0f, 2.0f, 3.0f, -1.0f}, {5.f, 4.f, 3.f, 2.f, 1.f}});
  auto mask = torch::ones({2, 5}, torch::kBool);
  auto all = LlmOnlineAgent::Candidates(logits, mask, 2, false, rng);
  CHECK(all[0] == std::vector<int64_t>{1, 3});
  CHECK(all[1] == std::vector<int64_t>{0, 1});
  mask[0][1] = false;
  mask[1].fill_(false);
  mask[1][4] = true;
  auto masked = LlmOnlineAgent::Candidates(logits, mask, 3, false, rng);
  CHECK(masked[0] == std::vector<int64_t>{3, 2, 0});
  CHECK(masked[1] == std::vector<int64_t>{4});  // fewer allowed items than k
}

TEST_CASE("LlmOnline::Candidates: sampling draws k distinct items in proportion to softmax",
          "[ialp]") {
  // softmax([log 6, log 3, log 1]) = (0.6, 0.3, 0.1): with k = 1 the first draw's frequencies.
  const auto logits = torch::log(torch::tensor({{6.0f, 3.0f, 1.0f}}));
  const auto mask = torch::ones({1, 3}, torch::kBool);
  Rng rng(11);
  std::map<int64_t, int> first;
  const int n = 6000;
  for (int i = 0; i < n; ++i) {
    auto c = LlmOnlineAgent::Candidates(logits, mask, 2, true, rng);
    REQUIRE(c[0].size() == 2u);
    CHECK(c[0][0] != c[0][1]);
    ++first[c[0][0]];
  }
  CHECK(first[0] / static_cast<double>(n) == Approx(0.6).margin(0.02));
  CHECK(first[1] / static_cast<double>(n) == Approx(0.3).margin(0.02));
  CHECK(first[2] / static_cast<double>(n) == Approx(0.1).margin(0.02));
}

TEST_CASE("llm_online: acts on the chooser's pick, falls back to a random candidate", "[ialp]") {
  OnlineAgentOptions o = recarena::testing::ToyAgentOptions();
  o.ialp.k = 3;
  IalpSetup setup = ToySetup();
  auto second = std::make_shared<ScriptedChooser>(1);
  setup.chooser = second;
  torch::manual_seed(4);
  LlmOnlineAgent agent(o, setup, recarena::testing::ToyCategorical(), kItems, torch::kCPU);
  auto env = ToyEnv(4);
  auto r = env.Reset(2);
  Rng rng(2);
  auto sel = agent.Act(r.observation, r.candidate_mask, /*explore=*/true, rng);
  Rng cr(0);
  const auto cands =
      LlmOnlineAgent::Candidates(agent.Scores(r.observation), r.candidate_mask, 3, false, cr);
  REQUIRE(second->seen.size() == 4u);
  for (int64_t b = 0; b < 4; ++b) {
    CHECK(second->seen[static_cast<size_t>(b)].candidates == cands[static_cast<size_t>(b)]);
    CHECK(sel.actions[b].item<int64_t>() == cands[static_cast<size_t>(b)][1]);
    CHECK_FALSE(sel.greedy[b].item<bool>());  // the second-best is not the argmax
  }
  auto next = env.Step(sel.actions);
  const auto m = agent.Observe(MakeTransition(r, sel.actions, next));
  std::map<std::string, double> metrics(m.begin(), m.end());
  CHECK(metrics.at("llm_pick_rate") == 1.0);
  CHECK(metrics.at("llm_s_per_step") == Approx(1.0));  // 4 queries x 0.25 s

  // "none" every time: uniformly random candidates, and a pick rate of 0.
  setup.chooser = std::make_shared<ScriptedChooser>(-1);
  LlmOnlineAgent none(o, setup, recarena::testing::ToyCategorical(), kItems, torch::kCPU);
  std::map<int64_t, int> counts;
  Rng nr(8);
  auto env1 = ToyEnv(1);
  const auto r1 = env1.Reset(2);
  for (int i = 0; i < 300; ++i) {
    auto s = none.Act(r1.observation, r1.candidate_mask, true, nr);
    ++counts[s.actions[0].item<int64_t>()];
  }
  CHECK(counts.size() == 3u);  // only the 3 candidates, each about a third
  for (auto [item, n] : counts) CHECK(n > 60);
  // With llm_in_eval false, evaluation is the actor's greedy action and asks nobody.
  o.ialp.llm_in_eval = false;
  auto quiet = std::make_shared<ScriptedChooser>(1);
  setup.chooser = quiet;
  LlmOnlineAgent greedy(o, setup, recarena::testing::ToyCategorical(), kItems, torch::kCPU);
  auto g = greedy.Act(r.observation, r.candidate_mask, /*explore=*/false, rng);
  CHECK(quiet->seen.empty());
  CHECK(g.greedy.all().item<bool>());
  setup.chooser = nullptr;
  CHECK_THROWS_WITH(
      LlmOnlineAgent(o, setup, recarena::testing::ToyCategorical(), kItems, torch::kCPU),
      Catch::Contains("no LLM chooser"));
}
