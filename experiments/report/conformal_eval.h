// Conformal evaluation of a trained model (`recarena conformal-eval RUN_DIR`): rebuilds a run's
// test windows exactly as `recarena train` did, turns the model's logits into softmax probabilities
// over the catalog, splits the test queries at random into calibration and test halves, and reports
// for every alpha, every score function (THR/APS/RAPS/SAPS/RANK) and the weighted combination under
// each split strategy: coverage, mean/median set size, coverage by set-size bucket and by user
// activity. Conventions (scores, quantile, ranking, u) are those of experiments/eval/conformal.h
// and docs/conformal.md; this file only drives them. See docs/conformal.md ("Evaluating a trained
// model").
//
// Memory: probabilities are never held for all queries. The model is run three times over the
// queries in batches (batch_size rows of n_items doubles at a time): pass 1 keeps the label's five
// scores per query (O(Q)), pass 2 adds the I2 queries to the weighted selectors and measures the
// single-score test sets, pass 3 measures the weighted test sets. Peak extra memory is
// O(batch_size * n_items + Q * (5 + #alphas * #methods)).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "experiments/eval/conformal.h"
#include "experiments/eval/conformal_weighted.h"

namespace recarena::experiments {

struct ConformalEvalOptions {
  std::vector<std::string> alphas{"0.01", "0.05", "0.1", "0.2"};  // decimals in (0, 1)
  double cal_fraction = 0.5;  // share of the queries that calibrate (random, seeded)
  uint64_t seed = 0;
  ScoreParams params;  // randomized, lambda, k_reg
  // Split strategies of the weighted combination; empty = no weighted rows.
  std::vector<SplitStrategy> splits{SplitStrategy::kVfcp, SplitStrategy::kEfcp,
                                    SplitStrategy::kDlcp, SplitStrategy::kDlcpPlus};
  std::string weight_step = "0.1";
  double vfcp_fraction = 0.5;
  int64_t batch_size = 256;  // queries per probability batch
};

// One group of test queries (a set-size bucket, an activity bucket, or "all").
struct ConformalGroupStats {
  std::string group;
  size_t n = 0;
  double coverage = std::numeric_limits<double>::quiet_NaN();  // NaN when n = 0
  double mean_set_size = std::numeric_limits<double>::quiet_NaN();
  double median_set_size = std::numeric_limits<double>::quiet_NaN();
};

struct ConformalMethodResult {
  std::string alpha;   // decimal text
  std::string method;  // thr|aps|raps|saps|rank|weighted
  std::string split;   // weighted: vfcp|efcp|dlcp|dlcp+; empty otherwise
  double q_hat = 0.0;  // +infinity possible; weighted: on the common scale
  ConformalGroupStats all;
  std::vector<double> weights;                   // weighted: chosen w in AllScoreKinds() order
  std::vector<ConformalGroupStats> by_set_size;  // SetSizeBucketNames() order
  std::vector<ConformalGroupStats> by_activity;  // low / mid / high
};

struct ConformalEvalReport {
  size_t n_queries = 0, n_cal = 0, n_test = 0, n_items = 0;
  std::string activity_basis;                  // what `activity` counts (see EvaluateConformal)
  std::vector<int64_t> activity_edges;         // {e1, e2}: low <= e1 < mid <= e2 < high
  std::vector<ConformalMethodResult> results;  // per alpha: the five scores, then weighted/split
};

// Bucket names of the set-size breakdown: "0", "1", "2-5", "6-20", "21-100", ">100".
const std::vector<std::string>& SetSizeBucketNames();
// Index into SetSizeBucketNames() of a set size.
size_t SetSizeBucket(size_t size);

// Fills probs (row-major, queries.size() x n_items) with each listed query's probabilities over the
// catalog (non-negative, summing to 1).
using ProbabilityBatchFn =
    std::function<void(const std::vector<size_t>& queries, std::vector<double>* probs)>;

// Model-independent core. Queries 0..n_queries-1 with labels[i] in [0, n_items) and an activity
// count each (activity_basis names it in the report). The queries are shuffled with
// Rng(seed).Fork(1); the first round(cal_fraction * n) calibrate, the rest are the test set; query
// i draws u from Rng(seed).Fork(1000 + i) when randomized; VFCP's subset uses Rng(seed).Fork(2)
// (the conventions of `recarena conformal`). Activity buckets are tertiles of the test queries'
// activity: e1 = the ceil(n/3)-th smallest, e2 = the ceil(2n/3)-th smallest.
ConformalEvalReport EvaluateConformal(size_t n_queries, size_t n_items,
                                      const std::vector<int32_t>& labels,
                                      const std::vector<int64_t>& activity,
                                      const std::string& activity_basis,
                                      const ProbabilityBatchFn& probs,
                                      const ConformalEvalOptions& options);

// Loads RUN_DIR/config.yaml and RUN_DIR/best.pt, rebuilds the test windows (BuildOfflineData; the
// rows that `train`'s test evaluation uses: eval.protocol last -> last target of each sequence;
// max_queries > 0 -> evenly spaced subsample) and runs EvaluateConformal on the model's softmax.
// Activity = the user's number of training interactions; when no test user has any (user-disjoint
// splits such as random), the window's history length (items before the target) instead.
ConformalEvalReport EvaluateRunConformal(const std::filesystem::path& run_dir,
                                         const ConformalEvalOptions& options,
                                         int64_t max_queries = 0);

// Writes out_dir/report.md (markdown tables) and out_dir/report.csv (long format: alpha, method,
// split, group_kind = all|set_size|activity, group, n, coverage, mean_set_size, median_set_size,
// q_hat, weights), atomically.
void WriteConformalReport(const ConformalEvalReport& report, const std::string& title,
                          const std::filesystem::path& out_dir);
// The report as JSON text (what the command prints).
std::string ConformalReportJson(const ConformalEvalReport& report);

}  // namespace recarena::experiments
