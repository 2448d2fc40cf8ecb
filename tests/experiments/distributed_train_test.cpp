// Data-parallel `recarena train` (dist/, experiments/train): the 2-process job matches the
// 1-process run, resumes after a kill to the uninterrupted result, and a killed or hung rank stops
// the job with a clear error instead of a hang. Sharded `recarena online`: the 2-process
// evaluation is the 1-process one, the replicas stay equal, a killed job resumes exactly, and
// what cannot be sharded is refused. Real processes of build/recarena on the synthetic world,
// Gloo over the loopback.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/atomic_file.h"
#include "core/process.h"
#include "dist/launch.h"
#include "models/checkpoint.h"
#include "online_fixtures.h"
#include "test_util.h"

namespace fs = std::filesystem;
using recarena::ChildProcess;
using recarena::ReadFile;
using recarena::testing::TempDir;

namespace {

const std::string kExe = std::string(RECARENA_BINARY_DIR) + "/recarena";

// `train` of a config of configs/offline (default: synthetic SASRec): no dropout (its masks are
// drawn per rank), one thread.
std::vector<std::string> TrainArgs(const fs::path& out, int64_t steps, int64_t eval_every,
                                   const std::string& config = "synthetic-sasrec.yaml") {
  return {"train",
          "--config",
          std::string(RECARENA_SOURCE_DIR) + "/configs/offline/" + config,
          "--out",
          out.string(),
          "train.max_steps=" + std::to_string(steps),
          "train.eval_every=" + std::to_string(eval_every),
          "train.patience=100",
          "train.threads=1",
          "train.max_valid_queries=500",
          "model.encoder.dropout=0"};
}

std::vector<std::string> Launch(int nproc, const std::vector<std::string>& args) {
  std::vector<std::string> all{"launch", "--nproc", std::to_string(nproc), "--timeout", "60",
                               "--",     "recarena"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

std::vector<nlohmann::json> ReadJsonl(const fs::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The largest difference between numbers of the same keys (and the same key sets).
double MaxDifference(const nlohmann::json& a, const nlohmann::json& b) {
  REQUIRE(a.size() == b.size());
  double d = 0.0;
  for (auto it = a.begin(); it != a.end(); ++it) {
    REQUIRE(b.contains(it.key()));
    if (it->is_number()) d = std::max(d, std::abs(it->get<double>() - b[it.key()].get<double>()));
  }
  return d;
}

// The largest relative difference |a - b| / max(1, |a|) between the numbers of keys starting
// with prefix.
double MaxRelativeDifference(const nlohmann::json& a, const nlohmann::json& b,
                             const std::string& prefix) {
  double d = 0.0;
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!it->is_number() || it.key().rfind(prefix, 0) != 0) continue;
    const double x = it->get<double>(), y = b.at(it.key()).get<double>();
    d = std::max(d, std::abs(x - y) / std::max(1.0, std::abs(x)));
  }
  return d;
}

// The pids of a process's children (the launcher's ranks, in the order it started them).
std::vector<int> Children(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<int> out;
  for (int c = 0; in >> c;) out.push_back(c);
  return out;
}

bool WaitFor(const std::function<bool()>& ready, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}

}  // namespace

TEST_CASE("distributed train: 2 processes match 1 process for a fixed global batch and seed") {
  if (!fs::exists(kExe)) RECARENA_SKIP("build/recarena is not built");
  TempDir tmp;
  REQUIRE(recarena::RunProgram(kExe, TrainArgs(tmp.path() / "one", 60, 20)) == 0);
  REQUIRE(recarena::RunProgram(kExe, Launch(2, TrainArgs(tmp.path() / "two", 60, 20))) == 0);
  const auto one = ReadJsonl(tmp.path() / "one" / "metrics.jsonl");
  const auto two = ReadJsonl(tmp.path() / "two" / "metrics.jsonl");
  REQUIRE(one.size() == 3);
  REQUIRE(two.size() == 3);
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("validation " << i);
    CHECK(MaxDifference(one[i], two[i]) < 1e-5);  // train loss and validation metrics
  }
  const auto m1 = nlohmann::json::parse(ReadFile(tmp.path() / "one" / "metrics.json"));
  const auto m2 = nlohmann::json::parse(ReadFile(tmp.path() / "two" / "metrics.json"));
  CHECK(MaxDifference(m1, m2) < 1e-5);
  // It learned something (the equality is not that of two untrained models).
  CHECK(one.back()["train_loss"].get<double>() < one.front()["train_loss"].get<double>());
}

TEST_CASE("distributed train: session_normal and HDT in 2 processes match 1 process") {
  if (!fs::exists(kExe)) RECARENA_SKIP("build/recarena is not built");
  RECARENA_REQUIRE_DATASET(data, "ml-latest-small");
  TempDir tmp;
  const std::string cfg = "ml-latest-small-session-normal.yaml";
  REQUIRE(recarena::RunProgram(kExe, TrainArgs(tmp.path() / "one", 30, 15, cfg)) == 0);
  REQUIRE(recarena::RunProgram(kExe, Launch(2, TrainArgs(tmp.path() / "two", 30, 15, cfg))) == 0);
  const auto one = ReadJsonl(tmp.path() / "one" / "metrics.jsonl");
  const auto two = ReadJsonl(tmp.path() / "two" / "metrics.jsonl");
  REQUIRE(one.size() == 2);
  REQUIRE(two.size() == 2);
  for (size_t i = 0; i < one.size(); ++i) CHECK(MaxDifference(one[i], two[i]) < 1e-5);
  const auto m1 = nlohmann::json::parse(ReadFile(tmp.path() / "one" / "metrics.json"));
  const auto m2 = nlohmann::json::parse(ReadFile(tmp.path() / "two" / "metrics.json"));
  CHECK(MaxDifference(m1, m2) < 1e-5);
  // HDT carries recurrent state from batch to batch: sharded by slot, the states summed over the
  // ranks after every update (agents/hdt.h). Without dropout it matches one process to float32
  // summation order: the training losses and gradient norm within 1e-4 (measured 7e-6); the
  // validation and test metrics within 1%, as float32 ties may flip a query's rank (measured:
  // R@20 44.94 vs 44.91, the test metrics within 1.1e-3).
  auto hdt_args = [&](const fs::path& out) {
    auto a = TrainArgs(out, 30, 15, "ml-latest-small-hdt.yaml");
    a.push_back("model.hdt.dropout=0");
    return a;
  };
  REQUIRE(recarena::RunProgram(kExe, hdt_args(tmp.path() / "hdt-one")) == 0);
  REQUIRE(recarena::RunProgram(kExe, Launch(2, hdt_args(tmp.path() / "hdt-two"))) == 0);
  const auto h1 = ReadJsonl(tmp.path() / "hdt-one" / "metrics.jsonl");
  const auto h2 = ReadJsonl(tmp.path() / "hdt-two" / "metrics.jsonl");
  REQUIRE(h1.size() == 2);
  REQUIRE(h2.size() == 2);
  for (size_t i = 0; i < h1.size(); ++i) {
    INFO("validation " << i);
    CHECK(MaxRelativeDifference(h1[i], h2[i], "train_") < 1e-4);
    CHECK(MaxRelativeDifference(h1[i], h2[i], "valid_") < 1e-2);
  }
  CHECK(h1.back()["train_loss"].get<double>() < h1.front()["train_loss"].get<double>());
  CHECK(MaxRelativeDifference(
            nlohmann::json::parse(ReadFile(tmp.path() / "hdt-one" / "metrics.json")),
            nlohmann::json::parse(ReadFile(tmp.path() / "hdt-two" / "metrics.json")), "") < 1e-2);
}

TEST_CASE("distributed train: a 2-process job killed mid-run resumes to the uninterrupted result") {
  if (!fs::exists(kExe)) RECARENA_SKIP("build/recarena is not built");
  TempDir tmp;
  REQUIRE(recarena::RunProgram(kExe, Launch(2, TrainArgs(tmp.path() / "whole", 300, 100))) == 0);
  const fs::path killed = tmp.path() / "killed";
  {
    ChildProcess launcher(kExe, Launch(2, TrainArgs(killed, 300, 100)));
    // After the first validation (last.pt is written before metrics.jsonl), kill rank 0.
    REQUIRE(WaitFor([&] { return fs::exists(killed / "metrics.jsonl"); }, 120));
    const auto ranks = Children(launcher.pid());
    REQUIRE(ranks.size() == 2);
    ::kill(ranks[0], SIGKILL);
    CHECK(launcher.Wait() == 128 + SIGKILL);  // the launch reports the killed rank's status
  }
  CHECK_FALSE(fs::exists(killed / "metrics.json"));  // it did not finish
  REQUIRE(recarena::RunProgram(kExe, Launch(2, TrainArgs(killed, 300, 100))) == 0);
  const auto whole = nlohmann::json::parse(ReadFile(tmp.path() / "whole" / "metrics.json"));
  const auto resumed = nlohmann::json::parse(ReadFile(killed / "metrics.json"));
  CHECK(MaxDifference(whole, resumed) < 1e-6);
  CHECK(ReadJsonl(killed / "metrics.jsonl").size() == 3);
}

TEST_CASE("distributed train: a killed rank stops the launched job, no hang") {
  if (!fs::exists(kExe)) RECARENA_SKIP("build/recarena is not built");
  TempDir tmp;
  const fs::path out = tmp.path() / "run";
  ChildProcess launcher(kExe, Launch(2, TrainArgs(out, 100000, 50)), tmp.path() / "launch.log");
  REQUIRE(WaitFor([&] { return fs::exists(out / "metrics.jsonl"); }, 120));
  const auto ranks = Children(launcher.pid());
  REQUIRE(ranks.size() == 2);
  const auto start = std::chrono::steady_clock::now();
  ::kill(ranks[1], SIGKILL);
  REQUIRE(WaitFor([&] { return !launcher.Running(); }, 30));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(launcher.Wait() == 128 + SIGKILL);
  CHECK(s < 20.0);
  CHECK(::kill(ranks[0], 0) != 0);  // rank 0 is gone too
  CHECK_THAT(ReadFile(tmp.path() / "launch.log"),
             Catch::Contains("rank 1") && Catch::Contains("killed by signal 9"));
}

TEST_CASE(
    "distributed train: torchrun-style ranks, a hung rank fails the other within the timeout") {
  if (!fs::exists(kExe)) RECARENA_SKIP("build/recarena is not built");
  TempDir tmp;
  const fs::path out = tmp.path() / "run";
  const std::string port = std::to_string(recarena::dist::FreeLoopbackPort());
  auto options = [&](int rank) {
    ChildProcess::Options o;
    o.log = tmp.path() / ("rank" + std::to_string(rank) + ".log");
    o.env = {
        {"RANK", std::to_string(rank)}, {"WORLD_SIZE", "2"},   {"LOCAL_RANK", "0"},
        {"MASTER_ADDR", "127.0.0.1"},   {"MASTER_PORT", port}, {"RECARENA_DIST_TIMEOUT_S", "5"}};
    return o;
  };
  ChildProcess rank0(kExe, TrainArgs(out, 100000, 50), options(0));
  ChildProcess rank1(kExe, TrainArgs(out, 100000, 50), options(1));
  REQUIRE(WaitFor([&] { return fs::exists(out / "metrics.jsonl"); }, 120));
  const auto start = std::chrono::steady_clock::now();
  rank1.Signal(SIGSTOP);
  REQUIRE(WaitFor([&] { return !rank0.Running(); }, 60));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rank1.Signal(SIGKILL);
  CHECK(rank0.Wait() == 2);  // recarena::Error: a clear message, exit status 2
  CHECK(s >= 4.0);           // it waited for the timeout ...
  CHECK(s < 30.0);           // ... and no longer
  CHECK_THAT(ReadFile(tmp.path() / "rank0.log"),
             Catch::Contains("rank 0 of 2") && Catch::Contains("did not answer within 5 s"));
}

namespace {

// `online` of a synthetic config of configs/online on the tiny test simulator (4 users per step,
// evaluated every eval_every steps on 30 episodes), one thread.
std::vector<std::string> OnlineArgs(const fs::path& out, const std::string& config, int64_t steps,
                                    int64_t eval_every) {
  return {"online",
          "--config",
          std::string(RECARENA_SOURCE_DIR) + "/configs/online/" + config,
          "--out",
          out.string(),
          "simulator.dir=" + recarena::testing::TinyOnlineSim().string(),
          "run.device=cpu",
          "agent.encoder.hidden=8",
          "train.total_steps=" + std::to_string(steps),
          "train.num_envs=4",
          "train.eval_every=" + std::to_string(eval_every),
          "train.steps_per_epoch=" + std::to_string(eval_every),
          "train.eval_episodes=30",
          "train.eval_num_envs=8"};
}

// The tensors under the named sub-archives of a checkpoint's agent, by path.
void CollectTensors(torch::serialize::InputArchive& a, const std::string& prefix,
                    std::map<std::string, torch::Tensor>& out) {
  for (const auto& key : a.keys()) {
    torch::Tensor t;
    if (a.try_read(key, t)) {
      out[prefix + key] = t;
    } else {
      torch::serialize::InputArchive sub;
      a.read(key, sub);
      CollectTensors(sub, prefix + key + "/", out);
    }
  }
}
std::map<std::string, torch::Tensor> Networks(const fs::path& file,
                                              const std::vector<std::string>& nets) {
  auto archive = recarena::models::OpenArchive(file);
  torch::serialize::InputArchive agent;
  archive.read("agent", agent);
  std::map<std::string, torch::Tensor> out;
  for (const auto& n : nets) {
    torch::serialize::InputArchive sub;
    agent.read(n, sub);
    CollectTensors(sub, n + "/", out);
  }
  return out;
}

}  // namespace

TEST_CASE("distributed online: 2 processes evaluate as 1, replicas of DQN, PG and A2C stay equal") {
  if (!fs::exists(kExe)) RECARENA_SKIP("build/recarena is not built");
  TempDir tmp;
  struct Case {
    std::string config;
    std::vector<std::string> nets, overrides;
  };
  const std::vector<Case> cases = {
      {"synthetic-a2c.yaml", {"encoder", "actor", "critic"}, {}},
      {"synthetic-pg.yaml", {"encoder", "actor"}, {"agent.pg.episodes_per_update=6"}},
      {"synthetic-dqn.yaml",
       {"encoder", "head", "target_encoder", "target_head"},
       {"agent.dqn.learning_starts=40", "agent.dqn.batch_size=16", "agent.dqn.target_every=10"}}};
  for (const auto& [config, nets, overrides] : cases) {
    INFO(config);
    const fs::path one = tmp.path() / (config + "-one"), two = tmp.path() / (config + "-two");
    auto args1 = OnlineArgs(one, config, 60, 30), args2 = OnlineArgs(two, config, 60, 30);
    args1.insert(args1.end(), overrides.begin(), overrides.end());
    args2.insert(args2.end(), overrides.begin(), overrides.end());
    REQUIRE(recarena::RunProgram(kExe, args1) == 0);
    REQUIRE(recarena::RunProgram(kExe, Launch(2, args2)) == 0);
    const auto m1 = ReadJsonl(one / "metrics.jsonl"), m2 = ReadJsonl(two / "metrics.jsonl");
    REQUIRE(m1.size() == 3);
    REQUIRE(m2.size() == 3);
    // Step 0: the same untrained agent; the evaluation episodes, split over the ranks and
    // gathered, are the single process's: the same lengths and recommendations exactly, the same
    // rewards up to float32 rounding (the response model's batches differ in size).
    CHECK(m1[0]["length"] == m2[0]["length"]);
    CHECK(m1[0]["coverage"] == m2[0]["coverage"]);
    CHECK(m1[0]["long_tail_share"] == m2[0]["long_tail_share"]);
    CHECK(MaxDifference(m1[0], m2[0]) < 1e-6);
    // Both learned (updates happened on every rank: the gathered metrics have a gradient norm).
    CHECK(m2.back()["train_metrics"].contains("grad_norm"));
    CHECK(m2.back()["user_steps"] == 240);  // 60 steps x 4 users, 2 per rank
    // Rank 1's replica (its own state file) has rank 0's networks.
    const auto r0 = Networks(two / "checkpoint.pt", nets);
    const auto r1 = Networks(two / "ranks" / "rank1-step60.pt", nets);
    REQUIRE(r0.size() == r1.size());
    REQUIRE(r0.size() >= 4);
    for (const auto& [name, t] : r0) {
      INFO(name);
      REQUIRE(r1.count(name) == 1);
      CHECK(torch::allclose(t, r1.at(name), 0.0, 1e-6));
    }
    // The replicas moved from their common start: rank 0's networks differ from the 1-process
    // run's, which explored other users (a check that training happened in both).
    const auto single = Networks(one / "checkpoint.pt", nets);
    bool differs = false;
    for (const auto& [name, t] : r0) differs = differs || !torch::equal(t, single.at(name));
    CHECK(differs);
    CHECK(std::distance(fs::directory_iterator(two / "ranks"), fs::directory_iterator()) == 1);
  }
}

TEST_CASE(
    "distributed online: a 2-process job killed mid-run resumes to the uninterrupted result") {
  if (!fs::exists(kExe)) RECARENA_SKIP("build/recarena is not built");
  TempDir tmp;
  const auto args = [&](const fs::path& out) {
    return Launch(2, OnlineArgs(out, "synthetic-a2c.yaml", 1000, 50));
  };
  REQUIRE(recarena::RunProgram(kExe, args(tmp.path() / "whole")) == 0);
  const fs::path killed = tmp.path() / "killed";
  {
    ChildProcess launcher(kExe, args(killed));
    REQUIRE(WaitFor(
        [&] {
          return fs::exists(killed / "metrics.jsonl") &&
                 ReadJsonl(killed / "metrics.jsonl").size() >= 3;
        },
        120));
    const auto ranks = Children(launcher.pid());
    REQUIRE(ranks.size() == 2);
    ::kill(ranks[0], SIGKILL);
    CHECK(launcher.Wait() == 128 + SIGKILL);
  }
  CHECK(ReadJsonl(killed / "metrics.jsonl").size() < 21);  // it did not finish
  REQUIRE(recarena::RunProgram(kExe, args(killed)) == 0);
  CHECK(ReadFile(killed / "metrics.jsonl") == ReadFile(tmp.path() / "whole" / "metrics.jsonl"));
  CHECK(ReadFile(killed / "metrics.json") == ReadFile(tmp.path() / "whole" / "metrics.json"));
}

TEST_CASE("distributed online: an uneven user split and an agent that cannot shard are refused") {
  if (!fs::exists(kExe)) RECARENA_SKIP("build/recarena is not built");
  TempDir tmp;
  auto uneven = OnlineArgs(tmp.path() / "uneven", "synthetic-a2c.yaml", 20, 10);
  uneven.push_back("train.num_envs=3");
  ChildProcess u(kExe, Launch(2, uneven), tmp.path() / "uneven.log");
  CHECK(u.Wait() == 2);
  CHECK_THAT(ReadFile(tmp.path() / "uneven.log"),
             Catch::Contains("train.num_envs must be a multiple of the number of processes (2)") &&
                 Catch::Contains("got 3"));
  CHECK_FALSE(fs::exists(tmp.path() / "uneven"));
  ChildProcess dt(kExe, Launch(2, OnlineArgs(tmp.path() / "dt", "synthetic-dt.yaml", 20, 10)),
                  tmp.path() / "dt.log");
  CHECK(dt.Wait() == 2);
  CHECK_THAT(ReadFile(tmp.path() / "dt.log"), Catch::Contains("agent.kind dt cannot run sharded"));
  CHECK_FALSE(fs::exists(tmp.path() / "dt"));
}
