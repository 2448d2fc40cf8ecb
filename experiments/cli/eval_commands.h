// The `eval rankings`, `eval ope` and `eval stability` commands. eval rankings: offline metrics
// (experiments/eval/metrics.h) of ranking files written by any recommender (formats in
// experiments/eval/rankings_io.h and docs/metrics.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

// args: the options after the command words, e.g.
//   --pred P --truth T [--history H] [--catalog C] [--k 5,10,20] [--help]
// Prints the metrics as a pretty JSON object (2-space indent; counts "num_*" as integers, the rest
// as numbers) to out and returns 0. --help prints the usage to out and returns 0. Missing or bad
// options and bad files throw recarena::Error (FileError for file contents).
int RunEvalRankings(const std::vector<std::string>& args, std::ostream& out);

// `eval ope RUN_DIR [options]`: off-policy estimates of a trained run's policy
// (experiments/report/ope_eval.h); writes RUN_DIR/ope.json (or --out) and prints it.
int RunEvalOpe(const std::vector<std::string>& args, std::ostream& out);

// `eval stability --a A --b B [--k K] [--p P] [--groups FILE]`: rank-list stability between two
// ranking files of the same queries (experiments/eval/stability.h); prints JSON.
int RunEvalStability(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
