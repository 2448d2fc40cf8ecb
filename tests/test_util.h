// Helpers shared by tests: temporary directories and access to the real datasets.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

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

// The directory of a real dataset, or an empty path when it is absent (tests then SKIP-style WARN
// and return; see RECARENA_REQUIRE_DATASET).
std::filesystem::path RealDataset(const std::string& name);

}  // namespace recarena::testing

// Skips the rest of the current test case, with a clear message, when a shared dataset is absent.
#define RECARENA_REQUIRE_DATASET(var, name)                                             \
  const std::filesystem::path var = ::recarena::testing::RealDataset(name);             \
  if (var.empty()) {                                                                    \
    WARN("SKIPPED: dataset '" << name << "' not found under " << ::recarena::DataRoot() \
                              << " (set RECARENA_DATA_DIR to the shared data folder)"); \
    return;                                                                             \
  }
