#include "llm_bridge/llm_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "core/json_read.h"
#include "core/rng.h"
#include "llm_bridge/http_connection.h"
#include "llm_bridge/response_cache.h"

namespace recarena::llm_bridge {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

std::string Snippet(const std::string& body) { return QuoteForError(body, 200); }
}  // namespace

double ParseRetryAfter(const std::string& value) {
  std::string v = value;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(v.begin());
  if (v.empty()) return -1;
  if (v.find_first_not_of("0123456789") == std::string::npos) {
    if (v.size() > 9) return 1e9;
    return static_cast<double>(std::stoll(v));
  }
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return -1;
  const double delta = std::difftime(timegm(&tm), std::time(nullptr));
  return std::max(0.0, delta);
}

json LlmMetrics::ToJson() const {
  json j;
  j["calls"] = calls;
  j["cache_hits"] = cache_hits;
  j["http_requests"] = http_requests;
  j["retries"] = retries;
  j["failed_calls"] = failed_calls;
  j["connects"] = connects;
  j["failures"] = failures;
  j["prompt_tokens"] = prompt_tokens;
  j["completion_tokens"] = completion_tokens;
  double sum = 0;
  for (double l : latencies_s) sum += l;
  const size_t n = latencies_s.size();
  j["answered"] = n;
  j["latency_mean_s"] = n ? sum / static_cast<double>(n) : 0.0;
  j["latency_p50_s"] = Quantile(latencies_s, 0.5);
  j["latency_p95_s"] = Quantile(latencies_s, 0.95);
  j["latency_max_s"] = n ? *std::max_element(latencies_s.begin(), latencies_s.end()) : 0.0;
  j["wall_s"] = wall_s;
  // Generated tokens per second of wall time (all requests in flight together) and per second
  // of request latency (one request's decoding speed, prompt processing included).
  j["completion_tokens_per_wall_s"] =
      wall_s > 0 ? static_cast<double>(completion_tokens) / wall_s : 0.0;
  j["completion_tokens_per_request_s"] =
      sum > 0 ? static_cast<double>(completion_tokens) / sum : 0.0;
  return j;
}

struct LlmClient::Result {
  LlmCompletion completion;
  std::vector<float> embedding;
};

LlmClient::LlmClient(const LlmConfig& cfg) : cfg_(cfg) {
  cfg_.Validate();
  ep_ = ParseBaseUrl(cfg_.base_url);
  if (!cfg_.api_key_env.empty()) {
    const char* key = std::getenv(cfg_.api_key_env.c_str());
    if (key == nullptr || *key == '\0')
      throw LlmError("llm.api_key_env names the environment variable " + cfg_.api_key_env +
                     ", which is not set (or empty): export it before the run");
    api_key_ = key;
  }
  if (!cfg_.cache.empty()) cache_ = std::make_unique<ResponseCache>(cfg_.cache);
  for (int64_t i = 0; i < cfg_.concurrency; ++i)
    conns_.push_back(std::make_unique<HttpConnection>(ep_, cfg_.ca_file));
}

LlmClient::~LlmClient() = default;

std::string LlmClient::Scrub(std::string text) const {
  if (api_key_.empty()) return text;
  for (size_t pos = text.find(api_key_); pos != std::string::npos; pos = text.find(api_key_, pos))
    text.replace(pos, api_key_.size(), "[redacted]");
  return text;
}

std::string LlmClient::KeyFor(Kind kind, const std::string& input) const {
  // nlohmann::json objects keep their keys sorted, so dump() is canonical.
  json k;
  k["endpoint"] = cfg_.base_url;
  k["model"] = cfg_.model;
  if (kind == Kind::kEmbedding) {
    k["api"] = "embeddings";
  } else {
    k["api"] = config::EnumToString(cfg_.api);
    k["temperature"] = cfg_.temperature;
    k["max_tokens"] = cfg_.max_tokens;
    k["seed"] = cfg_.seed;
  }
  k["input"] = input;
  return k.dump();
}

std::string LlmClient::CacheKey(const std::string& prompt) const {
  return KeyFor(Kind::kCompletion, prompt);
}

LlmMetrics LlmClient::metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  LlmMetrics m = metrics_;
  m.connects = 0;
  for (const auto& c : conns_) m.connects += c->connects();
  return m;
}

LlmClient::Result LlmClient::Call(Kind kind, const std::string& input, HttpConnection& conn,
                                  uint64_t jitter_seed) {
  std::string path = ep_.path;
  json body;
  body["model"] = cfg_.model;
  if (kind == Kind::kEmbedding) {
    path += "/embeddings";
    body["input"] = input;
  } else {
    if (cfg_.api == LlmApi::kChat) {
      path += "/chat/completions";
      body["messages"] = json::array({json{{"role", "user"}, {"content", input}}});
    } else {
      path += "/completions";
      body["prompt"] = input;
    }
    body["temperature"] = cfg_.temperature;
    body["max_tokens"] = cfg_.max_tokens;
    body["seed"] = cfg_.seed;
    body["stream"] = false;
  }
  const std::string payload = body.dump();
  std::vector<std::pair<std::string, std::string>> headers{{"Accept", "application/json"}};
  if (!api_key_.empty()) headers.emplace_back("Authorization", "Bearer " + api_key_);
  const std::string url = cfg_.base_url + path.substr(ep_.path.size());
  Rng rng(MixSeed(static_cast<uint64_t>(cfg_.seed), jitter_seed));
  auto record = [&](const std::string& failure) {
    std::lock_guard<std::mutex> lock(mu_);
    ++metrics_.failures[failure];
  };
  std::string last;
  for (int64_t attempt = 0;; ++attempt) {
    double retry_after = -1;
    std::string failure;
    const auto t0 = Clock::now();
    try {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++metrics_.http_requests;
      }
      const HttpResponse r = conn.Exchange("POST", path, headers, payload, cfg_.timeout);
      const double latency = Seconds(Clock::now() - t0);
      if (r.status == 200) {
        const json j = ParseJsonOrDiscarded(r.body);
        Result out;
        bool ok = false;
        if (j.is_discarded() || !j.is_object()) {
          failure = "bad_json";
          last = "HTTP 200 with a body that is not a JSON object: " + Snippet(r.body);
        } else if (kind == Kind::kEmbedding) {
          const auto data = j.find("data");
          if (data != j.end() && data->is_array() && !data->empty() &&
              (*data)[0].contains("embedding") && (*data)[0]["embedding"].is_array()) {
            for (const auto& x : (*data)[0]["embedding"]) {
              if (!x.is_number()) break;
              out.embedding.push_back(x.get<float>());
            }
            ok = out.embedding.size() == (*data)[0]["embedding"].size() && !out.embedding.empty();
          }
          if (!ok) {
            failure = "no_choices";
            last = "HTTP 200 without data[0].embedding: " + Snippet(r.body);
          }
        } else {
          const auto choices = j.find("choices");
          if (choices != j.end() && choices->is_array() && !choices->empty() &&
              (*choices)[0].is_object()) {
            const json& c = (*choices)[0];
            const json* text = nullptr;
            if (cfg_.api == LlmApi::kChat) {
              if (c.contains("message") && c["message"].is_object() &&
                  c["message"].contains("content"))
                text = &c["message"]["content"];
            } else if (c.contains("text")) {
              text = &c["text"];
            }
            if (text != nullptr && (text->is_string() || text->is_null())) {
              out.completion.text = text->is_string() ? text->get<std::string>() : "";
              ok = true;
            }
          }
          if (!ok) {
            failure = "no_choices";
            last = "HTTP 200 without an answer in choices[0]: " + Snippet(r.body);
          }
        }
        if (ok) {
          if (j.contains("usage") && j["usage"].is_object()) {
            const json& u = j["usage"];
            if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer())
              out.completion.prompt_tokens = u["prompt_tokens"].get<int64_t>();
            if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
              out.completion.completion_tokens = u["completion_tokens"].get<int64_t>();
          }
          out.completion.latency_s = latency;
          out.completion.attempts = static_cast<int>(attempt + 1);
          std::lock_guard<std::mutex> lock(mu_);
          metrics_.latencies_s.push_back(latency);
          metrics_.prompt_tokens += out.completion.prompt_tokens;
          metrics_.completion_tokens += out.completion.completion_tokens;
          return out;
        }
      } else if (r.status == 429 || r.status >= 500) {
        failure = r.status == 429 ? "http_429" : "http_5xx";
        retry_after = ParseRetryAfter(r.retry_after);
        last = fmt::format("HTTP {}: {}", r.status, Snippet(r.body));
      } else {
        record("http_4xx");
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++metrics_.failed_calls;
        }
        throw LlmError(Scrub(
            fmt::format("LLM request to {} (model {}) was refused with HTTP {} (not retried): {}",
                        url, cfg_.model, r.status, Snippet(r.body))));
      }
    } catch (const TransportError& e) {
      failure = TransportFailureName(e.failure());
      last = e.what();
    }
    record(failure);
    auto fail = [&](const std::string& why) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++metrics_.failed_calls;
      }
      return LlmError(Scrub(fmt::format("LLM request to {} (model {}) failed {}: last failure {}",
                                        url, cfg_.model, why, last)));
    };
    if (attempt >= cfg_.retries)
      throw fail(fmt::format("after {} attempt(s) (llm.retries = {})", attempt + 1, cfg_.retries));
    if (retry_after > cfg_.max_retry_after)
      throw fail(
          fmt::format("on attempt {}: the server asks to retry after {} s, more than "
                      "llm.max_retry_after = {} s",
                      attempt + 1, retry_after, cfg_.max_retry_after));
    const double cap =
        std::min(cfg_.backoff_max, cfg_.backoff * std::pow(2.0, static_cast<double>(attempt)));
    const double wait = retry_after >= 0 ? retry_after : rng.Uniform() * cap;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++metrics_.retries;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

std::vector<LlmClient::Result> LlmClient::Run(Kind kind, const std::vector<std::string>& inputs) {
  const auto t0 = Clock::now();
  std::vector<Result> results(inputs.size());
  std::vector<std::string> keys(inputs.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < inputs.size(); ++i) {
    keys[i] = KeyFor(kind, inputs[i]);
    std::optional<std::string> hit;
    if (cache_) hit = cache_->Get(keys[i]);
    const json v = hit ? ParseJsonOrDiscarded(*hit) : json();
    if (hit && v.is_object()) {
      Result& r = results[i];
      r.completion.cached = true;
      if (kind == Kind::kEmbedding) {
        r.embedding = v.value("embedding", std::vector<float>{});
      } else {
        r.completion.text = v.value("text", std::string());
        r.completion.prompt_tokens = v.value("prompt_tokens", int64_t{0});
        r.completion.completion_tokens = v.value("completion_tokens", int64_t{0});
      }
    } else {
      todo.push_back(i);
    }
  }
  uint64_t base;
  {
    std::lock_guard<std::mutex> lock(mu_);
    metrics_.calls += static_cast<int64_t>(inputs.size());
    metrics_.cache_hits += static_cast<int64_t>(inputs.size() - todo.size());
    base = call_counter_;
    call_counter_ += todo.size();
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex err_mu;
  std::string first_error;
  auto work = [&](size_t w) {
    while (!stop) {
      const size_t j = next++;
      if (j >= todo.size()) break;
      const size_t i = todo[j];
      try {
        results[i] = Call(kind, inputs[i], *conns_[w], base + j);
        if (cache_) {
          json v;
          if (kind == Kind::kEmbedding) {
            v["embedding"] = results[i].embedding;
          } else {
            v["text"] = results[i].completion.text;
            v["prompt_tokens"] = results[i].completion.prompt_tokens;
            v["completion_tokens"] = results[i].completion.completion_tokens;
          }
          cache_->Put(keys[i], cfg_.model, cfg_.base_url, v.dump());
        }
      } catch (const std::exception& e) {
        // (An exception must not leave a worker thread: it would terminate the process.)
        stop = true;
        std::lock_guard<std::mutex> lock(err_mu);
        if (first_error.empty()) first_error = Scrub(e.what());
      }
    }
  };
  const size_t workers = std::min(todo.size(), conns_.size());
  if (workers == 1) {
    work(0);
  } else if (workers > 1) {
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers; ++w) threads.emplace_back(work, w);
    for (auto& t : threads) t.join();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    metrics_.wall_s += Seconds(Clock::now() - t0);
  }
  if (!first_error.empty()) throw LlmError(first_error);
  return results;
}

std::vector<LlmCompletion> LlmClient::Complete(const std::vector<std::string>& prompts) {
  std::vector<LlmCompletion> out;
  out.reserve(prompts.size());
  for (auto& r : Run(Kind::kCompletion, prompts)) out.push_back(std::move(r.completion));
  return out;
}

std::vector<std::vector<float>> LlmClient::Embed(const std::vector<std::string>& texts) {
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (auto& r : Run(Kind::kEmbedding, texts)) out.push_back(std::move(r.embedding));
  return out;
}

std::vector<std::string> LlmClient::Models() {
  HttpConnection conn(ep_, cfg_.ca_file);
  std::vector<std::pair<std::string, std::string>> headers{{"Accept", "application/json"}};
  if (!api_key_.empty()) headers.emplace_back("Authorization", "Bearer " + api_key_);
  HttpResponse r;
  try {
    r = conn.Exchange("GET", ep_.path + "/models", headers, "", cfg_.timeout);
  } catch (const TransportError& e) {
    throw LlmError(
        Scrub(fmt::format("LLM server {} is not reachable: {}", cfg_.base_url, e.what())));
  }
  if (r.status != 200)
    throw LlmError(Scrub(fmt::format("LLM server {}: GET /models answered HTTP {}: {}",
                                     cfg_.base_url, r.status, Snippet(r.body))));
  const json j = ParseJsonOrDiscarded(r.body);
  std::vector<std::string> ids;
  if (j.is_object() && j.contains("data") && j["data"].is_array())
    for (const auto& m : j["data"])
      if (m.is_object() && m.contains("id") && m["id"].is_string()) ids.push_back(m["id"]);
  return ids;
}

}  // namespace recarena::llm_bridge
