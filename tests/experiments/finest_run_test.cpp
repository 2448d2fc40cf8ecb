#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "cli_runner.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/run_dir.h"
#include "experiments/train/offline_trainer.h"
#include "test_util.h"
#include "train_fixtures.h"

using namespace recarena::experiments;
using recarena::testing::TempDir;

namespace {
// A `recarena train` run directory: config.yaml beside the checkpoints, as the command writes it.
OfflineRunResult TrainRun(const OfflineTrainConfig& cfg, const std::filesystem::path& dir) {
  recarena::EnsureDir(dir);
  recarena::CheckRunDirConfig(dir, recarena::config::ToYamlString(cfg));
  return RunOfflineTraining(cfg, dir);
}
}  // namespace

TEST_CASE("finest: fine-tunes a trained run, resumes exactly, refuses a missing or other init",
          "[finest][train]") {
  TempDir dir;
  OfflineTrainConfig pre = recarena::testing::TinyOfflineConfig();
  const auto base = TrainRun(pre, dir.path() / "pre");
  REQUIRE(base.steps > 0);
  OfflineTrainConfig ft = pre;
  ft.model_kind = OfflineModel::kFinest;
  ft.finest.init_from = (dir.path() / "pre").string();
  ft.finest.k = 5;
  ft.finest.simulation_ratio = 0.2;
  ft.finest.weight = 1.0;
  ft.finest.lr = 1e-3;
  ft.train.max_steps = 16;
  ft.train.eval_every = 8;
  ft.Validate();
  const auto a =
      recarena::testing::CheckResumesExactly(ft, 5, dir.path() / "ft", dir.path() / "ft-resumed");
  CHECK(a.steps == 16);
  CHECK(std::isfinite(a.test_metrics.at("NDCG@10")));
  // The training curve carries the regulariser, which is positive at the start: the pre-trained
  // model's own rankings give hinge terms for pairs closer than the margin.
  const std::string curve = recarena::ReadFile(dir.path() / "ft" / "metrics.jsonl");
  CHECK(curve.find("\"train_reg\"") != std::string::npos);
  // A missing init run and one of another seed are refused, naming the key.
  OfflineTrainConfig bad = ft;
  bad.finest.init_from = (dir.path() / "missing").string();
  CHECK_THROWS_WITH(RunOfflineTraining(bad, dir.path() / "bad1"),
                    Catch::Contains("finest.init_from"));
  bad = ft;
  bad.run.seed = 12;
  CHECK_THROWS_WITH(RunOfflineTraining(bad, dir.path() / "bad2"), Catch::Contains("run.seed"));
  // Fine-tuning on perturbed data from the clean pre-training is allowed (same catalog and ids).
  OfflineTrainConfig perturbed = ft;
  perturbed.data.perturb.kind = recarena::data::PerturbKind::kDeletion;
  perturbed.data.perturb.ratio = 0.05;
  perturbed.train.max_steps = 4;
  perturbed.train.eval_every = 4;
  CHECK(RunOfflineTraining(perturbed, dir.path() / "ft-perturbed").steps == 4);
  // K above half the catalog (40 items) names the key and the catalog size.
  bad = ft;
  bad.finest.k = 21;
  CHECK_THROWS_WITH(RunOfflineTraining(bad, dir.path() / "bad3"),
                    Catch::Contains("finest.k = 21") && Catch::Contains("has 40"));
  bad = ft;
  bad.finest.init_from.clear();
  CHECK_THROWS_WITH(bad.Validate(), Catch::Contains("finest.init_from"));
}

TEST_CASE("finest: the regulariser holds the pre-trained rankings when its weight is large",
          "[finest][train]") {
  // Fine-tuning for 40 steps at a high learning rate moves the model; with w = 50 FINEST keeps
  // the top items of the training windows in the pre-trained order more than plain fine-tuning
  // (w = 0) does: its final regulariser value, measured by the same loss, is lower.
  TempDir dir;
  OfflineTrainConfig pre = recarena::testing::TinyOfflineConfig();
  TrainRun(pre, dir.path() / "pre");
  auto final_reg = [&](double weight, const std::string& name) {
    OfflineTrainConfig ft = pre;
    ft.model_kind = OfflineModel::kFinest;
    ft.finest.init_from = (dir.path() / "pre").string();
    ft.finest.k = 5;
    ft.finest.simulation_ratio = 0.0;
    ft.finest.weight = weight;
    ft.finest.lr = 1e-2;
    ft.train.max_steps = 40;
    ft.train.eval_every = 40;
    RunOfflineTraining(ft, dir.path() / name);
    // The last logged training step's regulariser.
    const std::string curve = recarena::ReadFile(dir.path() / name / "metrics.jsonl");
    const auto at = curve.rfind("\"train_reg\":");
    REQUIRE(at != std::string::npos);
    return std::stod(curve.substr(at + 12));
  };
  const double plain = final_reg(0.0, "plain");
  const double finest = final_reg(50.0, "finest");
  INFO("final regulariser: plain fine-tuning " << plain << ", FINEST " << finest);
  CHECK(finest < plain);
}
