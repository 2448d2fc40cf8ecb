#include "experiments/eval/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>
#include <set>
#include <utility>

#include "core/error.h"

namespace recarena::experiments {

void MetricsConfig::Validate() const {
  if (ks.empty()) throw ConfigError("ks", "ks must list at least one cut-off k");
  std::set<int> seen;
  for (int k : ks) {
    if (k < 1) throw ConfigError("ks", fmt::format("every k in ks must be >= 1, got {}", k));
    if (!seen.insert(k).second) throw ConfigError("ks", fmt::format("k = {} is listed twice", k));
  }
}

std::vector<uint8_t> LongTailFromPopularity(const std::vector<int64_t>& popularity,
                                            double head_fraction) {
  if (!(head_fraction >= 0.0 && head_fraction <= 1.0)) {
    throw Error(fmt::format("head_fraction must be in [0, 1], got {}", head_fraction));
  }
  const size_t n = popularity.size();
  for (size_t i = 0; i < n; ++i) {
    if (popularity[i] < 0) {
      throw Error(fmt::format("popularity of item {} is negative ({})", i, popularity[i]));
    }
  }
  const auto head = static_cast<size_t>(std::ceil(head_fraction * static_cast<double>(n)));
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Most popular first; equal counts: smaller id first (it joins the head first).
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return popularity[a] > popularity[b]; });
  std::vector<uint8_t> long_tail(n, 1);
  for (size_t i = 0; i < std::min(head, n); ++i) long_tail[order[i]] = 0;
  return long_tail;
}

namespace {

// True when item a ranks before item b: larger score, or equal score and smaller id.
struct Better {
  const float* scores;
  bool operator()(int32_t a, int32_t b) const {
    if (scores[a] != scores[b]) return scores[a] > scores[b];
    return a < b;
  }
};

void CheckScores(const float* scores, int32_t n, const uint8_t* mask) {
  if (n < 0) throw Error(fmt::format("number of scores must be >= 0, got {}", n));
  if (n > 0 && scores == nullptr) throw Error("scores is null");
  for (int32_t i = 0; i < n; ++i) {
    if ((mask == nullptr || mask[i] != 0) && std::isnan(scores[i])) {
      throw Error(fmt::format("score of item {} is NaN; cannot rank it", i));
    }
  }
}

double Gain(int64_t rank) { return 1.0 / std::log2(static_cast<double>(rank) + 2.0); }

}  // namespace

std::vector<int32_t> TopK(const float* scores, int32_t n, int k, const uint8_t* mask) {
  if (k < 0) throw Error(fmt::format("TopK: k must be >= 0, got {}", k));
  CheckScores(scores, n, mask);
  const Better better{scores};
  // heap holds the best items seen so far; with `better` as the heap order its front is the
  // worst of them, the one a better newcomer replaces.
  std::vector<int32_t> heap;
  heap.reserve(static_cast<size_t>(std::min<int64_t>(k, n)));
  if (k == 0) return heap;
  for (int32_t i = 0; i < n; ++i) {
    if (mask != nullptr && mask[i] == 0) continue;
    if (static_cast<int64_t>(heap.size()) < k) {
      heap.push_back(i);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(i, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = i;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), better);  // best first
  return heap;
}

int64_t RankOf(const float* scores, int32_t n, int32_t target, const uint8_t* mask) {
  CheckScores(scores, n, mask);
  if (target < 0 || target >= n) {
    throw Error(fmt::format("RankOf: target item {} is outside the catalog [0, {})", target, n));
  }
  if (mask != nullptr && mask[target] == 0) {
    throw Error(fmt::format("RankOf: target item {} is masked out, so it has no rank", target));
  }
  const Better better{scores};
  int64_t rank = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (i == target || (mask != nullptr && mask[i] == 0)) continue;
    if (better(i, target)) ++rank;
  }
  return rank;
}

RankingMetricsAccumulator::RankingMetricsAccumulator(MetricsContext ctx, MetricsConfig cfg)
    : ctx_(std::move(ctx)), cfg_(std::move(cfg)) {
  cfg_.Validate();
  max_k_ = *std::max_element(cfg_.ks.begin(), cfg_.ks.end());
  if (ctx_.num_items < 0) {
    throw Error(fmt::format("metrics: num_items must be >= 0, got {}", ctx_.num_items));
  }
  const auto n = static_cast<size_t>(ctx_.num_items);
  if (!ctx_.popularity.empty() && ctx_.popularity.size() != n) {
    throw Error(fmt::format("metrics: popularity has {} entries but the catalog has {} items",
                            ctx_.popularity.size(), n));
  }
  if (ctx_.long_tail.empty() && !ctx_.popularity.empty()) {
    ctx_.long_tail = LongTailFromPopularity(ctx_.popularity);
  }
  if (!ctx_.long_tail.empty()) {
    if (ctx_.long_tail.size() != n) {
      throw Error(fmt::format("metrics: long_tail has {} entries but the catalog has {} items",
                              ctx_.long_tail.size(), n));
    }
    bool any = false;
    for (size_t i = 0; i < n; ++i) {
      if (ctx_.long_tail[i] > 1) {
        throw Error(fmt::format("metrics: long_tail[{}] is {}; flags must be 0 or 1", i,
                                static_cast<int>(ctx_.long_tail[i])));
      }
      any = any || ctx_.long_tail[i] == 1;
    }
    if (!any) throw Error("metrics: long_tail marks no item as long-tail; CV_nov is undefined");
  }
  const size_t nk = cfg_.ks.size();
  hits_.assign(nk, 0);
  ndcg_.assign(nk, 0.0);
  recs_.assign(nk, 0);
  distinct_.assign(nk, 0);
  unseen_anonymous_.assign(nk, 0.0);
  ser_hits_.assign(nk, 0);
  ser_ndcg_.assign(nk, 0.0);
  best_pos_.assign(n, INT32_MAX);
}

void RankingMetricsAccumulator::Add(const RankingQuery& q) {
  const int64_t qid = q.query_id;
  auto check_item = [&](int32_t item, const char* what) {
    if (item < 0 || (ctx_.num_items > 0 && item >= ctx_.num_items)) {
      throw Error(fmt::format("query {}: {} item id {} is outside the catalog [0, {})", qid, what,
                              item, ctx_.num_items > 0 ? std::to_string(ctx_.num_items) : "inf"));
    }
  };
  if (q.target < 0) {
    throw Error(fmt::format(
        "query {}: target item {} is invalid (every query needs a true next item)", qid, q.target));
  }
  check_item(q.target, "target");
  for (int32_t item : q.ranked) check_item(item, "ranked");

  const int64_t len = static_cast<int64_t>(q.ranked.size());
  const int top = static_cast<int>(std::min<int64_t>(len, max_k_));
  {
    std::vector<int32_t> head(q.ranked.begin(), q.ranked.begin() + top);
    std::sort(head.begin(), head.end());
    auto dup = std::adjacent_find(head.begin(), head.end());
    if (dup != head.end()) {
      throw Error(fmt::format("query {}: item {} appears twice in the top {} of the ranked list",
                              qid, *dup, max_k_));
    }
  }

  // Rank of the target: its position in ranked, or the caller's full-catalog rank.
  const auto found = std::find(q.ranked.begin(), q.ranked.end(), q.target);
  const int64_t pos = found == q.ranked.end() ? -1 : found - q.ranked.begin();
  int64_t rank = pos;
  if (q.target_rank >= 0) {
    if ((pos >= 0 && pos != q.target_rank) || (pos < 0 && q.target_rank < len)) {
      throw Error(fmt::format(
          "query {}: target_rank {} disagrees with the ranked list (target {} is at position {})",
          qid, q.target_rank, q.target, pos >= 0 ? std::to_string(pos) : "none"));
    }
    rank = q.target_rank;
  } else if (q.target_rank != -1) {
    throw Error(fmt::format("query {}: target_rank {} is invalid (use -1 for unknown)", qid,
                            q.target_rank));
  }

  const bool has_session = q.session >= 0;
  const bool has_user = q.user >= 0;
  if (has_session_ >= 0 && has_session != (has_session_ == 1)) {
    throw Error(fmt::format("query {}: {} a session id but earlier queries {}", qid,
                            has_session ? "has" : "lacks", has_session ? "do not" : "do"));
  }
  if (ctx_.has_history && has_user_ >= 0 && has_user != (has_user_ == 1)) {
    throw Error(fmt::format("query {}: {} a user id but earlier queries {}", qid,
                            has_user ? "has" : "lacks", has_user ? "do not" : "do"));
  }
  std::vector<int32_t> history;
  if (ctx_.has_history) {
    for (int32_t item : q.history) check_item(item, "history");
    history = q.history;
    std::sort(history.begin(), history.end());
  }
  // All checks passed: from here on the query is counted.
  has_session_ = has_session ? 1 : 0;
  if (ctx_.has_history) has_user_ = has_user ? 1 : 0;
  ++num_queries_;

  const size_t nk = cfg_.ks.size();
  // Accuracy.
  for (size_t i = 0; i < nk; ++i) {
    if (rank >= 0 && rank < cfg_.ks[i]) {
      ++hits_[i];
      ndcg_[i] += Gain(rank);
    }
  }
  if (rank >= 0) mrr_ += 1.0 / (static_cast<double>(rank) + 1.0);

  // Coverage.
  for (int p = 0; p < top; ++p) {
    const auto item = static_cast<size_t>(q.ranked[p]);
    if (item >= best_pos_.size()) best_pos_.resize(item + 1, INT32_MAX);
    best_pos_[item] = std::min(best_pos_[item], p);
  }

  // Repetitiveness: a recommendation at position p repeats when the item was already recommended
  // in this session at a position < k (for each k > p).
  if (has_session) {
    auto& items = session_items_[q.session];
    for (int p = 0; p < top; ++p) {
      auto [it, inserted] = items.emplace(q.ranked[p], p);
      const int old = inserted ? INT32_MAX : it->second;
      if (p < old) {
        it->second = p;
        for (size_t i = 0; i < nk; ++i) {
          if (p < cfg_.ks[i] && old >= cfg_.ks[i]) ++distinct_[i];
        }
      }
    }
    for (size_t i = 0; i < nk; ++i) recs_[i] += std::min<int64_t>(len, cfg_.ks[i]);
  }

  // Unexpectedness and serendipity, relative to the user's earlier sessions.
  if (ctx_.has_history) {
    auto seen = [&](int32_t item) {
      return std::binary_search(history.begin(), history.end(), item);
    };
    std::vector<int> unseen_prefix(static_cast<size_t>(top) + 1, 0);
    for (int p = 0; p < top; ++p)
      unseen_prefix[p + 1] = unseen_prefix[p] + (seen(q.ranked[p]) ? 0 : 1);
    UserSums* user = has_user ? &users_[q.user] : nullptr;
    if (user != nullptr) {
      ++user->queries;
      if (user->unseen.empty()) user->unseen.assign(nk, 0.0);
    }
    for (size_t i = 0; i < nk; ++i) {
      const double u = unseen_prefix[std::min(top, cfg_.ks[i])];
      if (user != nullptr) {
        user->unseen[i] += u;
      } else {
        unseen_anonymous_[i] += u;
      }
    }
    if (!seen(q.target)) {
      ++num_serendipitous_;
      for (size_t i = 0; i < nk; ++i) {
        if (rank >= 0 && rank < cfg_.ks[i]) {
          ++ser_hits_[i];
          ser_ndcg_[i] += Gain(rank);
        }
      }
    }
  }
}

std::map<std::string, double> RankingMetricsAccumulator::Result() const {
  std::map<std::string, double> r;
  r["num_queries"] = static_cast<double>(num_queries_);
  if (num_queries_ == 0) return r;
  const auto n = static_cast<double>(num_queries_);
  const size_t nk = cfg_.ks.size();
  auto name = [&](const char* metric, size_t i) {
    return fmt::format("{}@{}", metric, cfg_.ks[i]);
  };

  for (size_t i = 0; i < nk; ++i) {
    r[name("HR", i)] = static_cast<double>(hits_[i]) / n;
    r[name("NDCG", i)] = ndcg_[i] / n;
  }
  r["MRR"] = mrr_ / n;

  if (ctx_.num_items > 0) {
    int64_t long_tail_total = 0;
    for (uint8_t f : ctx_.long_tail) long_tail_total += f;
    for (size_t i = 0; i < nk; ++i) {
      int64_t covered = 0, covered_tail = 0;
      for (size_t item = 0; item < best_pos_.size(); ++item) {
        if (best_pos_[item] < cfg_.ks[i]) {
          ++covered;
          if (!ctx_.long_tail.empty() && ctx_.long_tail[item] == 1) ++covered_tail;
        }
      }
      r[name("CV_div", i)] = static_cast<double>(covered) / ctx_.num_items;
      if (!ctx_.long_tail.empty()) {
        r[name("CV_nov", i)] =
            static_cast<double>(covered_tail) / static_cast<double>(long_tail_total);
      }
    }
  }

  if (has_session_ == 1) {
    const auto sessions = static_cast<double>(session_items_.size());
    r["num_sessions"] = sessions;
    for (size_t i = 0; i < nk; ++i) {
      r[name("R", i)] = static_cast<double>(recs_[i] - distinct_[i]) / sessions;
    }
  }

  if (ctx_.has_history) {
    if (has_user_ == 1) {
      // Sum users in id order so the floating-point result does not depend on hash order.
      std::vector<int32_t> ids;
      ids.reserve(users_.size());
      for (const auto& entry : users_) ids.push_back(entry.first);
      std::sort(ids.begin(), ids.end());
      const auto num_users = static_cast<double>(ids.size());
      r["num_users"] = num_users;
      for (size_t i = 0; i < nk; ++i) {
        double sum = 0;
        for (int32_t id : ids) {
          const UserSums& u = users_.at(id);
          sum += u.unseen[i] / static_cast<double>(u.queries);
        }
        r[name("UP", i)] = sum / num_users;
      }
    } else {
      r["num_users"] = n;
      for (size_t i = 0; i < nk; ++i) r[name("UP", i)] = unseen_anonymous_[i] / n;
    }
    r["num_serendipity_queries"] = static_cast<double>(num_serendipitous_);
    if (num_serendipitous_ > 0) {
      const auto ns = static_cast<double>(num_serendipitous_);
      for (size_t i = 0; i < nk; ++i) {
        r[name("HR_ser", i)] = static_cast<double>(ser_hits_[i]) / ns;
        r[name("NDCG_ser", i)] = ser_ndcg_[i] / ns;
      }
    }
  }
  return r;
}

std::map<std::string, double> ComputeRankingMetrics(const std::vector<RankingQuery>& queries,
                                                    const MetricsContext& ctx,
                                                    const MetricsConfig& cfg) {
  RankingMetricsAccumulator acc(ctx, cfg);
  for (const auto& q : queries) acc.Add(q);
  return acc.Result();
}

}  // namespace recarena::experiments
