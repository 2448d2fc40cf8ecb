#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "experiments/eval/metrics.h"

using recarena::Error;
using recarena::experiments::ComputeRankingMetrics;
using recarena::experiments::LongTailFromPopularity;
using recarena::experiments::MetricsConfig;
using recarena::experiments::MetricsContext;
using recarena::experiments::RankingMetricsAccumulator;
using recarena::experiments::RankingQuery;
using recarena::experiments::RankOf;
using recarena::experiments::TopK;

namespace {

RankingQuery Q(int64_t id, std::vector<int32_t> ranked, int32_t target) {
  RankingQuery q;
  q.query_id = id;
  q.ranked = std::move(ranked);
  q.target = target;
  return q;
}

MetricsConfig Ks(std::vector<int> ks) {
  MetricsConfig cfg;
  cfg.ks = std::move(ks);
  return cfg;
}

const double kInvLog2_3 = 1.0 / std::log2(3.0);  // 0.6309297536: NDCG gain at rank 1

}  // namespace

// ---------------------------------------------------------------------------------------------
// TopK / RankOf

TEST_CASE("TopK: descending score, ties by smaller id", "[metrics][topk]") {
  //                      0    1    2    3    4    5
  const float scores[] = {0.5, 0.9, 0.5, 0.9, 0.1, 0.5};
  // Full order: 1, 3 (0.9; 1 < 3), 0, 2, 5 (0.5), 4 (0.1).
  CHECK(TopK(scores, 6, 3) == std::vector<int32_t>{1, 3, 0});
  CHECK(TopK(scores, 6, 4) == std::vector<int32_t>{1, 3, 0, 2});
  CHECK(TopK(scores, 6, 6) == std::vector<int32_t>{1, 3, 0, 2, 5, 4});
  CHECK(TopK(scores, 6, 100) == std::vector<int32_t>{1, 3, 0, 2, 5, 4});  // k > n: all items
  CHECK(TopK(scores, 6, 0).empty());
  CHECK(TopK(scores, 0, 5).empty());
  CHECK_THROWS_AS(TopK(scores, 6, -1), Error);
}

TEST_CASE("TopK / RankOf: masked items are excluded", "[metrics][topk]") {
  const float scores[] = {0.5, 0.9, 0.5, 0.9, 0.1, 0.5};
  const uint8_t mask[] = {0, 1, 1, 0, 1, 1};  // drop items 0 and 3
  CHECK(TopK(scores, 6, 10, mask) == std::vector<int32_t>{1, 2, 5, 4});
  CHECK(TopK(scores, 6, 2, mask) == std::vector<int32_t>{1, 2});
  CHECK(RankOf(scores, 6, 1, mask) == 0);
  CHECK(RankOf(scores, 6, 2, mask) == 1);  // only item 1 is ahead once 0 and 3 are gone
  CHECK(RankOf(scores, 6, 4, mask) == 3);
  CHECK_THROWS_AS(RankOf(scores, 6, 3, mask), Error);  // a masked target has no rank
  // A NaN on a masked item is ignored; on an eligible item it is an error.
  const float with_nan[] = {std::numeric_limits<float>::quiet_NaN(), 0.2f, 0.3f};
  const uint8_t skip_nan[] = {0, 1, 1};
  CHECK(TopK(with_nan, 3, 2, skip_nan) == std::vector<int32_t>{2, 1});
  CHECK_THROWS_AS(TopK(with_nan, 3, 2), Error);
  CHECK_THROWS_AS(RankOf(with_nan, 3, 1), Error);
}

TEST_CASE("RankOf: ties by smaller id, range checks", "[metrics][topk]") {
  const float scores[] = {0.5, 0.9, 0.5, 0.9, 0.1, 0.5};
  CHECK(RankOf(scores, 6, 1) == 0);
  CHECK(RankOf(scores, 6, 3) == 1);  // ties with 1, which has the smaller id
  CHECK(RankOf(scores, 6, 0) == 2);
  CHECK(RankOf(scores, 6, 2) == 3);
  CHECK(RankOf(scores, 6, 5) == 4);
  CHECK(RankOf(scores, 6, 4) == 5);
  CHECK_THROWS_AS(RankOf(scores, 6, 6), Error);
  CHECK_THROWS_AS(RankOf(scores, 6, -1), Error);
}

TEST_CASE("RankOf agrees with TopK on random scores with many ties", "[metrics][topk]") {
  recarena::Rng rng(11);
  const int32_t n = 300;
  std::vector<float> scores(n);
  std::vector<uint8_t> mask(n);
  for (int32_t i = 0; i < n; ++i) {
    scores[i] = static_cast<float>(rng.UniformInt(20)) / 4.0f;  // 20 distinct values: many ties
    mask[i] = rng.Bernoulli(0.8) ? 1 : 0;
  }
  const auto all = TopK(scores.data(), n, n, mask.data());
  const auto eligible = std::count(mask.begin(), mask.end(), uint8_t{1});
  REQUIRE(static_cast<int64_t>(all.size()) == eligible);
  for (size_t r = 0; r < all.size(); ++r) {
    CHECK(RankOf(scores.data(), n, all[r], mask.data()) == static_cast<int64_t>(r));
  }
  // Any shorter top-k is a prefix of the full order.
  const auto top7 = TopK(scores.data(), n, 7, mask.data());
  CHECK(top7 == std::vector<int32_t>(all.begin(), all.begin() + 7));
}

// ---------------------------------------------------------------------------------------------
// Accuracy and coverage

TEST_CASE("metrics: HR, NDCG, MRR, CV_div, CV_nov on four hand-made queries", "[metrics]") {
  // Catalog of 8 items; long-tail = {4, 5, 6, 7}.
  MetricsContext ctx;
  ctx.num_items = 8;
  ctx.long_tail = {0, 0, 0, 0, 1, 1, 1, 1};
  ctx.has_history = false;
  const std::vector<RankingQuery> qs = {
      Q(1, {3, 1, 4, 0}, 3),  // target at rank 0
      Q(2, {2, 3, 0, 1}, 3),  // rank 1
      Q(3, {0, 4, 2, 1}, 2),  // rank 2
      Q(4, {1, 0, 6, 3}, 5),  // absent (a miss at every k, MRR 0)
  };
  const auto m = ComputeRankingMetrics(qs, ctx, Ks({2, 3}));
  CHECK(m.at("num_queries") == 4);
  // HR@2 = 2/4 (ranks 0 and 1); HR@3 = 3/4.
  CHECK(m.at("HR@2") == Approx(0.5));
  CHECK(m.at("HR@3") == Approx(0.75));
  // NDCG@2 = (1/log2(2) + 1/log2(3)) / 4 = (1 + 0.63093) / 4 = 0.40773.
  CHECK(m.at("NDCG@2") == Approx((1.0 + kInvLog2_3) / 4.0));
  CHECK(m.at("NDCG@2") == Approx(0.4077324));
  // NDCG@3 adds 1/log2(4) = 0.5: (1 + 0.63093 + 0.5) / 4 = 0.53273.
  CHECK(m.at("NDCG@3") == Approx(0.5327324));
  // MRR = (1/1 + 1/2 + 1/3 + 0) / 4 = 11/24.
  CHECK(m.at("MRR") == Approx(11.0 / 24.0));
  // Top-2 union: {3,1} u {2,3} u {0,4} u {1,0} = {0,1,2,3,4} -> 5/8.
  CHECK(m.at("CV_div@2") == Approx(5.0 / 8.0));
  // Top-3 union adds 6 (q4 position 2) -> {0,...,4,6} = 6/8.
  CHECK(m.at("CV_div@3") == Approx(6.0 / 8.0));
  // Long-tail part: @2 {4} -> 1/4; @3 {4,6} -> 2/4.
  CHECK(m.at("CV_nov@2") == Approx(0.25));
  CHECK(m.at("CV_nov@3") == Approx(0.5));
  // No sessions, no histories: those metrics are absent, not zero.
  CHECK(m.count("R@2") == 0);
  CHECK(m.count("UP@2") == 0);
  CHECK(m.count("HR_ser@2") == 0);
  CHECK(m.count("num_sessions") == 0);
}

TEST_CASE("metrics: unknown catalog size / long tail leave CV out", "[metrics]") {
  MetricsContext ctx;  // num_items 0 = unknown
  ctx.has_history = false;
  const auto m = ComputeRankingMetrics({Q(1, {0, 1}, 1)}, ctx, Ks({1}));
  CHECK(m.at("HR@1") == 0.0);
  CHECK(m.at("MRR") == Approx(0.5));
  CHECK(m.count("CV_div@1") == 0);
  CHECK(m.count("CV_nov@1") == 0);
  // No queries at all: only the count.
  const auto empty = ComputeRankingMetrics({}, ctx, Ks({1}));
  CHECK(empty.size() == 1);
  CHECK(empty.at("num_queries") == 0);
}

TEST_CASE("metrics: truncated lists and target_rank from a full-catalog ranking", "[metrics]") {
  MetricsContext ctx;
  ctx.num_items = 20;
  ctx.has_history = false;
  // Only 2 items shown, but the caller knows the target's full rank is 7.
  RankingQuery q = Q(1, {5, 6}, 9);
  q.target_rank = 7;
  const auto m = ComputeRankingMetrics({q}, ctx, Ks({2, 10}));
  CHECK(m.at("HR@2") == 0.0);
  CHECK(m.at("HR@10") == 1.0);
  CHECK(m.at("NDCG@10") == Approx(1.0 / std::log2(9.0)));  // 0.31546
  CHECK(m.at("MRR") == Approx(1.0 / 8.0));
  // Coverage counts only the items actually shown: {5, 6} at every k.
  CHECK(m.at("CV_div@10") == Approx(2.0 / 20.0));

  // Without target_rank the absent target contributes 0 to MRR.
  const auto m2 = ComputeRankingMetrics({Q(1, {5, 6}, 9)}, ctx, Ks({2, 10}));
  CHECK(m2.at("MRR") == 0.0);
  CHECK(m2.at("HR@10") == 0.0);

  // target_rank must agree with the list.
  RankingQuery bad = Q(1, {5, 9, 6}, 9);
  bad.target_rank = 0;  // but 9 is at position 1
  CHECK_THROWS_WITH(ComputeRankingMetrics({bad}, ctx, Ks({2})),
                    Catch::Contains("query 1") && Catch::Contains("target_rank 0"));
  RankingQuery bad2 = Q(2, {5, 6, 7}, 9);
  bad2.target_rank = 1;  // position 1 is item 6, not 9
  CHECK_THROWS_AS(ComputeRankingMetrics({bad2}, ctx, Ks({2})), Error);
}

// ---------------------------------------------------------------------------------------------
// Repetitiveness (Eq. 4.20)

TEST_CASE("metrics: R@k counts repeated recommendations within a session (Eq. 4.20)",
          "[metrics][repetitiveness]") {
  MetricsContext ctx;
  ctx.num_items = 10;
  ctx.has_history = false;
  auto in_session = [](RankingQuery q, int64_t s) {
    q.session = s;
    return q;
  };
  // Session 10: [1,2,3], [2,1,4], [5,2,6]; session 20: [7,8,9], [9,7]. Interleaved on purpose.
  const std::vector<RankingQuery> qs = {
      in_session(Q(1, {1, 2, 3}, 0), 10), in_session(Q(4, {7, 8, 9}, 0), 20),
      in_session(Q(2, {2, 1, 4}, 0), 10), in_session(Q(5, {9, 7}, 0), 20),
      in_session(Q(3, {5, 2, 6}, 0), 10),
  };
  const auto m = ComputeRankingMetrics(qs, ctx, Ks({1, 2, 3}));
  // R per session = recommendations made - distinct items recommended.
  // k=1: s10 [1],[2],[5] 3-3=0; s20 [7],[9] 2-2=0            -> R@1 = 0
  // k=2: s10 [1,2],[2,1],[5,2] 6-|{1,2,5}|=3; s20 [7,8],[9,7] 4-|{7,8,9}|=1 -> (3+1)/2 = 2
  // k=3: s10 9-|{1,...,6}|=3; s20 [7,8,9],[9,7] 5-3=2          -> (3+2)/2 = 2.5
  CHECK(m.at("num_sessions") == 2);
  CHECK(m.at("R@1") == Approx(0.0));
  CHECK(m.at("R@2") == Approx(2.0));
  CHECK(m.at("R@3") == Approx(2.5));
}

TEST_CASE("metrics: mixing queries with and without session or user ids is an error", "[metrics]") {
  MetricsContext ctx;
  ctx.num_items = 5;
  RankingMetricsAccumulator acc(ctx, Ks({1}));
  RankingQuery a = Q(1, {0}, 0);
  a.session = 3;
  a.user = 2;
  acc.Add(a);
  RankingQuery b = Q(2, {1}, 1);
  b.user = 2;  // no session
  CHECK_THROWS_WITH(acc.Add(b), Catch::Contains("query 2") && Catch::Contains("session"));
  RankingQuery c = Q(3, {1}, 1);
  c.session = 3;  // no user
  CHECK_THROWS_WITH(acc.Add(c), Catch::Contains("query 3") && Catch::Contains("user"));
  // Rejected queries are not counted.
  CHECK(acc.num_queries() == 1);
  CHECK(acc.Result().at("num_queries") == 1);
}

// ---------------------------------------------------------------------------------------------
// Unexpectedness and serendipity (Sec. 5.4.3)

namespace {
std::vector<RankingQuery> UserQueries(bool with_users) {
  auto q = [&](int64_t id, std::vector<int32_t> ranked, int32_t target,
               std::vector<int32_t> history, int32_t user) {
    RankingQuery r = Q(id, std::move(ranked), target);
    r.history = std::move(history);
    r.user = with_users ? user : -1;
    return r;
  };
  return {
      q(1, {1, 3, 4}, 3, {1, 2}, 1),  // unseen @2: {3} = 1, @3: {3,4} = 2; target new, rank 1
      q(2, {2, 5, 3}, 3, {1, 2, 3},
        1),                       // unseen @2: {5} = 1, @3: 1; target seen (not serendipitous)
      q(3, {6, 7, 0}, 0, {}, 2),  // no earlier sessions: unseen @2 = 2, @3 = 3; rank 2
      q(4, {4, 6}, 5, {4}, 3),    // short list: unseen @2 = @3 = {6} = 1; target new, absent
  };
}
}  // namespace

TEST_CASE("metrics: UP@k averages UNSEEN counts per user, then over users (Sec. 5.4.3)",
          "[metrics][unexpectedness]") {
  MetricsContext ctx;
  ctx.num_items = 8;
  const auto m = ComputeRankingMetrics(UserQueries(true), ctx, Ks({2, 3}));
  // user 1: @2 (1+1)/2 = 1, @3 (2+1)/2 = 1.5; user 2: 2, 3; user 3: 1, 1.
  CHECK(m.at("num_users") == 3);
  CHECK(m.at("UP@2") == Approx((1.0 + 2.0 + 1.0) / 3.0));  // 4/3
  CHECK(m.at("UP@3") == Approx((1.5 + 3.0 + 1.0) / 3.0));  // 1.8333
  // Without user ids every query is its own user: plain mean over queries.
  const auto anon = ComputeRankingMetrics(UserQueries(false), ctx, Ks({2, 3}));
  CHECK(anon.at("num_users") == 4);
  CHECK(anon.at("UP@2") == Approx((1.0 + 1.0 + 2.0 + 1.0) / 4.0));  // 5/4
  CHECK(anon.at("UP@3") == Approx((2.0 + 1.0 + 3.0 + 1.0) / 4.0));  // 7/4
}

TEST_CASE("metrics: HR_ser / NDCG_ser count only targets unseen in earlier sessions",
          "[metrics][serendipity]") {
  MetricsContext ctx;
  ctx.num_items = 8;
  const auto m = ComputeRankingMetrics(UserQueries(true), ctx, Ks({2, 3}));
  // Accuracy over all 4 queries: ranks 1, 2, 2, absent.
  CHECK(m.at("HR@2") == Approx(0.25));
  CHECK(m.at("HR@3") == Approx(0.75));
  // Serendipitous queries: 1 (rank 1), 3 (rank 2), 4 (absent); query 2's target 3 was seen.
  CHECK(m.at("num_serendipity_queries") == 3);
  CHECK(m.at("HR_ser@2") == Approx(1.0 / 3.0));
  CHECK(m.at("HR_ser@3") == Approx(2.0 / 3.0));
  // NDCG_ser@2 = (1/log2 3) / 3 = 0.21031; @3 = (1/log2 3 + 1/log2 4) / 3 = 0.37698.
  CHECK(m.at("NDCG_ser@2") == Approx(kInvLog2_3 / 3.0));
  CHECK(m.at("NDCG_ser@3") == Approx(0.3769766));

  // All targets already seen: no serendipitous query, so HR_ser is absent (not 0).
  RankingQuery seen = Q(1, {2, 3}, 2);
  seen.history = {2};
  const auto none = ComputeRankingMetrics({seen}, ctx, Ks({2}));
  CHECK(none.at("num_serendipity_queries") == 0);
  CHECK(none.count("HR_ser@2") == 0);
  CHECK(none.at("UP@2") == Approx(1.0));  // item 3 is unseen
  // has_history = false removes UP and serendipity entirely.
  ctx.has_history = false;
  const auto off = ComputeRankingMetrics(UserQueries(true), ctx, Ks({2}));
  CHECK(off.count("UP@2") == 0);
  CHECK(off.count("num_serendipity_queries") == 0);
  CHECK(off.count("num_users") == 0);
}

// ---------------------------------------------------------------------------------------------
// Long tail from popularity, validation

TEST_CASE("LongTailFromPopularity: top 10% of items are head, ties by smaller id", "[metrics]") {
  // 12 items: head = ceil(0.1 * 12) = 2 items: 1 and 5 (both 100).
  const std::vector<int64_t> pop = {5, 100, 5, 7, 0, 100, 3, 1, 2, 9, 50, 5};
  const std::vector<uint8_t> want = {1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1};
  CHECK(LongTailFromPopularity(pop) == want);
  // 10 items, head = 1: items 1 and 2 tie at 9; the smaller id (1) is head.
  const std::vector<int64_t> tie = {3, 9, 9, 1, 0, 0, 0, 0, 0, 0};
  const std::vector<uint8_t> want_tie = {1, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK(LongTailFromPopularity(tie) == want_tie);
  CHECK(LongTailFromPopularity(tie, 0.0) == std::vector<uint8_t>(10, 1));
  CHECK_THROWS_AS(LongTailFromPopularity(tie, 1.5), Error);
  CHECK_THROWS_AS(LongTailFromPopularity({1, -2}), Error);

  // The accumulator derives long_tail from popularity when no flags are given.
  MetricsContext ctx;
  ctx.num_items = 10;
  ctx.popularity = tie;  // item 1 is the only head item
  ctx.has_history = false;
  const auto m = ComputeRankingMetrics({Q(1, {1, 2, 3}, 1)}, ctx, Ks({3}));
  CHECK(m.at("CV_nov@3") == Approx(2.0 / 9.0));  // {2, 3} of 9 long-tail items
  CHECK(m.at("CV_div@3") == Approx(3.0 / 10.0));
}

TEST_CASE("metrics: config and context validation", "[metrics]") {
  CHECK_THROWS_AS(Ks({}).Validate(), recarena::ConfigError);
  CHECK_THROWS_WITH(Ks({5, 0}).Validate(), Catch::Contains(">= 1"));
  CHECK_THROWS_WITH(Ks({5, 10, 5}).Validate(), Catch::Contains("twice"));
  CHECK_NOTHROW(Ks({20, 5}).Validate());

  MetricsContext ctx;
  ctx.num_items = 4;
  ctx.long_tail = {1, 0, 1};  // wrong size
  CHECK_THROWS_AS(RankingMetricsAccumulator(ctx, MetricsConfig{}), Error);
  ctx.long_tail = {0, 0, 0, 0};  // nothing long-tail: CV_nov undefined
  CHECK_THROWS_WITH(RankingMetricsAccumulator(ctx, MetricsConfig{}), Catch::Contains("no item"));
  ctx.long_tail = {0, 2, 0, 1};
  CHECK_THROWS_AS(RankingMetricsAccumulator(ctx, MetricsConfig{}), Error);
}

TEST_CASE("metrics: bad queries are rejected with the query id", "[metrics]") {
  MetricsContext ctx;
  ctx.num_items = 5;
  RankingMetricsAccumulator acc(ctx, Ks({2}));
  CHECK_THROWS_WITH(acc.Add(Q(7, {0, 1}, -1)), Catch::Contains("query 7"));
  CHECK_THROWS_WITH(acc.Add(Q(8, {0, 5}, 1)), Catch::Contains("query 8") && Catch::Contains("5"));
  CHECK_THROWS_WITH(acc.Add(Q(9, {3, 3}, 1)), Catch::Contains("twice"));
  RankingQuery h = Q(10, {0, 1}, 1);
  h.history = {9};
  CHECK_THROWS_WITH(acc.Add(h), Catch::Contains("history"));
  // A duplicate beyond max(k) is tolerated (it cannot affect any metric at these cut-offs).
  CHECK_NOTHROW(acc.Add(Q(11, {0, 1, 2, 2}, 1)));
  CHECK(acc.num_queries() == 1);
}

TEST_CASE("metrics: streaming accumulator equals the batch result", "[metrics]") {
  MetricsContext ctx;
  ctx.num_items = 8;
  ctx.long_tail = {0, 0, 0, 0, 1, 1, 1, 1};
  const auto qs = UserQueries(true);
  RankingMetricsAccumulator acc(ctx, Ks({2, 3}));
  for (const auto& q : qs) acc.Add(q);
  CHECK(acc.Result() == ComputeRankingMetrics(qs, ctx, Ks({2, 3})));
}
