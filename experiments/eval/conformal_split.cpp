#include "experiments/eval/conformal_split.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/rng.h"

namespace recarena::experiments {

double QueryU(const ScoreParams& params, uint64_t seed, size_t query) {
  Rng r = Rng(seed).Fork(kConformalUStreamBase + query);
  return DrawU(params, r);
}

CalTestSplit RandomCalTestSplit(size_t n_queries, double cal_fraction, uint64_t seed,
                                const std::string& command) {
  if (!(cal_fraction > 0.0 && cal_fraction < 1.0))
    throw Error(fmt::format("{}: --cal-fraction must be in (0, 1), got {}", command, cal_fraction));
  std::vector<size_t> perm(n_queries);
  for (size_t i = 0; i < n_queries; ++i) perm[i] = i;
  Rng(seed).Fork(kConformalSplitStream).Shuffle(perm);
  const auto n_cal =
      static_cast<size_t>(std::llround(cal_fraction * static_cast<double>(n_queries)));
  if (n_cal < 1 || n_cal >= n_queries)
    throw Error(
        fmt::format("{}: {} queries with --cal-fraction {} leave an empty calibration or test set",
                    command, n_queries, cal_fraction));
  CalTestSplit out;
  out.cal.assign(perm.begin(), perm.begin() + static_cast<long>(n_cal));
  out.test.assign(perm.begin() + static_cast<long>(n_cal), perm.end());
  std::sort(out.cal.begin(), out.cal.end());
  std::sort(out.test.begin(), out.test.end());
  return out;
}

ScoreMatrix LabelScoreRows(const std::vector<double>& label_scores, size_t d,
                           const std::vector<size_t>& ids) {
  ScoreMatrix m(d);
  for (size_t i : ids) m.AppendRow(&label_scores[i * d]);
  return m;
}

void RankOrderScoreMatrix(const QueryScorer& scorer, size_t n_items, std::vector<double>* matrix) {
  const auto& kinds = AllScoreKinds();
  const size_t d = kinds.size();
  matrix->resize(n_items * d);
  for (size_t k = 0; k < n_items; ++k)
    for (size_t j = 0; j < d; ++j) (*matrix)[k * d + j] = scorer.ScoreAtPosition(kinds[j], k);
}

void ItemOrderScoreMatrix(const QueryScorer& scorer, size_t n_items, std::vector<double>* matrix) {
  const auto& kinds = AllScoreKinds();
  const size_t d = kinds.size();
  matrix->resize(n_items * d);
  for (size_t k = 0; k < n_items; ++k)
    for (size_t j = 0; j < d; ++j)
      (*matrix)[scorer.order()[k] * d + j] = scorer.ScoreAtPosition(kinds[j], k);
}

double MedianSetSize(std::vector<size_t> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  const double hi = static_cast<double>(v[mid]);
  if (v.size() % 2 == 1) return hi;
  const double lo =
      static_cast<double>(*std::max_element(v.begin(), v.begin() + static_cast<long>(mid)));
  return (lo + hi) / 2.0;
}

}  // namespace recarena::experiments
