#include "llm_bridge/llm_config.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "core/error.h"

namespace recarena::llm_bridge {
namespace {
template <class T>
[[noreturn]] void Bad(const std::string& key, const std::string& want, const T& got) {
  throw ConfigError("llm." + key,
                    "llm." + key + " must be " + want + ": got " + fmt::format("{}", got));
}
bool ValidEnvName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}
}  // namespace

Endpoint ParseBaseUrl(const std::string& base_url) {
  auto bad = [&](const std::string& why) {
    return ConfigError("llm.base_url", "llm.base_url " + QuoteForError(base_url) + ": " + why +
                                           " (want http(s)://host[:port][/path])");
  };
  Endpoint e;
  std::string rest;
  if (base_url.rfind("http://", 0) == 0) {
    rest = base_url.substr(7);
  } else if (base_url.rfind("https://", 0) == 0) {
    e.tls = true;
    rest = base_url.substr(8);
  } else {
    throw bad("the scheme is not http:// or https://");
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  e.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
  if (authority.find('@') != std::string::npos)
    throw bad("credentials in the URL are refused (use llm.api_key_env)");
  if (e.path.find_first_of("?# ") != std::string::npos)
    throw bad("a query, fragment or space in the path");
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    e.port = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
    if (e.port.empty() || e.port.size() > 5 ||
        e.port.find_first_not_of("0123456789") != std::string::npos || std::stoi(e.port) < 1 ||
        std::stoi(e.port) > 65535)
      throw bad("the port is not a number in 1..65535");
  } else {
    e.port = e.tls ? "443" : "80";
  }
  if (authority.empty()) throw bad("no host");
  for (char c : authority)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
          c == '[' || c == ']' || c == ':'))
      throw bad("the host has a character outside [A-Za-z0-9.-_]");
  e.host = authority;
  return e;
}

void LlmConfig::Validate() const {
  ParseBaseUrl(base_url);
  if (model.empty()) throw ConfigError("llm.model", "llm.model must not be empty");
  if (!api_key_env.empty() && !ValidEnvName(api_key_env))
    Bad("api_key_env", "the NAME of an environment variable ([A-Za-z_][A-Za-z0-9_]*), not a key",
        QuoteForError(api_key_env, 12));
  if (!(temperature >= 0 && temperature <= 2)) Bad("temperature", "in [0, 2]", temperature);
  if (max_tokens < 1 || max_tokens > 32768) Bad("max_tokens", "in 1..32768", max_tokens);
  if (seed < 0) Bad("seed", ">= 0", seed);
  if (!(timeout > 0) || !std::isfinite(timeout)) Bad("timeout", "> 0 seconds", timeout);
  if (retries < 0 || retries > 100) Bad("retries", "in 0..100", retries);
  if (!(backoff >= 0) || !std::isfinite(backoff)) Bad("backoff", ">= 0 seconds", backoff);
  if (!(backoff_max >= backoff) || !std::isfinite(backoff_max))
    Bad("backoff_max", ">= llm.backoff", backoff_max);
  if (!(max_retry_after >= 0) || !std::isfinite(max_retry_after))
    Bad("max_retry_after", ">= 0 seconds", max_retry_after);
  if (concurrency < 1 || concurrency > 256) Bad("concurrency", "in 1..256", concurrency);
}

}  // namespace recarena::llm_bridge
