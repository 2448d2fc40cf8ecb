// End to end: `recarena train` on a tiny synthetic world, `recarena conformal-eval` on the run, and
// CPFT fine-tuning of the run (model_kind cpft).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "experiments/cli/cli.h"
#include "experiments/cli_runner.h"
#include "experiments/report/conformal_eval.h"
#include "test_util.h"

namespace fs = std::filesystem;
using recarena::testing::CliResult;
using recarena::testing::RunCli;
using namespace recarena::experiments;
using recarena::testing::TempDir;

namespace {

const fs::path kRepo = RECARENA_SOURCE_DIR;

// Allowed growth of the THR mean set size (alpha 0.3, 50 items) through CPFT with the paper's
// defaults. Measured (docs/cpft.md): on this tiny, weakly trained world CPFT does NOT shrink the
// sets; the change was +2.9 (seed 42, this test), -1.3, +2.5, +2.5 items (seeds 1-3, 30 + 30 steps)
// and +3.0, -0.4, +2.5 (200-user world, 200 + 60 steps). 5 items = 10% of the catalog bounds that
// with a margin while still catching a collapse towards the whole catalog.
constexpr double kSetSizeTolerance = 5.0;

// A tiny synthetic world trained for a few steps (seconds on a CPU).
CliResult Train(const fs::path& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"train",
                                   "--config",
                                   (kRepo / "configs/offline/synthetic-sasrec.yaml").string(),
                                   "--out",
                                   dir.string(),
                                   "data.synthetic.num_users=80",
                                   "data.synthetic.num_items=50",
                                   "train.max_steps=30",
                                   "train.eval_every=10",
                                   "train.batch_size=64",
                                   "train.threads=1",
                                   "run.device=cpu"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args);
}

double ThrMeanSetSize(const fs::path& run) {
  ConformalEvalOptions o;
  o.alphas = {"0.3"};
  o.splits = {};
  o.seed = 1;
  const auto r = EvaluateRunConformal(run, o);
  for (const auto& m : r.results)
    if (m.method == "thr") return m.all.mean_set_size;
  FAIL("no thr result");
  return 0;
}

}  // namespace

TEST_CASE("conformal-eval on a trained tiny synthetic run", "[conformal_eval][slow]") {
  TempDir tmp;
  const fs::path run = tmp.path() / "base";
  auto t = Train(run, {});
  REQUIRE(t.code == 0);
  REQUIRE(fs::exists(run / "best.pt"));
  auto r = RunCli({"conformal-eval", run.string(), "--alphas", "0.1,0.2", "--splits", "vfcp,dlcp",
                   "--weight-step", "0.25", "--out", (tmp.path() / "ce").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["n_items"].get<int>() == 50);
  const int n_test = j["n_test"].get<int>();
  CHECK(n_test >= 20);
  const auto& results = j["results"];
  REQUIRE(results.size() == 2 * (5 + 2));
  for (const auto& m : results) {
    const double alpha = std::stod(m["alpha"].get<std::string>());
    INFO(m.dump());
    // Split conformal: coverage >= 1 - alpha in expectation over the calibration draw; a tolerance
    // for the finite test half.
    CHECK(m["coverage"].get<double>() >= 1.0 - alpha - 0.1);
    CHECK(m["mean_set_size"].get<double>() >= 1.0);
    CHECK(m["mean_set_size"].get<double>() <= 50.0);
    CHECK(m["by_set_size"].size() == 6);
    CHECK(m["by_activity"].size() == 3);
  }
  const std::string md = recarena::ReadFile(tmp.path() / "ce" / "report.md");
  CHECK_THAT(md, Catch::Contains("## alpha = 0.1") && Catch::Contains("weighted (dlcp)") &&
                     Catch::Contains("by set size") && Catch::Contains("by user activity"));
  std::ifstream csv(tmp.path() / "ce" / "report.csv");
  std::string line;
  std::getline(csv, line);
  CHECK(
      line ==
      "alpha,method,split,group_kind,group,n,coverage,mean_set_size,median_set_size,q_hat,weights");
  size_t rows = 0;
  while (std::getline(csv, line)) ++rows;
  CHECK(rows == 2 * (5 + 2) * (1 + 6 + 3));

  // Errors: not a run directory.
  auto bad = RunCli({"conformal-eval", (tmp.path() / "nope").string()});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("config.yaml"));
}

TEST_CASE("cpft: fine-tuning a trained run", "[cpft][slow]") {
  TempDir tmp;
  const fs::path base = tmp.path() / "base";
  REQUIRE(Train(base, {}).code == 0);

  SECTION("config errors name the key") {
    auto r = Train(tmp.path() / "c0", {"model_kind=cpft"});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("cpft.init_from"));
    r = Train(tmp.path() / "c1",
              {"model_kind=cpft", "cpft.init_from=" + (tmp.path() / "missing").string()});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("cpft.init_from"));
    r = Train(tmp.path() / "c2",
              {"model_kind=cpft", "cpft.init_from=" + base.string(), "run.seed=7"});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("run.seed"));
    r = Train(tmp.path() / "c3", {"cpft.alpha=0.3"});  // a normal run has no cpft section
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("cpft"));
  }

  SECTION("the run trains, records the conformal terms, and does not grow the sets") {
    const fs::path ft = tmp.path() / "cpft";
    auto r = Train(ft, {"model_kind=cpft", "cpft.init_from=" + base.string()});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const std::string hist = recarena::ReadFile(ft / "metrics.jsonl");
    const auto first = nlohmann::json::parse(hist.substr(0, hist.find('\n')));
    CHECK(first.contains("train_cps"));
    CHECK(first.contains("train_cpd"));
    CHECK(first.contains("train_set_size"));
    CHECK(recarena::ReadFile(ft / "config.yaml").find("init_from") != std::string::npos);
    const double before = ThrMeanSetSize(base);
    const double after = ThrMeanSetSize(ft);
    INFO("THR mean set size at alpha 0.3: before " << before << ", after CPFT " << after);
    CHECK(after <= before + kSetSizeTolerance);
  }
}
