// The split-conformal pipeline shared by `recarena conformal` (score files) and
// `recarena conformal-eval` (a trained run): the seeded calibration/test split, the per-query u,
// the label-score rows, the rank-order score matrix the weighted selector counts on, and the
// summary statistics of test sets. Both commands call these, so they split, draw and summarise
// alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/eval/conformal.h"

namespace recarena::experiments {

// Stream ids of the Rng forks of the seed (fixed: changing them changes every seeded result).
inline constexpr uint64_t kConformalSplitStream = 1;     // calibration / test permutation
inline constexpr uint64_t kConformalVfcpStream = 2;      // VFCP's I1 = I2 / I3 split
inline constexpr uint64_t kConformalUStreamBase = 1000;  // u of query i: Fork(base + i)

// u of query `query` (its global row index): DrawU from Rng(seed).Fork(kConformalUStreamBase +
// query).
double QueryU(const ScoreParams& params, uint64_t seed, size_t query);

// Queries 0..n_queries-1 split at random (Rng(seed).Fork(kConformalSplitStream) shuffles them; the
// first round(cal_fraction * n) calibrate), both halves ascending. Throws Error, prefixed with
// `command`, when cal_fraction is not in (0, 1) or a half would be empty.
struct CalTestSplit {
  std::vector<size_t> cal, test;
};
CalTestSplit RandomCalTestSplit(size_t n_queries, double cal_fraction, uint64_t seed,
                                const std::string& command);

// Rows `ids` of label_scores ([n_queries, d] row-major) as a ScoreMatrix.
ScoreMatrix LabelScoreRows(const std::vector<double>& label_scores, size_t d,
                           const std::vector<size_t>& ids);

// The weighted selector's input for one query: matrix[k * d + j] = score j (AllScoreKinds()
// order, d = 5) of the item at rank position k. Every score is non-decreasing along the rank, which
// lets the selector count each candidate's set by binary search, exactly. matrix is resized.
void RankOrderScoreMatrix(const QueryScorer& scorer, size_t n_items, std::vector<double>* matrix);
// The same scores in item-id order: matrix[y * d + j] is score j of item y.
void ItemOrderScoreMatrix(const QueryScorer& scorer, size_t n_items, std::vector<double>* matrix);

// Median of set sizes (mean of the two middle ones for an even count); NaN for no sizes.
double MedianSetSize(std::vector<size_t> sizes);

}  // namespace recarena::experiments
