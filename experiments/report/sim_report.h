// How real is a fitted simulator? (`recarena sim report DIR`)
//
// Per fitted role:
//   response  AUC of logged next items against sampled items on HELD-OUT logs (the train
//             simulator is scored on the test users' logs and vice versa; the eval simulator on
//             the test users' logs), RMSE on held-out logged ratings (rating targets), the same
//             for three reference models and under uniform and popularity-sampled negatives
//             (experiments/report/sim_heldout.h), the ECE, and a calibration table (10 equal-width
//             bins of the predicted reward scaled to [0, 1]: mean prediction vs mean observed
//             label);
//   lengths   KS distance between simulated session lengths (random policy, leave rules on) and
//             the logged session lengths the hazard was fitted to, with both means;
//   items     share of consumptions on the 10% most-consumed items, logged vs simulated (random
//             policy), and the Pearson correlation of log(1 + count) per item between the two;
//   rollouts  Return / Length / R_avg (mean and 95% interval) of the random, most-popular and
//             oracle policies and of the logged policy replayed (policies/logged_replay.h), with
//             the KS distance of the replayed lengths to the logged ones; the conditional leave
//             hazard's weights when the simulator has one;
//   truth     synthetic world only: the mean per-user Pearson correlation between the learned
//             expected rewards over the catalog and the true utilities.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "env/calibration.h"

namespace recarena::experiments {

struct SimReportOptions {
  int64_t episodes = 500;  // per rollout policy
  int64_t num_envs = 64;
  int64_t max_rows = 200000;  // held-out response rows scored (first sequences first)
};

// Computes the report of a fitted simulator directory; writes DIR/report.json and DIR/report.md
// atomically and returns the JSON.
nlohmann::json SimReport(const std::filesystem::path& dir, const SimReportOptions& options = {});

// Markdown rendering of a SimReport JSON.
std::string SimReportMarkdown(const nlohmann::json& report);

// Exact ROC AUC (env/calibration.h).
using env::RocAuc;

}  // namespace recarena::experiments
