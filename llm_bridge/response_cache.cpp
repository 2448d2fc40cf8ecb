#include "llm_bridge/response_cache.h"

#include <sqlite3.h>

#include <system_error>

#include "core/error.h"

namespace recarena::llm_bridge {
namespace fs = std::filesystem;

namespace {
constexpr int kSchemaVersion = 1;

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql, const fs::path& path) : path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw FileError(path.string(), 0, std::string("LLM cache: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  // SQLITE_ROW or SQLITE_DONE; anything else throws.
  int Step() {
    const int rc = sqlite3_step(s_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      throw FileError(path_.string(), 0,
                      std::string("LLM cache: ") + sqlite3_errmsg(sqlite3_db_handle(s_)));
    return rc;
  }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3_stmt* s_ = nullptr;
  fs::path path_;
};

int64_t FileSize(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}
}  // namespace

ResponseCache::ResponseCache(const fs::path& path, bool read_only) : path_(path) {
  if (!read_only && path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
  }
  if (read_only && !fs::exists(path)) throw FileError(path.string(), 0, "LLM cache: no such file");
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close(db_);
    db_ = nullptr;
    throw FileError(path.string(), 0, "LLM cache: " + msg);
  }
  sqlite3_busy_timeout(db_, 30000);
  try {
    int64_t version = 0;
    {
      Stmt v(db_, "PRAGMA user_version", path_);  // finalized before the PRAGMAs below
      v.Step();
      version = v.Int(0);
    }
    if (version > kSchemaVersion)
      throw FileError(path.string(), 0,
                      "LLM cache: schema version " + std::to_string(version) +
                          " is newer than this recarena's (" + std::to_string(kSchemaVersion) +
                          ")");
    if (!read_only) {
      Exec("PRAGMA journal_mode=WAL");
      Exec("PRAGMA synchronous=NORMAL");
      Exec(
          "CREATE TABLE IF NOT EXISTS responses(key TEXT PRIMARY KEY, model TEXT NOT NULL, "
          "endpoint TEXT NOT NULL, value TEXT NOT NULL, created TEXT NOT NULL, hits INTEGER NOT "
          "NULL DEFAULT 0)");
      Exec("CREATE INDEX IF NOT EXISTS responses_created ON responses(created)");
      Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    } else {
      // A read-only open of a file that is not a cache: the table lookup fails with a clear error.
      Stmt t(db_, "SELECT count(*) FROM responses", path_);
      t.Step();
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

ResponseCache::~ResponseCache() {
  if (db_ != nullptr) sqlite3_close(db_);
}

void ResponseCache::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw FileError(path_.string(), 0, "LLM cache: " + msg);
  }
}

std::optional<std::string> ResponseCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT value FROM responses WHERE key = ?1", path_);
  s.Bind(1, key);
  if (s.Step() != SQLITE_ROW) return std::nullopt;
  std::string value = s.Text(0);
  if (!sqlite3_db_readonly(db_, "main")) {
    Stmt u(db_, "UPDATE responses SET hits = hits + 1 WHERE key = ?1", path_);
    u.Bind(1, key);
    u.Step();
  }
  return value;
}

void ResponseCache::Put(const std::string& key, const std::string& model,
                        const std::string& endpoint, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "INSERT OR REPLACE INTO responses(key, model, endpoint, value, created, hits) "
         "VALUES(?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 0)",
         path_);
  s.Bind(1, key);
  s.Bind(2, model);
  s.Bind(3, endpoint);
  s.Bind(4, value);
  s.Step();
}

CacheStats ResponseCache::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  CacheStats st;
  Stmt s(db_,
         "SELECT count(*), coalesce(sum(hits), 0), coalesce(min(created), ''), "
         "coalesce(max(created), '') FROM responses",
         path_);
  s.Step();
  st.entries = s.Int(0);
  st.hits = s.Int(1);
  st.oldest = s.Text(2);
  st.newest = s.Text(3);
  Stmt m(db_, "SELECT model, count(*) FROM responses GROUP BY model ORDER BY model", path_);
  while (m.Step() == SQLITE_ROW) st.per_model.emplace_back(m.Text(0), m.Int(1));
  st.bytes = FileSize(path_) + FileSize(path_.string() + "-wal");
  return st;
}

void ResponseCache::ForEach(const std::function<void(const CacheEntry&)>& visit) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "SELECT key, model, endpoint, value, created, hits FROM responses ORDER BY created, "
         "rowid",
         path_);
  while (s.Step() == SQLITE_ROW) {
    CacheEntry e{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5)};
    visit(e);
  }
}

int64_t ResponseCache::Prune(const std::string& before, const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "DELETE FROM responses WHERE (?1 = '' OR created < ?1) AND (?2 = '' OR model = ?2)",
         path_);
  s.Bind(1, before);
  s.Bind(2, model);
  s.Step();
  const int64_t n = sqlite3_changes(db_);
  Exec("VACUUM");
  return n;
}

std::string ResponseCache::IntegrityCheck() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "PRAGMA integrity_check", path_);
  std::string out;
  while (s.Step() == SQLITE_ROW) out += (out.empty() ? "" : "; ") + s.Text(0);
  return out;
}

}  // namespace recarena::llm_bridge
