// `recarena train --config FILE [--out DIR] [section.key=value ...]`: offline supervised training.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

int RunTrain(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
