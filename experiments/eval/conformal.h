// Split conformal prediction over a catalog of items: non-conformity score functions (THR, APS,
// RAPS, SAPS, RANK), the exact conformal quantile, and the weighted averaging of several score
// functions (Luo & Zhou, "Averaging of Conformity Scores for Classification", Alg. 2 / Eq. (4),
// with the VFCP / EFCP / DLCP / DLCP+ data splits of its Sec. 2.5). See docs/conformal.md.
//
// Conventions (fixed; every function here follows them):
// - A query's probabilities p[0..n) are non-negative (normally summing to 1). Items are ranked by
//   descending p, ties broken by the smaller item id; o(y) is the 1-based rank of item y.
// - Scores are non-conformity scores: larger = less conforming. u in [0, 1] is drawn once per query
//   when randomized, u = 1 otherwise:
//     THR  1 - p_y
//     APS  sum of p over the items ranked before y, plus u * p_y
//     RAPS APS + lambda * max(0, o(y) - k_reg)
//     SAPS u * p_max if o(y) = 1, else p_max + lambda * (o(y) - 2 + u)
//     RANK o(y) - 1 + u
//   The "sum over items ranked before y" is accumulated in double, sequentially in rank order from
//   the top; every function here that computes an APS/RAPS score uses exactly that order, so a
//   label's score and the scores used to build a set are bitwise identical.
// - The prediction set for threshold q is {y : s(x, y) <= q}; q = +infinity gives every item.
// - q_hat is the ceil((n + 1)(1 - alpha))-th smallest of n calibration scores, the index computed
// in
//   exact integer arithmetic from the decimal alpha; +infinity when the index exceeds n.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "core/rng.h"

namespace recarena::experiments {

// The score functions. A new one is an enumerator added at the end (kNumScoreKinds is then defined
// from it), its formula and its row in ScoreFunctionRegistry() (conformal.cpp); everything else
// (names, the weighted combination's columns, `--score`, reports) reads the rows.
enum class ScoreKind { kThr, kAps, kRaps, kSaps, kRank };
inline constexpr size_t kNumScoreKinds = static_cast<size_t>(ScoreKind::kRank) + 1;

struct ScoreParams {
  bool randomized = false;  // draw u ~ U[0,1) once per query; otherwise u = 1
  double lambda = 0.01;     // RAPS / SAPS penalty weight (RAPS paper default 0.01)
  int k_reg = 5;            // RAPS: ranks up to k_reg are not penalised
};

// What a score is computed from, for the item at 0-based rank position k of one query: the sum of
// p over the earlier positions (accumulated sequentially from the top), its own p, the query's
// largest p and u in [0, 1].
struct ScoreParts {
  size_t k = 0;
  double before = 0.0, py = 0.0, pmax = 0.0, u = 1.0;
};

struct ScoreFunctionRow {
  ScoreKind kind;
  const char* name;  // --score and report spelling
  double (*score)(const ScoreParts&, const ScoreParams&);
  bool needs_rank;  // reads k, before or pmax (false: the score is a function of p_y and u alone)
};

// One row per ScoreKind, in enumerator order (checked when first built).
const std::vector<ScoreFunctionRow>& ScoreFunctionRegistry();

// All score kinds in their canonical order (the order of the weighted combination's columns).
const std::vector<ScoreKind>& AllScoreKinds();

// u for one query: rng.Uniform() when params.randomized, else 1 (rng untouched).
double DrawU(const ScoreParams& params, Rng& rng);

// Stable softmax: out[i] = exp(l_i - max) / sum_j exp(l_j - max) over unmasked items, accumulated
// in double; masked items (mask != nullptr && mask[i] != 0) and items with logit -inf get 0.
// Throws Error when no item is left (all masked or all -inf) or a logit is NaN or +inf.
void Softmax(const double* logits, size_t n, const uint8_t* mask, double* out);
std::vector<double> Softmax(const std::vector<double>& logits,
                            const std::vector<uint8_t>& mask = {});

// One query's scorer: sorts the items once (O(n log n)) and then gives the score of any item and
// the set {y : s(y) <= q}, both computed from the definitions above.
class QueryScorer {
 public:
  explicit QueryScorer(ScoreParams params = {}) : params_(params) {}

  // Loads a query: n probabilities (copied) and its u (must be in [0, 1]).
  void Reset(const double* p, size_t n, double u);
  void Reset(const float* p, size_t n, double u);
  void Reset(const std::vector<double>& p, double u) { Reset(p.data(), p.size(), u); }

  size_t size() const { return p_.size(); }
  double u() const { return u_; }
  double p(size_t y) const { return p_[y]; }
  // 1-based rank o(y).
  size_t Rank(size_t y) const { return static_cast<size_t>(pos_[y]) + 1; }
  // Items in rank order (best first).
  const std::vector<uint32_t>& order() const { return order_; }

  double Score(ScoreKind kind, size_t y) const;
  // Score of the item at 0-based rank position k (k = o(y) - 1).
  double ScoreAtPosition(ScoreKind kind, size_t k) const;
  // Scores of every item in item-id order.
  void AllScores(ScoreKind kind, std::vector<double>* out) const;
  // {y : Score(kind, y) <= q}, ascending item id. q may be +infinity.
  std::vector<uint32_t> SetMembers(ScoreKind kind, double q) const;
  size_t SetSize(ScoreKind kind, double q) const;

 private:
  void Build();
  ScoreParams params_;
  double u_ = 1.0;
  std::vector<double> p_;
  std::vector<std::pair<uint64_t, uint32_t>> keys_;  // sort scratch
  std::vector<uint32_t> order_;                      // rank position -> item
  std::vector<uint32_t> pos_;                        // item -> rank position
  std::vector<double> before_;  // rank position -> sum of p over earlier positions
};

// The set {y : Score(kind, y) <= q} of one query without sorting the whole catalog. Every score
// function above is non-decreasing along the ranking, in floating point too (each adds or scales
// non-negative terms that grow with the position, and rounding is monotone; lambda >= 0), so the
// set is the ranking's first K items. Find selects and sorts only the top candidates (nth_element
// over the rest, then a sort of the top m items, m = 1.25 x the previous query's set size + 16
// (at least 64), growing 4x until the set ends: O(n + K log K) instead of O(n log n)) and
// accumulates `before` in QueryScorer's order, so the set is bitwise the one
// QueryScorer::SetMembers gives (tests/experiments/conformal_test.cpp).
class PrefixSet {
 public:
  explicit PrefixSet(ScoreParams params = {}) : params_(params) {}
  // Finds the set of kind at threshold q (may be +infinity) for p[0..n) (probabilities as
  // QueryScorer requires; not copied: p must outlive Contains) and u in [0, 1]. Returns its size.
  size_t Find(ScoreKind kind, const double* p, size_t n, double u, double q);
  bool Contains(size_t y) const;                   // y is in the last set found
  void Members(std::vector<uint32_t>* out) const;  // its items, ascending id

 private:
  ScoreParams params_;
  const double* p_ = nullptr;
  size_t size_ = 0;
  std::vector<std::pair<uint64_t, uint32_t>> keys_;  // rank keys; [0, size_) in rank order
};

// The score of label y alone, in O(n + r log r) where r = o(y) (no full sort; O(1) for a score
// without needs_rank), bitwise equal to QueryScorer::Score for the same p, u and params. Used for
// calibration rows.
double LabelScore(ScoreKind kind, const double* p, size_t n, size_t y, double u,
                  const ScoreParams& params);
// The scores of label y in AllScoreKinds() order (one pass), same guarantee.
void LabelScoresAll(const double* p, size_t n, size_t y, double u, const ScoreParams& params,
                    double out[kNumScoreKinds]);

// --- the conformal quantile ----------------------------------------------------------------------

// A decimal number in (0, 1) held exactly as numerator / 10^exponent.
struct DecimalFraction {
  // numerator < 10^exponent; exponent <= 24 (so (n + 1) * 10^exponent fits in 128 bits).
  __int128 numerator = 0;
  int exponent = 0;
  std::string text;  // canonical decimal text ("0.05")
};

// Parses "0.05", ".1", "5e-2", "0.050"; requires 0 < value < 1. Throws Error naming the value.
DecimalFraction ParseDecimalFraction(std::string_view text);
// The shortest decimal text that round-trips to alpha (0.1 -> "0.1"), parsed as above.
DecimalFraction DecimalFromDouble(double alpha);

// ceil((n + 1)(1 - alpha)), 1-based, computed exactly; may exceed n (then q_hat = +infinity).
int64_t QuantileIndex(int64_t n, const DecimalFraction& alpha);
int64_t QuantileIndex(int64_t n, std::string_view alpha_decimal);
int64_t QuantileIndex(int64_t n, double alpha);

// The QuantileIndex(n, alpha)-th smallest of scores, or +infinity when that index exceeds n.
double ConformalQuantile(std::vector<double> scores, const DecimalFraction& alpha);
double ConformalQuantile(const std::vector<double>& scores, std::string_view alpha_decimal);
double ConformalQuantile(const std::vector<double>& scores, double alpha);

// --- weighted combination of score functions -----------------------------------------------------

// Row-major matrix with d columns (one score function per column), one row per item or query.
struct ScoreMatrix {
  size_t d = 0;
  std::vector<double> values;
  explicit ScoreMatrix(size_t cols = 0) : d(cols) {}
  size_t rows() const { return d == 0 ? 0 : values.size() / d; }
  const double* row(size_t i) const { return values.data() + i * d; }
  void AppendRow(const double* r) { values.insert(values.end(), r, r + d); }
};

// The weight grid over the simplex: every m in N^d with sum(m) = steps (weights w = m / steps),
// in DESCENDING lexicographic order of m: for d = 3, steps = 2: (2,0,0), (1,1,0), (1,0,1),
// (0,2,0), (0,1,1), (0,0,2). Ties in the selection go to the earliest candidate of this order.
std::vector<std::vector<int>> SimplexGrid(size_t d, int steps);
// 1 / step as an integer (step "0.1" -> 10); throws Error unless 1/step is an integer >= 1.
int GridStepsFromDecimal(std::string_view step);

}  // namespace recarena::experiments

namespace recarena::config {
template <>
struct EnumNames<experiments::ScoreKind> {
  static const std::vector<std::pair<experiments::ScoreKind, std::string>>& Table() {
    static const auto t = [] {
      std::vector<std::pair<experiments::ScoreKind, std::string>> v;
      for (const auto& row : experiments::ScoreFunctionRegistry())
        v.emplace_back(row.kind, row.name);
      return v;
    }();
    return t;
  }
};
}  // namespace recarena::config
