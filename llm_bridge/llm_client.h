// A client of the OpenAI-compatible HTTP API (POST {base_url}/chat/completions, /completions,
// /embeddings; GET {base_url}/models) for llama.cpp's server, vLLM, Ollama or a hosted API.
//
// - Up to llm.concurrency requests in flight, each worker on its own kept-alive connection.
// - Every attempt has llm.timeout seconds. Timeouts, connection failures and resets, HTTP 429 and
//   5xx, and 200 answers whose JSON is malformed, truncated or has no choices are retried up to
//   llm.retries times: the wait is the server's Retry-After (seconds or an HTTP date; one over
//   llm.max_retry_after ends the call) or else full-jitter exponential backoff, uniform in
//   [0, min(backoff_max, backoff * 2^attempt)]. Other 4xx answers are not retried. After the last
//   attempt the call throws LlmError naming the endpoint, the attempts and the last failure.
// - With llm.cache set, each request is first looked up in the ResponseCache under its canonical
//   key (endpoint URL, model, API, temperature, max_tokens, seed, prompt); answers are stored as
//   they arrive, so a killed run loses at most the requests in flight.
// - The API key (from the environment variable llm.api_key_env) goes only into the Authorization
//   header; any text that reaches an error message is scrubbed of it.
// - Metrics (calls, cache hits, HTTP requests, retries, failures by kind, tokens, latencies) are
//   counted across threads; runs report them (distill.json "llm", `llm check`).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "llm_bridge/llm_config.h"

namespace recarena::llm_bridge {

class ResponseCache;
class HttpConnection;

// A call that failed after its last attempt, or could not be made (missing API key, 4xx).
class LlmError : public Error {
 public:
  using Error::Error;
};

struct LlmCompletion {
  std::string text;  // the answer's text ('' when the server returned null content)
  int64_t prompt_tokens = 0, completion_tokens = 0;  // from the answer's usage (0 if absent)
  double latency_s = 0;  // wall time of the successful attempt (0 for a cache hit)
  int attempts = 0;      // HTTP attempts made for this call (0 for a cache hit)
  bool cached = false;
};

struct LlmMetrics {
  int64_t calls = 0;  // prompts (or texts) asked for
  int64_t cache_hits = 0;
  int64_t http_requests = 0;  // attempts sent
  int64_t retries = 0;
  int64_t failed_calls = 0;  // calls that ended in LlmError
  int64_t connects = 0;      // TCP connections opened (keep-alive keeps this near concurrency)
  std::map<std::string, int64_t> failures;  // per attempt: timeout, connect, reset, protocol,
                                            // http_429, http_5xx, http_4xx, bad_json, no_choices
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::vector<double> latencies_s;  // successful attempts, in completion order
  double wall_s = 0;                // time spent inside Complete / Embed
  nlohmann::json ToJson()
      const;  // counts plus latency mean / p50 / p95 / max and tokens per second
};

class LlmClient {
 public:
  // Validates cfg, reads the API key from the environment (LlmError when llm.api_key_env names a
  // variable that is unset or empty) and opens the cache (FileError on a bad file).
  explicit LlmClient(const LlmConfig& cfg);
  ~LlmClient();
  LlmClient(const LlmClient&) = delete;
  LlmClient& operator=(const LlmClient&) = delete;

  // One completion per prompt, in order, requests spread over the workers. Throws LlmError when
  // any prompt fails after its last attempt (the others that completed are cached).
  std::vector<LlmCompletion> Complete(const std::vector<std::string>& prompts);
  // Embedding vectors of texts (POST /embeddings, one text per request), in order.
  std::vector<std::vector<float>> Embed(const std::vector<std::string>& texts);
  // The model ids the server lists (GET /models); LlmError when unreachable. Not cached.
  std::vector<std::string> Models();

  // The cache key of a completion request (exposed for tests and `llm cache export`).
  std::string CacheKey(const std::string& prompt) const;
  LlmMetrics metrics() const;
  const LlmConfig& config() const { return cfg_; }

 private:
  enum class Kind { kCompletion, kEmbedding };
  struct Result;
  std::vector<Result> Run(Kind kind, const std::vector<std::string>& inputs);
  Result Call(Kind kind, const std::string& input, HttpConnection& conn, uint64_t jitter_seed);
  std::string Scrub(std::string text) const;
  std::string KeyFor(Kind kind, const std::string& input) const;

  LlmConfig cfg_;
  Endpoint ep_;
  std::string api_key_;
  std::unique_ptr<ResponseCache> cache_;
  std::vector<std::unique_ptr<HttpConnection>> conns_;
  mutable std::mutex mu_;
  LlmMetrics metrics_;
  uint64_t call_counter_ = 0;
};

// "Retry-After" in seconds: delta-seconds or an HTTP date (IMF-fixdate) relative to now; -1 when
// absent or unparseable.
double ParseRetryAfter(const std::string& value);

}  // namespace recarena::llm_bridge
