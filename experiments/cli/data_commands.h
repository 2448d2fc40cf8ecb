// `recarena data prepare` and `recarena data stats`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

// data prepare --dataset NAME [--source DIR] [--out DIR] [--config FILE] [section.key=value ...]
// Writes a prepared dataset directory (data/prepared_io.h) with its resolved config.yaml and prints
// its statistics as JSON.
int RunDataPrepare(const std::vector<std::string>& args, std::ostream& out);

// data stats DIR: prints the statistics of a prepared dataset directory as JSON (data/stats.h).
int RunDataStats(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
