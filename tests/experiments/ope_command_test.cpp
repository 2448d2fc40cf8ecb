// `recarena eval ope RUN_DIR` on trained runs: six estimates with intervals; a policy evaluated
// against itself as the behaviour has weights 1, so IPS and SNIPS equal the logged mean reward;
// bad options and foreign behaviour runs are refused by name.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "experiments/cli_runner.h"
#include "test_util.h"

namespace fs = std::filesystem;
using recarena::testing::RunCli;
using recarena::testing::TempDir;

namespace {

// Trains a tiny synthetic run of model_kind `kind` (cql: synthetic-cql.yaml, else
// synthetic-sasrec.yaml, the same data) into dir; returns the exit code.
int TrainTiny(const fs::path& dir, const std::string& kind, const std::string& users = "60") {
  const std::string config = kind == "cql" ? "synthetic-cql.yaml" : "synthetic-sasrec.yaml";
  return RunCli({"train", "--config",
                 (fs::path(RECARENA_SOURCE_DIR) / "configs/offline" / config).string(), "--out",
                 dir.string(), "model_kind=" + kind, "data.synthetic.num_users=" + users,
                 "data.synthetic.num_items=30", "train.max_steps=6", "train.eval_every=3",
                 "model.encoder.hidden=8", "run.log_level=warn", "run.device=cpu",
                 "train.threads=1"})
      .code;
}

}  // namespace

TEST_CASE("eval ope: estimates of a trained CQL run, and a run against itself has weights 1",
          "[ope][cli]") {
  TempDir tmp;
  const fs::path cql = tmp.path() / "cql", normal = tmp.path() / "normal";
  REQUIRE(TrainTiny(cql, "cql") == 0);
  REQUIRE(TrainTiny(normal, "normal") == 0);

  auto res = RunCli({"eval", "ope", cql.string(), "--behaviour-run", normal.string(), "--reward",
                     "value", "--max-queries", "200"});
  INFO(res.err);
  REQUIRE(res.code == 0);
  const auto j = nlohmann::json::parse(res.out);
  CHECK(j == nlohmann::json::parse(recarena::ReadFile(cql / "ope.json")));
  CHECK(j.at("model_kind") == "cql");
  CHECK(j.at("queries").get<int>() > 0);
  REQUIRE(j.at("estimates").size() == 6);
  for (const auto& e : j.at("estimates")) {
    CHECK(e.at("low").get<double>() <= e.at("value").get<double>());
    CHECK(e.at("value").get<double>() <= e.at("high").get<double>());
    CHECK(e.at("ess").get<double>() > 0.0);
  }

  // The Normal run as both target and behaviour: every weight is 1.
  res = RunCli({"eval", "ope", normal.string(), "--behaviour-run", normal.string(), "--reward",
                "value", "--max-queries", "200", "--out", (tmp.path() / "self.json").string()});
  REQUIRE(res.code == 0);
  const auto self = nlohmann::json::parse(res.out);
  const double logged = self.at("logged_mean_reward").get<double>();
  for (const auto& e : self.at("estimates")) {
    INFO(e.dump());
    CHECK(e.at("max_weight").get<double>() == Approx(1.0));
    CHECK(e.at("mean_weight").get<double>() == Approx(1.0));
    if (e.at("estimator") == "ips" || e.at("estimator") == "snips") {
      CHECK(e.at("value").get<double>() == Approx(logged));
    }
  }
  // The popularity behaviour model (the default) runs as well.
  res = RunCli({"eval", "ope", cql.string(), "--max-queries", "200"});
  REQUIRE(res.code == 0);
  CHECK(nlohmann::json::parse(res.out).at("behaviour") == "popularity");
}

TEST_CASE("eval ope refuses bad options and a behaviour run on other data", "[ope][cli]") {
  TempDir tmp;
  const fs::path a = tmp.path() / "a", b = tmp.path() / "b";
  REQUIRE(TrainTiny(a, "normal") == 0);
  REQUIRE(TrainTiny(b, "normal", "80") == 0);
  auto res = RunCli({"eval", "ope", a.string(), "--temperature", "0"});
  CHECK(res.code != 0);
  CHECK(res.err.find("--temperature") != std::string::npos);
  res = RunCli({"eval", "ope", a.string(), "--reward", "stars"});
  CHECK(res.code != 0);
  CHECK(res.err.find("stars") != std::string::npos);
  res = RunCli({"eval", "ope", a.string(), "--behaviour-run", b.string()});
  CHECK(res.code != 0);
  CHECK(res.err.find("other data") != std::string::npos);
  res = RunCli({"eval", "ope", (tmp.path() / "missing").string()});
  CHECK(res.code != 0);
}
