// The weighted combination of score functions (Luo & Zhou, "Averaging of Conformity Scores for
// Classification", Alg. 2 / Eq. (4)) with the VFCP / EFCP / DLCP / DLCP+ data splits of its
// Sec. 2.5: the split index sets, the streaming selector of the weights, and an in-memory
// convenience over it. Conventions (scores, quantile) are those of experiments/eval/conformal.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "core/rng.h"
#include "experiments/eval/conformal.h"

namespace recarena::experiments {

enum class SplitStrategy { kVfcp, kEfcp, kDlcp, kDlcpPlus };

// Index sets of Alg. 2 over query indices (each sorted ascending).
struct SplitIndices {
  std::vector<size_t> i1;  // calibrates Q^(1)(w) for every w, and defines the F_j scale
  std::vector<size_t> i2;  // mean set size S(w) is measured here (Eq. (4))
  std::vector<size_t> i3;  // calibrates the final q_hat for the chosen w (Eq. (5))
};

// Sec. 2.5: VFCP I1 = I2 = a random subset of train of size round(vfcp_fraction * |train|),
// I3 = train \ I1 (both non-empty; rng shuffles); EFCP I1 = I2 = I3 = train; DLCP I1 = I3 = train,
// I2 = test; DLCP+ I1 = I3 = train, I2 = train U test. rng is used only by VFCP.
SplitIndices BuildSplitIndices(SplitStrategy strategy, const std::vector<size_t>& train,
                               const std::vector<size_t>& test, double vfcp_fraction, Rng& rng);

// Streaming weighted score selection (Alg. 2). Exact integer arithmetic on the common scale:
//   c_j(s) = #{I1 label scores of function j <= s}       so F_j(s) = c_j(s) / n1
//   z_m(x, y) = sum_j m_j c_j(s_j(x, y))                  so sum_j w_j F_j = z_m / (steps * n1)
// Thresholds and set membership compare the integers z, so no rounding can move an item across a
// threshold. Usage: FitCalibration(I1 label scores) -> AddSelectionQuery(each I2 query's item
// scores) -> Choose() -> FitFinal(I3 label scores) -> Combined / SetSize / InSet on test queries.
class WeightedScoreSelector {
 public:
  static constexpr int64_t kInfinity = std::numeric_limits<int64_t>::max();

  WeightedScoreSelector(size_t d, int grid_steps, DecimalFraction alpha);

  // i1 has d columns, one row per I1 query (the label's d scores). Builds F_j and Q^(1)(w).
  void FitCalibration(const ScoreMatrix& i1);
  // One I2 query: its n items' d scores (row-major n x d, any item order; rows given in the
  // scorer's rank order make the count O(log n) per candidate). Adds |C(x; w, Q^(1)(w))| for all w.
  void AddSelectionQuery(const double* item_scores, size_t n_items);
  // argmin_w of the mean I2 set size (first in grid order on ties); throws if no I2 query was
  // added.
  size_t Choose();
  // Final threshold from I3 for the chosen weights (Eq. (5)).
  void FitFinal(const ScoreMatrix& i3);

  // Integer combined score of one row of d scores under the chosen weights.
  int64_t Combined(const double* scores) const { return CombinedWith(chosen_, scores); }
  double CombinedAsDouble(const double* scores) const { return ToScale(Combined(scores)); }
  bool InSet(const double* scores) const { return Combined(scores) <= q_final_; }
  size_t SetSize(const double* item_scores, size_t n_items) const;

  // Common-scale value of an integer score: z / (steps * n1) (+infinity for kInfinity).
  double ToScale(int64_t z) const;
  int64_t CountAtMost(size_t j, double s) const;  // c_j(s)

  size_t d() const { return d_; }
  int grid_steps() const { return steps_; }
  const std::vector<std::vector<int>>& grid() const { return grid_; }
  size_t n1() const { return n1_; }
  size_t n2() const { return n2_; }
  size_t n3() const { return n3_; }
  size_t chosen() const { return chosen_; }
  std::vector<double> chosen_weights() const;
  const std::vector<int64_t>& q1() const { return q1_; }  // per candidate (integer scale)
  std::vector<double> mean_set_sizes() const;             // per candidate, on I2
  int64_t q_final() const { return q_final_; }
  double q_final_scaled() const { return ToScale(q_final_); }
  int64_t q_index_final() const { return q_index_final_; }

 private:
  int64_t CombinedWith(size_t candidate, const double* scores) const;
  int64_t QuantileOf(std::vector<int64_t>& z) const;

  size_t d_;
  int steps_;
  DecimalFraction alpha_;
  std::vector<std::vector<int>> grid_;
  std::vector<std::vector<double>> sorted_;  // per function, sorted I1 label scores
  size_t n1_ = 0, n2_ = 0, n3_ = 0;
  std::vector<int64_t> q1_;
  int64_t q1_min_ = 0, q1_max_ = 0;
  std::vector<uint64_t> size_sum_;  // per candidate, over I2
  size_t chosen_ = 0;
  bool chosen_set_ = false;
  int64_t q_final_ = kInfinity;
  int64_t q_index_final_ = 0;
  // scratch for AddSelectionQuery
  std::vector<int64_t> amb_;
};

// In-memory convenience over WeightedScoreSelector. items[i] is query i's n x d row-major item
// score matrix, labels[i] its label; only the queries named by split are read.
struct WeightedSelection {
  std::vector<double> weights;         // chosen w (sums to 1)
  size_t chosen = 0;                   // index into grid
  std::vector<std::vector<int>> grid;  // candidates (numerators over steps)
  std::vector<double> mean_set_sizes;  // S(w) on I2 per candidate
  std::vector<double> q1;              // Q^(1)(w) on the common scale per candidate
  double q_hat = 0;                    // Q^(2) from I3, common scale (+inf possible)
  int64_t q_hat_int = 0;               // same, integer scale
};
WeightedSelection SelectWeights(const std::vector<ScoreMatrix>& items,
                                const std::vector<size_t>& labels, const SplitIndices& split,
                                const DecimalFraction& alpha, int grid_steps);

}  // namespace recarena::experiments

namespace recarena::config {
template <>
struct EnumNames<experiments::SplitStrategy> {
  static const std::vector<std::pair<experiments::SplitStrategy, std::string>>& Table() {
    using experiments::SplitStrategy;
    static const std::vector<std::pair<SplitStrategy, std::string>> t = {
        {SplitStrategy::kVfcp, "vfcp"},
        {SplitStrategy::kEfcp, "efcp"},
        {SplitStrategy::kDlcp, "dlcp"},
        {SplitStrategy::kDlcpPlus, "dlcp+"}};
    return t;
  }
};
}  // namespace recarena::config
