// The `llm:` config section: which OpenAI-compatible endpoint to ask, with which sampling
// parameters, how patiently, and where the response cache lives (docs/llm.md).
//
// Secrets: the API key is never a config value. `api_key_env` names the environment variable that
// holds it; the key is read from the environment when a client is built and is never written to a
// config file, a log line, an error message or the cache.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/config_schema.h"

namespace recarena::llm_bridge {

// Which OpenAI endpoint carries a prompt: /chat/completions (the prompt is one user message) or
// /completions (the prompt is sent as is).
enum class LlmApi { kChat, kCompletions };
// What a call that failed after its last retry does to the run that made it.
enum class LlmFailure {
  kError,     // the run stops with the client's error (it resumes from its checkpoint later)
  kNoChoice,  // the run goes on as if the LLM had answered nothing usable (counted)
};

struct LlmConfig {
  std::string base_url = "http://127.0.0.1:8765/v1";  // scheme://host[:port][/path], http or https
  std::string model = "smollm2-135m-instruct";
  std::string api_key_env;  // name of the environment variable holding the key; '' = no key
  LlmApi api = LlmApi::kChat;
  double temperature = 0.0;
  int64_t max_tokens = 24;
  int64_t seed = 0;         // sent with every request (servers that honour it sample reproducibly)
  double timeout = 120.0;   // seconds for one attempt (connect + send + receive)
  int64_t retries = 4;      // further attempts after a failed one (timeouts, resets, 429, 5xx)
  double backoff = 0.5;     // seconds before the first retry; doubles per retry, full jitter
  double backoff_max = 30;  // cap of one backoff wait
  double max_retry_after = 300;  // a Retry-After longer than this ends the call with an error
  int64_t concurrency = 2;       // requests in flight at once (one kept-alive connection each)
  std::string cache = "runs/llm-cache.sqlite";  // SQLite response cache; '' = no cache
  std::string ca_file;  // https: a PEM bundle to trust instead of the system's (self-hosted TLS)
  LlmFailure on_failure = LlmFailure::kError;

  template <class V>
  void Visit(V& v) {
    v("base_url", base_url);
    v("model", model);
    v("api_key_env", api_key_env);
    v("api", api);
    v("temperature", temperature);
    v("max_tokens", max_tokens);
    v("seed", seed);
    v("timeout", timeout);
    v("retries", retries);
    v("backoff", backoff);
    v("backoff_max", backoff_max);
    v("max_retry_after", max_retry_after);
    v("concurrency", concurrency);
    v("cache", cache);
    v("ca_file", ca_file);
    v("on_failure", on_failure);
  }
  // ConfigError("llm.<key>") for a bad value, including a base_url that does not parse.
  void Validate() const;
};

// The parts of a base_url.
struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;  // "80" / "443" when the URL gives none
  std::string path;  // without a trailing '/', "" for the root
};
// Throws ConfigError("llm.base_url") naming the value when it is not http(s)://host[:port][/path].
Endpoint ParseBaseUrl(const std::string& base_url);

}  // namespace recarena::llm_bridge

namespace recarena::config {
template <>
struct EnumNames<llm_bridge::LlmApi> {
  static const std::vector<std::pair<llm_bridge::LlmApi, std::string>>& Table() {
    static const std::vector<std::pair<llm_bridge::LlmApi, std::string>> t = {
        {llm_bridge::LlmApi::kChat, "chat"}, {llm_bridge::LlmApi::kCompletions, "completions"}};
    return t;
  }
};
template <>
struct EnumNames<llm_bridge::LlmFailure> {
  static const std::vector<std::pair<llm_bridge::LlmFailure, std::string>>& Table() {
    static const std::vector<std::pair<llm_bridge::LlmFailure, std::string>> t = {
        {llm_bridge::LlmFailure::kError, "error"},
        {llm_bridge::LlmFailure::kNoChoice, "no_choice"}};
    return t;
  }
};
}  // namespace recarena::config
