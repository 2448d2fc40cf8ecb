// `recarena train` with the offline RL learners (model_kind sqn / sac / snqn / sa2c / cql / bcq):
// exact resume across SA2C's phase switch and BCQ's target syncs, every learner through the
// command line, config errors by key.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "experiments/cli_runner.h"
#include "experiments/train/offline_trainer.h"
#include "experiments/train_fixtures.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace recarena::experiments;
using recarena::testing::RunCli;
using recarena::testing::TempDir;

namespace {

// Trains model_kind `kind` for 6 steps on a tiny synthetic world with configs/offline/`config`
// plus `extra` overrides into tmp/run, checks it finished and was labelled, and returns its
// metrics.json.
nlohmann::json TrainTinyKind(const TempDir& tmp, const std::string& config, const std::string& kind,
                             const std::string& extra) {
  const auto res = RunCli(
      {"train", "--config", (fs::path(RECARENA_SOURCE_DIR) / "configs/offline" / config).string(),
       "--out", (tmp.path() / "run").string(), "model_kind=" + kind, "data.synthetic.num_users=60",
       "data.synthetic.num_items=30", "train.max_steps=6", "train.eval_every=3", extra,
       "model.encoder.hidden=8", "run.log_level=warn", "run.device=cpu", "train.threads=1"});
  INFO(kind << ": " << res.err);
  REQUIRE(res.code == 0);
  const auto m = nlohmann::json::parse(recarena::ReadFile(tmp.path() / "run" / "metrics.json"));
  CHECK(m.at("model_kind") == kind);
  CHECK(m.at("steps") == 6);
  CHECK(m.at("NDCG@10").get<double>() > 0.0);
  return m;
}

}  // namespace

TEST_CASE("offline RL: a killed SA2C run resumes exactly, across its phase switch",
          "[trainer][resume][sqn]") {
  OfflineTrainConfig cfg = recarena::testing::TinyOfflineConfig();
  cfg.model_kind = OfflineModel::kSa2c;
  cfg.rl.num_negatives = 3;
  cfg.rl.sa2c_switch_step = 10;
  cfg.rl.ips_smooth = 1.0;
  TempDir straight, resumed;
  // Killed after 13 steps: after the switch, between validations.
  const auto r = recarena::testing::CheckResumesExactly(cfg, 13, straight.path(), resumed.path());
  CHECK(r.steps == 24);
  // The training curve records both phases: no advantage before step 10, some after.
  const std::string curve = recarena::ReadFile(straight.path() / "metrics.jsonl");
  std::vector<double> adv;
  std::istringstream lines(curve);
  for (std::string line; std::getline(lines, line);) {
    adv.push_back(nlohmann::json::parse(line).at("train_advantage").get<double>());
  }
  REQUIRE(adv.size() == 3);  // validations at steps 8, 16, 24
  CHECK(adv[0] == 0.0);
  CHECK(adv[2] > 0.0);
}

TEST_CASE("train command: sqn, sac, snqn, sa2c and smorl run and rank with the supervised head",
          "[trainer][cli][sqn]") {
  for (const std::string kind : {"sqn", "sac", "snqn", "sa2c", "smorl"}) {
    TempDir tmp;
    TrainTinyKind(tmp, "synthetic-snqn.yaml", kind, "rl.sa2c_switch_step=3");
    CHECK(recarena::ReadFile(tmp.path() / "run" / "config.yaml").find("rl:") != std::string::npos);
  }
}

TEST_CASE("train command: a bad rl value is refused naming its key", "[trainer][cli][sqn]") {
  TempDir tmp;
  const auto res =
      RunCli({"train", "--config",
              (fs::path(RECARENA_SOURCE_DIR) / "configs/offline/synthetic-snqn.yaml").string(),
              "--out", (tmp.path() / "run").string(), "rl.discount=1.5", "run.device=cpu"});
  CHECK(res.code != 0);
  CHECK(res.err.find("rl.discount") != std::string::npos);
  CHECK(res.err.find("1.5") != std::string::npos);
}

TEST_CASE("offline RL: a killed BCQ run resumes exactly, with its target network",
          "[trainer][resume][offline_q]") {
  OfflineTrainConfig cfg = recarena::testing::TinyOfflineConfig();
  cfg.model_kind = OfflineModel::kBcq;
  cfg.offline_q.target_update_every = 5;
  TempDir straight, resumed;
  // Killed after 13 steps: the target was synced at step 10 and is next synced at 15.
  const auto r = recarena::testing::CheckResumesExactly(cfg, 13, straight.path(), resumed.path());
  CHECK(r.steps == 24);
}

TEST_CASE("train command: cql and bcq run with the offline_q section",
          "[trainer][cli][offline_q]") {
  for (const std::string kind : {"cql", "bcq"}) {
    TempDir tmp;
    TrainTinyKind(tmp, "synthetic-cql.yaml", kind, "offline_q.target_update_every=2");
  }
  TempDir tmp;
  const auto bad = RunCli(
      {"train", "--config",
       (fs::path(RECARENA_SOURCE_DIR) / "configs/offline/synthetic-cql.yaml").string(), "--out",
       (tmp.path() / "run").string(), "offline_q.bcq_threshold=1.5", "run.device=cpu"});
  CHECK(bad.code != 0);
  CHECK(bad.err.find("offline_q.bcq_threshold") != std::string::npos);
}
