#include "test_util.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace recarena::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("recarena-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path TempDir::Write(const std::string& name, const std::string& content) const {
  fs::path p = path_ / name;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write test fixture " + p.string());
  return p;
}

fs::path RealDataset(const std::string& name) {
  fs::path dir = DataDir(name);
  std::error_code ec;
  return fs::is_directory(dir, ec) ? dir : fs::path();
}

bool DataRequired() {
  const char* v = std::getenv("RECARENA_REQUIRE_DATA");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace recarena::testing
