#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "cli_runner.h"
#include "core/atomic_file.h"
#include "experiments/report/stability_experiment.h"
#include "test_util.h"
#include "train_fixtures.h"

using namespace recarena::experiments;
using recarena::testing::TempDir;

namespace {
// The tiny world's config with 5% of the training interactions deleted at random.
OfflineTrainConfig Deletion5Percent() {
  OfflineTrainConfig cfg = recarena::testing::TinyOfflineConfig();
  cfg.data.perturb.kind = recarena::data::PerturbKind::kDeletion;
  cfg.data.perturb.ratio = 0.05;
  return cfg;
}
}  // namespace

TEST_CASE(
    "stability experiment: a retrain from the same initial weights on the same data is "
    "stable exactly, a perturbed one is not",
    "[stability][train]") {
  TempDir dir;
  OfflineTrainConfig cfg = recarena::testing::TinyOfflineConfig();
  StabilityExperimentOptions opts;
  opts.metrics.k = 5;
  // Control: perturb.kind none, so the retrain sees the original data and must reproduce the
  // original model's rankings item for item.
  const auto control = RunStabilityExperiment(cfg, dir.path() / "control", opts);
  const auto& c = control["perturbed"][0];
  CHECK(c["rows_perturbed"] == 0);
  CHECK(c["test_metrics"] == control["original"]["test_metrics"]);
  for (const char* m : {"AO", "FRBO@5", "Jaccard@5"}) {
    INFO(m);
    CHECK(control["summary"][m].get<double>() == 1.0);
  }
  // RBO_ext sums 40 weighted terms that add up to 1: equal up to rounding.
  CHECK(control["summary"]["RBO_ext"].get<double>() == Approx(1.0).epsilon(1e-12));
  CHECK(control["num_queries"].get<int64_t>() > 10);
  // Deletion of 5% of the training interactions: the rankings move, but stay related.
  cfg.data.perturb.kind = recarena::data::PerturbKind::kDeletion;
  cfg.data.perturb.ratio = 0.05;
  opts.perturbations = 2;
  const auto deleted = RunStabilityExperiment(cfg, dir.path() / "deletion", opts);
  REQUIRE(deleted["perturbed"].size() == 2);
  CHECK(deleted["perturbed"][0]["rows_perturbed"].get<int64_t>() > 0);
  CHECK(deleted["perturbed"][0]["perturb_seed"] == 1);
  CHECK(deleted["perturbed"][1]["perturb_seed"] == 2);
  const double ao = deleted["summary"]["AO"].get<double>();
  CHECK(ao < 1.0);
  CHECK(ao > 0.3);
  CHECK(deleted["original"]["test_metrics"] == control["original"]["test_metrics"]);
  CHECK(std::filesystem::exists(dir.path() / "deletion" / "stability.json"));
  // Run again in the same directory: every run resumes finished, the report is the same.
  const auto again = RunStabilityExperiment(cfg, dir.path() / "deletion", opts);
  CHECK(again == deleted);
}

TEST_CASE("stability experiment: --pretrained fine-tunes each run from its own pre-trained run",
          "[stability][finest][train]") {
  TempDir dir;
  OfflineTrainConfig cfg = Deletion5Percent();
  StabilityExperimentOptions opts;
  opts.metrics.k = 5;
  RunStabilityExperiment(cfg, dir.path() / "pre", opts);
  OfflineTrainConfig ft = cfg;
  ft.model_kind = OfflineModel::kFinest;
  ft.finest.init_from = "ignored-with-pretrained";
  ft.finest.k = 5;
  ft.train.max_steps = 4;
  ft.train.eval_every = 4;
  opts.pretrained = dir.path() / "pre";
  const auto report = RunStabilityExperiment(ft, dir.path() / "ft", opts);
  CHECK(report["pretrained"] == (dir.path() / "pre").string());
  // Each fine-tuning run's resolved config names its own pre-trained run.
  for (const char* name : {"original", "perturbed-1"}) {
    INFO(name);
    const std::string yaml = recarena::ReadFile(dir.path() / "ft" / name / "config.yaml");
    CHECK(yaml.find((dir.path() / "pre" / name).string()) != std::string::npos);
  }
  // A run the earlier experiment does not have, and a model kind that does not fine-tune.
  opts.perturbations = 2;
  CHECK_THROWS_WITH(RunStabilityExperiment(ft, dir.path() / "ft2", opts),
                    Catch::Contains("perturbed-2"));
  opts.perturbations = 1;
  CHECK_THROWS_WITH(RunStabilityExperiment(cfg, dir.path() / "ft3", opts),
                    Catch::Contains("--pretrained needs model_kind finest"));
}

TEST_CASE(
    "stability experiment: tagged perturbations in one directory share the original run, "
    "trained once",
    "[stability][train]") {
  TempDir dir;
  OfflineTrainConfig cfg = Deletion5Percent();
  StabilityExperimentOptions opts;
  opts.metrics.k = 5;
  opts.tag = "random";
  const auto random = RunStabilityExperiment(cfg, dir.path(), opts);
  const auto original = dir.path() / "original";
  const auto trained = std::filesystem::last_write_time(original / "last.pt");
  // Another perturbation (and selection) in the same directory: its own runs and report, the
  // original read back, not trained or resumed (last.pt untouched), with the same metrics.
  cfg.data.perturb.kind = recarena::data::PerturbKind::kReplacement;
  cfg.data.perturb.select = recarena::data::PerturbSelect::kCasper;
  opts.tag = "casper";
  const auto casper = RunStabilityExperiment(cfg, dir.path(), opts);
  CHECK(std::filesystem::last_write_time(original / "last.pt") == trained);
  CHECK(casper["original"]["test_metrics"] == random["original"]["test_metrics"]);
  CHECK(casper["tag"] == "casper");
  CHECK(casper["perturbed"][0]["dir"] == (dir.path() / "perturbed-casper-1").string());
  CHECK(casper["perturb"]["kind"] == "replacement");
  for (const char* f : {"stability-random.json", "stability-casper.json", "perturbed-random-1",
                        "perturbed-casper-1"}) {
    INFO(f);
    CHECK(std::filesystem::exists(dir.path() / f));
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() / "stability.json"));
  // The replaced rows differ from the deleted ones: the two perturbed models are distinct.
  CHECK(casper["perturbed"][0]["test_metrics"] != random["perturbed"][0]["test_metrics"]);
  // A rerun of the first reads everything back: the same report.
  opts.tag = "random";
  cfg.data.perturb.kind = recarena::data::PerturbKind::kDeletion;
  cfg.data.perturb.select = recarena::data::PerturbSelect::kRandom;
  CHECK(RunStabilityExperiment(cfg, dir.path(), opts) == random);
  opts.tag = "a/b";
  CHECK_THROWS_WITH(RunStabilityExperiment(cfg, dir.path(), opts), Catch::Contains("--tag"));
}

TEST_CASE("stability command: bad flags name the flag", "[stability][cli]") {
  auto r = recarena::testing::RunCli({"stability", "--config", "x.yaml", "--perturbations", "0"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--perturbations") && Catch::Contains("0"));
  r = recarena::testing::RunCli({"stability", "--config", "x.yaml", "--p", "2"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--p"));
}
