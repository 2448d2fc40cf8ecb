// `recarena online --config FILE` (one agent in one simulator) and `recarena experiment FILE`
// (a grid of agents x exploration strategies x seeds x simulators with a comparison table and
// learning-curve plots).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "experiments/report/online_experiment.h"

namespace recarena::experiments {

int RunOnlineCommand(const std::vector<std::string>& args, std::ostream& out);
int RunExperimentCommand(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
