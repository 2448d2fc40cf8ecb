// A persistent cache of LLM responses in SQLite (WAL journal), shared by every run that names the
// same file (`llm.cache`).
//
// Key: the canonical JSON text of everything that determines a response (endpoint URL, model, API,
// every sampling parameter, the exact prompt; see LlmClient), stored whole, so two requests share
// an entry only when they are byte-identical (no hash collisions). The API key is not part of a
// request's body and never reaches the cache.
//
// Crash safety: every Put is one transaction; in WAL mode a process killed at any instant (kill
// -9) leaves the database valid, holding exactly the transactions that committed before
// (synchronous=NORMAL keeps that guarantee against process crashes; a power loss may drop the last
// transactions, never corrupt). tests/llm_bridge/response_cache_test.cpp kills writers to show it.
//
// Thread safety: one object may be used from several threads (an internal mutex serialises the
// SQLite calls). Several processes may share the file (busy_timeout 30 s).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace recarena::llm_bridge {

struct CacheStats {
  int64_t entries = 0;
  int64_t hits = 0;            // lookups answered over the file's lifetime
  int64_t bytes = 0;           // database + WAL file size
  std::string oldest, newest;  // UTC ISO-8601 creation times ('' when empty)
  std::vector<std::pair<std::string, int64_t>> per_model;  // model -> entries
};

struct CacheEntry {
  std::string key, model, endpoint, value, created;
  int64_t hits = 0;
};

class ResponseCache {
 public:
  // Opens (creating the file and its parent folder when missing) or throws recarena::FileError
  // naming the path: not a database, a newer schema, unwritable. read_only opens an existing file
  // without creating or changing anything.
  explicit ResponseCache(const std::filesystem::path& path, bool read_only = false);
  ~ResponseCache();
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  // The cached value of key (and its hit count goes up), or nullopt.
  std::optional<std::string> Get(const std::string& key);
  // Inserts or replaces key's value in one transaction.
  void Put(const std::string& key, const std::string& model, const std::string& endpoint,
           const std::string& value);

  CacheStats Stats();
  // Calls visit for every entry in creation order (export).
  void ForEach(const std::function<void(const CacheEntry&)>& visit);
  // Deletes entries created before `before` (UTC ISO-8601, '' = no bound) and, when model is not
  // empty, only that model's; returns how many were deleted. VACUUMs afterwards.
  int64_t Prune(const std::string& before, const std::string& model);
  // PRAGMA integrity_check's verdict ("ok" when the file is sound).
  std::string IntegrityCheck();

  const std::filesystem::path& path() const { return path_; }

 private:
  void Exec(const char* sql);
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

}  // namespace recarena::llm_bridge
