#include "experiments/eval/conformal.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>
#include <numeric>
#include <stdexcept>

#include "core/error.h"

namespace recarena::experiments {

namespace {

// The score functions of the registry (docs/conformal.md gives each definition).
double ThrScore(const ScoreParts& s, const ScoreParams&) { return 1.0 - s.py; }
double ApsScore(const ScoreParts& s, const ScoreParams&) { return s.before + s.u * s.py; }
double RapsScore(const ScoreParts& s, const ScoreParams& params) {
  const int64_t over = static_cast<int64_t>(s.k) + 1 - static_cast<int64_t>(params.k_reg);
  return (s.before + s.u * s.py) + params.lambda * static_cast<double>(std::max<int64_t>(0, over));
}
double SapsScore(const ScoreParts& s, const ScoreParams& params) {
  if (s.k == 0) return s.u * s.pmax;
  return s.pmax + params.lambda * (static_cast<double>(s.k - 1) + s.u);
}
double RankScore(const ScoreParts& s, const ScoreParams&) { return static_cast<double>(s.k) + s.u; }

// The one formula for a score, given the quantities that define it (ScoreParts). QueryScorer and
// LabelScore both call this, so their results are bitwise identical.
using ScoreFn = double (*)(const ScoreParts&, const ScoreParams&);
// The formula of kind, looked up once per loop (not per item). QueryScorer and LabelScore both use
// it, so their results are bitwise identical.
ScoreFn FunctionOf(ScoreKind kind) {
  return ScoreFunctionRegistry()[static_cast<size_t>(kind)].score;
}

void CheckU(double u) {
  if (!(u >= 0.0 && u <= 1.0))
    throw Error("conformal: u must be in [0, 1], got " + std::to_string(u));
}

// The rank key of item i with probability p >= 0: sorting (key, id) pairs held contiguously is
// much faster than an indirect sort. For p >= 0 the IEEE bit pattern is monotone in p, so ~bits
// orders by descending p; equal p then orders by ascending id. -0.0 is mapped to +0.0 first.
std::pair<uint64_t, uint32_t> RankKey(double p, size_t i) {
  const double v = p == 0.0 ? 0.0 : p;
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return {~bits, static_cast<uint32_t>(i)};
}

// Rank keys of p[0..n), after checking every p.
void FillRankKeys(const double* p, size_t n, std::vector<std::pair<uint64_t, uint32_t>>* keys) {
  if (n == 0) throw Error("conformal: a query needs at least one item");
  if (n > std::numeric_limits<uint32_t>::max()) throw Error("conformal: too many items");
  keys->resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!(p[i] >= 0.0) || std::isinf(p[i]))
      throw Error("conformal: probability of item " + std::to_string(i) + " is " +
                  std::to_string(p[i]) + " (must be finite and >= 0)");
    (*keys)[i] = RankKey(p[i], i);
  }
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

const std::vector<ScoreFunctionRow>& ScoreFunctionRegistry() {
  static const std::vector<ScoreFunctionRow> rows = [] {
    std::vector<ScoreFunctionRow> r = {
        {ScoreKind::kThr, "thr", &ThrScore, false},   {ScoreKind::kAps, "aps", &ApsScore, true},
        {ScoreKind::kRaps, "raps", &RapsScore, true}, {ScoreKind::kSaps, "saps", &SapsScore, true},
        {ScoreKind::kRank, "rank", &RankScore, true},
    };
    // Scores are stored by static_cast<size_t>(kind): row i must be enumerator i.
    if (r.size() != kNumScoreKinds) throw std::logic_error("ScoreFunctionRegistry: row count");
    for (size_t i = 0; i < r.size(); ++i)
      if (static_cast<size_t>(r[i].kind) != i)
        throw std::logic_error("ScoreFunctionRegistry order");
    return r;
  }();
  return rows;
}

const std::vector<ScoreKind>& AllScoreKinds() {
  static const std::vector<ScoreKind> all = [] {
    std::vector<ScoreKind> k;
    for (const auto& row : ScoreFunctionRegistry()) k.push_back(row.kind);
    return k;
  }();
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
  FillRankKeys(p_.data(), n, &keys_);
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
  return FunctionOf(kind)(ScoreParts{k, before_[k], p_[order_[k]], p_[order_[0]], u_}, params_);
}

double QueryScorer::Score(ScoreKind kind, size_t y) const {
  if (y >= p_.size()) throw Error("conformal: item " + std::to_string(y) + " out of range");
  return ScoreAtPosition(kind, pos_[y]);
}

void QueryScorer::AllScores(ScoreKind kind, std::vector<double>* out) const {
  out->resize(p_.size());
  const ScoreFn f = FunctionOf(kind);
  for (size_t k = 0; k < p_.size(); ++k)
    (*out)[order_[k]] = f(ScoreParts{k, before_[k], p_[order_[k]], p_[order_[0]], u_}, params_);
}

std::vector<uint32_t> QueryScorer::SetMembers(ScoreKind kind, double q) const {
  std::vector<uint32_t> members;
  const ScoreFn f = FunctionOf(kind);
  for (size_t y = 0; y < p_.size(); ++y) {
    const size_t k = pos_[y];
    if (f(ScoreParts{k, before_[k], p_[order_[k]], p_[order_[0]], u_}, params_) <= q)
      members.push_back(static_cast<uint32_t>(y));
  }
  return members;
}

size_t QueryScorer::SetSize(ScoreKind kind, double q) const {
  size_t count = 0;
  const ScoreFn f = FunctionOf(kind);
  for (size_t k = 0; k < p_.size(); ++k)
    count += f(ScoreParts{k, before_[k], p_[order_[k]], p_[order_[0]], u_}, params_) <= q ? 1 : 0;
  return count;
}

size_t PrefixSet::Find(ScoreKind kind, const double* p, size_t n, double u, double q) {
  CheckU(u);
  FillRankKeys(p, n, &keys_);
  p_ = p;
  const ScoreFn f = FunctionOf(kind);
  size_t sorted = 0;  // keys_[0, sorted) are the top `sorted` items in rank order
  // First guess: a little more than the previous query's set (queries of one file tend to have
  // similar sets), at least 64. Only the work depends on it, not the set.
  size_t want = std::min<size_t>(n, std::max<size_t>(64, size_ + size_ / 4 + 16));
  double before = 0.0, pmax = 0.0;
  size_t k = 0;
  while (true) {
    if (want < n) std::nth_element(keys_.begin() + sorted, keys_.begin() + (want - 1), keys_.end());
    std::sort(keys_.begin() + sorted, keys_.begin() + want);
    sorted = want;
    if (k == 0) pmax = p[keys_[0].second];
    // QueryScorer::Build's accumulation: before = sum of p over the earlier positions, in order.
    for (; k < sorted; ++k) {
      const double pk = p[keys_[k].second];
      if (f(ScoreParts{k, before, pk, pmax, u}, params_) > q) return size_ = k;
      before += pk;
    }
    if (sorted == n) return size_ = n;
    want = std::min(n, want * 4);
  }
}

bool PrefixSet::Contains(size_t y) const {
  if (size_ == 0 || y >= keys_.size()) return false;
  return RankKey(p_[y], y) <= keys_[size_ - 1];
}

void PrefixSet::Members(std::vector<uint32_t>* out) const {
  out->resize(size_);
  for (size_t k = 0; k < size_; ++k) (*out)[k] = keys_[k].second;
  std::sort(out->begin(), out->end());
}

double LabelScore(ScoreKind kind, const double* p, size_t n, size_t y, double u,
                  const ScoreParams& params) {
  if (!ScoreFunctionRegistry()[static_cast<size_t>(kind)].needs_rank) {
    CheckU(u);
    if (y >= n)
      throw Error("conformal: label " + std::to_string(y) + " out of range for " +
                  std::to_string(n) + " items");
    return FunctionOf(kind)(ScoreParts{0, 0.0, p[y], 0.0, u}, params);
  }
  double all[kNumScoreKinds];
  LabelScoresAll(p, n, y, u, params, all);
  return all[static_cast<size_t>(kind)];
}

void LabelScoresAll(const double* p, size_t n, size_t y, double u, const ScoreParams& params,
                    double out[kNumScoreKinds]) {
  CheckU(u);
  if (y >= n)
    throw Error("conformal: label " + std::to_string(y) + " out of range for " + std::to_string(n) +
                " items");
  double pmax = 0.0;
  const auto [before, k] = SumBefore(p, n, y, &pmax);
  const ScoreParts parts{k, before, p[y], pmax, u};
  for (ScoreKind kind : AllScoreKinds())
    out[static_cast<size_t>(kind)] = FunctionOf(kind)(parts, params);
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

}  // namespace recarena::experiments
