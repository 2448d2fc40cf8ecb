#include <catch2/catch.hpp>

#include <cmath>

#include "agents/session_returns.h"
#include "core/error.h"

using recarena::agents::ItemVectors;

namespace {
// 0 = (1, 0), 1 = (0, 1), 2 = (1, 1), 3 = (-1, 0), 4 = (0, 0).
ItemVectors Vectors() { return {{1, 0}, {0, 1}, {1, 1}, {-1, 0}, {0, 0}}; }
const double kRoot2 = std::sqrt(2.0);
}  // namespace

TEST_CASE("session returns: dis is 1 - mean pairwise cosine", "[agents][hdt][returns]") {
  using recarena::agents::AverageDissimilarity;
  const ItemVectors v = Vectors();
  // Pairs (0,1): 0, (0,2): 1/sqrt2, (1,2): 1/sqrt2 -> mean sqrt2/3.
  CHECK(AverageDissimilarity({0, 1, 2}, v) == Approx(1.0 - kRoot2 / 3.0));
  CHECK(AverageDissimilarity({0, 3}, v) == Approx(2.0));
  CHECK(AverageDissimilarity({0, 0}, v) == Approx(0.0).margin(1e-12));  // repeat: cos 1
  CHECK(AverageDissimilarity({0, 4}, v) == Approx(1.0));                // zero vector: cos 0
  CHECK(AverageDissimilarity({2}, v) == 0.0);                           // no pair
  CHECK(AverageDissimilarity({}, v) == 0.0);
  CHECK_THROWS_AS(AverageDissimilarity({0, 5}, v), recarena::Error);
  CHECK(recarena::agents::MaxPairwiseDissimilarity(v) == Approx(2.0));
  CHECK(recarena::agents::MaxPairwiseDissimilarity({{1, 0}, {1, 1}}) == Approx(1.0 - 1.0 / kRoot2));
}

TEST_CASE("session returns: inter-session unexpected return (Eq. 5.2)", "[agents][hdt][returns]") {
  const ItemVectors v = Vectors();
  // dis(C_1 = {0, 1}) = 1; dis({0, 1, 3}) = 1 - (0 - 1 + 0) / 3 = 4/3.
  const auto r = recarena::agents::InterSessionUnexpectedReturns({{0, 1}, {3}}, v, 2.0);
  REQUIRE(r.size() == 2);
  CHECK(r[0] == Approx(1.0));
  CHECK(r[1] == Approx(2.0 / 3.0));
}

TEST_CASE("session returns: intra-session unexpected return (Eq. 5.8)", "[agents][hdt][returns]") {
  const ItemVectors v = Vectors();
  const double total = 1.0 - kRoot2 / 3.0;
  const auto r = recarena::agents::IntraSessionUnexpectedReturns({0, 1, 2}, v);
  REQUIRE(r.size() == 3);
  CHECK(r[0] == Approx(total));        // dis(x_1) = 0
  CHECK(r[1] == Approx(total - 1.0));  // dis(x_1, x_2) = 1
  CHECK(r[2] == Approx(0.0).margin(1e-12));
}

TEST_CASE("session returns: novel items and novelty return (Eq. 5.7)", "[agents][hdt][returns]") {
  using recarena::agents::NovelItemSet;
  // Ranked 4 (9), 0 (5), 2 (3), 1 (1), 3 (0); floor(0.6 * 5) = 3 novel -> head {4, 0}.
  const std::vector<bool> novel = NovelItemSet({5, 1, 3, 0, 9}, 0.6);
  CHECK(novel == std::vector<bool>{false, true, true, true, false});
  // Ties: the smaller id ranks first (is popular).
  CHECK(NovelItemSet({2, 2, 2}, 0.5) == std::vector<bool>{false, false, true});
  CHECK(NovelItemSet({2, 2, 2}, 0.0) == std::vector<bool>{false, false, false});
  CHECK_THROWS_AS(NovelItemSet({1}, 1.5), recarena::Error);
  // Session 4, 1, 2, 0: novel among x_{t+1..T} = {1, 2, 0} -> 2, {2, 0} -> 1, {0} -> 0, {} -> 0.
  const auto r = recarena::agents::IntraSessionNoveltyReturns({4, 1, 2, 0}, novel);
  CHECK(r == std::vector<double>{2, 1, 0, 0});
}
