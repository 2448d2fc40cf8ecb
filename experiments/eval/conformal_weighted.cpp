#include "experiments/eval/conformal_weighted.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace recarena::experiments {

SplitIndices BuildSplitIndices(SplitStrategy strategy, const std::vector<size_t>& train,
                               const std::vector<size_t>& test, double vfcp_fraction, Rng& rng) {
  std::vector<size_t> tr = train, te = test;
  std::sort(tr.begin(), tr.end());
  std::sort(te.begin(), te.end());
  if (tr.empty()) throw Error("conformal split: the calibration (train) set is empty");
  SplitIndices s;
  switch (strategy) {
    case SplitStrategy::kVfcp: {
      if (!(vfcp_fraction > 0.0 && vfcp_fraction < 1.0))
        throw Error("VFCP fraction must be in (0, 1), got " + std::to_string(vfcp_fraction));
      const auto n1 =
          static_cast<size_t>(std::llround(vfcp_fraction * static_cast<double>(tr.size())));
      if (n1 < 1 || n1 >= tr.size())
        throw Error("VFCP needs both halves non-empty: " + std::to_string(tr.size()) +
                    " calibration queries with fraction " + std::to_string(vfcp_fraction) +
                    " give " + std::to_string(n1) + " for I1");
      std::vector<size_t> shuffled = tr;
      rng.Shuffle(shuffled);
      s.i1.assign(shuffled.begin(), shuffled.begin() + static_cast<long>(n1));
      s.i3.assign(shuffled.begin() + static_cast<long>(n1), shuffled.end());
      std::sort(s.i1.begin(), s.i1.end());
      std::sort(s.i3.begin(), s.i3.end());
      s.i2 = s.i1;
      break;
    }
    case SplitStrategy::kEfcp:
      s.i1 = s.i2 = s.i3 = tr;
      break;
    case SplitStrategy::kDlcp:
      if (te.empty()) throw Error("DLCP needs a non-empty test set (I2 = test)");
      s.i1 = s.i3 = tr;
      s.i2 = te;
      break;
    case SplitStrategy::kDlcpPlus:
      s.i1 = s.i3 = tr;
      std::set_union(tr.begin(), tr.end(), te.begin(), te.end(), std::back_inserter(s.i2));
      break;
  }
  return s;
}

WeightedScoreSelector::WeightedScoreSelector(size_t d, int grid_steps, DecimalFraction alpha)
    : d_(d), steps_(grid_steps), alpha_(std::move(alpha)), grid_(SimplexGrid(d, grid_steps)) {
  size_sum_.assign(grid_.size(), 0);
}

int64_t WeightedScoreSelector::CountAtMost(size_t j, double s) const {
  const auto& v = sorted_[j];
  return static_cast<int64_t>(std::upper_bound(v.begin(), v.end(), s) - v.begin());
}

int64_t WeightedScoreSelector::CombinedWith(size_t candidate, const double* scores) const {
  const auto& m = grid_[candidate];
  int64_t z = 0;
  for (size_t j = 0; j < d_; ++j) {
    if (m[j] != 0) z += static_cast<int64_t>(m[j]) * CountAtMost(j, scores[j]);
  }
  return z;
}

double WeightedScoreSelector::ToScale(int64_t z) const {
  if (z == kInfinity) return std::numeric_limits<double>::infinity();
  return static_cast<double>(z) / (static_cast<double>(steps_) * static_cast<double>(n1_));
}

int64_t WeightedScoreSelector::QuantileOf(std::vector<int64_t>& z) const {
  const int64_t n = static_cast<int64_t>(z.size());
  const int64_t idx = QuantileIndex(n, alpha_);
  if (idx > n) return kInfinity;
  std::nth_element(z.begin(), z.begin() + (idx - 1), z.end());
  return z[static_cast<size_t>(idx - 1)];
}

void WeightedScoreSelector::FitCalibration(const ScoreMatrix& i1) {
  if (i1.d != d_)
    throw Error("weighted: I1 matrix has " + std::to_string(i1.d) + " columns, expected " +
                std::to_string(d_));
  n1_ = i1.rows();
  if (n1_ == 0) throw Error("weighted: I1 is empty");
  sorted_.assign(d_, {});
  for (size_t j = 0; j < d_; ++j) {
    sorted_[j].resize(n1_);
    for (size_t i = 0; i < n1_; ++i) sorted_[j][i] = i1.row(i)[j];
    std::sort(sorted_[j].begin(), sorted_[j].end());
  }
  std::vector<int64_t> counts(n1_ * d_);
  for (size_t i = 0; i < n1_; ++i)
    for (size_t j = 0; j < d_; ++j) counts[i * d_ + j] = CountAtMost(j, i1.row(i)[j]);
  q1_.assign(grid_.size(), 0);
  std::vector<int64_t> z(n1_);
  for (size_t c = 0; c < grid_.size(); ++c) {
    const auto& m = grid_[c];
    for (size_t i = 0; i < n1_; ++i) {
      int64_t s = 0;
      for (size_t j = 0; j < d_; ++j) s += static_cast<int64_t>(m[j]) * counts[i * d_ + j];
      z[i] = s;
    }
    q1_[c] = QuantileOf(z);
  }
  q1_min_ = *std::min_element(q1_.begin(), q1_.end());
  q1_max_ = *std::max_element(q1_.begin(), q1_.end());
  size_sum_.assign(grid_.size(), 0);
  n2_ = 0;
  chosen_set_ = false;
}

namespace {
// Raw-score thresholds that decide "z <= q for every weight" / "z > q for every weight" without
// computing counts: z = sum_j m_j c_j lies in [M min_j c_j, M max_j c_j] (j over the support).
//   always in:  M * c_j <= q_lo for all j  <=>  c_j <= a := floor(q_lo / M)  <=>  s_j < sorted[a]
//   never in:   M * c_j >  q_hi for all j  <=>  c_j >= b := floor(q_hi / M) + 1
//                                          <=>  s_j >= sorted[b - 1]
// A threshold is +inf / unusable when the index is outside the calibration sample.
struct PruneBounds {
  std::vector<double> lo;  // s_j < lo[j] for all j -> always in
  std::vector<double> hi;  // s_j >= hi[j] for all j -> never in
  bool can_always = true;
  bool can_never = true;
};
PruneBounds MakeBounds(const std::vector<std::vector<double>>& sorted, int64_t q_lo, int64_t q_hi,
                       int steps, int64_t inf) {
  PruneBounds b;
  const size_t d = sorted.size();
  b.lo.resize(d);
  b.hi.resize(d);
  for (size_t j = 0; j < d; ++j) {
    const auto n1 = static_cast<int64_t>(sorted[j].size());
    const int64_t a = q_lo == inf ? n1 : q_lo / steps;
    b.lo[j] = a >= n1 ? std::numeric_limits<double>::infinity() : sorted[j][static_cast<size_t>(a)];
    if (q_hi == inf) {
      b.can_never = false;
    } else {
      const int64_t bb = q_hi / steps + 1;
      if (bb > n1)
        b.can_never = false;
      else
        b.hi[j] = sorted[j][static_cast<size_t>(bb - 1)];
    }
  }
  return b;
}
}  // namespace

void WeightedScoreSelector::AddSelectionQuery(const double* items, size_t n_items) {
  if (n1_ == 0) throw Error("weighted: FitCalibration must come before AddSelectionQuery");
  ++n2_;
  if (q1_max_ == kInfinity) {  // the index exceeds n1: every candidate's set is everything
    for (auto& s : size_sum_) s += n_items;
    return;
  }
  const PruneBounds b = MakeBounds(sorted_, q1_min_, q1_max_, steps_, kInfinity);
  size_t always = 0;
  amb_.clear();
  for (size_t i = 0; i < n_items; ++i) {
    const double* r = items + i * d_;
    bool all_lo = true, all_hi = b.can_never;
    for (size_t j = 0; j < d_; ++j) {
      all_lo = all_lo && r[j] < b.lo[j];
      all_hi = all_hi && r[j] >= b.hi[j];
    }
    if (all_lo) {
      ++always;
    } else if (!all_hi) {
      for (size_t j = 0; j < d_; ++j) amb_.push_back(CountAtMost(j, r[j]));
    }
  }
  const size_t na = amb_.size() / d_;
  bool monotone = true;
  for (size_t i = 1; i < na && monotone; ++i)
    for (size_t j = 0; j < d_; ++j)
      monotone = monotone && amb_[(i - 1) * d_ + j] <= amb_[i * d_ + j];
  for (size_t c = 0; c < grid_.size(); ++c) {
    const auto& m = grid_[c];
    const int64_t q = q1_[c];
    auto z_at = [&](size_t i) {
      int64_t z = 0;
      for (size_t j = 0; j < d_; ++j) z += static_cast<int64_t>(m[j]) * amb_[i * d_ + j];
      return z;
    };
    size_t count = 0;
    if (monotone) {
      // z is non-decreasing along the rows: the members are a prefix; find its length.
      size_t lo = 0, hi = na;
      while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (z_at(mid) <= q)
          lo = mid + 1;
        else
          hi = mid;
      }
      count = lo;
    } else {
      for (size_t i = 0; i < na; ++i) count += z_at(i) <= q ? 1 : 0;
    }
    size_sum_[c] += always + count;
  }
}

size_t WeightedScoreSelector::Choose() {
  if (n2_ == 0) throw Error("weighted: no I2 query was added before Choose()");
  size_t best = 0;
  for (size_t c = 1; c < grid_.size(); ++c)
    if (size_sum_[c] < size_sum_[best]) best = c;  // strict: ties keep the earlier candidate
  chosen_ = best;
  chosen_set_ = true;
  return best;
}

void WeightedScoreSelector::FitFinal(const ScoreMatrix& i3) {
  if (!chosen_set_) throw Error("weighted: Choose() must come before FitFinal");
  if (i3.d != d_) throw Error("weighted: I3 matrix has the wrong number of columns");
  n3_ = i3.rows();
  if (n3_ == 0) throw Error("weighted: I3 is empty");
  std::vector<int64_t> z(n3_);
  for (size_t i = 0; i < n3_; ++i) z[i] = CombinedWith(chosen_, i3.row(i));
  q_index_final_ = QuantileIndex(static_cast<int64_t>(n3_), alpha_);
  q_final_ = QuantileOf(z);
}

size_t WeightedScoreSelector::SetSize(const double* items, size_t n_items) const {
  if (q_final_ == kInfinity) return n_items;
  // Restrict the pruning bounds to the chosen support (z only depends on those columns).
  const auto& m = grid_[chosen_];
  const PruneBounds b = MakeBounds(sorted_, q_final_, q_final_, steps_, kInfinity);
  size_t count = 0;
  for (size_t i = 0; i < n_items; ++i) {
    const double* r = items + i * d_;
    bool all_lo = true, all_hi = b.can_never;
    for (size_t j = 0; j < d_; ++j) {
      if (m[j] == 0) continue;
      all_lo = all_lo && r[j] < b.lo[j];
      all_hi = all_hi && r[j] >= b.hi[j];
    }
    if (all_lo)
      ++count;
    else if (!all_hi)
      count += CombinedWith(chosen_, r) <= q_final_ ? 1 : 0;
  }
  return count;
}

std::vector<double> WeightedScoreSelector::chosen_weights() const {
  std::vector<double> w(d_);
  for (size_t j = 0; j < d_; ++j) w[j] = static_cast<double>(grid_[chosen_][j]) / steps_;
  return w;
}

std::vector<double> WeightedScoreSelector::mean_set_sizes() const {
  std::vector<double> out(grid_.size(), 0.0);
  if (n2_ == 0) return out;
  for (size_t c = 0; c < grid_.size(); ++c)
    out[c] = static_cast<double>(size_sum_[c]) / static_cast<double>(n2_);
  return out;
}

WeightedSelection SelectWeights(const std::vector<ScoreMatrix>& items,
                                const std::vector<size_t>& labels, const SplitIndices& split,
                                const DecimalFraction& alpha, int grid_steps) {
  if (items.size() != labels.size())
    throw Error("SelectWeights: " + std::to_string(items.size()) + " queries but " +
                std::to_string(labels.size()) + " labels");
  if (items.empty()) throw Error("SelectWeights: no queries");
  const size_t d = items[0].d;
  auto label_rows = [&](const std::vector<size_t>& idx) {
    ScoreMatrix m(d);
    for (size_t i : idx) {
      if (i >= items.size()) throw Error("SelectWeights: query index out of range");
      if (labels[i] >= items[i].rows()) throw Error("SelectWeights: label out of range");
      m.AppendRow(items[i].row(labels[i]));
    }
    return m;
  };
  WeightedScoreSelector sel(d, grid_steps, alpha);
  sel.FitCalibration(label_rows(split.i1));
  for (size_t i : split.i2) {
    if (i >= items.size()) throw Error("SelectWeights: query index out of range");
    sel.AddSelectionQuery(items[i].values.data(), items[i].rows());
  }
  sel.Choose();
  sel.FitFinal(label_rows(split.i3));
  WeightedSelection out;
  out.weights = sel.chosen_weights();
  out.chosen = sel.chosen();
  out.grid = sel.grid();
  out.mean_set_sizes = sel.mean_set_sizes();
  for (int64_t q : sel.q1()) out.q1.push_back(sel.ToScale(q));
  out.q_hat = sel.q_final_scaled();
  out.q_hat_int = sel.q_final();
  return out;
}

}  // namespace recarena::experiments
