// `recarena sim fit | report | rollout | predict`: fitting simulators, fidelity reports, baseline
// rollouts, the response model on user-supplied pairs.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {
int RunSimFit(const std::vector<std::string>& args, std::ostream& out);
int RunSimReport(const std::vector<std::string>& args, std::ostream& out);
int RunSimRollout(const std::vector<std::string>& args, std::ostream& out);
int RunSimPredict(const std::vector<std::string>& args, std::ostream& out);
}  // namespace recarena::experiments
