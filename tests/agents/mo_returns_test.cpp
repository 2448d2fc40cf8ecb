// Golden multi-objective returns (thesis Eqs. 4.3-4.6, 4.18, Algorithm 2) on hand-made sequences.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "agents/mo_returns.h"
#include "core/error.h"

using namespace recarena::agents;

namespace {
// 2-D item vectors: item 0 = (1, 0), 1 = (0, 1), 2 = (1, 1), 3 = (-1, 0).
const std::vector<std::vector<float>> kVec = {{1, 0}, {0, 1}, {1, 1}, {-1, 0}};
std::vector<std::vector<float>> Rows(const std::vector<int>& items) {
  std::vector<std::vector<float>> r;
  for (int i : items) r.push_back(kVec[static_cast<size_t>(i)]);
  return r;
}
}  // namespace

TEST_CASE("mo_returns: accuracy return is T - t + 1", "[agents][mo_returns]") {
  CHECK(AccuracyReturns(4) == std::vector<float>{4, 3, 2, 1});
  CHECK(AccuracyReturns(0).empty());
}

TEST_CASE("mo_returns: novelty return counts future long-tail actions", "[agents][mo_returns]") {
  const std::vector<uint8_t> long_tail = {0, 1, 1, 0};
  // actions a_1..a_4 = 1, 0, 2, 3 -> rewards 1, 0, 1, 0.
  CHECK(NoveltyReturns({1, 0, 2, 3}, long_tail) == std::vector<float>{2, 1, 1, 0});
  CHECK_THROWS_AS(NoveltyReturns({4}, long_tail), recarena::Error);
}

TEST_CASE("mo_returns: diversity return is 1 + mean pairwise cosine of the prefix",
          "[agents][mo_returns]") {
  // x = 0, 1, 2: cos(0,1) = 0, cos(0,2) = cos(1,2) = 1/sqrt(2).
  const double c = 1.0 / std::sqrt(2.0);
  const auto r = DiversityReturns(Rows({0, 1, 2}));
  REQUIRE(r.size() == 3);
  CHECK(r[0] == Approx(2.0));                    // Sim(x_1) = 1
  CHECK(r[1] == Approx(1.0));                    // Sim = cos(0, 1) = 0
  CHECK(r[2] == Approx(1.0 + (0 + c + c) / 3));  // three pairs
  CHECK(PrefixSimilarity(Rows({0, 3}), 2) == Approx(-1.0));
  CHECK(DiversityReturns(Rows({0, 3}))[1] == Approx(0.0));
  // r_{t,div} (Eq. 4.5) telescopes: R_t - R_{t+1} = Sim(x_1..x_t) - Sim(x_1..x_{t+1}).
  CHECK(r[0] - r[1] ==
        Approx(PrefixSimilarity(Rows({0, 1, 2}), 1) - PrefixSimilarity(Rows({0, 1, 2}), 2)));
}

TEST_CASE("mo_returns: training returns of one sequence", "[agents][mo_returns]") {
  const std::vector<uint8_t> long_tail = {0, 1, 1, 0};
  // Sequence x = 0, 3, 1 and a_3 = 2: states 0, 3, 1; actions 3, 1, 2.
  const auto r = TrainingReturns({3, 1, 2}, Rows({0, 3, 1}), long_tail);
  CHECK(r.accuracy == std::vector<float>{3, 2, 1});
  CHECK(r.novelty == std::vector<float>{2, 2, 1});
  CHECK(r.diversity[0] == Approx(2.0));
  CHECK(r.diversity[1] == Approx(0.0));
  CHECK(r.diversity[2] == Approx(1.0 + (-1.0 + 0.0 + 0.0) / 3));
  CHECK_THROWS_AS(TrainingReturns({3, 1}, Rows({0, 3, 1}), long_tail), recarena::Error);
}

TEST_CASE("mo_returns: Eq. 4.18 novelty reward at the predicted position", "[agents][mo_returns]") {
  CHECK(PredictedNoveltyReward({1, 0, 1}, 0.5, 0.0F) == 1.0F);  // mean 2/3
  CHECK(PredictedNoveltyReward({1, 0, 0}, 0.5, 1.0F) == 0.0F);  // mean 1/3
  CHECK(PredictedNoveltyReward({1, 0}, 0.5, 0.0F) == 1.0F);     // mean = epsilon counts
  CHECK(PredictedNoveltyReward({}, 0.5, 1.0F) == 1.0F);         // p = 1: the fallback
  CHECK(PredictedNoveltyReward({}, 0.5, 0.0F) == 0.0F);
}

TEST_CASE("mo_returns: Algorithm 2 inference returns", "[agents][mo_returns]") {
  const std::vector<uint8_t> long_tail = {0, 1, 1, 0};
  InferenceReturnOptions o;
  o.epsilon = 0.5;
  o.lambda = 1.0;
  // Prefix x = 0, 1, 2 (p = 3): observed rewards r_1 = lt[1] = 1, r_2 = lt[2] = 1; r_3 = 1 (mean
  // 1).
  auto r = InferenceReturns({0, 1, 2}, Rows({0, 1, 2}), long_tail, o);
  CHECK(r.accuracy == std::vector<float>{3, 2, 1});
  CHECK(r.novelty == std::vector<float>{3, 2, 1});
  CHECK(r.diversity[0] == Approx(2.0));
  CHECK(r.diversity[1] == Approx(1.0));
  CHECK(r.diversity[2] == Approx(1.0));  // R_{p,div} = R_{p-1,div}
  // Prefix 1, 0, 3: rewards lt[0] = 0, lt[3] = 0 -> mean 0 < epsilon -> r_3 = 0.
  r = InferenceReturns({1, 0, 3}, Rows({1, 0, 3}), long_tail, o);
  CHECK(r.novelty == std::vector<float>{0, 0, 0});
  // epsilon 0 always predicts a novel item.
  o.epsilon = 0.0;
  r = InferenceReturns({1, 0, 3}, Rows({1, 0, 3}), long_tail, o);
  CHECK(r.novelty == std::vector<float>{1, 1, 1});
  // lambda scales every diversity return.
  o.lambda = 0.5;
  r = InferenceReturns({0, 1, 2}, Rows({0, 1, 2}), long_tail, o);
  CHECK(r.diversity[0] == Approx(1.0));
  CHECK(r.diversity[2] == Approx(0.5));
  // p = 1: the fallback novelty mean is lt[x_1]; diversity 1 + Sim(x_1) = 2 (times lambda).
  o.epsilon = 0.5;
  o.lambda = 1.0;
  r = InferenceReturns({2}, Rows({2}), long_tail, o);
  CHECK(r.accuracy == std::vector<float>{1});
  CHECK(r.novelty == std::vector<float>{1});
  CHECK(r.diversity[0] == Approx(2.0));
}

TEST_CASE("mo_returns: online returns-to-go in the simulator", "[agents][mo_returns]") {
  const std::vector<uint8_t> long_tail = {0, 1, 1, 0};
  // Context x = 0, 2, 1 (p = 3); targets to go: accuracy 5, novelty 2.
  // acc: R_3 = 5, earlier steps add one per consumed item: 6, 7.
  // nov: R_3 = 2, R_2 = 2 + lt[x_3 = 1] = 3, R_1 = 3 + lt[x_2 = 2] = 4.
  auto r = OnlineReturns({0, 2, 1}, Rows({0, 2, 1}), long_tail, 5.0, 2.0, 0.5);
  CHECK(r.accuracy == std::vector<float>{7, 6, 5});
  CHECK(r.novelty == std::vector<float>{4, 3, 2});
  // Diversity is Algorithm 2's with lambda 0.5: 0.5 (1 + Sim(x_1)) = 1; 0.5 (1 + cos 45) for
  // x_1..x_2; step p repeats step p - 1.
  CHECK(r.diversity[0] == Approx(1.0));
  CHECK(r.diversity[1] == Approx(0.5 * (1.0 + std::sqrt(0.5))));
  CHECK(r.diversity[2] == Approx(r.diversity[1]));
  // Targets already reached: the decision step keeps R_acc = 1 and R_nov = 0.
  r = OnlineReturns({3, 1}, Rows({3, 1}), long_tail, -2.0, -1.0, 1.0);
  CHECK(r.accuracy == std::vector<float>{2, 1});
  CHECK(r.novelty == std::vector<float>{1, 0});
  // One item: only the decision step.
  r = OnlineReturns({2}, Rows({2}), long_tail, 3.0, 1.0, 1.0);
  CHECK(r.accuracy == std::vector<float>{3});
  CHECK(r.novelty == std::vector<float>{1});
  CHECK(r.diversity[0] == Approx(2.0));
}
