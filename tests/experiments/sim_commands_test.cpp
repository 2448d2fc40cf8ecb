// `recarena sim fit | report | rollout` end to end on a tiny synthetic world.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "env/sim_config.h"
#include "experiments/rollout.h"
#include "experiments/sim_report.h"
#include "test_util.h"

using recarena::testing::RunCli;

namespace {
std::vector<std::string> TinyOverrides() {
  return {"data.synthetic.num_users=60",
          "data.synthetic.num_items=40",
          "data.synthetic.num_topics=4",
          "sim.response.encoder.hidden=8",
          "sim.response.epochs=3",
          "sim.max_length=10",
          "run.device=cpu",
          "run.log_level=warn"};
}
}  // namespace

TEST_CASE("sim fit, report and rollout on the synthetic world", "[sim][cli]") {
  recarena::testing::TempDir tmp;
  const auto dir = tmp.path() / "sim";
  std::vector<std::string> args{
      "sim",      "fit",
      "--config", std::string(RECARENA_SOURCE_DIR) + "/configs/sim/synthetic.yaml",
      "--out",    dir.string()};
  for (const auto& o : TinyOverrides()) args.push_back(o);
  auto fit = RunCli(args);
  INFO(fit.err);
  REQUIRE(fit.code == 0);
  auto fj = nlohmann::json::parse(fit.out);
  CHECK(fj["roles"].size() == 3u);

  auto rep = RunCli({"sim", "report", dir.string(), "--episodes", "50"});
  INFO(rep.err);
  REQUIRE(rep.code == 0);
  auto rj = nlohmann::json::parse(rep.out);
  for (const char* role : {"train", "test", "eval"}) {
    const auto& r = rj["roles"][role];
    CHECK(r["heldout_auc"].get<double>() > 0.5);
    CHECK(r["length_ks"].get<double>() >= 0.0);
    CHECK(r["length_ks"].get<double>() <= 1.0);
    CHECK(r["rollout_random"]["length"]["n"].get<int64_t>() == 50);
  }
  CHECK(rj["roles"]["train"].contains("truth_corr"));
  CHECK(std::filesystem::exists(dir / "report.md"));

  // Oracle >= random in expected reward per step, in the simulator whose model it queries.
  auto random = RunCli({"sim", "rollout", dir.string(), "--policy", "random", "--episodes", "60",
                        "--no-leave", "--max-length", "5"});
  auto oracle = RunCli({"sim", "rollout", dir.string(), "--policy", "oracle", "--episodes", "60",
                        "--no-leave", "--max-length", "5"});
  REQUIRE(random.code == 0);
  REQUIRE(oracle.code == 0);
  auto rr = nlohmann::json::parse(random.out), ro = nlohmann::json::parse(oracle.out);
  CHECK(rr["length"]["mean"].get<double>() == Approx(5.0));
  CHECK(ro["avg_reward"]["mean"].get<double>() > rr["avg_reward"]["mean"].get<double>());

  // Same seed, same numbers; the number of parallel users does not change them.
  auto again = RunCli({"sim", "rollout", dir.string(), "--policy", "random", "--episodes", "60",
                       "--no-leave", "--max-length", "5", "--num-envs", "64"});
  CHECK(nlohmann::json::parse(again.out)["return"] == rr["return"]);

  // Bad input: clear errors.
  auto bad_policy = RunCli({"sim", "rollout", dir.string(), "--policy", "greedy"});
  CHECK(bad_policy.code == 2);
  CHECK_THAT(bad_policy.err, Catch::Contains("--policy must be random, popular or oracle"));
  auto missing = RunCli({"sim", "report", (tmp.path() / "nope").string()});
  CHECK(missing.code == 2);
  CHECK_THAT(missing.err, Catch::Contains("not a fitted simulator"));
  auto bad_component = RunCli({"sim", "fit", "--config",
                               std::string(RECARENA_SOURCE_DIR) + "/configs/sim/synthetic.yaml",
                               "--out", (tmp.path() / "x").string(), "sim.response.kind=lstm"});
  CHECK(bad_component.code == 2);
  CHECK_THAT(bad_component.err, Catch::Contains("lstm") && Catch::Contains("deepfm"));
}

TEST_CASE("RocAuc and Summarize golden values", "[sim]") {
  using recarena::experiments::RocAuc;
  CHECK(RocAuc({0.1f, 0.9f}, {0, 1}) == Approx(1.0));
  CHECK(RocAuc({0.9f, 0.1f}, {0, 1}) == Approx(0.0));
  CHECK(RocAuc({0.5f, 0.5f}, {0, 1}) == Approx(0.5));
  // pos {0.8, 0.4}, neg {0.6, 0.2}: pairs won 3 of 4.
  CHECK(RocAuc({0.8f, 0.4f, 0.6f, 0.2f}, {1, 1, 0, 0}) == Approx(0.75));
  auto s = recarena::experiments::Summarize({1.0, 2.0, 3.0});
  CHECK(s.mean == Approx(2.0));
  CHECK(s.sd == Approx(1.0));
  CHECK(s.hi - s.mean == Approx(1.96 / std::sqrt(3.0)));
}

TEST_CASE("all shipped simulator configs are schema-valid", "[sim][configs]") {
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(RECARENA_SOURCE_DIR) + "/configs/sim")) {
    INFO(entry.path());
    auto cfg = recarena::config::Load<recarena::env::SimFitConfig>(entry.path());
    CHECK_NOTHROW(cfg.Validate());
  }
}
