// Split conformal sets over in-memory probability matrices with a fixed calibration set: the
// Python package's `recarena.conformal_sets` (python/), and the same definitions as
// `recarena conformal --cal-scores C --cal-labels L --scores S --labels T` for one score function
// (experiments/eval/conformal_files.h): calibration rows are queries 0..n_cal-1 and test rows
// n_cal..n_cal+n_test-1 for the per-query u (QueryU), so both give identical q_hat and sets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/eval/conformal.h"

namespace recarena::experiments {

struct MatrixConformalInput {
  // Row-major probabilities: cal [n_cal, n_items], test [n_test, n_items]; every row sums to 1
  // within 1e-3 and has no negative or non-finite entry (checked, naming the row).
  const double* cal_probs = nullptr;
  size_t n_cal = 0;
  const int64_t* cal_labels = nullptr;  // [n_cal] in [0, n_items)
  const double* test_probs = nullptr;
  size_t n_test = 0;
  size_t n_items = 0;
  const int64_t* test_labels = nullptr;  // optional [n_test]: coverage is computed when given
  std::string alpha;                     // a decimal in (0, 1), as `--alpha`
  ScoreKind kind = ScoreKind::kAps;
  ScoreParams params;
  uint64_t seed = 42;  // u of each query (params.randomized)
};

struct MatrixConformalResult {
  double q_hat = 0.0;                       // +infinity when the quantile index exceeds n_cal
  std::vector<std::vector<uint32_t>> sets;  // [n_test] ascending item ids
  double coverage = -1.0;                   // share of test labels in their sets; -1 without labels
};

// Throws recarena::Error naming the argument, row and value on bad input.
MatrixConformalResult ConformalSetsFromMatrix(const MatrixConformalInput& in);

}  // namespace recarena::experiments
