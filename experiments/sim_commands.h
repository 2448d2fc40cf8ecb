// `recarena sim fit | report | rollout`: fitting simulators, fidelity reports, baseline rollouts.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {
int RunSimFit(const std::vector<std::string>& args, std::ostream& out);
int RunSimReport(const std::vector<std::string>& args, std::ostream& out);
int RunSimRollout(const std::vector<std::string>& args, std::ostream& out);
}  // namespace recarena::experiments
