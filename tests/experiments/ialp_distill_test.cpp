// `recarena llm distill` (experiments/train/ialp_distill.h) end to end against the fault-injecting
// OpenAI-compatible server (tests/llm_bridge/fault_server.py, answer "hash": a label chosen from
// the prompt's MD5, "none" among them): D_LLM's rows, the rewards of Eq. 7.3, the cache making a
// rerun free, resume after a stop and after a real kill -9 giving the same data and networks, and
// the distilled policy as the warm start of the iALP agents in an online run.
#include <catch2/catch.hpp>

#include <signal.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "agents/actor_critic.h"
#include "agents/ialp.h"
#include "cli_runner.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/process.h"
#include "core/strings.h"
#include "experiments/report/llm_check.h"
#include "experiments/train/ialp_distill.h"
#include "experiments/train/online_runner.h"
#include "experiments/train/oracle_chooser.h"
#include "experiments/train/oracle_server.h"
#include "experiments/train/trained_run.h"
#include "llm_bridge/fault_server.h"
#include "models/checkpoint.h"
#include "online_fixtures.h"
#include "test_util.h"

using nlohmann::json;
using recarena::experiments::DistillConfig;
using recarena::experiments::RunDistill;
using recarena::testing::FaultServer;
using recarena::testing::TempDir;

namespace {

DistillConfig SmallDistill(const FaultServer& server, const std::string& cache) {
  DistillConfig c;
  c.run.seed = 13;
  c.run.device = recarena::DeviceKind::kCpu;
  c.distill.sim = recarena::testing::TinyOnlineSim().string();
  c.distill.iterations = 3;
  c.distill.num_envs = 4;
  c.distill.episode_len = 3;
  c.distill.k = 4;
  c.distill.batch_size = 8;
  c.distill.learning_starts = 8;
  c.agent.encoder.hidden = 8;
  c.llm.base_url = server.base_url();
  c.llm.model = "fault-test";
  c.llm.api = recarena::llm_bridge::LlmApi::kCompletions;
  c.llm.retries = 1;
  c.llm.backoff = 0.01;
  c.llm.cache = cache;
  return c;
}

std::vector<json> ReadJsonl(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The distilled actor-critic of a run's agent.pt.
std::vector<torch::Tensor> DistilledParams(const DistillConfig& c, const std::filesystem::path& d) {
  auto enc = c.agent.encoder;
  enc.state_len = 4;  // TinyOnlineSim's
  enc.num_items = 30;
  recarena::agents::ActorCritic net(enc, 30, 30, 1e-3, 10.0, torch::kCPU);
  recarena::agents::LoadDistilledNetworks(
      (d / "agent.pt").string(), [&](torch::serialize::InputArchive& a) { net.LoadNetworks(a); });
  return net.parameters();
}

bool SameParams(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("llm distill: D_LLM rows follow Eq. 7.3, the cache makes a rerun free", "[ialp]") {
  FaultServer server;
  TempDir tmp;
  const auto cache = (tmp.path() / "cache.sqlite").string();
  const DistillConfig c = SmallDistill(server, cache);
  server.Script({}, "ok", "hash");
  const auto r = RunDistill(c, tmp.path() / "a");
  REQUIRE(r.finished);
  CHECK(r.transitions == 3 * 4 * 3);
  CHECK(server.Stats()["requests"].get<int64_t>() == 36);
  const auto rows = ReadJsonl(tmp.path() / "a" / "d_llm.jsonl");
  REQUIRE(rows.size() == 36u);
  int64_t picks = 0, nones = 0;
  for (const auto& row : rows) {
    const auto cands = row["candidates"].get<std::vector<std::string>>();
    const auto hist = row["history"].get<std::vector<std::string>>();
    CHECK(cands.size() == 4u);
    const auto action = row["action"].get<std::string>();
    CHECK(std::find(cands.begin(), cands.end(), action) != cands.end());
    for (const auto& h : hist) CHECK(std::find(cands.begin(), cands.end(), h) == cands.end());
    const auto kind = row["kind"].get<std::string>();
    if (kind == "none") {
      ++nones;
      CHECK(row["reward"].get<double>() == 0.0);
    } else {
      REQUIRE(kind == "letter");
      ++picks;
      CHECK(row["reward"].get<double>() == 1.0);
      CHECK(cands[row["position"].get<size_t>()] == action);  // the LLM's pick is the action
    }
  }
  CHECK(picks > 0);
  CHECK(nones > 0);  // "hash" answers none for some prompts: both branches ran
  // Each step's next state is the history with the action appended.
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    if (rows[i]["episode"] != rows[i + 1]["episode"]) continue;
    auto h = rows[i]["history"].get<std::vector<std::string>>();
    h.push_back(rows[i]["action"].get<std::string>());
    CHECK(rows[i + 1]["history"].get<std::vector<std::string>>() == h);
  }
  const auto summary = json::parse(ReadFile(tmp.path() / "a" / "distill.json"));
  CHECK(summary["chooser"]["parse_rate"].get<double>() == 1.0);
  CHECK(summary["chooser"]["pick_rate"].get<double>() == Approx(picks / 36.0));
  CHECK(ReadJsonl(tmp.path() / "a" / "metrics.jsonl").size() == 3u);
  const auto csv = ReadFile(tmp.path() / "a" / "d_llm.csv");
  CHECK(csv.rfind("episode,item,step,reward\n", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 37);

  // The same config and cache elsewhere: not one request, the same data and networks.
  server.Script({}, "ok", "hash");
  const auto again = RunDistill(c, tmp.path() / "b");
  REQUIRE(again.finished);
  CHECK(server.Stats()["requests"].get<int64_t>() == 0);
  CHECK(ReadFile(tmp.path() / "b" / "d_llm.jsonl") == ReadFile(tmp.path() / "a" / "d_llm.jsonl"));
  CHECK(SameParams(DistilledParams(c, tmp.path() / "a"), DistilledParams(c, tmp.path() / "b")));
}

TEST_CASE("llm distill: a stopped run resumes to the same D_LLM and networks", "[ialp]") {
  FaultServer server;
  TempDir tmp;
  server.Script({}, "ok", "hash");
  // No cache: the resumed run asks the LLM again and must still end identically.
  const DistillConfig c = SmallDistill(server, "");
  REQUIRE(RunDistill(c, tmp.path() / "whole").finished);
  const auto first = RunDistill(c, tmp.path() / "parts", /*stop_after_iterations=*/1);
  CHECK_FALSE(first.finished);
  CHECK(first.iterations_done == 1);
  CHECK(ReadJsonl(tmp.path() / "parts" / "d_llm.jsonl").size() == 12u);
  const auto rest = RunDistill(c, tmp.path() / "parts");
  CHECK(rest.resumed);
  REQUIRE(rest.finished);
  CHECK(ReadFile(tmp.path() / "parts" / "d_llm.jsonl") ==
        ReadFile(tmp.path() / "whole" / "d_llm.jsonl"));
  CHECK(ReadFile(tmp.path() / "parts" / "metrics.jsonl") ==
        ReadFile(tmp.path() / "whole" / "metrics.jsonl"));
  CHECK(SameParams(DistilledParams(c, tmp.path() / "parts"),
                   DistilledParams(c, tmp.path() / "whole")));
  // A different seed gives other data (the equalities above can fail).
  DistillConfig other = c;
  other.run.seed = 14;
  REQUIRE(RunDistill(other, tmp.path() / "other").finished);
  CHECK(ReadFile(tmp.path() / "other" / "d_llm.jsonl") !=
        ReadFile(tmp.path() / "whole" / "d_llm.jsonl"));
}

TEST_CASE("llm distill: kill -9 of the command mid-run, then a rerun, gives the same D_LLM",
          "[ialp]") {
  const std::string exe = std::string(RECARENA_BINARY_DIR) + "/recarena";
  if (!std::filesystem::exists(exe)) RECARENA_SKIP("build/recarena is not built");
  FaultServer server;
  TempDir tmp;
  DistillConfig c = SmallDistill(server, "");
  c.distill.iterations = 6;
  const auto cfg_file = tmp.path() / "distill.yaml";
  {
    std::ofstream f(cfg_file);
    f << recarena::config::ToYamlString(c);
  }
  // Each answer takes 50 ms: 12 answers per iteration, so the kill lands mid-run.
  server.Script({}, "sleep:0.05", "hash");
  REQUIRE(recarena::RunProgram(exe, {"llm", "distill", "--config", cfg_file.string(), "--out",
                                     (tmp.path() / "whole").string()}) == 0);
  const auto killed = tmp.path() / "killed";
  {
    recarena::ChildProcess p(
        exe, {"llm", "distill", "--config", cfg_file.string(), "--out", killed.string()});
    for (int i = 0; i < 600 && !std::filesystem::exists(killed / "checkpoint.pt"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(std::filesystem::exists(killed / "checkpoint.pt"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // inside a later iteration
    p.Signal(SIGKILL);
    CHECK(p.Wait() == 128 + SIGKILL);
  }
  CHECK_FALSE(std::filesystem::exists(killed / "agent.pt"));  // it did not finish
  REQUIRE(recarena::RunProgram(exe, {"llm", "distill", "--config", cfg_file.string(), "--out",
                                     killed.string()}) == 0);
  CHECK(ReadFile(killed / "d_llm.jsonl") == ReadFile(tmp.path() / "whole" / "d_llm.jsonl"));
  CHECK(SameParams(DistilledParams(c, killed), DistilledParams(c, tmp.path() / "whole")));
}

TEST_CASE("online ialp / ialp_ft / ialp_ap start from the distilled policy", "[ialp]") {
  FaultServer server;
  TempDir tmp;
  server.Script({}, "ok", "hash");
  const DistillConfig c = SmallDistill(server, (tmp.path() / "cache.sqlite").string());
  const auto cfg_file = tmp.path() / "distill.yaml";
  {
    std::ofstream f(cfg_file);
    f << recarena::config::ToYamlString(c);
  }
  const auto d = recarena::testing::RunCli({"llm", "distill", "--config", cfg_file.string(),
                                            "--out", (tmp.path() / "distill").string()});
  REQUIRE(d.code == 0);
  for (auto kind :
       {recarena::agents::OnlineAgentKind::kIalp, recarena::agents::OnlineAgentKind::kIalpFt,
        recarena::agents::OnlineAgentKind::kIalpAp}) {
    auto cfg = recarena::testing::TinyOnlineConfig(kind);
    cfg.agent.ialp.init_from = (tmp.path() / "distill").string();
    cfg.agent.encoder.hidden = 4;  // replaced by the distill run's encoder (hidden 8)
    const auto name = recarena::config::EnumToString(kind);
    INFO(name);
    const auto r = recarena::experiments::RunOnline(cfg, tmp.path() / name);
    CHECK(r.history.size() == 5u);  // evaluations at steps 0, 10, 20, 30, 40
  }
  // A directory without agent.pt: an error naming it.
  auto cfg = recarena::testing::TinyOnlineConfig(recarena::agents::OnlineAgentKind::kIalp);
  cfg.agent.ialp.init_from = tmp.path().string();
  CHECK_THROWS_WITH(recarena::experiments::RunOnline(cfg, tmp.path() / "bad"),
                    Catch::Contains(tmp.path().string()));
}

TEST_CASE("llm distill with the oracle teacher: every pick is the truly best candidate", "[ialp]") {
  FaultServer server;  // not asked: the oracle answers
  TempDir tmp;
  DistillConfig c = SmallDistill(server, "");
  c.distill.teacher = recarena::experiments::DistillTeacher::kOracle;
  server.Script({}, "ok", "hash");
  REQUIRE(RunDistill(c, tmp.path() / "o").finished);
  CHECK(server.Stats()["requests"].get<int64_t>() == 0);
  const auto truth = recarena::env::LoadSimulator(c.distill.sim, recarena::env::SimRole::kEval);
  const auto data = recarena::experiments::SimulatorDataset(c.distill.sim);
  std::map<std::string, int64_t> dense;
  for (size_t i = 0; i < data.dataset.items.external_ids.size(); ++i)
    dense[data.dataset.items.external_ids[i]] = static_cast<int64_t>(i);
  std::map<std::string, int64_t> user_dense;
  for (size_t i = 0; i < data.dataset.users.external_ids.size(); ++i)
    user_dense[data.dataset.users.external_ids[i]] = static_cast<int64_t>(i);
  const auto rows = ReadJsonl(tmp.path() / "o" / "d_llm.jsonl");
  REQUIRE(rows.size() == 36u);
  for (const auto& row : rows) {
    CHECK(row["reward"].get<double>() == 1.0);
    std::vector<int64_t> hist;
    for (const auto& h : row["history"]) hist.push_back(dense.at(h.get<std::string>()));
    const auto obs = recarena::experiments::HistoryObservation(
        {hist}, {user_dense.at(row["user"].get<std::string>())}, truth->state_len, truth->num_items,
        0);
    const auto e = truth->response->ExpectedAll({obs.items, obs.lengths, obs.users, {}});
    const double picked = e[0][dense.at(row["action"].get<std::string>())].item<double>();
    for (const auto& cand : row["candidates"])
      CHECK(picked >= e[0][dense.at(cand.get<std::string>())].item<double>());
  }
  const auto summary = json::parse(ReadFile(tmp.path() / "o" / "distill.json"));
  CHECK(summary["teacher"].get<std::string>() == "oracle (eval)");
}

TEST_CASE("llm distill through the oracle server's HTTP API equals the in-process oracle",
          "[ialp]") {
  // The whole LLM path (prompt, client, parser) carries the oracle's preferences unchanged.
  FaultServer unused;
  TempDir tmp;
  DistillConfig inproc = SmallDistill(unused, "");
  inproc.distill.teacher = recarena::experiments::DistillTeacher::kOracle;
  std::string tmpl = recarena::llm_bridge::kTable71Template;
  const std::string hist = "History: {history}";
  tmpl.replace(tmpl.find(hist), hist.size(), "User: {user}\n" + hist);
  inproc.prompt.template_text = tmpl;
  REQUIRE(RunDistill(inproc, tmp.path() / "inproc").finished);

  const auto data = recarena::experiments::SimulatorDataset(inproc.distill.sim);
  recarena::experiments::OracleServer server(
      recarena::env::LoadSimulator(inproc.distill.sim, recarena::env::SimRole::kEval), data.dataset,
      recarena::llm_bridge::WithDatasetDefaults(inproc.prompt, data.dataset.name), 0.0);
  const int port = server.Start(0);
  DistillConfig http = inproc;
  http.distill.teacher = recarena::experiments::DistillTeacher::kLlm;
  http.llm.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  http.llm.model = "oracle";
  REQUIRE(RunDistill(http, tmp.path() / "http").finished);
  CHECK(server.requests() == 36);
  CHECK(ReadFile(tmp.path() / "http" / "d_llm.jsonl") ==
        ReadFile(tmp.path() / "inproc" / "d_llm.jsonl"));
  CHECK(SameParams(DistilledParams(inproc, tmp.path() / "http"),
                   DistilledParams(inproc, tmp.path() / "inproc")));
  // Prompts it cannot read back get an answer the parser takes as no choice.
  CHECK(server.Answer("What is the best item?") == "I cannot tell.");
  // A template without the user line is refused, naming the key.
  CHECK_THROWS_WITH(
      recarena::experiments::OracleServer(
          recarena::env::LoadSimulator(inproc.distill.sim, recarena::env::SimRole::kEval),
          data.dataset, recarena::llm_bridge::PromptOptions{}, 0.0),
      Catch::Contains("User: {user}"));
}

TEST_CASE("all shipped LLM configs are schema-valid", "[ialp][configs]") {
  const std::filesystem::path root = RECARENA_SOURCE_DIR;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(root / "configs/llm")) {
    INFO(e.path());
    if (e.path().filename().string().rfind("distill-", 0) == 0) {
      CHECK_NOTHROW(recarena::config::Load<DistillConfig>(e.path()).Validate());
    } else {
      CHECK_NOTHROW(
          recarena::config::Load<recarena::experiments::LlmCheckConfig>(e.path()).Validate());
    }
    ++n;
  }
  CHECK(n >= 4);
}

TEST_CASE("llm oracle-server command: llm check against it parses every answer", "[ialp]") {
  const std::string exe = std::string(RECARENA_BINARY_DIR) + "/recarena";
  if (!std::filesystem::exists(exe)) RECARENA_SKIP("build/recarena is not built");
  TempDir tmp;
  std::string tmpl = recarena::llm_bridge::kTable71Template;
  const std::string hist = "History: {history}";
  tmpl.replace(tmpl.find(hist), hist.size(), "User: {user}\n" + hist);
  const std::string prompt = "prompt:\n  template: " + json(tmpl).dump() + "\n";
  const auto server_cfg =
      tmp.Write("oracle.yaml",
                "distill:\n  sim: " + recarena::testing::TinyOnlineSim().string() + "\n" + prompt);
  const auto port_file = tmp.path() / "port";
  recarena::ChildProcess server(exe, {"llm", "oracle-server", "--config", server_cfg.string(),
                                      "--port", "0", "--port-file", port_file.string()});
  for (int i = 0; i < 300 && !std::filesystem::exists(port_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(std::filesystem::exists(port_file));
  const std::string port(recarena::Trim(recarena::ReadFile(port_file)));
  const auto check_cfg =
      tmp.Write("check.yaml", "llm:\n  base_url: http://127.0.0.1:" + port +
                                  "/v1\n  model: oracle\n  cache: ''\n" + prompt);
  const auto r = recarena::testing::RunCli({"llm", "check", "--config", check_cfg.string(), "--sim",
                                            recarena::testing::TinyOnlineSim().string(),
                                            "--prompts", "5", "--k", "4", "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const json j = json::parse(r.out);
  CHECK(j["server_models"] == json::array({"oracle"}));
  CHECK(j["chooser"]["parse_rate"].get<double>() == 1.0);
  for (const auto& a : j["answers"]) CHECK(a["kind"].get<std::string>() == "letter");
  server.Stop();
}
