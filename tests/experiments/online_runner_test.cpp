// The online runner: evaluations, R@e summary, exact resume after a crash, the experiment grid,
// the decision transformer as an online agent and `recarena dt-sweep`.
#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/paths.h"
#include "env/sim_fit.h"
#include "experiments/cli/online_commands.h"
#include "experiments/train/offline_trainer.h"
#include "experiments/train/online_runner.h"
#include "online_fixtures.h"
#include "test_util.h"

namespace fs = std::filesystem;
using recarena::experiments::OnlineRunConfig;
using recarena::experiments::RunOnline;

namespace {

const fs::path& TinySim() { return recarena::testing::TinyOnlineSim(); }
OnlineRunConfig Config(recarena::agents::OnlineAgentKind kind) {
  return recarena::testing::TinyOnlineConfig(kind);
}

}  // namespace

TEST_CASE("online runner: evaluations, summary and baselines", "[online]") {
  recarena::testing::TempDir tmp;
  using K = recarena::agents::OnlineAgentKind;
  auto random = RunOnline(Config(K::kRandom), tmp.path() / "random");
  REQUIRE(random.history.size() == 5u);  // step 0 + 4 segments
  CHECK(random.history[0].step == 0);
  CHECK(random.history[4].step == 40);
  CHECK(random.history[4].user_steps == 160);
  for (const char* key : {"R@0", "R@1", "R@2", "Len@1", "R_avg@2", "R", "Len", "R_avg"}) {
    CHECK(random.summary.contains(key));
  }
  // R_avg = Return / Length per episode, so the mean R_avg lies within the rewards' bounds.
  CHECK(random.summary["R_avg"].get<double>() >= 0.0);
  CHECK(random.summary["R_avg"].get<double>() <= 1.0);
  // The oracle of the evaluation simulator earns more per step than random.
  auto oracle = RunOnline(Config(K::kOracle), tmp.path() / "oracle");
  CHECK(oracle.summary["R_avg"].get<double>() > random.summary["R_avg"].get<double>());
  CHECK(fs::exists(tmp.path() / "random" / "metrics.jsonl"));
  CHECK(fs::exists(tmp.path() / "random" / "report.md"));
  // Same seed, same results.
  auto again = RunOnline(Config(K::kRandom), tmp.path() / "random-again");
  CHECK(again.summary == random.summary);
}

TEST_CASE("online runner: a killed run resumes to the uninterrupted result", "[online][resume]") {
  recarena::testing::TempDir tmp;
  for (auto kind : {recarena::agents::OnlineAgentKind::kRandom}) {
    auto full = RunOnline(Config(kind), tmp.path() / "full");
    auto first = RunOnline(Config(kind), tmp.path() / "crash", /*stop_after_segments=*/2);
    CHECK(first.history.size() == 3u);
    auto resumed = RunOnline(Config(kind), tmp.path() / "crash");
    CHECK(resumed.resumed);
    CHECK(resumed.summary == full.summary);
    CHECK(recarena::ReadFile(tmp.path() / "crash" / "metrics.jsonl") ==
          recarena::ReadFile(tmp.path() / "full" / "metrics.jsonl"));
  }
}

TEST_CASE("online runner: a corrupt checkpoint or one of another hidden size is a clear error",
          "[online][resume][errors]") {
  recarena::testing::TempDir tmp;
  const auto kind = recarena::agents::OnlineAgentKind::kDqn;
  const auto dir = tmp.path() / "run";
  RunOnline(Config(kind), dir, /*stop_after_segments=*/1);
  const auto ckpt = dir / "checkpoint.pt";
  const std::string good = recarena::ReadFile(ckpt);
  std::string bad = good;
  bad[bad.size() / 2] ^= 0x01;
  recarena::WriteFileAtomic(ckpt, bad);
  CHECK_THROWS_WITH(RunOnline(Config(kind), dir),
                    Catch::Contains("checkpoint.pt") && Catch::Contains("content hash mismatch"));
  recarena::WriteFileAtomic(ckpt, good);
  auto wider = Config(kind);
  wider.agent.encoder.hidden = 16;
  try {
    RunOnline(wider, dir);
    FAIL("a checkpoint of hidden 8 loaded into a model of hidden 16");
  } catch (const recarena::FileError& e) {
    CHECK(e.file() == ckpt.string());
    CHECK_THAT(std::string(e.what()), Catch::Contains("in the checkpoint but") &&
                                          Catch::Contains("8") && Catch::Contains("16"));
    CHECK(std::string(e.what()).find("frame #") == std::string::npos);
  }
  CHECK(RunOnline(Config(kind), dir).resumed);  // the intact checkpoint still resumes
}

TEST_CASE("online runner: bad configs", "[online]") {
  auto cfg = Config(recarena::agents::OnlineAgentKind::kRandom);
  cfg.train.steps_per_epoch = 15;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("train.steps_per_epoch"));
  cfg = Config(recarena::agents::OnlineAgentKind::kRandom);
  cfg.simulator.dir = "";
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("simulator.dir"));
  cfg = Config(recarena::agents::OnlineAgentKind::kRandom);
  cfg.simulator.eval_role = "holdout";
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("holdout"));
  recarena::testing::TempDir tmp;
  cfg = Config(recarena::agents::OnlineAgentKind::kRandom);
  cfg.simulator.dir = (tmp.path() / "missing").string();
  CHECK_THROWS_WITH(RunOnline(cfg, tmp.path() / "run"), Catch::Contains("not a fitted simulator"));
}

TEST_CASE("experiment grid: results.csv and summary table", "[online][experiment]") {
  recarena::testing::TempDir tmp;
  const auto base = tmp.Write(
      "random.yaml", "run:\n  seed: 1\n  device: cpu\nsimulator:\n  dir: " + TinySim().string() +
                         "\nagent:\n  kind: random\ntrain:\n  total_steps: 20\n  "
                         "num_envs: 2\n  eval_every: 10\n  steps_per_epoch: 10\n  "
                         "eval_episodes: 10\n  eval_num_envs: 4\n");
  tmp.Write("popular.yaml",
            recarena::ReadFile(base).replace(recarena::ReadFile(base).find("kind: random"), 12,
                                             "kind: popular"));
  const auto exp = tmp.Write("exp.yaml",
                             "experiment:\n  name: t\n  agents: [random.yaml, popular.yaml]\n  "
                             "explorations: [greedy, categorical]\n  seeds: [1, 2]\n  "
                             "overrides: [\"run.name=cell-{seed}-{seed}\"]\n");
  auto r = recarena::testing::RunCli(
      {"experiment", exp.string(), "--out", (tmp.path() / "out").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto csv = recarena::ReadFile(tmp.path() / "out" / "results.csv");
  // 2 baselines (exploration does not apply: one cell each) x 2 seeds x 3 evaluations + header.
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 13);
  const auto md = recarena::ReadFile(tmp.path() / "out" / "summary.md");
  CHECK_THAT(md, Catch::Contains("| random | - |") && Catch::Contains("| popular | - |"));
  // "{seed}" in an override is each cell's seed.
  int configs = 0;
  for (const auto& e : fs::recursive_directory_iterator(tmp.path() / "out")) {
    if (e.path().filename() != "config.yaml") continue;
    const std::string seed = e.path().parent_path().filename().string().substr(5);  // seed-N
    CHECK_THAT(recarena::ReadFile(e.path()),
               Catch::Contains("name: cell-" + seed + "-" + seed + "\n"));
    ++configs;
  }
  CHECK(configs == 4);
}

TEST_CASE("experiment grid: a simulator named '..' cannot place cells outside --out",
          "[online][experiment][errors]") {
  recarena::testing::TempDir tmp;
  // The cell directory is named after the simulator directory: "<sim>/.." resolves to the
  // simulator's parent, whose name is used, so the cell stays under out/ (the run itself then
  // fails: the parent is not a simulator).
  tmp.Write("random.yaml",
            "run:\n  seed: 1\n  device: cpu\nsimulator:\n  dir: " + (TinySim() / "..").string() +
                "\nagent:\n  kind: random\ntrain:\n  total_steps: 20\n");
  const auto exp = tmp.Write("exp.yaml", "experiment:\n  name: t\n  agents: [random.yaml]\n");
  auto r = recarena::testing::RunCli(
      {"experiment", exp.string(), "--out", (tmp.path() / "out").string()});
  CHECK(r.code != 0);
  CHECK_THAT(r.err, Catch::Contains("simulator.json"));
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(tmp.path())) top.insert(e.path().filename());
  CHECK(top == std::set<std::string>{"exp.yaml", "out", "random.yaml"});
  CHECK(fs::is_directory(tmp.path() / "out" / TinySim().parent_path().filename() / "random"));
  CHECK_THROWS_WITH(recarena::SafePathComponent("..", "simulator.dir"),
                    Catch::Contains("simulator.dir '..'"));
  CHECK_THROWS(recarena::SafePathComponent("", "x"));
  CHECK_THROWS(recarena::SafePathComponent("a/b", "x"));
  CHECK(recarena::SafePathComponent("amazon", "x") == "amazon");
  CHECK(recarena::DirectoryName("runs/sim/amazon/") == "amazon");
  CHECK(recarena::DirectoryName("runs/sim/amazon/..") == "sim");
}

TEST_CASE("all shipped online and experiment configs are schema-valid", "[online][configs]") {
  const fs::path root = RECARENA_SOURCE_DIR;
  for (const auto& entry : fs::directory_iterator(root / "configs/online")) {
    INFO(entry.path());
    auto cfg = recarena::config::Load<OnlineRunConfig>(entry.path());
    CHECK_NOTHROW(cfg.Validate());
  }
  for (const auto& entry : fs::directory_iterator(root / "configs/experiments")) {
    INFO(entry.path());
    auto ef = recarena::config::Load<recarena::experiments::ExperimentFile>(entry.path());
    CHECK_NOTHROW(ef.Validate());
    for (const auto& agent : ef.experiment.agents) {
      CHECK(fs::exists(entry.path().parent_path() / agent));
    }
  }
}

TEST_CASE("conformal sets of an online agent in the simulator", "[online][conformal]") {
  recarena::testing::TempDir tmp;
  auto cfg = Config(recarena::agents::OnlineAgentKind::kDqn);
  cfg.agent.dqn.learning_starts = 16;
  cfg.agent.dqn.batch_size = 16;
  RunOnline(cfg, tmp.path() / "dqn");
  recarena::WriteFileAtomic(tmp.path() / "dqn" / "config.yaml",
                            recarena::config::ToYamlString(cfg));
  auto r = recarena::testing::RunCli({"conformal-eval", (tmp.path() / "dqn").string(), "--episodes",
                                      "150", "--alphas", "0.1,0.2", "--splits", "none"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["n_queries"].get<int64_t>() > 200);
  // Split conformal: coverage >= 1 - alpha on average; allow sampling slack on ~half the queries.
  int checked = 0;
  for (const auto& res : j["results"]) {
    const double alpha = std::stod(res["alpha"].get<std::string>());
    CHECK(res["coverage"].get<double>() >= 1.0 - alpha - 0.08);
    CHECK(res["mean_set_size"].get<double>() <= 30.0);
    ++checked;
  }
  CHECK(checked == 10);  // 2 alphas x 5 score functions
  CHECK(fs::exists(tmp.path() / "dqn" / "conformal" / "report.md"));
}

namespace {

// An offline decision-transformer run on the tiny simulator's own data (same catalog), with
// config.yaml written as `recarena train` does.
fs::path OfflineDtRun(const fs::path& dir, int64_t num_items_override = 0, int state_len = 4) {
  auto sim_cfg = recarena::config::Load<recarena::env::SimFitConfig>(TinySim() / "config.yaml");
  recarena::experiments::OfflineTrainConfig cfg;
  cfg.run = sim_cfg.run;
  cfg.run.log_level = "warn";
  cfg.data = sim_cfg.data;
  if (num_items_override > 0) cfg.data.synthetic.num_items = static_cast<int>(num_items_override);
  cfg.data.window.state_len = state_len;
  cfg.model.encoder.state_len = state_len;
  cfg.model_kind = recarena::experiments::OfflineModel::kModt4r;
  cfg.model.encoder.kind = recarena::models::EncoderKind::kSasRec;
  cfg.model.encoder.hidden = 8;
  cfg.train.batch_size = 32;
  cfg.train.max_steps = 12;
  cfg.train.eval_every = 6;
  cfg.train.threads = 1;
  recarena::experiments::RunOfflineTraining(cfg, dir);
  recarena::WriteFileAtomic(dir / "config.yaml", recarena::config::ToYamlString(cfg));
  return dir;
}

OnlineRunConfig DtConfig() {
  auto cfg = Config(recarena::agents::OnlineAgentKind::kDt);
  cfg.agent.dt.learning_starts = 2;
  cfg.agent.dt.batch_size = 16;
  cfg.agent.dt.transformer.num_heads = 2;
  cfg.agent.dt.target.accuracy = 4;
  cfg.agent.dt.target.novelty = 2;
  return cfg;
}

}  // namespace

TEST_CASE("online runner: a decision transformer learns online and resumes exactly",
          "[online][dt][resume]") {
  recarena::testing::TempDir tmp;
  const auto full = RunOnline(DtConfig(), tmp.path() / "full");
  REQUIRE(full.history.size() == 5u);
  CHECK(full.summary["agent"] == "modt4r");
  CHECK(full.summary.contains("long_tail_share"));
  CHECK(full.summary["coverage"].get<double>() > 0.0);
  // Online updates happened (their loss terms are in the segments' train metrics).
  CHECK(full.history.back().train_metrics.count("l_a") == 1);
  RunOnline(DtConfig(), tmp.path() / "crash", /*stop_after_segments=*/2);
  const auto resumed = RunOnline(DtConfig(), tmp.path() / "crash");
  CHECK(resumed.resumed);
  CHECK(resumed.summary == full.summary);
  CHECK(recarena::ReadFile(tmp.path() / "crash" / "metrics.jsonl") ==
        recarena::ReadFile(tmp.path() / "full" / "metrics.jsonl"));
  // Bad values name their key.
  auto bad = DtConfig();
  bad.agent.dt.target.quantile = 0.0;
  CHECK_THROWS_WITH(bad.Validate(), Catch::Contains("agent.dt.target.quantile"));
  bad = DtConfig();
  bad.agent.dt.transformer.num_blocks = 0;
  CHECK_THROWS_WITH(bad.Validate(), Catch::Contains("agent.dt.transformer.num_blocks"));
}

TEST_CASE("online runner: a decision transformer starts from an offline run", "[online][dt]") {
  recarena::testing::TempDir tmp;
  const fs::path run = OfflineDtRun(tmp.path() / "offline");
  auto cfg = DtConfig();
  cfg.agent.dt.init_from = run.string();
  cfg.agent.dt.train_every = 0;  // act only
  cfg.agent.dt.target.kind = recarena::agents::DtTargetKind::kQuantile;
  cfg.agent.dt.target.quantile = 0.5;
  cfg.train.total_steps = 10;
  const auto r = RunOnline(cfg, tmp.path() / "online");
  REQUIRE(r.history.size() == 2u);
  CHECK(r.history.back().train_metrics.empty());  // train_every 0: no updates
  // The loaded networks act: the same offline run gives the same evaluation, another seed of the
  // offline run gives another one.
  const auto again = RunOnline(cfg, tmp.path() / "online-again");
  CHECK(again.summary == r.summary);
  auto fresh = cfg;
  fresh.agent.dt.init_from = "";
  const auto f = RunOnline(fresh, tmp.path() / "fresh");
  CHECK(f.history[0].return_mean != r.history[0].return_mean);

  // Another catalog or state length is refused, naming the run's config.
  const fs::path other = OfflineDtRun(tmp.path() / "other-catalog", /*num_items=*/31);
  cfg.agent.dt.init_from = other.string();
  CHECK_THROWS_WITH(RunOnline(cfg, tmp.path() / "x1"),
                    Catch::Contains("config.yaml") && Catch::Contains("items"));
  const fs::path short_run = OfflineDtRun(tmp.path() / "other-len", 0, /*state_len=*/3);
  cfg.agent.dt.init_from = short_run.string();
  CHECK_THROWS_WITH(RunOnline(cfg, tmp.path() / "x2"), Catch::Contains("state_len"));
  cfg.agent.dt.init_from = (tmp.path() / "nothing").string();
  CHECK_THROWS_WITH(RunOnline(cfg, tmp.path() / "x3"), Catch::Contains("agent.dt.init_from"));

  // dt-sweep on the offline run: one row per swept value, table and CSV.
  auto s = recarena::testing::RunCli({"dt-sweep", run.string(), "--alphas", "0,1", "--lambdas",
                                      "0,2", "--out", (tmp.path() / "sweep").string()});
  INFO(s.err);
  REQUIRE(s.code == 0);
  const auto csv = recarena::ReadFile(tmp.path() / "sweep" / "sweep.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);
  CHECK_THAT(csv, Catch::Contains("HR@10") && Catch::Contains("CV_div@10"));
  CHECK_THAT(recarena::ReadFile(tmp.path() / "sweep" / "sweep.md"), Catch::Contains("## lambda"));
  auto bad = recarena::testing::RunCli({"dt-sweep", run.string(), "--alphas", "x"});
  CHECK(bad.code != 0);
  CHECK_THAT(bad.err, Catch::Contains("--alphas"));
}
