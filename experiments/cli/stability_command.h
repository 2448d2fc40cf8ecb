// `recarena stability --config FILE [--out DIR] [--perturbations N] [--k K] [--p P]
// [--max-queries N] [section.key=value ...]`: the stability experiment
// (experiments/report/stability_experiment.h).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

int RunStability(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
