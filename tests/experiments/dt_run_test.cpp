// End to end: `recarena train` with model_kind modt4r / mrdt on a tiny synthetic world.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "experiments/cli_runner.h"
#include "experiments/train/offline_trainer.h"
#include "test_util.h"
#include "train_fixtures.h"

namespace fs = std::filesystem;
using recarena::testing::CliResult;
using recarena::testing::RunCli;
using recarena::testing::TempDir;

namespace {

const fs::path kRepo = RECARENA_SOURCE_DIR;

CliResult Train(const fs::path& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"train",
                                   "--config",
                                   (kRepo / "configs/offline/synthetic-sasrec.yaml").string(),
                                   "--out",
                                   dir.string(),
                                   "data.synthetic.num_users=80",
                                   "data.synthetic.num_items=50",
                                   "train.max_steps=20",
                                   "train.eval_every=10",
                                   "train.batch_size=64",
                                   "train.threads=1",
                                   "run.device=cpu"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args);
}

}  // namespace

TEST_CASE("train: modt4r and mrdt runs train, evaluate and record their loss terms", "[dt][slow]") {
  TempDir tmp;
  for (const std::string kind : {"modt4r", "mrdt"}) {
    const fs::path dir = tmp.path() / kind;
    auto r = Train(dir, {"model_kind=" + kind, "dt.beta=0.5", "dt.alpha=0.5"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto m = nlohmann::json::parse(recarena::ReadFile(dir / "metrics.json"));
    CHECK(m.at("model_kind") == kind);
    CHECK(m.at("steps") == 20);
    CHECK(m.at("HR@10").get<double>() >= 0.0);
    CHECK(m.contains("CV_nov@10"));
    const std::string hist = recarena::ReadFile(dir / "metrics.jsonl");
    const auto first = nlohmann::json::parse(hist.substr(0, hist.find('\n')));
    CHECK(first.contains("train_l_s"));
    CHECK(first.contains("train_l_a"));
    CHECK(first.contains("train_l_r"));
    CHECK(recarena::ReadFile(dir / "config.yaml").find("epsilon") != std::string::npos);
  }
  // A normal run has no dt section; bad dt values name the key.
  auto r = Train(tmp.path() / "bad1", {"dt.beta=1"});
  CHECK(r.code != 0);
  CHECK_THAT(r.err, Catch::Contains("dt"));
  r = Train(tmp.path() / "bad2", {"model_kind=modt4r", "dt.epsilon=2"});
  CHECK(r.code != 0);
  CHECK_THAT(r.err, Catch::Contains("dt.epsilon"));
}

TEST_CASE("train: a killed mrdt run resumes to exactly the uninterrupted result", "[dt][resume]") {
  auto cfg = recarena::testing::TinyOfflineConfig(recarena::models::EncoderKind::kSasRec);
  cfg.model_kind = recarena::experiments::OfflineModel::kMrdt;
  cfg.train.max_steps = 16;
  TempDir straight, resumed;
  recarena::testing::CheckResumesExactly(cfg, 11, straight.path(), resumed.path());
}

TEST_CASE("train: dt.similarity features takes the item categories", "[dt]") {
  TempDir tmp;
  auto r = Train(tmp.path() / "features",
                 {"model_kind=modt4r", "dt.similarity=features", "train.max_steps=10"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(recarena::ReadFile(tmp.path() / "features" / "config.yaml"),
             Catch::Contains("similarity: features"));
  // A catalog without categories or features cannot give feature similarity.
  recarena::data::PreparedDataset p;
  p.dataset.name = "bare";
  p.dataset.items.Intern("a");
  p.dataset.items.Intern("b");
  p.dataset.items.Normalize();
  recarena::agents::Modt4rOptions dt;
  CHECK_FALSE(recarena::experiments::DtSimilarityVectors(dt, p).defined());  // learned
  dt.similarity = recarena::agents::ReturnSimilarity::kFeatures;
  CHECK_THROWS_WITH(recarena::experiments::DtSimilarityVectors(dt, p),
                    Catch::Contains("dt.similarity") && Catch::Contains("bare"));
}
