// Split conformal prediction sets from files (`recarena conformal`): per-query probabilities (or
// logits) over a catalog and the label of each query, for one score function or the weighted
// combination of all five. The pipeline pieces (split, u, score matrices, medians) are those of
// experiments/eval/conformal_split.h, shared with `recarena conformal-eval`. See docs/conformal.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "experiments/eval/conformal.h"

namespace recarena::experiments {

struct ConformalFilesOptions {
  std::string scores, labels;          // the queries (the test queries with a fixed calibration)
  std::string cal_scores, cal_labels;  // a fixed calibration set: both or neither
  std::string alpha;                   // miscoverage level, a decimal in (0, 1)
  std::string score;                   // thr|aps|raps|saps|rank|weighted
  std::optional<std::string> split;    // weighted only: vfcp|efcp|dlcp|dlcp+ (default vfcp)
  std::optional<double> cal_fraction;  // random split only (default 0.5)
  double vfcp_fraction = 0.5;          // VFCP: share of the calibration queries in I1 = I2
  ScoreParams params;                  // randomized, k_reg, lambda
  uint64_t seed = 42;                  // the split, VFCP's split and u
  bool logits = false;                 // rows are logits (softmax is applied)
  std::string weight_step = "0.1";     // weighted: simplex grid step 1/k
  std::string emit_scores;             // write every (query, item) score of `scores` when set
  std::string emit_sets;               // write the test sets when set
  // A prepared dataset directory (empty = none): labels are its external item ids, mapped through
  // its items.tsv to the columns of the scores rows (which must number its items).
  std::string dataset;
};

// Runs the pipeline and returns its JSON report (q_hat, coverage, set sizes, and for the weighted
// combination the chosen weights and the best candidates). Files are streamed: memory is
// O(queries * 5 + items). Bad options throw Error naming the flag; bad rows FileError with
// file:line. emit files are written atomically.
nlohmann::json RunConformalOnFiles(const ConformalFilesOptions& options);

}  // namespace recarena::experiments
