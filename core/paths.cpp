#include "core/paths.h"

#include <cstdlib>

#include "core/error.h"

namespace recarena {

std::filesystem::path DataRoot() {
  if (const char* env = std::getenv("RECARENA_DATA_DIR"); env && *env) return env;
  return RECARENA_DEFAULT_DATA_DIR;
}

std::filesystem::path DataDir(const std::string& name) { return DataRoot() / name; }

std::string SafePathComponent(const std::string& name, const std::string& what) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    throw Error(what + " " + QuoteForError(name) +
                " cannot name a directory inside the output directory (empty, '.', '..' or a '/')");
  }
  return name;
}

std::string DirectoryName(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  fs::path p = fs::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // a trailing '/'
  const std::string name = p.filename().string();
  return name.empty() ? "root" : name;
}

void CheckOutputFile(const std::filesystem::path& file, const std::string& flag,
                     const std::vector<std::filesystem::path>& inputs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    throw FileError(file.string(), 0, flag + " names a directory; it needs a file name");
  }
  const fs::path parent = file.has_parent_path() ? file.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) {
    throw FileError(file.string(), 0,
                    flag + ": directory " + QuoteForError(parent.string()) +
                        " does not exist (output files named by a flag do not create directories)");
  }
  for (const auto& in : inputs) {
    if (!in.empty() && fs::exists(file, ec) && fs::equivalent(file, in, ec)) {
      throw FileError(file.string(), 0, flag + " would overwrite the input " + in.string());
    }
  }
}

}  // namespace recarena
