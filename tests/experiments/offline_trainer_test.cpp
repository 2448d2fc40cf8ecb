#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agents/supervised.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "experiments/cli/cli.h"
#include "experiments/train/offline_config.h"
#include "experiments/train/offline_trainer.h"
#include "models/checkpoint.h"
#include "test_util.h"
#include "train_fixtures.h"

namespace fs = std::filesystem;
using recarena::experiments::OfflineTrainConfig;

namespace {

OfflineTrainConfig TinyConfig(
    recarena::models::EncoderKind kind = recarena::models::EncoderKind::kGru4Rec) {
  return recarena::testing::TinyOfflineConfig(kind);
}

std::vector<torch::Tensor> LoadParams(const OfflineTrainConfig& cfg_in, const fs::path& file,
                                      int64_t num_items) {
  OfflineTrainConfig cfg = cfg_in;
  cfg.model.encoder.num_items = num_items;
  recarena::agents::SupervisedAgent agent(cfg.model, torch::kCPU);
  torch::serialize::InputArchive archive = recarena::models::OpenArchive(file);
  agent.Load(archive);
  return agent.parameters();
}

}  // namespace

TEST_CASE("offline trainer: writes the run directory and its training curve", "[trainer]") {
  recarena::testing::TempDir tmp;
  auto cfg = TinyConfig(recarena::models::EncoderKind::kSasRec);
  cfg.train.max_steps = 30;
  cfg.train.eval_every = 10;
  const auto r = recarena::experiments::RunOfflineTraining(cfg, tmp.path());
  for (const char* f : {"last.pt", "best.pt", "metrics.jsonl", "metrics.json", "report.md"}) {
    CHECK(fs::exists(tmp.path() / f));
  }
  CHECK(r.steps == 30);
  CHECK(r.test_metrics.count("HR@10"));
  // The training curve has one line per validation.
  std::istringstream curve(recarena::ReadFile(tmp.path() / "metrics.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(curve, line)) {
    auto j = nlohmann::json::parse(line);
    CHECK(j.contains("valid_NDCG@10"));
    CHECK(j["step"] == 10 * (lines + 1));
    ++lines;
  }
  CHECK(lines == 3);
}

TEST_CASE(
    "offline trainer: every encoder learns a deterministic pattern to HR@1 = 1, popularity cannot",
    "[trainer][toy]") {
  // 60 users; user u's sequence is s, s+1, s+2, ... (mod 20) with s = u mod 20: the next item is
  // always the last item + 1, which popularity (flat over items) cannot express.
  recarena::testing::TempDir tmp;
  std::string csv = "user_id,item_id,timestamp\n";
  for (int u = 0; u < 60; ++u) {
    for (int t = 0; t < 12; ++t)
      csv +=
          std::to_string(u) + "," + std::to_string((u + t) % 20) + "," + std::to_string(t) + "\n";
  }
  const auto file = tmp.Write("toy.csv", csv);
  for (auto kind :
       {recarena::models::EncoderKind::kGru4Rec, recarena::models::EncoderKind::kSasRec,
        recarena::models::EncoderKind::kCaser, recarena::models::EncoderKind::kNextItNet}) {
    auto cfg = TinyConfig(kind);
    cfg.data.dataset = recarena::data::DatasetKind::kCsv;
    cfg.data.source = file.string();
    cfg.model.encoder.hidden = 32;
    cfg.model.encoder.dropout = 0.0;
    cfg.model.lr = 0.01;
    cfg.train.max_steps = 120;
    cfg.train.eval_every = 40;
    cfg.eval.ks = {1, 10};
    recarena::testing::TempDir run;
    const auto r = recarena::experiments::RunOfflineTraining(cfg, run.path());
    INFO(recarena::config::EnumToString(kind) << " HR@1 " << r.test_metrics.at("HR@1"));
    CHECK(r.test_metrics.at("HR@1") == 1.0);
    auto pop_cfg = cfg;
    pop_cfg.model_kind = recarena::experiments::OfflineModel::kPopularity;
    recarena::testing::TempDir pop_run;
    const auto pop = recarena::experiments::RunOfflineTraining(pop_cfg, pop_run.path());
    CHECK(pop.test_metrics.at("num_queries") == r.test_metrics.at("num_queries"));
    CHECK(pop.test_metrics.at("HR@1") < 0.2);
  }
}

TEST_CASE("offline trainer: a killed run resumes to exactly the uninterrupted result",
          "[trainer][resume]") {
  const auto cfg = TinyConfig();
  recarena::testing::TempDir straight, resumed;
  // "Crash" after 13 steps (between validations), then start again in the same directory.
  recarena::testing::CheckResumesExactly(cfg, 13, straight.path(), resumed.path());
  const int64_t n_items = 40;
  auto pa = LoadParams(cfg, straight.path() / "last.pt", n_items);
  auto pb = LoadParams(cfg, resumed.path() / "last.pt", n_items);
  REQUIRE(pa.size() == pb.size());
  for (size_t i = 0; i < pa.size(); ++i) CHECK(torch::equal(pa[i], pb[i]));
}

TEST_CASE("train command: resolved config, refusal to mix configs, clear errors",
          "[trainer][cli]") {
  recarena::testing::TempDir tmp;
  const fs::path cfg_file = fs::path(RECARENA_SOURCE_DIR) / "configs/offline/synthetic-sasrec.yaml";
  std::vector<std::string> args = {"train",
                                   "--config",
                                   cfg_file.string(),
                                   "--out",
                                   (tmp.path() / "run").string(),
                                   "data.synthetic.num_users=60",
                                   "data.synthetic.num_items=30",
                                   "train.max_steps=6",
                                   "train.eval_every=3",
                                   "model.encoder.hidden=8",
                                   "run.log_level=warn",
                                   "run.device=cpu"};
  std::ostringstream out, err;
  REQUIRE(recarena::experiments::Main(args, out, err) == 0);
  auto j = nlohmann::json::parse(out.str());
  CHECK(j["steps"] == 6);
  CHECK(recarena::ReadFile(tmp.path() / "run" / "config.yaml").find("max_steps: 6") !=
        std::string::npos);
  // Same directory, different config: refused.
  args.push_back("train.batch_size=7");
  std::ostringstream out2, err2;
  CHECK(recarena::experiments::Main(args, out2, err2) == 2);
  CHECK_THAT(err2.str(), Catch::Contains("different config"));
  // A mismatched state length is a config error naming both keys.
  std::ostringstream out3, err3;
  CHECK(recarena::experiments::Main({"train", "--config", cfg_file.string(), "--out",
                                     (tmp.path() / "r3").string(), "model.encoder.state_len=5"},
                                    out3, err3) == 2);
  CHECK_THAT(err3.str(), Catch::Contains("model.encoder.state_len") &&
                             Catch::Contains("data.window.state_len"));
}

TEST_CASE("every shipped offline config is schema-valid", "[config]") {
  int n = 0;
  for (const auto& e :
       fs::directory_iterator(fs::path(RECARENA_SOURCE_DIR) / "configs" / "offline")) {
    if (e.path().extension() != ".yaml") continue;
    INFO(e.path().string());
    CHECK_NOTHROW(recarena::config::Load<OfflineTrainConfig>(e.path()));
    ++n;
  }
  CHECK(n >= 15);
}
