// `recarena sim fit | report | rollout` end to end on a tiny synthetic world.
#include <catch2/catch.hpp>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "data/prepare.h"
#include "env/sim_config.h"
#include "experiments/eval/rollout.h"
#include "experiments/report/sim_report.h"
#include "test_util.h"

using recarena::testing::RunCli;

namespace {
std::vector<std::string> TinyOverrides() {
  return {"data.synthetic.num_users=60", "data.synthetic.num_items=40",
          "data.synthetic.num_topics=4", "sim.response.encoder.hidden=8",
          "sim.response.epochs=3",
          "sim.response.batch_size=256",  // the shipped 1024 is a few steps an epoch here
          "sim.max_length=10",           "run.device=cpu",
          "run.log_level=warn"};
}

// `sim fit` of configs/sim/<config>.yaml into dir with the tiny overrides and any extra ones.
recarena::testing::CliResult FitTiny(const std::string& config, const std::filesystem::path& dir,
                                     const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{
      "sim",   "fit",       "--config", std::string(RECARENA_SOURCE_DIR) + "/configs/sim/" + config,
      "--out", dir.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  for (const auto& o : TinyOverrides()) args.push_back(o);
  return RunCli(args);
}

// FitTiny, then `sim report` with `episodes` episodes: the report's JSON.
nlohmann::json FitAndReport(const std::string& config, const std::filesystem::path& dir,
                            const std::vector<std::string>& extra, int episodes) {
  auto fit = FitTiny(config, dir, extra);
  INFO(fit.err);
  REQUIRE(fit.code == 0);
  auto rep = RunCli({"sim", "report", dir.string(), "--episodes", std::to_string(episodes)});
  INFO(rep.err);
  REQUIRE(rep.code == 0);
  return nlohmann::json::parse(rep.out);
}
}  // namespace

TEST_CASE("sim fit, report and rollout on the synthetic world", "[sim][cli]") {
  recarena::testing::TempDir tmp;
  const auto dir = tmp.path() / "sim";
  // Uniform negatives and the unconditional hazard: the two schemes and no leave weights.
  auto fit = FitTiny("synthetic-uniform.yaml", dir);
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
    // The held-out comparison: every model on both negative schemes, the same rows.
    for (const char* scheme : {"uniform", "popularity"}) {
      const auto& sj = r["schemes"][scheme];
      CHECK(sj["rows"].get<int64_t>() > 0);
      for (const char* model : {"learned", "popularity", "item_knn", "mf"}) {
        CHECK(sj["models"][model]["auc"].is_number());
        CHECK(sj["models"][model]["logloss"].get<double>() > 0.0);
      }
      CHECK(sj["learned_beats_all_auc"].is_boolean());
    }
    CHECK(r["ece"].get<double>() >= 0.0);
    CHECK(r["length_ks"].get<double>() >= 0.0);
    CHECK(r["length_ks"].get<double>() <= 1.0);
    CHECK(r["rollout_random"]["length"]["n"].get<int64_t>() == 50);
    // The oracle and the logged policy replayed, with the replayed lengths against the logs.
    CHECK(r["rollout_oracle"]["length"]["n"].get<int64_t>() == 50);
    CHECK(r["rollout_logged"]["length"]["n"].get<int64_t>() == 50);
    CHECK(r["length_ks_replay"].get<double>() >= 0.0);
    CHECK(r["length_ks_replay"].get<double>() <= 1.0);
    CHECK(r["replay_share"].get<double>() > 0.3);    // most steps come from the logs
    CHECK_FALSE(r.contains("leave_weights"));        // unconditional hazard
    CHECK_FALSE(r["schemes"].contains("exposure"));  // the log records no slates
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
  // A huge --num-envs is capped by the episodes the job needs (100M slots would be ~4 GB of masks)
  // and, B not mattering, gives the same numbers.
  auto huge = RunCli({"sim", "rollout", dir.string(), "--policy", "random", "--episodes", "60",
                      "--no-leave", "--max-length", "5", "--num-envs", "100000000"});
  REQUIRE(huge.code == 0);
  CHECK(nlohmann::json::parse(huge.out)["return"] == rr["return"]);
  auto zero = RunCli({"sim", "rollout", dir.string(), "--num-envs", "0"});
  CHECK(zero.code == 2);
  CHECK_THAT(zero.err, Catch::Contains("--num-envs must be >= 1"));

  // sim predict: the eval role is the world's truth, so its answers have golden values
  // sigmoid((affinity_scale * <user affinity, item topics> + quality - no_click) / temperature).
  {
    const auto cfg = recarena::config::Load<recarena::env::SimFitConfig>(dir / "config.yaml");
    const auto prepared = recarena::data::PrepareDataset(cfg.data, cfg.run.seed);
    const auto& ds = prepared.dataset;
    const auto& truth = *prepared.truth;
    std::string csv = "user,history,item\n";
    std::vector<double> expected;
    for (int u : {0, 3, 7}) {
      for (int i : {1, 5}) {
        csv += ds.users.external_ids[static_cast<size_t>(u)] + "," + ds.items.external_ids[2] +
               " " + ds.items.external_ids[4] + "," +
               ds.items.external_ids[static_cast<size_t>(i)] + "\n";
        double util = truth.item_quality[static_cast<size_t>(i)];
        double dot = 0.0;
        for (int k = 0; k < truth.num_topics; ++k) {
          dot += static_cast<double>(
                     truth.user_affinity[static_cast<size_t>(u * truth.num_topics + k)]) *
                 truth.item_topics[static_cast<size_t>(i * truth.num_topics + k)];
        }
        util += truth.affinity_scale * dot;
        expected.push_back(1.0 / (1.0 + std::exp(-(util - cfg.data.synthetic.no_click_utility) /
                                                 cfg.data.synthetic.choice_temperature)));
      }
    }
    const auto input = tmp.Write("queries.csv", csv);
    auto pred =
        RunCli({"sim", "predict", dir.string(), "--role", "eval", "--input", input.string()});
    INFO(pred.err);
    REQUIRE(pred.code == 0);
    std::istringstream lines(pred.out);
    std::vector<double> got;
    for (double v; lines >> v;) got.push_back(v);
    REQUIRE(got.size() == expected.size());
    for (size_t k = 0; k < got.size(); ++k) CHECK(got[k] == Approx(expected[k]).margin(2e-6));

    // The learned roles answer the same file with probabilities.
    auto learned =
        RunCli({"sim", "predict", dir.string(), "--role", "train", "--input", input.string()});
    REQUIRE(learned.code == 0);
    std::istringstream ll(learned.out);
    int n = 0;
    for (double v; ll >> v; ++n) {
      CHECK(v > 0.0);
      CHECK(v < 1.0);
    }
    CHECK(n == 6);

    const auto bad =
        tmp.Write("bad.csv", "user,history,item\n" + ds.users.external_ids[0] + ",,no-such-item\n");
    auto err = RunCli({"sim", "predict", dir.string(), "--role", "train", "--input", bad.string()});
    CHECK(err.code == 2);
    CHECK_THAT(err.err, Catch::Contains("bad.csv:2") && Catch::Contains("no-such-item"));
    const auto header = tmp.Write("header.csv", "u,h,i\n");
    auto herr = RunCli({"sim", "predict", dir.string(), "--input", header.string()});
    CHECK(herr.code == 2);
    CHECK_THAT(herr.err, Catch::Contains("user,history,item"));
  }

  // Bad input: clear errors.
  auto bad_policy = RunCli({"sim", "rollout", dir.string(), "--policy", "greedy"});
  CHECK(bad_policy.code == 2);
  CHECK_THAT(bad_policy.err, Catch::Contains("--policy must be random, popular, oracle or run"));
  auto missing = RunCli({"sim", "report", (tmp.path() / "nope").string()});
  CHECK(missing.code == 2);
  CHECK_THAT(missing.err, Catch::Contains("not a fitted simulator"));
  auto bad_component = RunCli({"sim", "fit", "--config",
                               std::string(RECARENA_SOURCE_DIR) + "/configs/sim/synthetic.yaml",
                               "--out", (tmp.path() / "x").string(), "sim.response.kind=lstm"});
  CHECK(bad_component.code == 2);
  CHECK_THAT(bad_component.err, Catch::Contains("lstm") && Catch::Contains("deepfm"));
}

TEST_CASE(
    "sim report of the shipped synthetic config: exposure negatives are a third scheme and "
    "the headline's, and the leave hazard is the conditional one",
    "[sim][cli][exposures]") {
  recarena::testing::TempDir tmp;
  const auto dir = tmp.path() / "sim";
  const auto rj = FitAndReport("synthetic.yaml", dir, {}, 20);
  for (const char* role : {"train", "test"}) {
    const auto& r = rj["roles"][role];
    CHECK(r["heldout_scheme"] == "exposure");
    const auto& sj = r["schemes"]["exposure"];
    // Shown-and-not-picked rows outnumber the clicks (slates of 10).
    CHECK(sj["positive_share"].get<double>() < 0.25);
    CHECK(sj["positive_share"].get<double>() > 0.0);
    CHECK(r["heldout_auc"] == sj["models"]["learned"]["auc"]);
    CHECK(r["ece"] == sj["models"]["learned"]["ece"]);
    CHECK(r["schemes"].contains("uniform"));
    CHECK(r["schemes"].contains("popularity"));
    CHECK(r["leave_weights"].size() == 4u);  // c and the three feature weights, fitted
  }
  // The markdown names the scheme of the headline AUC and ECE.
  CHECK(recarena::ReadFile(dir / "report.md").find("(exposure negatives)") != std::string::npos);
}

TEST_CASE("sim report on mixed negatives: the training scheme is a row, and the headline's",
          "[sim][cli]") {
  recarena::testing::TempDir tmp;
  const auto dir = tmp.path() / "sim";
  const auto rj =
      FitAndReport("synthetic-uniform.yaml", dir, {"sim.response.negative_sampling=mixed"}, 20);
  for (const char* role : {"train", "test"}) {
    const auto& r = rj["roles"][role];
    CHECK(r["heldout_scheme"] == "mixed");
    const auto& sj = r["schemes"]["mixed"];
    // One logged positive per 4 negatives, whatever their scheme.
    CHECK(sj["positive_share"].get<double>() == Approx(0.2));
    CHECK(r["ece"] == sj["models"]["learned"]["ece"]);
    // The mixed rows are their own draw: neither scheme's rows.
    CHECK(sj["models"]["learned"]["auc"] != r["schemes"]["uniform"]["models"]["learned"]["auc"]);
    CHECK(sj["models"]["learned"]["auc"] != r["schemes"]["popularity"]["models"]["learned"]["auc"]);
  }
  CHECK(recarena::ReadFile(dir / "report.md").find("(mixed negatives)") != std::string::npos);
}

TEST_CASE("sim report: the conditional leave hazard's weights and session-length table",
          "[sim][cli][leave]") {
  recarena::testing::TempDir tmp;
  const auto dir = tmp.path() / "sim";
  const auto rj =
      FitAndReport("synthetic-uniform.yaml", dir, {"sim.leave.hazard.conditional=true"}, 40);
  for (const char* role : {"train", "test"}) {
    const auto& w = rj["roles"][role]["leave_weights"];
    REQUIRE(w.size() == 4u);
    for (const auto& v : w) CHECK(std::isfinite(v.get<double>()));
  }
  // The synthetic configs' truth leaves by the world's patience: nothing fitted there.
  CHECK_FALSE(rj["roles"]["eval"].contains("leave_weights"));
  const auto md = recarena::ReadFile(dir / "report.md");
  CHECK_THAT(md, Catch::Contains("## Session lengths") &&
                     Catch::Contains("conditional leave hazard logit h = logit h0(t)") &&
                     Catch::Contains("| eval | logged |"));
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

TEST_CASE("sim rollout --policy run: a trained offline run acts greedily in the simulator",
          "[sim][cli]") {
  recarena::testing::TempDir tmp;
  const auto sim = tmp.path() / "sim";
  REQUIRE(FitTiny("synthetic.yaml", sim).code == 0);
  // An offline run on the simulator's data (the same dataset section), and one on another catalog.
  auto train = [&](const std::string& out, const std::string& items) {
    return RunCli({"train", "--config",
                   std::string(RECARENA_SOURCE_DIR) + "/configs/offline/synthetic-sasrec.yaml",
                   "--out", (tmp.path() / out).string(), "data.preprocess.sequence_unit=session",
                   "data.synthetic.num_users=60", "data.synthetic.num_items=" + items,
                   "data.synthetic.num_topics=4", "train.max_steps=20", "train.eval_every=10",
                   "model.encoder.hidden=8", "run.device=cpu", "run.log_level=warn"});
  };
  auto ok = train("run", "40");
  INFO(ok.err);
  REQUIRE(ok.code == 0);
  REQUIRE(train("other", "30").code == 0);

  const std::vector<std::string> rollout{"sim",
                                         "rollout",
                                         sim.string(),
                                         "--policy",
                                         "run",
                                         "--run",
                                         (tmp.path() / "run").string(),
                                         "--episodes",
                                         "40",
                                         "--seed",
                                         "3"};
  auto r = RunCli(rollout);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["return"]["mean"].get<double>() >= 0.0);
  CHECK(j["episodes"].get<int64_t>() == 40);
  CHECK(j["policy"].get<std::string>().find("run ") == 0);
  // A greedy policy of the observation: the same episodes for another number of parallel users
  // (up to float rounding of the batched response model).
  auto again = rollout;
  again.insert(again.end(), {"--num-envs", "7"});
  const auto j7 = nlohmann::json::parse(RunCli(again).out);
  CHECK(j7["return"]["mean"].get<double>() ==
        Approx(j["return"]["mean"].get<double>()).epsilon(1e-6));
  CHECK(j7["length"]["mean"].get<double>() == j["length"]["mean"].get<double>());
  // The greedy run differs from random play in this simulator.
  auto random = RunCli(
      {"sim", "rollout", sim.string(), "--policy", "random", "--episodes", "40", "--seed", "3"});
  CHECK(nlohmann::json::parse(random.out)["return"] != j["return"]);

  auto other = RunCli({"sim", "rollout", sim.string(), "--policy", "run", "--run",
                       (tmp.path() / "other").string()});
  CHECK(other.code != 0);
  CHECK(other.err.find("catalog") != std::string::npos);
  auto missing = RunCli({"sim", "rollout", sim.string(), "--policy", "run"});
  CHECK(missing.code != 0);
  CHECK(missing.err.find("--run") != std::string::npos);
}
