// `recarena launch --nproc N [--master-port P] [--timeout S] -- COMMAND...`: one job of N local
// processes (dist/launch.h).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

int RunLaunch(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
