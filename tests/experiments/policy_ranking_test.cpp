// The policy-ranking acceptance test end to end: an experiment grid with experiment.ranking on a
// tiny synthetic simulator, its ranking.json / ranking.md, the per-run caches and bad options.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "experiments/report/online_experiment.h"
#include "online_fixtures.h"
#include "test_util.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// random, popular, oracle (of the ground truth) and DQN with two explorations, 2 seeds each.
fs::path WriteGrid(recarena::testing::TempDir& tmp, const std::string& ranking) {
  const std::string run = "run:\n  seed: 1\n  device: cpu\nsimulator:\n  dir: " +
                          recarena::testing::TinyOnlineSim().string() +
                          "\n  eval_role: eval\ntrain:\n  total_steps: 20\n  num_envs: 4\n  "
                          "eval_every: 10\n  steps_per_epoch: 10\n  eval_episodes: 10\n  "
                          "eval_num_envs: 8\n";
  for (const char* kind : {"random", "popular", "oracle"}) {
    tmp.Write(std::string(kind) + ".yaml", run + "agent:\n  kind: " + kind + "\n");
  }
  tmp.Write("dqn.yaml", run +
                            "agent:\n  kind: dqn\n  encoder:\n    hidden: 8\n  dqn:\n    "
                            "learning_starts: 16\n    batch_size: 16\n");
  return tmp.Write("exp.yaml",
                   "experiment:\n  name: t\n  agents: [random.yaml, popular.yaml, oracle.yaml, "
                   "dqn.yaml]\n  explorations: [epsilon_greedy, categorical]\n  seeds: [1, 2]\n" +
                       ranking);
}

}  // namespace

TEST_CASE("policy ranking: every run in both roles, tau with its interval, cached",
          "[online][experiment][ranking]") {
  recarena::testing::TempDir tmp;
  const auto exp = WriteGrid(tmp,
                             "  ranking:\n    roles: [test, eval]\n    episodes: 24\n    "
                             "replicates: 50\n");
  const auto out = tmp.path() / "out";
  auto r = recarena::testing::RunCli({"experiment", exp.string(), "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out,
             Catch::Contains("# Policy ranking: learned role test against reference role eval"));
  const auto j = json::parse(recarena::ReadFile(out / "ranking.json"));
  REQUIRE(j["simulators"].size() == 1u);
  const auto& s = j["simulators"][0];
  // 3 baselines + DQN x 2 explorations.
  REQUIRE(s["policies"].size() == 5u);
  const double tau = s["tau"].get<double>();
  CHECK(tau >= -1.0);
  CHECK(tau <= 1.0);
  CHECK(s["tau_ci95"][0].get<double>() <= s["tau_ci95"][1].get<double>());
  std::map<std::string, json> by;
  for (const auto& p : s["policies"]) {
    by[p["agent"].get<std::string>() + "/" + p["exploration"].get<std::string>()] = p;
    CHECK(p["seeds"].size() == 2u);
    for (const char* role : {"test", "eval"}) {
      const auto rank = p["roles"][role]["rank"].get<int64_t>();
      CHECK(rank >= 1);
      CHECK(rank <= 5);
      CHECK(p["roles"][role]["return_ci95"][0].get<double>() <=
            p["roles"][role]["return"].get<double>());
      // The policy's return is the mean of its seeds' means.
      const auto seeds = p["roles"][role]["seed_means"].get<std::vector<double>>();
      REQUIRE(seeds.size() == 2u);
      CHECK(p["roles"][role]["return"].get<double>() == Approx((seeds[0] + seeds[1]) / 2));
    }
  }
  REQUIRE(by.count("oracle/-"));
  REQUIRE(by.count("dqn/categorical"));
  CHECK(by["random/-"]["kind"] == "random");
  CHECK(by["dqn/epsilon_greedy"]["learns"] == true);
  // The oracle of the ground truth earns more there than random does.
  CHECK(by["oracle/-"]["roles"]["eval"]["return"].get<double>() >
        by["random/-"]["roles"]["eval"]["return"].get<double>());
  // Each run's two evaluations are cached and reused by a rerun with the same options.
  fs::path cache;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (e.path().filename() == "ranking-eval.json" &&
        e.path().parent_path().parent_path().filename() == "categorical") {
      cache = e.path();
      break;
    }
  }
  REQUIRE(!cache.empty());
  const auto cached = recarena::ReadFile(cache);
  const auto before = fs::last_write_time(cache);
  const auto ranking_before = recarena::ReadFile(out / "ranking.json");
  r = recarena::testing::RunCli({"experiment", exp.string(), "--out", out.string()});
  REQUIRE(r.code == 0);
  CHECK(fs::last_write_time(cache) == before);
  CHECK(recarena::ReadFile(out / "ranking.json") == ranking_before);
  // Other episodes: re-evaluated.
  r = recarena::testing::RunCli(
      {"experiment", exp.string(), "--out", out.string(), "experiment.ranking.episodes=12"});
  REQUIRE(r.code == 0);
  CHECK(recarena::ReadFile(cache) != cached);
  CHECK(json::parse(recarena::ReadFile(cache))["returns"].size() == 12u);
}

TEST_CASE("policy ranking: bad options name the key", "[online][experiment][ranking]") {
  recarena::experiments::RankingOptions o;
  o.roles = {"test"};
  CHECK_THROWS_WITH(o.Validate(),
                    Catch::Contains("experiment.ranking.roles") && Catch::Contains("two roles"));
  o.roles = {"test", "test"};
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("names test twice"));
  o.roles = {"test", "holdout"};
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("holdout"));
  o.roles = {"test", "eval"};
  o.episodes = 0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("experiment.ranking.episodes"));
  o.episodes = 5;
  o.replicates = 0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("experiment.ranking.replicates"));
  o.replicates = 5;
  CHECK_NOTHROW(o.Validate());
}
