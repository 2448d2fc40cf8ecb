// `recarena launch --nproc N -- COMMAND...`: starts N local processes of COMMAND as one job, with
// the variables torchrun sets (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), and watches them: when one ends with a non-zero status (or is killed), the others
// are stopped (SIGTERM, then SIGKILL after a grace period) and the launch fails with that status.
// SIGINT / SIGTERM to the launcher are passed on to every process.
#pragma once

#include <string>
#include <vector>

namespace recarena::dist {

struct LaunchOptions {
  int nproc = 1;
  int master_port = 0;     // 0: a free port of the loopback, chosen here
  double timeout_s = 0.0;  // > 0: RECARENA_DIST_TIMEOUT_S for the processes
  double grace_s = 10.0;   // between SIGTERM and SIGKILL when the others are stopped
  void Validate() const;   // throws Error naming --nproc / --master-port / --timeout
};

// Runs the job; returns 0 when every process ended with 0, else the first failure's status (128 +
// signal for a killed one). The program "recarena" is this executable itself; any other is looked
// up on PATH. Reports to stderr which rank failed and how.
int LaunchLocal(const LaunchOptions& options, const std::vector<std::string>& command);

// A TCP port of 127.0.0.1 that is free now (bound to port 0 and released).
int FreeLoopbackPort();

}  // namespace recarena::dist
