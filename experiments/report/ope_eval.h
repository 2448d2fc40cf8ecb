// `recarena eval ope RUN_DIR`: off-policy estimates (experiments/eval/ope.h) of a trained run's
// policy from its dataset's logged test interactions. Each test window is one logged decision:
// context s = the window, action a = the logged next item, reward r = the interaction's value
// mapped by `reward` (agents::RewardOptions). The target policy is pi(.|s) = softmax(scores /
// temperature) of the run's model. The behaviour policy mu(.|s) is either the logged items'
// popularity in the training windows (add-one smoothed, so every item has mu > 0; a
// context-free fitted behaviour model) or the softmax of another trained run on the same data (for
// example a Normal run: a behaviour-cloning model of the logging policy). DR's reward model is
// each item's mean reward in the training windows, shrunk towards the overall mean with
// `model_prior` pseudo-observations. docs/offline_rl.md, "Off-policy evaluation".
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "agents/sqn.h"
#include "experiments/eval/ope.h"

namespace recarena::experiments {

struct OpeRunOptions {
  std::filesystem::path behaviour_run;  // empty: the popularity behaviour model
  double temperature = 1.0;
  agents::RewardOptions reward;  // OpeRunOptions() sets click = purchase = 1 (value = hit rate)
  double model_prior = 10.0;
  int64_t max_queries = 0;  // > 0: evenly spaced subsample of the test windows
  OpeOptions ope;
  OpeRunOptions() { reward.click = 1.0; }
  void Validate() const;  // ConfigError naming --temperature / --model-prior
};

struct OpeRunReport {
  std::string run, model_kind, behaviour;
  int64_t queries = 0;
  double logged_mean_reward = 0.0;  // the behaviour's own (on-policy) value on these queries
  std::vector<OpeEstimate> estimates;
};

// Throws FileError / Error naming the run directory, the missing file, or the mismatch between the
// run's and the behaviour run's data.
OpeRunReport EvaluateRunOpe(const std::filesystem::path& run_dir, const OpeRunOptions& options);

// {"run", "model_kind", "behaviour", "queries", "logged_mean_reward", "estimates": [{estimator,
// value, std_error, low, high, ess, max_weight, mean_weight, n}, ...]} as pretty JSON.
std::string OpeReportJson(const OpeRunReport& report);

}  // namespace recarena::experiments
