// `recarena dt-sweep RUN_DIR [--alphas a,b,..] [--lambdas l,m,..] [--max-queries N] [--out DIR]`
// (default --out RUN_DIR/sweep): RunDtSweep, WriteDtSweep and PlotDtSweep of
// experiments/report/dt_sweep.h; prints the markdown table.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

int RunDtSweepCommand(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
