// The conformal commands. `recarena conformal`: split conformal prediction sets over a catalog
// from a file of per-query probabilities (or logits) and a file of labels, for one score function
// or the weighted combination of all five; `recarena conformal-eval`: the same for a trained run
// (see docs/conformal.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

// args exclude the command word. Prints a JSON report (q_hat, coverage, set sizes, ...) to out;
// returns 0, or 0 after printing usage for --help. User errors throw recarena::Error (FileError
// with file:line for bad inputs) or boost::program_options::error.
int RunConformal(const std::vector<std::string>& args, std::ostream& out);

// `recarena conformal-eval RUN_DIR [--alphas ...] [--cal-fraction F] [--seed S] [--randomized]
//  [--splits vfcp,efcp,dlcp,dlcp+|none] [--weight-step 0.1] [--out DIR] ...`: conformal sets of a
// trained run (EvaluateTrainedRunConformal), written to report.md/report.csv, printed as JSON.
int RunConformalEval(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
