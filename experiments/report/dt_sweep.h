// `recarena dt-sweep`: the accuracy / coverage trade-off of a trained MODT4R or MRDT run under its
// run-time inference parameters (thesis Sec. 4.5.5, Figs. 4.4-4.5). The run's best.pt is scored
// on its test windows once per value of alpha (Eq. 4.19's weight of the UserTrans scores, lambda
// and epsilon at the run's values) and once per value of lambda (the diversity-return scale,
// alpha and epsilon at the run's values); nothing is retrained.
#pragma once

#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

struct DtSweepPoint {
  std::string parameter;  // "alpha" | "lambda"
  double alpha = 0.0, lambda = 0.0, epsilon = 0.0;
  std::map<std::string, double> metrics;  // EvaluateWindows' metrics (HR@k, NDCG@k, CV_div@k, ...)
};

struct DtSweepOptions {
  std::vector<double> alphas{0.0, 0.25, 0.5, 1.0, 2.0, 4.0};
  std::vector<double> lambdas{0.0, 0.5, 1.0, 1.5, 2.0, 3.0};
  int64_t max_queries = 0;  // > 0: evenly spaced subsample of the test queries
};

// Loads RUN_DIR (config.yaml + best.pt of a model_kind modt4r | mrdt run; FileError naming the file
// otherwise), rebuilds its data and evaluates every point. Values must be >= 0 (Error otherwise).
std::vector<DtSweepPoint> RunDtSweep(const std::filesystem::path& run_dir,
                                     const DtSweepOptions& options);

// Writes out_dir/sweep.csv (parameter, alpha, lambda, epsilon, then every metric) and
// out_dir/sweep.md, atomically; returns the markdown.
std::string WriteDtSweep(const std::vector<DtSweepPoint>& points,
                         const std::filesystem::path& out_dir, const std::string& title);

// Plots out_dir/sweep.csv into out_dir/sweep.png with scripts/plot_dt_sweep.py and, when that
// worked, appends the image to markdown and rewrites out_dir/sweep.md; without Python and
// matplotlib it logs a warning. Returns the markdown.
std::string PlotDtSweep(const std::filesystem::path& out_dir, std::string markdown);

}  // namespace recarena::experiments
