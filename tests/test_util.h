// Helpers shared by tests: temporary directories and access to the real datasets.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/paths.h"

namespace recarena::testing {

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes content (bytes as given) to path()/name and returns the full path.
  std::filesystem::path Write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

// The directory of a real dataset, or an empty path when it is absent (see
// RECARENA_REQUIRE_DATASET).
std::filesystem::path RealDataset(const std::string& name);

// True when RECARENA_REQUIRE_DATA=1: a missing dataset then fails the test instead of skipping it
// (CI sets it, so a lost ../shared/data cannot turn the real-data tests into silent skips).
bool DataRequired();

// The message of the FileError fn throws ("" if it throws nothing).
template <class F>
std::string FileErrorMessage(F&& fn) {
  try {
    fn();
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace recarena::testing

// Skips the rest of the current test case. CTest reports the test as skipped, not passed: every
// test is registered with SKIP_REGULAR_EXPRESSION "RECARENA_SKIPPED:" (tests/CMakeLists.txt), and
// Catch2 prints WARN messages of passing tests. Use it only before the test's first assertion.
#define RECARENA_SKIP(msg)             \
  do {                                 \
    WARN("RECARENA_SKIPPED: " << msg); \
    return;                            \
  } while (false)

// Skips the rest of the current test case, with a clear message, when a shared dataset is absent
// (fails it instead under RECARENA_REQUIRE_DATA=1).
#define RECARENA_REQUIRE_DATASET(var, name)                                             \
  const std::filesystem::path var = ::recarena::testing::RealDataset(name);             \
  if (var.empty()) {                                                                    \
    if (::recarena::testing::DataRequired()) {                                          \
      FAIL("dataset '" << name << "' not found under " << ::recarena::DataRoot()        \
                       << " and RECARENA_REQUIRE_DATA=1");                              \
    }                                                                                   \
    RECARENA_SKIP("dataset '" << name << "' not found under " << ::recarena::DataRoot() \
                              << " (set RECARENA_DATA_DIR to the shared data folder)"); \
  }
