// Offline ranking metrics for next-item recommendation: accuracy (HR, NDCG, MRR), aggregate
// diversity/novelty coverage (CV_div, CV_nov), repetitiveness (R), unexpectedness (UP) and
// serendipity (HR_ser, NDCG_ser), as defined in the thesis "Multi-objective personalization"
// (Sec. 4.5.1, Eq. 4.20; Sec. 5.4.3). docs/metrics.md gives every formula, tie rule and edge case;
// this header states the contracts.
//
// Everything here is plain C++ (no torch): callers turn model scores into rankings with TopK /
// RankOf, fill RankingQuery records and feed them to a RankingMetricsAccumulator (streaming) or
// ComputeRankingMetrics (all at once). Item ids are 0-based catalog indices (int32).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace recarena::experiments {

// One evaluated recommendation: the ranked list shown for one ground-truth event.
struct RankingQuery {
  int64_t query_id = 0;
  // Item ids, best first. Should be at least max(k) long; a shorter list means fewer
  // recommendations (missing positions recommend nothing). No item may appear twice in the first
  // max(k) positions.
  std::vector<int32_t> ranked;
  int32_t target = -1;  // the true next item (required, >= 0)
  // Items of the user's EARLIER sessions (for UP@k and serendipity). Order and repeats do not
  // matter. Empty = the user has no earlier interactions (when MetricsContext::has_history).
  std::vector<int32_t> history;
  // Optional user id: UP@k is averaged per user first (thesis Sec. 5.4.3). -1 = unknown; then the
  // query counts as a user of its own. Either every query has a user or none does.
  int32_t user = -1;
  // Optional session id: R@k (Eq. 4.20) counts repetitions across the lists of one session. -1 =
  // unknown; R@k is then not reported. Either every query has a session or none does.
  int64_t session = -1;
  // Optional 0-based rank of target in the FULL catalog ranking (e.g. from RankOf), used for
  // HR/NDCG/MRR when ranked is a truncated list. -1 = not given: the rank is target's position in
  // ranked, or "absent" (a miss everywhere, MRR contribution 0). When given it must agree with
  // ranked (ranked[target_rank] == target if that position exists, and target not elsewhere).
  int64_t target_rank = -1;
};

struct MetricsConfig {
  std::vector<int> ks{5, 10, 20};  // cut-offs; each >= 1, no duplicates

  template <class V>
  void Visit(V& v) {
    v("ks", ks);
  }
  void Validate() const;  // throws ConfigError("ks", ...)
};

// Catalog-level information.
struct MetricsContext {
  // Catalog size, for CV_div (and the id range check). 0 = unknown: CV_div is not reported and
  // item ids are only checked to be >= 0.
  int32_t num_items = 0;
  // [num_items] 1 = long-tail ("novel") item, 0 = head item. Empty = derive it from popularity;
  // when both are empty CV_nov is not reported.
  std::vector<uint8_t> long_tail;
  // Optional [num_items] item interaction counts in the TRAINING data. Used only to derive
  // long_tail when long_tail is empty, with the thesis's rule (Sec. 4.4.3, after Eq. 4.4: the
  // bottom 90% of items by popularity are the novel set I_nov); see LongTailFromPopularity.
  std::vector<int64_t> popularity;
  // Whether RankingQuery::history is meaningful. When false, UP@k and the serendipity metrics are
  // not reported (an empty history would make every item "unexpected").
  bool has_history = true;
};

// The thesis's novel-item set I_nov: items outside the most popular head_fraction of the catalog.
// The head is the ceil(head_fraction * n) items with the largest counts, ties broken by smaller
// item id (so the result is deterministic); everything else is long-tail (1). Requires counts >= 0
// and 0 <= head_fraction <= 1.
std::vector<uint8_t> LongTailFromPopularity(const std::vector<int64_t>& popularity,
                                            double head_fraction = 0.1);

// The k best items of scores[0..n) in descending score order; ties broken by smaller item id;
// items with mask[i] == 0 are excluded (mask may be null = all eligible; otherwise [n]). Returns
// min(k, number of eligible items) ids. Throws recarena::Error for k < 0, n < 0 or a NaN score of
// an eligible item. O(n log k).
std::vector<int32_t> TopK(const float* scores, int32_t n, int k, const uint8_t* mask = nullptr);

// The 0-based rank target would get in TopK(scores, n, n, mask): the number of eligible items with
// a larger score, or an equal score and a smaller id. Throws recarena::Error when target is out of
// range, masked out, or any eligible score is NaN. O(n).
int64_t RankOf(const float* scores, int32_t n, int32_t target, const uint8_t* mask = nullptr);

// Streaming evaluation: memory is O(catalog) plus, when sessions/users are given, the distinct
// top-max(k) items per session and one counter per (user, k); queries are not stored.
class RankingMetricsAccumulator {
 public:
  // Validates cfg (ConfigError) and ctx (recarena::Error: long_tail/popularity size must equal
  // num_items, long_tail values 0/1 with at least one 1).
  RankingMetricsAccumulator(MetricsContext ctx, MetricsConfig cfg);

  // Adds one query. Throws recarena::Error naming the query id for: target < 0, an item id < 0 or
  // >= num_items (when known), a duplicate in the first max(k) positions, an inconsistent
  // target_rank, or mixing queries with and without user / session ids.
  void Add(const RankingQuery& q);

  // Metric name -> value (docs/metrics.md): "num_queries" always; with at least one query also
  // "HR@k", "NDCG@k", "MRR"; "CV_div@k" when num_items is known; "CV_nov@k" when long-tail flags
  // are known; "R@k" and "num_sessions" when sessions are given; "UP@k", "num_users" and
  // "num_serendipity_queries" when has_history, plus "HR_ser@k", "NDCG_ser@k" when at least one
  // query is serendipitous. Metrics whose denominator would be zero are left out, not set to 0.
  std::map<std::string, double> Result() const;

  int64_t num_queries() const { return num_queries_; }

 private:
  struct UserSums {
    int64_t queries = 0;
    std::vector<double> unseen;  // [ks] sum over the user's queries of UNSEEN count at k
  };

  MetricsContext ctx_;
  MetricsConfig cfg_;
  int max_k_ = 0;

  int64_t num_queries_ = 0;
  std::vector<int64_t> hits_;  // [ks]
  std::vector<double> ndcg_;   // [ks]
  double mrr_ = 0;

  // Smallest list position at which each item was ever recommended (INT32_MAX = never): the
  // CV union at k is the set of items with best position < k.
  std::vector<int32_t> best_pos_;

  // Repetitiveness: per session, the smallest position each item had in that session's lists.
  int has_session_ = -1;  // -1 undecided, 0 no, 1 yes
  std::unordered_map<int64_t, std::unordered_map<int32_t, int32_t>> session_items_;
  std::vector<int64_t> recs_;      // [ks] recommendations made at k (sum of min(k, list length))
  std::vector<int64_t> distinct_;  // [ks] sum over sessions of distinct items at k

  // Unexpectedness and serendipity.
  int has_user_ = -1;
  std::unordered_map<int32_t, UserSums> users_;
  std::vector<double> unseen_anonymous_;  // [ks] when no user ids: each query is its own user
  int64_t num_serendipitous_ = 0;
  std::vector<int64_t> ser_hits_;  // [ks]
  std::vector<double> ser_ndcg_;   // [ks]
};

// Evaluates all queries at once (a RankingMetricsAccumulator fed in order).
std::map<std::string, double> ComputeRankingMetrics(const std::vector<RankingQuery>& queries,
                                                    const MetricsContext& ctx,
                                                    const MetricsConfig& cfg);

}  // namespace recarena::experiments
