#include "llm_bridge/response_cache.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "core/rng.h"
#include "test_util.h"

using namespace recarena;
using namespace recarena::llm_bridge;
using recarena::testing::TempDir;

namespace {
std::string ValueOf(const std::string& key) {
  return "value-of(" + key + ")" + std::string(300, 'x');
}
}  // namespace

TEST_CASE("response cache: put, get, stats, export and prune", "[llm_bridge]") {
  TempDir dir;
  const auto path = dir.path() / "deep" / "c.sqlite";
  {
    ResponseCache c(path);
    CHECK_FALSE(c.Get("k1").has_value());
    c.Put("k1", "m1", "http://h/v1", "v1");
    c.Put("k2", "m2", "http://h/v1", "v2");
    c.Put("k1", "m1", "http://h/v1", "v1b");  // replaced
    CHECK(c.Get("k1") == std::optional<std::string>("v1b"));
    CHECK(c.Get("k1").has_value());
    const CacheStats st = c.Stats();
    CHECK(st.entries == 2);
    CHECK(st.hits == 2);
    CHECK(st.bytes > 0);
    CHECK(st.per_model == std::vector<std::pair<std::string, int64_t>>{{"m1", 1}, {"m2", 1}});
    CHECK(st.oldest.size() == 20);  // 2026-12-04T05:06:07Z
  }
  ResponseCache c(path);  // reopened: the entries persisted
  std::vector<std::string> keys;
  c.ForEach([&](const CacheEntry& e) { keys.push_back(e.key); });
  CHECK(keys.size() == 2);
  CHECK(c.Prune("", "m2") == 1);
  CHECK(c.Stats().entries == 1);
  CHECK(c.Prune("1970-01-01T00:00:00Z", "") == 0);  // nothing older than that
  CHECK(c.Prune("9999-01-01T00:00:00Z", "") == 1);
  CHECK(c.Stats().entries == 0);
  CHECK(c.IntegrityCheck() == "ok");
  ResponseCache ro(path, /*read_only=*/true);
  CHECK(ro.Stats().entries == 0);
}

TEST_CASE("response cache: a file that is not a cache is a clear error", "[llm_bridge]") {
  TempDir dir;
  const auto bad = dir.Write("notdb.sqlite", std::string(5000, 'z'));
  CHECK(testing::FileErrorMessage([&] { ResponseCache c(bad); }).find("notdb.sqlite") !=
        std::string::npos);
  CHECK(testing::FileErrorMessage([&] {
          ResponseCache c(dir.path() / "missing", true);
        }).find("no such file") != std::string::npos);
}

// Writers killed with SIGKILL at random instants, 12 times over the same file: after each kill
// the file passes SQLite's integrity check, every entry is whole (its value is the one written
// for its key), and the entries committed before a kill are all still there.
TEST_CASE("response cache: kill -9 at any point leaves it valid", "[llm_bridge]") {
  TempDir dir;
  const auto path = dir.path() / "c.sqlite";
  Rng rng(11);
  int64_t before = 0;
  for (int round = 0; round < 12; ++round) {
    // The writer reports its first commit through a pipe and the random instant counts from
    // there: on a loaded machine a fixed delay can pass before the child has run at all.
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(ready[0]);
      try {
        ResponseCache c(path);
        for (int64_t i = 0;; ++i) {
          const std::string key = "r" + std::to_string(round) + "-" + std::to_string(i);
          c.Put(key, "m", "http://h/v1", ValueOf(key));
          if (i == 0 && ::write(ready[1], "1", 1) != 1) break;
        }
      } catch (...) {
      }
      ::_exit(3);
    }
    ::close(ready[1]);
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    ::usleep(static_cast<useconds_t>(rng.UniformInt(150000)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    ResponseCache c(path);
    REQUIRE(c.IntegrityCheck() == "ok");
    int64_t n = 0;
    bool whole = true;
    c.ForEach([&](const CacheEntry& e) {
      ++n;
      whole = whole && e.value == ValueOf(e.key);
    });
    CHECK(whole);
    CHECK(n > before);  // this round's writer committed something, and nothing was lost
    before = n;
  }
}
