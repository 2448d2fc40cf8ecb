// The run directory of a data-parallel job: rank 0 sets it up as a single process would (the
// command's SetupRunDir / CheckRunDirConfig) and publishes its path through the group's store; the
// other ranks take that path and check that its config.yaml is their own resolved config, so every
// rank trains the same run.
#pragma once

#include <filesystem>
#include <string>

#include "dist/process_group.h"

namespace recarena::experiments {

// group nullptr (one process): returns lead_dir. Rank 0: publishes lead_dir and returns it. Other
// ranks: ignore lead_dir, wait for rank 0's (up to the group's timeout) and return it; throws Error
// naming the file when its config.yaml is missing or differs from resolved_yaml.
std::filesystem::path ShareRunDir(dist::ProcessGroup* group, const std::filesystem::path& lead_dir,
                                  const std::string& resolved_yaml);

}  // namespace recarena::experiments
