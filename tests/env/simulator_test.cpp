// The simulator conformance suite (every configuration in SimVariants passes it) and unit tests
// of the simulator's components.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "core/config.h"
#include "cuda_util.h"
#include "env/simulator.h"
#include "env/vector_env.h"
#include "sim_fixtures.h"

namespace data = recarena::data;
namespace env = recarena::env;
using recarena::testing::FitTiny;
using recarena::testing::SimVariants;

namespace {

struct StepRecord {
  int64_t action;
  float reward;
  bool accepted, terminated, truncated;
};
using Trajectory = std::vector<StepRecord>;

// A deterministic policy of the observation only: a hash of the history, user and step, moved to
// the next allowed item. So episode trajectories may depend on nothing but the episode's stream.
torch::Tensor HashPolicy(const env::Observation& obs, const torch::Tensor& mask,
                         int64_t num_items) {
  auto h = (obs.items * 31).sum(1) + obs.users * 17 + obs.step * 7 + obs.lengths * 3;
  auto start = h.remainder(num_items);
  // First allowed item at or after start (cyclically).
  auto idx = (torch::arange(num_items, obs.items.options()).unsqueeze(0) + start.unsqueeze(1))
                 .remainder(num_items);
  auto allowed = mask.gather(1, idx);
  auto first = allowed.to(torch::kInt64).argmax(1);
  return idx.gather(1, first.unsqueeze(1)).squeeze(1);
}

// Runs B slots until episodes 0..n-1 have all finished; returns their trajectories.
std::map<int64_t, Trajectory> Collect(std::shared_ptr<const env::Simulator> sim, int64_t B,
                                      uint64_t seed, int64_t n, env::VectorEnvOptions opt = {}) {
  opt.num_envs = B;
  env::VectorEnv venv(sim, opt);
  auto r = venv.Reset(seed);
  std::map<int64_t, Trajectory> running, done;
  for (int guard = 0; guard < 10000 && static_cast<int64_t>(done.size()) < n; ++guard) {
    auto ids = r.episode_id;
    auto a = HashPolicy(r.observation, r.candidate_mask, venv.num_items());
    r = venv.Step(a);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t e = ids[static_cast<size_t>(b)];
      running[e].push_back({a[b].item<int64_t>(), r.reward[b].item<float>(),
                            r.accepted[b].item<bool>(), r.terminated[b].item<bool>(),
                            r.truncated[b].item<bool>()});
      if (r.info.final_episode_id[static_cast<size_t>(b)] >= 0) {
        REQUIRE(r.info.final_episode_id[static_cast<size_t>(b)] == e);
        if (e < n) done[e] = running[e];
        running.erase(e);
      }
    }
  }
  REQUIRE(static_cast<int64_t>(done.size()) == n);
  return done;
}

bool Same(const Trajectory& a, const Trajectory& b) {
  if (a.size() != b.size()) return false;
  for (size_t t = 0; t < a.size(); ++t) {
    if (a[t].action != b[t].action || a[t].accepted != b[t].accepted ||
        a[t].terminated != b[t].terminated || a[t].truncated != b[t].truncated ||
        std::abs(a[t].reward - b[t].reward) > 1e-5f) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("simulator conformance: every configuration", "[simulator][conformance]") {
  for (const auto& variant : SimVariants()) {
    SECTION(variant.name) {
      auto sim = FitTiny(variant.cfg, variant.role);
      const float lo = static_cast<float>(sim->response->config().reward_min);
      const float hi = static_cast<float>(sim->response->config().reward_max);

      // Same seed -> the same episodes whatever B is; different seeds -> different episodes.
      auto b1 = Collect(sim, 1, 11, 10);
      auto b3 = Collect(sim, 3, 11, 10);
      auto b8 = Collect(sim, 8, 11, 10);
      for (int64_t e = 0; e < 10; ++e) {
        INFO("episode " << e);
        CHECK(Same(b1[e], b3[e]));
        CHECK(Same(b1[e], b8[e]));
      }
      // The incremental step (response-model states kept between steps, env/response_cache.h)
      // gives the episodes of the full recompute.
      env::VectorEnvOptions full_recompute;
      full_recompute.incremental = false;
      auto f3 = Collect(sim, 3, 11, 10, full_recompute);
      for (int64_t e = 0; e < 10; ++e) {
        INFO("episode " << e << " incremental vs full recompute");
        CHECK(Same(b3[e], f3[e]));
      }
      auto other = Collect(sim, 3, 12, 10);
      int differ = 0;
      for (int64_t e = 0; e < 10; ++e) differ += Same(b1[e], other[e]) ? 0 : 1;
      CHECK(differ > 0);

      // Bounds, terminated/truncated consistency, step cap.
      for (const auto& [e, traj] : b3) {
        REQUIRE(!traj.empty());
        CHECK(static_cast<int64_t>(traj.size()) <= sim->cfg.max_length);
        for (size_t t = 0; t < traj.size(); ++t) {
          CHECK(traj[t].reward >= lo);
          CHECK(traj[t].reward <= hi);
          CHECK(!(traj[t].terminated && traj[t].truncated));
          const bool last = t + 1 == traj.size();
          CHECK((traj[t].terminated || traj[t].truncated) == last);
          if (traj[t].truncated) CHECK(static_cast<int64_t>(t + 1) == sim->cfg.max_length);
        }
      }

      // Leave rules off: every episode lasts exactly max_length steps and is truncated.
      env::VectorEnvOptions no_leave;
      no_leave.leave_enabled = false;
      no_leave.max_length = 6;
      for (const auto& [e, traj] : Collect(sim, 4, 3, 6, no_leave)) {
        REQUIRE(traj.size() == 6u);
        CHECK(traj.back().truncated);
        for (const auto& s : traj) CHECK(!s.terminated);
      }

      // Repeats allowed: the mask is all true, one broadcast row (no [B, N] tensor per step), made
      // for each step: a write into one step's mask leaves the next step's whole.
      {
        env::VectorEnvOptions open;
        open.num_envs = 4;
        env::VectorEnv venv(sim, open);
        auto r0 = venv.Reset(5);
        auto r1 = venv.Step(HashPolicy(r0.observation, r0.candidate_mask, venv.num_items()));
        REQUIRE(r1.candidate_mask.sizes() == torch::IntArrayRef({4, venv.num_items()}));
        CHECK(r1.candidate_mask.all().item<bool>());
        CHECK(r1.candidate_mask.stride(0) == 0);
        r1.candidate_mask.select(1, 0).fill_(false);
        auto r2 = venv.Step(HashPolicy(r1.observation, r1.candidate_mask, venv.num_items()));
        CHECK(r2.candidate_mask.all().item<bool>());
      }

      // Masked repeats: chosen items disappear from the mask and a masked action is refused.
      env::VectorEnvOptions masked;
      masked.num_envs = 4;
      masked.mask_repeats = true;
      env::VectorEnv venv(sim, masked);
      auto r = venv.Reset(5);
      for (int t = 0; t < 5; ++t) {
        auto a = HashPolicy(r.observation, r.candidate_mask, venv.num_items());
        CHECK(r.candidate_mask.gather(1, a.unsqueeze(1)).all().item<bool>());
        auto before = r.episode_id;
        r = venv.Step(a);
        for (int64_t b = 0; b < 4; ++b) {
          if (r.episode_id[static_cast<size_t>(b)] == before[static_cast<size_t>(b)]) {
            CHECK_FALSE(r.candidate_mask[b][a[b].item<int64_t>()].item<bool>());
          }
        }
      }
      // Every start-history item is masked at reset.
      auto r0 = venv.Reset(5);
      for (int64_t b = 0; b < 4; ++b) {
        for (int64_t j = 0; j < r0.observation.lengths[b].item<int64_t>(); ++j) {
          CHECK_FALSE(
              r0.candidate_mask[b][r0.observation.items[b][j].item<int64_t>()].item<bool>());
        }
      }
      auto a = HashPolicy(r0.observation, r0.candidate_mask, venv.num_items());
      venv.Step(a);
      CHECK_THROWS_WITH(venv.Step(a), Catch::Contains("is masked"));
      CHECK_THROWS_WITH(venv.Step(torch::full({4}, venv.num_items(), torch::kInt64)),
                        Catch::Contains("outside the catalog"));
    }
  }
}

TEST_CASE("simulator conformance: auto-reset contract", "[simulator][conformance]") {
  auto sim = FitTiny(recarena::testing::TinySimConfig(), env::SimRole::kTrain);
  env::VectorEnvOptions opt;
  opt.num_envs = 5;
  env::VectorEnv venv(sim, opt);
  auto r = venv.Reset(21);
  CHECK(r.episode_id == std::vector<int64_t>{0, 1, 2, 3, 4});
  int64_t next = 5, finished = 0;
  std::vector<float> returns(5, 0.0f);
  for (int t = 0; t < 200; ++t) {
    auto prev = r.observation;
    auto a = HashPolicy(r.observation, r.candidate_mask, venv.num_items());
    r = venv.Step(a);
    for (int64_t b = 0; b < 5; ++b) {
      returns[static_cast<size_t>(b)] += r.reward[b].item<float>();
      const bool done = r.terminated[b].item<bool>() || r.truncated[b].item<bool>();
      CHECK((r.info.final_episode_id[static_cast<size_t>(b)] >= 0) == done);
      if (done) {
        ++finished;
        // The slot holds a fresh episode; the ended one is in info.
        CHECK(r.episode_id[static_cast<size_t>(b)] >= next);
        next = r.episode_id[static_cast<size_t>(b)] + 1;
        CHECK(r.observation.step[b].item<int64_t>() == 0);
        CHECK(r.info.final_observation.step[b].item<int64_t>() ==
              r.info.episode_length[b].item<int64_t>());
        CHECK(r.info.episode_return[b].item<float>() ==
              Approx(returns[static_cast<size_t>(b)]).margin(1e-4));
        returns[static_cast<size_t>(b)] = 0.0f;
      } else {
        CHECK(r.observation.step[b].item<int64_t>() == prev.step[b].item<int64_t>() + 1);
        CHECK(r.info.episode_length[b].item<int64_t>() == 0);
        // The consumed item joins the history (the last position holds it).
        if (r.accepted[b].item<bool>()) {
          const auto len = r.observation.lengths[b].item<int64_t>();
          CHECK(r.observation.items[b][len - 1].item<int64_t>() == a[b].item<int64_t>());
        } else {
          CHECK(torch::equal(r.observation.items[b], prev.items[b]));
        }
      }
    }
  }
  CHECK(finished > 5);
}

TEST_CASE("FitHazard: golden values and the logged length distribution", "[simulator][hazard]") {
  // Lengths 1, 2, 2, 4: h(1) = 1/4, h(2) = 2/3, h(3) = 0/1, h(4) = 1/1 (no smoothing).
  auto h = env::FitHazard({1, 2, 2, 4}, 5, 0.0);
  REQUIRE(h.size() == 5u);
  CHECK(h[0] == Approx(0.25));
  CHECK(h[1] == Approx(2.0 / 3.0));
  CHECK(h[2] == Approx(0.0));
  CHECK(h[3] == Approx(1.0));
  // Smoothing shrinks to the geometric rate g = 4 / 9.
  auto hs = env::FitHazard({1, 2, 2, 4}, 5, 1.0);
  CHECK(hs[0] == Approx((1 + 4.0 / 9.0) / 5.0));
  CHECK(hs[4] == Approx(4.0 / 9.0));  // nobody at risk: the geometric rate
  CHECK_THROWS(env::FitHazard({}, 5, 0.0));
  CHECK_THROWS(env::FitHazard({0}, 5, 0.0));

  // Simulated lengths under the hazard alone follow the logged distribution.
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.leave.repetition.enabled = false;
  cfg.sim.max_length = 40;
  cfg.sim.leave.hazard.smoothing = 0.0;
  auto sim = FitTiny(cfg, env::SimRole::kTrain);
  std::vector<int64_t> logged;
  for (auto l : sim->logged_session_lengths) logged.push_back(std::min<int64_t>(l, 40));
  env::VectorEnvOptions opt;
  opt.num_envs = 64;
  env::VectorEnv venv(sim, opt);
  auto r = venv.Reset(1);
  std::vector<int64_t> simulated;
  while (simulated.size() < 3000) {
    r = venv.Step(HashPolicy(r.observation, r.candidate_mask, venv.num_items()));
    for (int64_t b = 0; b < 64; ++b) {
      if (r.info.final_episode_id[static_cast<size_t>(b)] >= 0) {
        simulated.push_back(r.info.episode_length[b].item<int64_t>());
      }
    }
  }
  CHECK(env::KsDistance(simulated, logged) < 0.1);
}

TEST_CASE("KsDistance golden values", "[simulator]") {
  CHECK(env::KsDistance({1, 2, 3}, {1, 2, 3}) == Approx(0.0));
  CHECK(env::KsDistance({1, 1}, {2, 2}) == Approx(1.0));
  // F_a: 1->0.5, 2->1; F_b: 1->0, 2->0.5, 3->1: sup = 0.5.
  CHECK(env::KsDistance({1, 2}, {2, 3}) == Approx(0.5));
}

TEST_CASE("response model learns the logged preferences", "[simulator][response]") {
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.response.epochs = 10;
  cfg.sim.response.lr = 5e-3;
  cfg.sim.response.encoder.hidden = 16;
  const auto data = env::BuildSimData(cfg);
  auto sim = env::FitRole(cfg, data, env::SimRole::kTrain, torch::kCPU);
  // On the train logs, logged next items score above random items (AUC > 0.6).
  recarena::Rng rng(3);
  auto rows = env::MakeResponseRows(data.sequences.at(env::SimRole::kTrain), cfg.sim.response,
                                    sim->num_items, sim->state_len, rng);
  const int64_t n = static_cast<int64_t>(rows.size());
  env::ResponseInput in{torch::tensor(rows.items).view({n, sim->state_len}),
                        torch::tensor(rows.lengths), torch::tensor(rows.users),
                        torch::tensor(rows.actions)};
  auto p = sim->response->Expected(in);
  auto y = torch::tensor(rows.targets);
  auto pos = p.masked_select(y > 0.5), neg = p.masked_select(y < 0.5);
  auto auc = (pos.unsqueeze(1) > neg.unsqueeze(0)).to(torch::kDouble).mean().item<double>();
  CHECK(auc > 0.65);  // untrained: ~0.5
}

TEST_CASE("simulator save and load give the same rewards", "[simulator][io]") {
  recarena::testing::TempDir dir;
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.eval.kind = env::EvalSimKind::kGroundTruth;
  env::FitSimulator(cfg, dir.path());
  CHECK(env::FittedRoles(dir.path()).size() == 3u);
  auto fitted = FitTiny(cfg, env::SimRole::kTrain);
  auto loaded = env::LoadSimulator(dir.path(), env::SimRole::kTrain);
  CHECK(loaded->hazard == fitted->hazard);
  CHECK(loaded->starts.size() == fitted->starts.size());
  auto a = Collect(fitted, 2, 9, 6);
  auto b = Collect(loaded, 2, 9, 6);
  for (int64_t e = 0; e < 6; ++e) CHECK(Same(a[e], b[e]));
  auto truth = env::LoadSimulator(dir.path(), env::SimRole::kEval);
  CHECK(truth->ground_truth);
  // Fitting again into the same directory resumes (nothing refitted); another config is refused.
  env::FitSimulator(cfg, dir.path());
  auto other = cfg;
  other.sim.max_length = 13;
  CHECK_THROWS_WITH(env::FitSimulator(other, dir.path()), Catch::Contains("different config"));
}

TEST_CASE("simulator: clear errors for bad configs and artifacts", "[simulator][errors]") {
  recarena::testing::TempDir dir;
  CHECK_THROWS_WITH(env::LoadSimulator(dir.path(), env::SimRole::kTrain),
                    Catch::Contains("not a fitted simulator"));
  auto cfg = recarena::testing::TinySimConfig();
  auto bad = cfg;
  bad.sim.eval.kind = env::EvalSimKind::kPart;
  bad.sim.eval.part = "random";
  CHECK_THROWS_WITH(env::BuildSimData(bad),
                    Catch::Contains("has no part") && Catch::Contains("all"));
  bad = cfg;
  bad.sim.response.reward = env::RewardMode::kValue;
  CHECK_THROWS_WITH(bad.Validate(), Catch::Contains("sim.response.reward"));
  bad = cfg;
  bad.sim.leave.repetition.max_similar = 9;
  CHECK_THROWS_WITH(bad.Validate(), Catch::Contains("sim.leave.repetition.max_similar"));
  bad = cfg;
  bad.data.dataset = data::DatasetKind::kCoat;
  bad.sim.eval.kind = env::EvalSimKind::kGroundTruth;
  CHECK_THROWS_WITH(bad.Validate(), Catch::Contains("ground_truth needs the synthetic world"));
  // Unknown component names are refused with the choices.
  auto yaml = dir.Write("sim.yaml", "sim:\n  response:\n    kind: lstm\n");
  CHECK_THROWS_WITH(recarena::config::Load<env::SimFitConfig>(yaml),
                    Catch::Contains("lstm") && Catch::Contains("sequential"));
  // A role that was not fitted.
  env::FitSimulator(cfg, dir.path() / "fit");
  CHECK_THROWS_WITH(env::LoadSimulator(dir.path() / "fit", env::SimRole::kEval),
                    Catch::Contains("no eval role"));
}

TEST_CASE("simulator on CUDA matches CPU", "[simulator][cuda]") {
  RECARENA_REQUIRE_CUDA();
  recarena::testing::TempDir dir;
  auto cfg = recarena::testing::TinySimConfig();
  env::FitSimulator(cfg, dir.path());
  auto cpu = env::LoadSimulator(dir.path(), env::SimRole::kTrain, torch::kCPU);
  auto gpu = env::LoadSimulator(dir.path(), env::SimRole::kTrain, torch::kCUDA);
  env::VectorEnvOptions opt;
  opt.device = torch::kCUDA;
  auto a = Collect(cpu, 4, 2, 8);
  auto b = Collect(gpu, 4, 2, 8, opt);
  int same = 0;
  for (int64_t e = 0; e < 8; ++e) same += Same(a[e], b[e]) ? 1 : 0;
  CHECK(same >= 7);  // float differences may flip a click at a probability boundary, rarely
}

TEST_CASE("VectorEnv refuses a simulator that lives on another device", "[simulator]") {
  recarena::testing::TempDir dir;
  env::FitSimulator(recarena::testing::TinySimConfig(), dir.path());
  auto sim = env::LoadSimulator(dir.path(), env::SimRole::kTrain, torch::kCPU);
  env::VectorEnvOptions opt;
  opt.num_envs = 2;
  CHECK_NOTHROW(env::VectorEnv(sim, opt));
  // The meta device stands in for a GPU: the check compares device types, not data.
  const auto meta = torch::TensorOptions().device(torch::kMeta);
  auto moved = std::make_shared<env::Simulator>(*sim);
  moved->response = std::make_shared<env::ResponseEnsemble>(
      sim->response->config(),
      std::vector<std::shared_ptr<env::ResponseModelImpl>>{
          std::make_shared<env::GroundTruthResponseImpl>(
              torch::zeros({sim->num_users, sim->num_items}, meta), 0.0, 1.0)});
  CHECK_THROWS_WITH(env::VectorEnv(moved, opt),
                    Catch::Contains("VectorEnv on cpu") && Catch::Contains("response model") &&
                        Catch::Contains("lives on meta") && Catch::Contains("LoadSimulator"));
  auto keyed = std::make_shared<env::Simulator>(*sim);
  keyed->item_keys = torch::zeros({sim->num_items, 2}, meta);
  CHECK_THROWS_WITH(env::VectorEnv(keyed, opt),
                    Catch::Contains("item_keys") && Catch::Contains("lives on meta"));
}

TEST_CASE("coat DeepFM simulator with user and item features: fit, save, load",
          "[simulator][real]") {
  RECARENA_REQUIRE_DATASET(coat_dir, "coat");
  recarena::testing::TempDir dir;
  auto cfg = recarena::config::Load<env::SimFitConfig>(
      std::filesystem::path(RECARENA_SOURCE_DIR) / "configs/sim/coat.yaml",
      {"data.source=" + coat_dir.string(), "sim.response.epochs=1", "sim.response.ensemble=2",
       "run.device=cpu"});
  env::FitSimulator(cfg, dir.path());
  CHECK(env::FittedRoles(dir.path()).size() == 3u);
  for (auto role : {env::SimRole::kTrain, env::SimRole::kTest, env::SimRole::kEval}) {
    auto sim = env::LoadSimulator(dir.path(), role);
    CHECK(sim->num_items == 300);
    auto traj = Collect(sim, 4, 1, 8);
    for (const auto& [e, t] : traj) {
      for (const auto& s : t) {
        CHECK(s.reward >= 1.0f);
        CHECK(s.reward <= 5.0f);
      }
    }
  }
}

TEST_CASE("response ensemble: mean minus pessimism times std, clamped to the bounds",
          "[simulator][response]") {
  // Probabilities 0.5 and 0.75 for item 0 (sim_fixtures.h).
  const auto models = recarena::testing::TwoClickModels();
  env::ResponseConfig cfg;
  cfg.pessimism = 2.0;
  env::ResponseEnsemble ens(cfg, models);
  const env::ResponseInput in = recarena::testing::OneRowItem0();
  // mean 0.625, population std 0.125 -> 0.625 - 2 * 0.125 = 0.375.
  CHECK(ens.Expected(in).item<float>() == Approx(0.375));
  CHECK(ens.Disagreement(in).item<float>() == Approx(0.125));
  cfg.pessimism = 10.0;  // 0.625 - 1.25 < 0 -> clamped to reward_min 0
  CHECK(env::ResponseEnsemble(cfg, models).Expected(in).item<float>() == Approx(0.0));
  CHECK(env::ResponseEnsemble(cfg, models).ExpectedAll(in).sizes() == torch::IntArrayRef({1, 2}));
}

TEST_CASE("SessionEnv is VectorEnv with one user", "[simulator][conformance]") {
  auto sim = FitTiny(recarena::testing::TinySimConfig(), env::SimRole::kTrain);
  env::SessionEnv session(sim, {});
  env::VectorEnvOptions opt;
  opt.num_envs = 1;
  env::VectorEnv venv(sim, opt);
  auto s = session.Reset(4);
  auto r = venv.Reset(4);
  for (int t = 0; t < 40; ++t) {
    REQUIRE(static_cast<int64_t>(s.history.size()) == r.observation.lengths[0].item<int64_t>());
    for (size_t j = 0; j < s.history.size(); ++j) {
      CHECK(s.history[j] == r.observation.items[0][static_cast<int64_t>(j)].item<int64_t>());
    }
    CHECK(s.candidate_mask.size() == static_cast<size_t>(sim->num_items));
    const int64_t action = (t * 7 + 3) % sim->num_items;
    s = session.Step(action);
    r = venv.Step(torch::tensor({action}, torch::kInt64));
    CHECK(s.reward == Approx(r.reward[0].item<float>()));
    CHECK(s.accepted == r.accepted[0].item<bool>());
    CHECK(s.terminated == r.terminated[0].item<bool>());
    CHECK(s.truncated == r.truncated[0].item<bool>());
  }
}
