#include "core/run_dir.h"

#include <ctime>

#include "core/atomic_file.h"
#include "core/error.h"

namespace recarena {

namespace fs = std::filesystem;

fs::path EnsureDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw FileError(dir.string(), 0, "cannot create directory" + (ec ? ": " + ec.message() : ""));
  }
  return dir;
}

fs::path CreateRunDir(const fs::path& base, const std::string& name) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  const std::string stem = name + "-" + stamp;
  fs::path dir = base / stem;
  for (int k = 2; fs::exists(dir); ++k) dir = base / (stem + "-" + std::to_string(k));
  return EnsureDir(dir);
}

void CheckRunDirConfig(const std::filesystem::path& dir, const std::string& resolved_yaml) {
  const std::filesystem::path file = dir / "config.yaml";
  if (std::filesystem::exists(file) && ReadFile(file) != resolved_yaml) {
    throw Error(file.string() +
                ": this run directory was created with a different config; use a new --out to "
                "start a new run");
  }
  WriteFileAtomic(file, resolved_yaml);
}

}  // namespace recarena
