// The LLM client against the fault-injecting server (tests/llm_bridge/fault_server.py): retries,
// backoff and Retry-After, timeouts, bounded concurrency, keep-alive, the cache, and the API key
// staying out of errors and the cache.
#include "llm_bridge/llm_client.h"

#include <stdlib.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>

#include "fault_server.h"
#include "llm_bridge/response_cache.h"
#include "test_util.h"

using namespace recarena;
using namespace recarena::llm_bridge;
using recarena::testing::FaultServer;
using recarena::testing::TempDir;

namespace {
LlmConfig Cfg(const FaultServer& s) {
  LlmConfig c;
  c.base_url = s.base_url();
  c.model = "fault-model";
  c.cache = "";
  c.retries = 4;
  c.backoff = 0.01;
  c.backoff_max = 0.05;
  c.timeout = 5;
  c.concurrency = 1;
  return c;
}
double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
std::string LlmErrorMessage(LlmClient& client, const std::vector<std::string>& prompts) {
  try {
    client.Complete(prompts);
  } catch (const LlmError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("llm client: an answer, usage and keep-alive", "[llm_bridge]") {
  FaultServer s;
  s.Script({}, "ok", "b");
  LlmClient client(Cfg(s));
  for (int i = 0; i < 5; ++i) {
    const auto out = client.Complete({"prompt " + std::to_string(i)});
    REQUIRE(out.size() == 1);
    CHECK(out[0].text == "b");
    CHECK(out[0].attempts == 1);
    CHECK(out[0].completion_tokens == 1);
    CHECK(out[0].prompt_tokens == 2);
  }
  const auto st = s.Stats();
  CHECK(st["requests"] == 5);
  CHECK(st["connections"] == 1);  // one kept-alive connection served all five
  const LlmMetrics m = client.metrics();
  CHECK(m.calls == 5);
  CHECK(m.http_requests == 5);
  CHECK(m.connects == 1);
  CHECK(m.latencies_s.size() == 5);
  CHECK(st["paths"][0] == "/v1/chat/completions");

  LlmConfig c = Cfg(s);
  c.api = LlmApi::kCompletions;
  LlmClient completions(c);
  s.Script({});
  CHECK(completions.Complete({"x"})[0].text == "b");
  CHECK(s.Stats()["paths"][0] == "/v1/completions");
  CHECK(client.Models() == std::vector<std::string>{"fault-model"});
}

TEST_CASE("llm client: resets, 5xx and bad bodies are retried until an answer", "[llm_bridge]") {
  FaultServer s;
  s.Script({"reset", "500", "malformed", "503", "truncated", "empty_choices"});
  LlmConfig c = Cfg(s);
  c.retries = 6;
  LlmClient client(c);
  const auto out = client.Complete({"p"});
  CHECK(out[0].text == "b");
  CHECK(out[0].attempts == 7);
  const LlmMetrics m = client.metrics();
  CHECK(m.retries == 6);
  CHECK(m.failures.at("reset") == 2);  // the RST and the truncated body
  CHECK(m.failures.at("http_5xx") == 2);
  CHECK(m.failures.at("bad_json") == 1);
  CHECK(m.failures.at("no_choices") == 1);
  CHECK(m.failed_calls == 0);
  CHECK(s.Stats()["requests"] == 7);
}

TEST_CASE("llm client: Retry-After is honoured, in seconds and as a date", "[llm_bridge]") {
  FaultServer s;
  LlmClient client(Cfg(s));
  s.Script({"429:1"});
  auto t0 = std::chrono::steady_clock::now();
  CHECK(client.Complete({"p"})[0].text == "b");
  double waited = Since(t0);
  CHECK(waited >= 1.0);
  CHECK(waited < 4.0);
  s.Script({"429date:2"});
  t0 = std::chrono::steady_clock::now();
  CHECK(client.Complete({"q"})[0].text == "b");
  waited = Since(t0);
  CHECK(waited >= 0.9);  // an HTTP date has whole seconds: 1-2 s ahead
  CHECK(waited < 5.0);
  CHECK(client.metrics().failures.at("http_429") == 2);
  // A Retry-After beyond llm.max_retry_after ends the call at once, saying why.
  LlmConfig c = Cfg(s);
  c.max_retry_after = 5;
  LlmClient impatient(c);
  s.Script({"429:3600"});
  t0 = std::chrono::steady_clock::now();
  const std::string msg = LlmErrorMessage(impatient, {"r"});
  CHECK(Since(t0) < 2.0);
  CHECK(msg.find("retry after 3600 s") != std::string::npos);
  CHECK(msg.find("llm.max_retry_after") != std::string::npos);
}

TEST_CASE("llm client: timeouts and slow bodies", "[llm_bridge]") {
  FaultServer s;
  LlmConfig c = Cfg(s);
  c.timeout = 0.5;
  LlmClient client(c);
  s.Script({"sleep:2", "slowbody:2"});
  auto t0 = std::chrono::steady_clock::now();
  CHECK(client.Complete({"p"})[0].text == "b");
  CHECK(Since(t0) < 2.5);  // two 0.5 s deadlines, not the server's 2 s sleeps
  CHECK(client.metrics().failures.at("timeout") == 2);
  // A slow body that arrives within the deadline is fine.
  c.timeout = 3;
  LlmClient patient(c);
  s.Script({"slowbody:0.3"});
  CHECK(patient.Complete({"p"})[0].attempts == 1);
}

TEST_CASE("llm client: a clear error after the last retry, and no retry of 4xx", "[llm_bridge]") {
  FaultServer s;
  LlmConfig c = Cfg(s);
  c.retries = 2;
  LlmClient client(c);
  s.Script({}, "500");
  std::string msg = LlmErrorMessage(client, {"p"});
  CHECK(msg.find("after 3 attempt(s)") != std::string::npos);
  CHECK(msg.find(s.base_url() + "/chat/completions") != std::string::npos);
  CHECK(msg.find("HTTP 500") != std::string::npos);
  CHECK(s.Stats()["requests"] == 3);
  s.Script({"401"});
  msg = LlmErrorMessage(client, {"q"});
  CHECK(msg.find("HTTP 401 (not retried)") != std::string::npos);
  CHECK(s.Stats()["requests"] == 1);
  CHECK(client.metrics().failed_calls == 2);
  // Nothing listens: connection failures, counted, then the error.
  LlmConfig off = c;
  off.base_url = "http://127.0.0.1:1/v1";
  LlmClient nobody(off);
  msg = LlmErrorMessage(nobody, {"p"});
  CHECK(msg.find("connect failure") != std::string::npos);
  CHECK(nobody.metrics().failures.at("connect") == 3);
}

TEST_CASE("llm client: garbage and null answers are answers (the parser decides)", "[llm_bridge]") {
  FaultServer s;
  LlmClient client(Cfg(s));
  s.Script({"garbage", "null_content"});
  const auto out = client.Complete({"p", "q"});
  CHECK(out[0].text == "zq@@ 9 lorem ipsum ]]]");
  CHECK(out[1].text.empty());
  CHECK(client.metrics().retries == 0);
}

TEST_CASE("llm client: at most llm.concurrency requests in flight, in order", "[llm_bridge]") {
  FaultServer s;
  s.Script({}, "sleep:0.4", "hash");
  LlmConfig c = Cfg(s);
  c.concurrency = 3;
  LlmClient client(c);
  std::vector<std::string> prompts;
  for (int i = 0; i < 9; ++i) prompts.push_back("a. x\nb. y\nc. z\nd. None #" + std::to_string(i));
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = client.Complete(prompts);
  const double wall = Since(t0);
  CHECK(wall < 9 * 0.4 * 0.6);  // three at a time: about 1.2 s, not 3.6 s
  const auto st = s.Stats();
  CHECK(st["max_inflight"] == 3);
  CHECK(st["connections"] == 3);
  // Results come back in the prompts' order: the answers are the server's hash of each prompt.
  LlmConfig one = Cfg(s);
  LlmClient sequential(one);
  s.Script({}, "ok", "hash");
  const auto again = sequential.Complete(prompts);
  for (size_t i = 0; i < prompts.size(); ++i) CHECK(out[i].text == again[i].text);
}

TEST_CASE("llm client: the cache answers reruns for free, keyed on every parameter",
          "[llm_bridge]") {
  FaultServer s;
  TempDir dir;
  LlmConfig c = Cfg(s);
  c.cache = (dir.path() / "sub" / "cache.sqlite").string();
  s.Script({}, "ok", "hash");
  const std::vector<std::string> prompts = {"a. x\nb. y\nc. None 1", "a. x\nb. y\nc. None 2",
                                            "a. x\nb. y\nc. None 3"};
  std::vector<LlmCompletion> first;
  {
    LlmClient client(c);
    first = client.Complete(prompts);
  }
  CHECK(s.Stats()["requests"] == 3);
  LlmClient again(c);
  const auto second = again.Complete(prompts);
  CHECK(s.Stats()["requests"] == 3);  // no new request
  for (size_t i = 0; i < prompts.size(); ++i) {
    CHECK(second[i].text == first[i].text);
    CHECK(second[i].cached);
  }
  CHECK(again.metrics().cache_hits == 3);
  // Another temperature, seed or model is another key.
  for (int variant = 0; variant < 3; ++variant) {
    LlmConfig d = c;
    if (variant == 0) d.temperature = 0.7;
    if (variant == 1) d.seed = 9;
    if (variant == 2) d.model = "other";
    LlmClient other(d);
    other.Complete({prompts[0]});
    CHECK(other.metrics().cache_hits == 0);
  }
  ResponseCache cache(c.cache);
  CHECK(cache.Stats().entries == 6);
}

TEST_CASE("llm client: the API key is sent but never shown or stored", "[llm_bridge]") {
  FaultServer s;
  TempDir dir;
  const std::string secret = "sk-test-5ecret-ABCDEF123456";
  ::setenv("RECARENA_TEST_LLM_KEY", secret.c_str(), 1);
  LlmConfig c = Cfg(s);
  c.api_key_env = "RECARENA_TEST_LLM_KEY";
  c.cache = (dir.path() / "cache.sqlite").string();
  LlmClient client(c);
  s.Script({});
  client.Complete({"p"});
  CHECK(s.Stats()["auth"][0] == "Bearer " + secret);
  // A server that echoes the Authorization header into its error body.
  s.Script({"leak401"});
  const std::string msg = LlmErrorMessage(client, {"q"});
  CHECK(msg.find("HTTP 401") != std::string::npos);
  CHECK(msg.find(secret) == std::string::npos);
  CHECK(msg.find("[redacted]") != std::string::npos);
  // The cache file (and its WAL) holds no trace of the key.
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str().find(secret) == std::string::npos);
    CHECK(ss.str().find("ABCDEF123456") == std::string::npos);
  }
  ::unsetenv("RECARENA_TEST_LLM_KEY");
  try {
    LlmClient missing(c);
    FAIL("a missing key variable must be an error");
  } catch (const LlmError& e) {
    CHECK(std::string(e.what()).find("RECARENA_TEST_LLM_KEY") != std::string::npos);
  }
}

TEST_CASE("llm client: embeddings", "[llm_bridge]") {
  FaultServer s;
  s.Script({"500"});
  LlmClient client(Cfg(s));
  const auto e = client.Embed({"abc", "hello"});
  REQUIRE(e.size() == 2);
  CHECK(e[0] == std::vector<float>{3.0f, 0.5f, -1.0f});
  CHECK(e[1][0] == 5.0f);
  CHECK(s.Stats()["paths"][0] == "/v1/embeddings");
}

TEST_CASE("llm config: bad values name the key", "[llm_bridge]") {
  auto msg = [](auto mutate) {
    LlmConfig c;
    mutate(c);
    try {
      c.Validate();
    } catch (const ConfigError& e) {
      return e.path() + ": " + e.what();
    }
    return std::string();
  };
  CHECK(msg([](LlmConfig&) {}).empty());
  CHECK(msg([](LlmConfig& c) { c.base_url = "ftp://x"; }).find("llm.base_url") == 0);
  CHECK(msg([](LlmConfig& c) { c.base_url = "http://user:pw@host/v1"; }).find("credentials") !=
        std::string::npos);
  CHECK(msg([](LlmConfig& c) { c.base_url = "http://host:99999"; }).find("port") !=
        std::string::npos);
  CHECK(msg([](LlmConfig& c) { c.concurrency = 0; }).find("llm.concurrency") == 0);
  CHECK(msg([](LlmConfig& c) { c.backoff_max = 0.1; }).find("llm.backoff_max") == 0);
  // A key pasted where the variable's name belongs is refused without echoing it whole.
  const std::string m = msg([](LlmConfig& c) { c.api_key_env = "sk-live-0123456789abcdef"; });
  CHECK(m.find("llm.api_key_env") == 0);
  CHECK(m.find("0123456789abcdef") == std::string::npos);
  const Endpoint e = ParseBaseUrl("https://api.example.com/v1/");
  CHECK(e.tls);
  CHECK(e.port == "443");
  CHECK(e.path == "/v1");
}

TEST_CASE("llm client: Retry-After parsing", "[llm_bridge]") {
  CHECK(ParseRetryAfter("7") == 7.0);
  CHECK(ParseRetryAfter(" 12 ") == 12.0);
  CHECK(ParseRetryAfter("") == -1.0);
  CHECK(ParseRetryAfter("soon") == -1.0);
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0);  // in the past: now
}
