// End to end: `recarena train` with model_kind hdt and its session_normal baseline on a tiny
// synthetic world with logged sessions (last-session protocol, docs/hdt.md).
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config.h"
#include "experiments/cli_runner.h"
#include "experiments/train/offline_trainer.h"
#include "experiments/train/session_data.h"
#include "experiments/train/session_trainer.h"
#include "test_util.h"
#include "train_fixtures.h"

namespace fs = std::filesystem;
using recarena::experiments::OfflineTrainConfig;
using recarena::testing::CliResult;
using recarena::testing::RunCli;
using recarena::testing::TempDir;

namespace {

const fs::path kRepo = RECARENA_SOURCE_DIR;

// The shipped configs on a tiny synthetic world (8 logged sessions per user, ~9 clicks each).
std::vector<std::string> TinyOverrides(const std::string& kind) {
  std::vector<std::string> o = {"data.dataset=synthetic",
                                "data.synthetic.num_users=30",
                                "data.synthetic.num_items=40",
                                "data.synthetic.sessions_per_user=8",
                                "data.preprocess.sessionize=false",
                                "data.preprocess.min_item_freq=1",
                                "data.preprocess.min_seq_len=1",
                                "model.encoder.hidden=16",
                                "hdt_data.batch_size=8",
                                "hdt_data.min_sessions=4",
                                "train.batch_size=32",
                                "train.max_steps=12",
                                "train.eval_every=5",
                                "train.patience=100",
                                "train.max_valid_queries=50",
                                "train.threads=1",
                                "run.device=cpu",
                                "run.log_level=warn"};
  if (kind == "hdt") o.push_back("model.hdt.dim=16");  // = model.encoder.hidden
  return o;
}

std::string Config(const std::string& kind) {
  return (kRepo / ("configs/offline/ml-latest-small-" + kind + ".yaml")).string();
}

CliResult Train(const std::string& kind, const fs::path& dir,
                const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"train", "--config", Config(kind), "--out", dir.string()};
  for (const auto& o : TinyOverrides(kind)) args.push_back(o);
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args);
}

nlohmann::json Metrics(const fs::path& dir) {
  return nlohmann::json::parse(recarena::ReadFile(dir / "metrics.json"));
}

}  // namespace

TEST_CASE("train: hdt and session_normal run the last-session protocol end to end", "[hdt][slow]") {
  TempDir tmp;
  const fs::path hdt = tmp.path() / "hdt", normal = tmp.path() / "normal";
  auto r = Train("hdt", hdt);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto m = Metrics(hdt);
  CHECK(m.at("model_kind") == "hdt");
  CHECK(m.at("model") == "sasrec");
  CHECK(m.at("steps") == 12);
  for (const int k : {5, 10, 20}) {
    for (const std::string name : {"HR@", "NDCG@", "CV_div@", "UP@", "HR_ser@", "NDCG_ser@"}) {
      const std::string key = name + std::to_string(k);
      INFO(key);
      REQUIRE(m.contains(key));
      CHECK(m.at(key).get<double>() >= 0.0);
      // UP@k is a count of unseen items (0..k), the others are shares.
      CHECK(m.at(key).get<double>() <= (name == "UP@" ? k : 1.0));
    }
  }
  CHECK(m.at("num_serendipity_queries").get<double>() > 0.0);
  CHECK(m.at("test_queries").get<double>() == m.at("num_queries").get<double>());
  const std::string hist = recarena::ReadFile(hdt / "metrics.jsonl");
  const auto first = nlohmann::json::parse(hist.substr(0, hist.find('\n')));
  for (const char* key : {"train_l_s", "train_l_r", "train_l_a", "train_l_g", "valid_NDCG@10"})
    CHECK(first.contains(key));
  for (const char* f : {"config.yaml", "last.pt", "best.pt", "report.md"})
    CHECK(fs::exists(hdt / f));

  // The baseline: same data, same queries, same metrics.
  r = Train("session-normal", normal);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto n = Metrics(normal);
  CHECK(n.at("model_kind") == "session_normal");
  CHECK(n.at("users") == m.at("users"));
  CHECK(n.at("test_queries") == m.at("test_queries"));
  CHECK(n.at("num_serendipity_queries") == m.at("num_serendipity_queries"));
  CHECK(n.contains("UP@10"));
  CHECK(n.contains("NDCG_ser@10"));

  // Every encoder works with HDT.
  for (const std::string enc : {"gru4rec", "caser", "nextitnet"}) {
    const fs::path dir = tmp.path() / ("hdt-" + enc);
    r = Train("hdt", dir,
              {"model.encoder.kind=" + enc, "model.encoder.caser_heights=[2,3]",
               "train.max_steps=3", "train.eval_every=3"});
    INFO(enc << ": " << r.err);
    CHECK(r.code == 0);
    if (r.code == 0) CHECK(Metrics(dir).at("model") == enc);
  }
}

TEST_CASE("train: bad hdt config values name their key", "[hdt]") {
  TempDir tmp;
  struct Case {
    std::string kind, assignment, key;
  };
  const std::vector<Case> cases = {
      {"hdt", "hdt_data.min_sessions=2", "hdt_data.min_sessions"},
      {"hdt", "hdt_data.max_session_len=1", "hdt_data.max_session_len"},
      {"hdt", "model.alpha=-1", "model.alpha"},
      {"hdt", "model.hdt.dim=8", "model.hdt.dim"},
      {"hdt", "session.item_vectors=genre", "session.item_vectors"},
      {"hdt", "model.encoder.state_len=10", "model.encoder.state_len"},
      {"session-normal", "model.alpha=0.5", "alpha"},
      {"session-normal", "session.random_dim=0", "session.random_dim"}};
  for (const auto& c : cases) {
    auto r = Train(c.kind, tmp.path() / "bad", {c.assignment});
    INFO(c.assignment << ": " << r.err);
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains(c.key));
  }
}

TEST_CASE("train: hdt sessionizes a csv log by the 60-minute gap", "[hdt]") {
  // 6 users x 5 sessions of 3 items; sessions 2 hours apart, items 10 minutes apart.
  TempDir tmp;
  std::string csv = "user_id,item_id,timestamp\n";
  for (int u = 0; u < 6; ++u) {
    for (int s = 0; s < 5; ++s) {
      for (int i = 0; i < 3; ++i) {
        const long t = 1000000L + u * 100000L + s * 7200L + i * 600L;
        csv += std::to_string(u) + "," + std::to_string((u + s + 2 * i) % 7) + "," +
               std::to_string(t) + "\n";
      }
    }
  }
  tmp.Write("interactions.csv", csv);
  auto args = [&](const std::string& out, const std::string& vectors) {
    std::vector<std::string> a = {"train", "--config", Config("hdt"), "--out",
                                  (tmp.path() / out).string()};
    for (const auto& o : TinyOverrides("hdt")) a.push_back(o);
    for (const std::string& o : std::vector<std::string>{
             "data.dataset=csv", "data.source=" + tmp.path().string(),
             "data.preprocess.sessionize=true", "hdt_data.min_sessions=5", "train.max_steps=2",
             "train.eval_every=2", "session.item_vectors=" + vectors})
      a.push_back(o);
    return a;
  };
  // No item categories in a plain csv log: the error names the key.
  auto r = RunCli(args("cats", "categories"));
  CHECK(r.code != 0);
  CHECK_THAT(r.err, Catch::Contains("session.item_vectors"));
  r = RunCli(args("random", "random"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto m = Metrics(tmp.path() / "random");
  CHECK(m.at("users") == 6);
  CHECK(m.at("test_queries") == 12);  // 6 users x 2 positions of the last session
}

TEST_CASE("train: a killed hdt run resumes to exactly the uninterrupted result", "[hdt][resume]") {
  for (const std::string kind : {"hdt", "session-normal"}) {
    INFO(kind);
    auto overrides = TinyOverrides(kind);
    overrides.push_back("train.max_steps=16");
    overrides.push_back("train.eval_every=6");
    const auto cfg = recarena::config::Load<OfflineTrainConfig>(Config(kind), overrides);
    TempDir straight, resumed;
    // Killed mid-epoch (HDT: with states carried between the batches of the epoch), then resumed.
    recarena::testing::CheckResumesExactly(cfg, 9, straight.path(), resumed.path());
  }
}

TEST_CASE("session queries: metrics of a fixed scorer", "[hdt]") {
  recarena::agents::HdtQuery q1, q2;
  q1.user = 0;
  q1.history = {{1, 2}};
  q1.current = {3};
  q1.target = 4;  // ranked first below, not in the history: a serendipitous hit
  q2.user = 1;
  q2.history = {{4, 0}};
  q2.current = {2};
  q2.target = 0;  // ranked last: a miss
  recarena::experiments::QueryScorer scorer = [](const std::vector<recarena::agents::HdtQuery>& q) {
    // Item i scores i: 4 is first, 0 last.
    return torch::arange(5, torch::kFloat).unsqueeze(0).expand({static_cast<int64_t>(q.size()), 5});
  };
  recarena::experiments::MetricsContext ctx;
  ctx.num_items = 5;
  ctx.long_tail = {0, 1, 1, 1, 1};
  const auto m = recarena::experiments::EvaluateSessionQueries(scorer, {q1, q2}, ctx, {1, 5}, 1);
  CHECK(m.at("num_queries") == 2);
  CHECK(m.at("HR@1") == Approx(0.5));
  CHECK(m.at("HR@5") == Approx(1.0));
  CHECK(m.at("CV_div@1") == Approx(0.2));
  // UP@1: user 0 gets item 4 (unseen), user 1 gets item 4 (seen in its history).
  CHECK(m.at("UP@1") == Approx(0.5));
  // max_queries subsamples deterministically; queries without a target are skipped.
  recarena::agents::HdtQuery unknown = q1;
  unknown.target = -1;
  const auto sub =
      recarena::experiments::EvaluateSessionQueries(scorer, {q1, unknown, q2}, ctx, {1}, 2, 1);
  CHECK(sub.at("num_queries") == 1);
  CHECK(sub.at("HR@1") == Approx(1.0));
}

TEST_CASE("session data: ml-latest-small keeps >= 100 users with >= 5 sessions", "[hdt][data]") {
  RECARENA_REQUIRE_DATASET(dir, "ml-latest-small");
  auto cfg = recarena::config::Load<OfflineTrainConfig>(Config("hdt"), {"run.log_level=warn"});
  cfg.data.source = dir.string();
  const auto data = recarena::experiments::BuildSessionData(cfg);
  CHECK(data.users.size() >= 100);
  for (const auto& u : data.users) {
    REQUIRE(u.sessions.size() >= 5);
    for (const auto& s : u.sessions) CHECK((s.size() >= 2 && s.size() <= 20));
  }
  CHECK(data.train.size() == data.users.size());
  CHECK(data.returns.dis_max == Approx(1.0));  // multi-hot genres: disjoint genres give cos 0
  CHECK(data.test_queries.size() > data.users.size());
}
