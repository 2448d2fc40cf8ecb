#include "core/paths.h"

#include <cstdlib>

namespace recarena {

std::filesystem::path DataRoot() {
  if (const char* env = std::getenv("RECARENA_DATA_DIR"); env && *env) return env;
  return RECARENA_DEFAULT_DATA_DIR;
}

std::filesystem::path DataDir(const std::string& name) { return DataRoot() / name; }

}  // namespace recarena
