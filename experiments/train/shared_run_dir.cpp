#include "experiments/train/shared_run_dir.h"

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace recarena::experiments {

namespace fs = std::filesystem;

fs::path ShareRunDir(dist::ProcessGroup* group, const fs::path& lead_dir,
                     const std::string& resolved_yaml) {
  if (group == nullptr) return lead_dir;
  if (group->rank() == 0) {
    group->Set("run_dir", fs::absolute(lead_dir).string());
    return lead_dir;
  }
  const fs::path dir = group->Get("run_dir");
  const fs::path file = dir / "config.yaml";
  if (!fs::exists(file) || ReadFile(file) != resolved_yaml) {
    throw FileError(file.string(), 0,
                    fmt::format("rank {}'s resolved config differs from the one rank 0 wrote here "
                                "(every rank must run the same command with the same config)",
                                group->rank()));
  }
  return dir;
}

}  // namespace recarena::experiments
