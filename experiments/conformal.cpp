#include "experiments/conformal.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>
#include <numeric>

#include "core/error.h"

namespace recarena::experiments {

namespace {

// The one formula for a score, given the quantities that define it: 0-based rank position k,
// the sum of p over earlier positions (accumulated sequentially from the top), p_y, p_max, u.
// QueryScorer and LabelScore both call this, so their results are bitwise identical.
inline double ScoreFromParts(ScoreKind kind, size_t k, double before, double py, double pmax,
                             double u, const ScoreParams& params) {
  switch (kind) {
    case ScoreKind::kThr:
      return 1.0 - py;
    case ScoreKind::kAps:
      return before + u * py;
    case ScoreKind::kRaps: {
      const int64_t over = static_cast<int64_t>(k) + 1 - static_cast<int64_t>(params.k_reg);
      return (before + u * py) + params.lambda * static_cast<double>(std::max<int64_t>(0, over));
    }
    case ScoreKind::kSaps:
      if (k == 0) return u * pmax;
      return pmax + params.lambda * (static_cast<double>(k - 1) + u);
    case ScoreKind::kRank:
      return static_cast<double>(k) + u;
  }
  return 0.0;
}

void CheckU(double u) {
  if (!(u >= 0.0 && u <= 1.0))
    throw Error("conformal: u must be in [0, 1], got " + std::to_string(u));
}

// Items ranked strictly before y, sorted into rank order; returns the sequential sum of their p
// (the same accumulation QueryScorer::Build does) and their count.
std::pair<double, size_t> SumBefore(const double* p, size_t n, size_t y, double* pmax_out) {
  const double py = p[y];
  std::vector<std::pair<double, uint32_t>> before;
  double pmax = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double pi = p[i];
    pmax = std::max(pmax, pi);
    if (pi > py || (pi == py && i < y)) before.emplace_back(pi, static_cast<uint32_t>(i));
  }
  std::sort(before.begin(), before.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  double sum = 0.0;
  for (const auto& e : before) sum += e.first;
  *pmax_out = pmax;
  return {sum, before.size()};
}

struct Decimal {
  __int128 digits = 0;  // value = digits * 10^-exponent
  int exponent = 0;
};

Decimal ParseDecimal(std::string_view text, const char* what) {
  auto fail = [&](const std::string& why) -> Error {
    return Error(std::string(what) + ": invalid decimal " + QuoteForError(text) + ": " + why);
  };
  if (text.empty()) throw fail("empty");
  size_t i = 0;
  std::string digits;
  int frac = 0;
  bool any = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    digits += text[i++];
    any = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      digits += text[i++];
      ++frac;
      any = true;
    }
  }
  if (!any) throw fail("expected digits");
  int exp10 = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
    size_t start = i;
    int e = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      e = e * 10 + (text[i++] - '0');
      if (e > 1000) throw fail("exponent out of range");
    }
    if (i == start) throw fail("expected exponent digits");
    exp10 = neg ? -e : e;
  }
  if (i != text.size()) throw fail("unexpected character");
  // Strip leading zeros, then trailing zeros (each trailing zero lowers the exponent).
  size_t lead = digits.find_first_not_of('0');
  digits = lead == std::string::npos ? std::string() : digits.substr(lead);
  int exponent = frac - exp10;
  while (!digits.empty() && digits.back() == '0' && exponent > 0) {
    digits.pop_back();
    --exponent;
  }
  while (exponent < 0) {  // value >= 1 (or 0): scale up to an integer
    if (digits.empty()) {
      exponent = 0;
      break;
    }
    digits += '0';
    ++exponent;
    if (digits.size() > 30) throw fail("too large");
  }
  if (exponent > 24 || digits.size() > 30) throw fail("more than 24 decimal places");
  Decimal d;
  for (char c : digits) d.digits = d.digits * 10 + (c - '0');
  d.exponent = exponent;
  return d;
}

__int128 Pow10(int e) {
  __int128 r = 1;
  for (int i = 0; i < e; ++i) r *= 10;
  return r;
}

}  // namespace

const std::vector<ScoreKind>& AllScoreKinds() {
  static const std::vector<ScoreKind> all = {ScoreKind::kThr, ScoreKind::kAps, ScoreKind::kRaps,
                                             ScoreKind::kSaps, ScoreKind::kRank};
  return all;
}

double DrawU(const ScoreParams& params, Rng& rng) {
  return params.randomized ? rng.Uniform() : 1.0;
}

void Softmax(const double* logits, size_t n, const uint8_t* mask, double* out) {
  double mx = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const double l = logits[i];
    if (std::isnan(l) || l == std::numeric_limits<double>::infinity())
      throw Error("softmax: logit " + std::to_string(i) + " is " + std::to_string(l) +
                  " (NaN and +inf are not allowed)");
    if (mask && mask[i]) continue;
    mx = std::max(mx, l);
  }
  if (mx == -std::numeric_limits<double>::infinity())
    throw Error("softmax: every item is masked or has logit -inf");
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const bool off = (mask && mask[i]) || logits[i] == -std::numeric_limits<double>::infinity();
    out[i] = off ? 0.0 : std::exp(logits[i] - mx);
    sum += out[i];
  }
  for (size_t i = 0; i < n; ++i) out[i] /= sum;
}

std::vector<double> Softmax(const std::vector<double>& logits, const std::vector<uint8_t>& mask) {
  if (!mask.empty() && mask.size() != logits.size())
    throw Error("softmax: mask has " + std::to_string(mask.size()) + " entries, logits " +
                std::to_string(logits.size()));
  std::vector<double> out(logits.size());
  Softmax(logits.data(), logits.size(), mask.empty() ? nullptr : mask.data(), out.data());
  return out;
}

// --- QueryScorer ---------------------------------------------------------------------------------

void QueryScorer::Reset(const double* p, size_t n, double u) {
  CheckU(u);
  p_.assign(p, p + n);
  u_ = u;
  Build();
}

void QueryScorer::Reset(const float* p, size_t n, double u) {
  CheckU(u);
  p_.assign(p, p + n);
  u_ = u;
  Build();
}

void QueryScorer::Build() {
  const size_t n = p_.size();
  if (n == 0) throw Error("conformal: a query needs at least one item");
  if (n > std::numeric_limits<uint32_t>::max()) throw Error("conformal: too many items");
  for (size_t i = 0; i < n; ++i) {
    if (!(p_[i] >= 0.0) || std::isinf(p_[i]))
      throw Error("conformal: probability of item " + std::to_string(i) + " is " +
                  std::to_string(p_[i]) + " (must be finite and >= 0)");
  }
  // Sort (key, id) pairs held contiguously (much faster than an indirect sort): for p >= 0 the
  // IEEE bit pattern is monotone in p, so ~bits orders by descending p; equal p then orders by
  // ascending id. -0.0 is mapped to +0.0 first.
  keys_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double v = p_[i] == 0.0 ? 0.0 : p_[i];
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    keys_[i] = {~bits, static_cast<uint32_t>(i)};
  }
  std::sort(keys_.begin(), keys_.end());
  order_.resize(n);
  for (size_t k = 0; k < n; ++k) order_[k] = keys_[k].second;
  const double* p = p_.data();
  pos_.resize(n);
  before_.resize(n);
  double sum = 0.0;
  for (size_t k = 0; k < n; ++k) {
    pos_[order_[k]] = static_cast<uint32_t>(k);
    before_[k] = sum;
    sum += p[order_[k]];
  }
}

double QueryScorer::ScoreAtPosition(ScoreKind kind, size_t k) const {
  return ScoreFromParts(kind, k, before_[k], p_[order_[k]], p_[order_[0]], u_, params_);
}

double QueryScorer::Score(ScoreKind kind, size_t y) const {
  if (y >= p_.size()) throw Error("conformal: item " + std::to_string(y) + " out of range");
  return ScoreAtPosition(kind, pos_[y]);
}

void QueryScorer::AllScores(ScoreKind kind, std::vector<double>* out) const {
  out->resize(p_.size());
  for (size_t k = 0; k < p_.size(); ++k) (*out)[order_[k]] = ScoreAtPosition(kind, k);
}

std::vector<uint32_t> QueryScorer::SetMembers(ScoreKind kind, double q) const {
  std::vector<uint32_t> members;
  for (size_t y = 0; y < p_.size(); ++y) {
    if (ScoreAtPosition(kind, pos_[y]) <= q) members.push_back(static_cast<uint32_t>(y));
  }
  return members;
}

size_t QueryScorer::SetSize(ScoreKind kind, double q) const {
  size_t count = 0;
  for (size_t k = 0; k < p_.size(); ++k) count += ScoreAtPosition(kind, k) <= q ? 1 : 0;
  return count;
}

double LabelScore(ScoreKind kind, const double* p, size_t n, size_t y, double u,
                  const ScoreParams& params) {
  double all[5];
  LabelScoresAll(p, n, y, u, params, all);
  return all[static_cast<size_t>(kind)];
}

void LabelScoresAll(const double* p, size_t n, size_t y, double u, const ScoreParams& params,
                    double out[5]) {
  CheckU(u);
  if (y >= n)
    throw Error("conformal: label " + std::to_string(y) + " out of range for " + std::to_string(n) +
                " items");
  double pmax = 0.0;
  const auto [before, k] = SumBefore(p, n, y, &pmax);
  for (ScoreKind kind : AllScoreKinds())
    out[static_cast<size_t>(kind)] = ScoreFromParts(kind, k, before, p[y], pmax, u, params);
}

// --- quantile ------------------------------------------------------------------------------------

DecimalFraction ParseDecimalFraction(std::string_view text) {
  const Decimal d = ParseDecimal(text, "alpha");
  if (d.digits == 0 || d.digits >= Pow10(d.exponent))
    throw Error("alpha must be strictly between 0 and 1, got " + QuoteForError(text));
  DecimalFraction f;
  f.numerator = d.digits;
  f.exponent = d.exponent;
  std::string digits;
  for (__int128 v = d.digits; v > 0; v /= 10)
    digits.insert(digits.begin(), char('0' + int(v % 10)));
  f.text = "0." + std::string(static_cast<size_t>(d.exponent) - digits.size(), '0') + digits;
  return f;
}

DecimalFraction DecimalFromDouble(double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0))
    throw Error("alpha must be strictly between 0 and 1, got " + std::to_string(alpha));
  char buf[512];
  // Shortest representation that round-trips, in fixed notation (0.1 -> "0.1").
  auto res = std::to_chars(buf, buf + sizeof(buf), alpha, std::chars_format::fixed);
  if (res.ec != std::errc()) throw Error("alpha: cannot format " + std::to_string(alpha));
  return ParseDecimalFraction(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
}

int64_t QuantileIndex(int64_t n, const DecimalFraction& alpha) {
  if (n < 0) throw Error("QuantileIndex: n must be >= 0");
  const __int128 scale = Pow10(alpha.exponent);
  const __int128 num = static_cast<__int128>(n + 1) * (scale - alpha.numerator);
  const __int128 idx = (num + scale - 1) / scale;  // ceil, num >= 0
  return static_cast<int64_t>(idx);
}

int64_t QuantileIndex(int64_t n, std::string_view alpha_decimal) {
  return QuantileIndex(n, ParseDecimalFraction(alpha_decimal));
}

int64_t QuantileIndex(int64_t n, double alpha) {
  return QuantileIndex(n, DecimalFromDouble(alpha));
}

double ConformalQuantile(std::vector<double> scores, const DecimalFraction& alpha) {
  const int64_t n = static_cast<int64_t>(scores.size());
  const int64_t idx = QuantileIndex(n, alpha);
  if (idx > n) return std::numeric_limits<double>::infinity();
  auto nth = scores.begin() + (idx - 1);
  std::nth_element(scores.begin(), nth, scores.end());
  return *nth;
}

double ConformalQuantile(const std::vector<double>& scores, std::string_view alpha_decimal) {
  return ConformalQuantile(scores, ParseDecimalFraction(alpha_decimal));
}

double ConformalQuantile(const std::vector<double>& scores, double alpha) {
  return ConformalQuantile(scores, DecimalFromDouble(alpha));
}

// --- weighting -----------------------------------------------------------------------------------

std::vector<std::vector<int>> SimplexGrid(size_t d, int steps) {
  if (d == 0) throw Error("SimplexGrid: need at least one score function");
  if (steps < 1) throw Error("SimplexGrid: steps must be >= 1");
  std::vector<std::vector<int>> out;
  std::vector<int> cur(d, 0);
  // Recursive fill, first component from high to low: descending lexicographic order.
  std::function<void(size_t, int)> fill = [&](size_t j, int left) {
    if (j + 1 == d) {
      cur[j] = left;
      out.push_back(cur);
      return;
    }
    for (int m = left; m >= 0; --m) {
      cur[j] = m;
      fill(j + 1, left - m);
    }
  };
  fill(0, steps);
  return out;
}

int GridStepsFromDecimal(std::string_view step) {
  const Decimal d = ParseDecimal(step, "weight step");
  const __int128 scale = Pow10(d.exponent);
  if (d.digits == 0 || d.digits > scale)
    throw Error("weight step must be in (0, 1], got " + QuoteForError(step));
  if (scale % d.digits != 0)
    throw Error("weight step must be 1/k for an integer k (0.1, 0.05, 0.25, ...), got " +
                QuoteForError(step));
  const __int128 k = scale / d.digits;
  if (k > 1000)
    throw Error("weight step too small (at most 1000 steps), got " + QuoteForError(step));
  return static_cast<int>(k);
}

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
