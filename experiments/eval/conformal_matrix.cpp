#include "experiments/eval/conformal_matrix.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "experiments/eval/conformal_split.h"

namespace recarena::experiments {

namespace {

void CheckRows(const char* what, const double* probs, size_t rows, size_t n_items) {
  for (size_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (size_t j = 0; j < n_items; ++j) {
      const double p = probs[r * n_items + j];
      if (!std::isfinite(p) || p < 0.0) {
        throw Error(fmt::format("{} row {} item {}: probability {} is negative or not finite", what,
                                r, j, p));
      }
      sum += p;
    }
    if (std::fabs(sum - 1.0) > 1e-3) {
      throw Error(fmt::format(
          "{} row {}: probabilities sum to {}, not 1 (apply a softmax to logits)", what, r, sum));
    }
  }
}

void CheckLabels(const char* what, const int64_t* labels, size_t rows, size_t n_items) {
  for (size_t r = 0; r < rows; ++r) {
    if (labels[r] < 0 || static_cast<size_t>(labels[r]) >= n_items) {
      throw Error(
          fmt::format("{} row {}: label {} is outside 0..{}", what, r, labels[r], n_items - 1));
    }
  }
}

}  // namespace

MatrixConformalResult ConformalSetsFromMatrix(const MatrixConformalInput& in) {
  if (in.n_items == 0) throw Error("conformal sets: the probability rows are empty (0 items)");
  if (in.n_cal == 0) throw Error("conformal sets: no calibration rows");
  CheckRows("cal_probs", in.cal_probs, in.n_cal, in.n_items);
  CheckRows("probs", in.test_probs, in.n_test, in.n_items);
  CheckLabels("cal_labels", in.cal_labels, in.n_cal, in.n_items);
  if (in.test_labels) CheckLabels("labels", in.test_labels, in.n_test, in.n_items);
  const DecimalFraction alpha = ParseDecimalFraction(in.alpha);

  std::vector<double> cal_scores(in.n_cal);
  for (size_t i = 0; i < in.n_cal; ++i) {
    cal_scores[i] =
        LabelScore(in.kind, in.cal_probs + i * in.n_items, in.n_items,
                   static_cast<size_t>(in.cal_labels[i]), QueryU(in.params, in.seed, i), in.params);
  }
  MatrixConformalResult out;
  out.q_hat = ConformalQuantile(std::move(cal_scores), alpha);
  QueryScorer scorer(in.params);
  size_t covered = 0;
  out.sets.reserve(in.n_test);
  for (size_t j = 0; j < in.n_test; ++j) {
    scorer.Reset(in.test_probs + j * in.n_items, in.n_items,
                 QueryU(in.params, in.seed, in.n_cal + j));
    out.sets.push_back(scorer.SetMembers(in.kind, out.q_hat));
    if (in.test_labels) {
      covered += scorer.Score(in.kind, static_cast<size_t>(in.test_labels[j])) <= out.q_hat;
    }
  }
  if (in.test_labels && in.n_test > 0) {
    out.coverage = static_cast<double>(covered) / static_cast<double>(in.n_test);
  }
  return out;
}

}  // namespace recarena::experiments
