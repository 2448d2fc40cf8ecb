#include "dist/world.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

extern char** environ;

namespace recarena::dist {

namespace {

const std::string* Find(const std::vector<std::pair<std::string, std::string>>& env,
                        const std::string& name) {
  for (const auto& kv : env) {
    if (kv.first == name) return &kv.second;
  }
  return nullptr;
}

std::string Quoted(const std::string& name, const std::string& value) {
  return fmt::format("environment variable {}={}", name, QuoteForError(value));
}

// A whole number in [lo, hi], parsed strictly (no sign games, no trailing text).
int WholeNumber(const std::string& name, const std::string& value, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi) {
    throw Error(
        fmt::format("{}: expected a whole number in [{}, {}]", Quoted(name, value), lo, hi));
  }
  return static_cast<int>(v);
}

double PositiveNumber(const std::string& name, const std::string& value) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v <= 0.0) {
    throw Error(fmt::format("{}: expected a positive number", Quoted(name, value)));
  }
  return v;
}

}  // namespace

void World::Validate() const {
  if (size < 1) throw Error(fmt::format("WORLD_SIZE={}: must be at least 1", size));
  if (rank < 0 || rank >= size) {
    throw Error(fmt::format("RANK={} is outside [0, WORLD_SIZE={})", rank, size));
  }
  if (local_rank < 0) throw Error(fmt::format("LOCAL_RANK={}: must be >= 0", local_rank));
  if (master_port < 1 || master_port > 65535) {
    throw Error(fmt::format("MASTER_PORT={} is outside [1, 65535]", master_port));
  }
  if (master_addr.empty()) throw Error("MASTER_ADDR is empty");
  if (!(timeout_s > 0.0))
    throw Error(fmt::format("RECARENA_DIST_TIMEOUT_S={} must be > 0", timeout_s));
  if (!(bucket_mb > 0.0))
    throw Error(fmt::format("RECARENA_DIST_BUCKET_MB={} must be > 0", bucket_mb));
}

World WorldFromVariables(const std::vector<std::pair<std::string, std::string>>& env) {
  World w;
  const std::string* size = Find(env, "WORLD_SIZE");
  if (size == nullptr) return w;
  w.size = WholeNumber("WORLD_SIZE", *size, 1, 1 << 20);
  if (w.size == 1) return w;
  const std::string* rank = Find(env, "RANK");
  if (rank == nullptr) throw Error("WORLD_SIZE=" + *size + " is set but RANK is not");
  w.rank = WholeNumber("RANK", *rank, 0, w.size - 1);
  if (const auto* v = Find(env, "LOCAL_RANK"))
    w.local_rank = WholeNumber("LOCAL_RANK", *v, 0, 1 << 20);
  if (const auto* v = Find(env, "MASTER_ADDR")) w.master_addr = *v;
  if (const auto* v = Find(env, "MASTER_PORT"))
    w.master_port = WholeNumber("MASTER_PORT", *v, 1, 65535);
  if (const auto* v = Find(env, "RECARENA_DIST_BACKEND")) {
    w.backend = config::ParseEnum<Backend>(*v, "RECARENA_DIST_BACKEND");
  }
  if (const auto* v = Find(env, "RECARENA_DIST_TIMEOUT_S")) {
    w.timeout_s = PositiveNumber("RECARENA_DIST_TIMEOUT_S", *v);
  }
  if (const auto* v = Find(env, "RECARENA_DIST_BUCKET_MB")) {
    w.bucket_mb = PositiveNumber("RECARENA_DIST_BUCKET_MB", *v);
  }
  w.Validate();
  return w;
}

World WorldFromEnvironment() {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return WorldFromVariables(env);
}

}  // namespace recarena::dist
