#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/config.h"
#include "data/data_config.h"
#include "data/prepared_io.h"
#include "experiments/cli/cli.h"
#include "experiments/cli_runner.h"
#include "test_util.h"

namespace fs = std::filesystem;
using recarena::experiments::Main;
using recarena::testing::RunCli;

namespace {
const fs::path kRepo = RECARENA_SOURCE_DIR;
}  // namespace

TEST_CASE("cli: help, unknown command, group listing", "[cli]") {
  auto r = RunCli({"--help"});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("data prepare") && Catch::Contains("data stats"));
  r = RunCli({"data", "prepare", "--help"});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("--dataset") && Catch::Contains("--config"));
  r = RunCli({"dta"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown command"));
  r = RunCli({"data"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("data stats"));
  r = RunCli({"data", "prepare", "--bogus"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("bogus"));
}

TEST_CASE("data prepare + stats on a small synthetic world: files, resolved config, reload",
          "[cli][data]") {
  recarena::testing::TempDir tmp;
  const fs::path out = tmp.path() / "prep";
  auto r = RunCli({"data", "prepare", "--dataset", "synthetic", "--out", out.string(),
                   "data.synthetic.num_users=60", "data.synthetic.num_items=40", "run.seed=7",
                   "run.log_level=warn"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (const char* f : {"dataset.json", "items.tsv", "users.tsv", "interactions.tsv", "train.tsv",
                        "valid.tsv", "test.tsv", "config.yaml", "ground_truth.json"}) {
    CHECK(fs::exists(out / f));
  }
  auto prepared_json = nlohmann::json::parse(r.out);
  CHECK(prepared_json["users"] == 60);
  CHECK(prepared_json["items"] == 40);
  // The resolved config records the overrides and every default.
  const std::string resolved = recarena::ReadFile(out / "config.yaml");
  CHECK_THAT(resolved, Catch::Contains("num_users: 60") && Catch::Contains("seed: 7") &&
                           Catch::Contains("min_item_freq"));
  // It loads back as a valid config.
  auto cfg = recarena::config::Load<recarena::data::DataPrepareConfig>(out / "config.yaml");
  CHECK(cfg.data.synthetic.num_users == 60);

  auto s = RunCli({"data", "stats", out.string()});
  REQUIRE(s.code == 0);
  auto stats = nlohmann::json::parse(s.out);
  CHECK(stats["interactions"] == prepared_json["interactions"]);
  CHECK(stats["users"] == 60);
  CHECK(stats["sequences"].get<int64_t>() > 0);
  CHECK(stats["sparsity"].get<double>() > 0.0);
  CHECK(stats["sparsity"].get<double>() < 1.0);
  const auto split = stats["split_sequences"];
  CHECK(split["train"].get<int64_t>() + split["valid"].get<int64_t>() +
            split["test"].get<int64_t>() ==
        stats["sequences"].get<int64_t>());

  // Same seed -> byte-identical prepared data; the reloaded dataset equals the saved one.
  const fs::path out2 = tmp.path() / "prep2";
  auto r2 = RunCli({"data", "prepare", "--dataset", "synthetic", "--out", out2.string(),
                    "data.synthetic.num_users=60", "data.synthetic.num_items=40", "run.seed=7",
                    "run.log_level=warn"});
  REQUIRE(r2.code == 0);
  for (const char* f : {"interactions.tsv", "train.tsv", "test.tsv", "items.tsv"}) {
    CHECK(recarena::ReadFile(out / f) == recarena::ReadFile(out2 / f));
  }
  auto loaded = recarena::data::LoadPrepared(out);
  CHECK(loaded.dataset.interactions.size() ==
        static_cast<size_t>(stats["interactions"].get<int64_t>()));
  CHECK(loaded.truth.has_value());
}

TEST_CASE("data prepare: bad config values and keys give clear errors", "[cli][data]") {
  recarena::testing::TempDir tmp;
  auto cfg = tmp.Write(
      "bad.yaml",
      "run:\n  seed: 1\ndata:\n  dataset: synthetic\n  preproces:\n    min_item_freq: 2\n");
  auto r =
      RunCli({"data", "prepare", "--config", cfg.string(), "--out", (tmp.path() / "o").string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad.yaml:5") && Catch::Contains("preproces") &&
                        Catch::Contains("did you mean 'preprocess'"));
  r = RunCli({"data", "prepare", "--dataset", "movielens", "--out", (tmp.path() / "o").string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("movielens"));
  r = RunCli({"data", "stats", (tmp.path() / "nowhere").string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("nowhere"));
}

TEST_CASE("every shipped data config is schema-valid", "[config]") {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kRepo / "configs" / "data")) {
    if (e.path().extension() != ".yaml") continue;
    INFO(e.path().string());
    CHECK_NOTHROW(recarena::config::Load<recarena::data::DataPrepareConfig>(e.path()));
    ++n;
  }
  CHECK(n >= 7);
}

TEST_CASE("data prepare on the real datasets matches the MANIFEST counts", "[cli][data][real]") {
  struct Case {
    const char* folder;
    const char* dataset;
    int64_t interactions, users, items;
    std::vector<std::pair<std::string, int64_t>> parts;
  };
  const std::vector<Case> cases = {
      {"ml-latest-small", "ml-latest-small", 100836, 610, 9742, {}},
      {"ml-100k", "ml-100k", 100000, 943, 1682, {}},
      {"coat", "coat", 11600, 290, 300, {{"train", 6960}, {"test", 4640}}},
      {"rc15-sample", "rc15", 70278 + 13568, -1, -1, {{"train", 70278}, {"test", 13568}}},
  };
  size_t missing = 0;
  for (const auto& c : cases) {
    if (recarena::testing::RealDataset(c.folder).empty()) {
      if (recarena::testing::DataRequired()) {
        FAIL("dataset '" << c.folder << "' not found under " << recarena::DataRoot()
                         << " and RECARENA_REQUIRE_DATA=1");
      }
      if (++missing == cases.size())
        RECARENA_SKIP("no dataset found under " << recarena::DataRoot());
      WARN("dataset '" << c.folder << "' not found under " << recarena::DataRoot()
                       << ": not checked");
      continue;
    }
    recarena::testing::TempDir tmp;
    auto r = RunCli({"data", "prepare", "--dataset", c.dataset, "--out",
                     (tmp.path() / "p").string(), "run.log_level=warn"});
    INFO(c.dataset << ": " << r.err);
    REQUIRE(r.code == 0);
    auto s = RunCli({"data", "stats", (tmp.path() / "p").string()});
    REQUIRE(s.code == 0);
    auto j = nlohmann::json::parse(s.out);
    CHECK(j["interactions"] == c.interactions);
    if (c.users >= 0) CHECK(j["users"] == c.users);
    if (c.items >= 0) CHECK(j["items"] == c.items);
    for (const auto& [part, n] : c.parts) CHECK(j["interactions_by_part"][part] == n);
    CHECK(j["exposures"] == 0);  // none of these logs records what was shown
  }
}
