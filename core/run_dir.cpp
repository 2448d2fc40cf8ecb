#include "core/run_dir.h"

#include <ctime>
#include <exception>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sealed_file.h"

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

namespace {
// Whether dir holds nothing but config.yaml (and temporaries of killed writes): what a start that
// failed before its first result leaves, which a corrected config may then take over.
bool OnlyConfig(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name != "config.yaml" && name.rfind("config.yaml.tmp.", 0) != 0) return false;
  }
  return !ec;
}
}  // namespace

void CheckRunDirConfig(const std::filesystem::path& dir, const std::string& resolved_yaml) {
  const std::filesystem::path file = dir / "config.yaml";
  if (std::filesystem::exists(file) && ReadFile(file) != resolved_yaml && !OnlyConfig(dir)) {
    throw Error(file.string() +
                ": this run directory was created with a different config; use a new --out to "
                "start a new run");
  }
  if (!std::filesystem::exists(file)) {
    // No config.yaml (deleted, or a copied checkpoint): the sealed checkpoints still say which
    // config they were written under.
    const std::string want = Sha256Hex(resolved_yaml);
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it.depth() > 1) it.disable_recursion_pending();
      if (it->path().extension() != ".pt" || !it->is_regular_file()) continue;
      const auto header = ReadSealedHeader(it->path());
      const std::string made = header.is_object() ? header.value("config_sha256", "") : "";
      if (!made.empty() && made != want) {
        throw FileError(it->path().string(), 0,
                        "this checkpoint was written under another config (config sha256 " + made +
                            ", the given config has " + want +
                            "); use a new --out to start a new run");
      }
    }
  }
  WriteFileAtomic(file, resolved_yaml);
}

FailedStartCleanup::FailedStartCleanup(fs::path dir, fs::path created_root)
    : dir_(std::move(dir)),
      created_root_(std::move(created_root)),
      exceptions_(std::uncaught_exceptions()) {}

FailedStartCleanup::~FailedStartCleanup() {
  if (std::uncaught_exceptions() <= exceptions_ || !OnlyConfig(dir_)) return;
  std::error_code ec;  // a destructor must not throw: cleanup is best effort
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    fs::remove(it->path(), ec);
  }
  if (created_root_.empty()) return;
  // Up from dir to the outermost directory this start created, each only while empty.
  const fs::path root = fs::absolute(created_root_, ec).lexically_normal();
  for (fs::path d = fs::absolute(dir_, ec).lexically_normal(); !d.empty(); d = d.parent_path()) {
    if (!fs::remove(d, ec) || d == root || d == d.parent_path()) break;
  }
}

}  // namespace recarena
