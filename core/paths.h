// Where the real datasets live: $RECARENA_DATA_DIR if set, else the build-time default
// (<repo>/../shared/data). Config values (data.source) override both.
#pragma once

#include <filesystem>
#include <string>

namespace recarena {

std::filesystem::path DataRoot();
// DataRoot()/name, e.g. DataDir("ml-latest-small").
std::filesystem::path DataDir(const std::string& name);

}  // namespace recarena
