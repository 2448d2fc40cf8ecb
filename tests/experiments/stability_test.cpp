#include <catch2/catch.hpp>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "experiments/cli/eval_commands.h"
#include "experiments/eval/rankings_io.h"
#include "experiments/eval/stability.h"
#include "test_util.h"

using namespace recarena::experiments;
using recarena::testing::TempDir;
using V = std::vector<int32_t>;

// Hand-computed values (docs/stability.md has the definitions), p = 0.9.
TEST_CASE("stability: identical, disjoint, a top-two swap, unequal lengths, empty", "[stability]") {
  const double p = 0.9;
  // Identical: A_d = 1 everywhere.
  CHECK(AverageOverlap({1, 2, 3}, {1, 2, 3}, 3) == 1.0);
  CHECK(RboAtK({1, 2, 3}, {1, 2, 3}, p, 3) == Approx(1.0 - 0.729));
  CHECK(RboExt({1, 2, 3}, {1, 2, 3}, p) == Approx(1.0));
  CHECK(FrboAtK({1, 2, 3}, {1, 2, 3}, p, 3) == Approx(1.0));
  CHECK(JaccardAtK({1, 2, 3}, {1, 2, 3}, 2) == 1.0);
  // Disjoint: every X_d = 0.
  CHECK(AverageOverlap({1, 2}, {3, 4}, 2) == 0.0);
  CHECK(RboAtK({1, 2}, {3, 4}, p, 2) == 0.0);
  CHECK(RboExt({1, 2}, {3, 4}, p) == 0.0);
  CHECK(FrboAtK({1, 2}, {3, 4}, p, 2) == 0.0);
  CHECK(JaccardAtK({1, 2}, {3, 4}, 2) == 0.0);
  // The top two swapped: X = 0, 2, 3, so A = 0, 1, 1.
  const V s{1, 2, 3}, t{2, 1, 3};
  CHECK(AverageOverlap(s, t, 3) == Approx(2.0 / 3.0));
  CHECK(RboAtK(s, t, p, 3) == Approx(0.1 * (0.9 + 0.81)));      // 0.171
  CHECK(RboExt(s, t, p) == Approx(0.171 + 0.729));              // + A_3 p^3 = 0.9
  CHECK(FrboAtK(s, t, p, 3) == Approx(0.171 / (1.0 - 0.729)));  // 0.6310
  CHECK(JaccardAtK(s, t, 1) == 0.0);
  CHECK(JaccardAtK(s, t, 2) == 1.0);
  // Unequal lengths: T = [1, 2] is a prefix of S = [1, 2, 3]: X = 1, 2, 2. RBO_ext extrapolates
  // the agreement of the shorter list, 1 (Webber Eq. 32 by hand:
  // (0.1/0.9) (0.9 + 0.81 + 2/3 * 0.729 + 2 * 1/(2*3) * 0.729) + 0.729 * (0 + 1) = 1).
  CHECK(RboExt({1, 2, 3}, {1, 2}, p) == Approx(1.0));
  CHECK(RboExt({1, 2}, {1, 2, 3}, p) == Approx(1.0));
  CHECK(AverageOverlap({1, 2, 3}, {1, 2}, 3) == Approx((1.0 + 1.0 + 2.0 / 3.0) / 3.0));
  CHECK(JaccardAtK({1, 2, 3}, {1, 2}, 3) == Approx(2.0 / 3.0));
  // [1, 2, 4] vs [1]: s = 1, l = 3, X = 1, 1, 1:
  // (0.1/0.9) (0.9 + 0.81/2 + 0.729/3 + 1*1/(1*2)*0.81 + 1*2/(1*3)*0.729) + 0.729 (0/3 + 1) = 1.
  CHECK(RboExt({1, 2, 4}, {1}, p) == Approx(1.0));
  // A shorter list than k: FRBO@k is the un-normalised RBO@k.
  CHECK(FrboAtK({1, 2}, {1, 2}, p, 3) == Approx(RboAtK({1, 2}, {1, 2}, p, 3)));
  // Empty rankings: two agree fully, one against a list not at all.
  CHECK(AverageOverlap({}, {}, 1) == 1.0);
  CHECK(RboExt({}, {}, p) == 1.0);
  CHECK(RboExt({}, {1}, p) == 0.0);
  CHECK(JaccardAtK({}, {}, 5) == 1.0);
  CHECK(JaccardAtK({}, {1}, 5) == 0.0);
  // Bad parameters.
  CHECK_THROWS_WITH(RboAtK(s, t, 1.0, 3), Catch::Contains("p must be in (0, 1)"));
  CHECK_THROWS_WITH(RboAtK(s, t, 0.9, 0), Catch::Contains("k must be >= 1"));
}

TEST_CASE("stability: RBO_ext of equal lengths is RBO@k + A_k p^k, and RBO@k grows with k",
          "[stability]") {
  const V s{5, 1, 9, 3, 7, 2}, t{1, 5, 3, 8, 2, 6};
  const double p = 0.8;
  const auto x6 = 4.0;  // {5,1,3,2} are in both
  CHECK(RboExt(s, t, p) == Approx(RboAtK(s, t, p, 6) + x6 / 6.0 * std::pow(p, 6)));
  double last = 0.0;
  for (int k = 1; k <= 8; ++k) {
    const double r = RboAtK(s, t, p, k);
    CHECK(r >= last);
    CHECK(r <= 1.0 - std::pow(p, k) + 1e-12);
    last = r;
  }
}

TEST_CASE("eval stability: JSON over two files, groups, and errors naming file and line",
          "[stability][cli]") {
  TempDir dir;
  dir.Write("a.txt", "1 1 2 3\n2 4 5\n3 7 8 9\n");
  dir.Write("b.txt", "2 4 5\n1 2 1 3\n3 10 11 12\n");
  dir.Write("g.txt", "1 heavy\n2 heavy\n3 light\n");
  std::ostringstream out;
  REQUIRE(RunEvalStability(
              {"--a", (dir.path() / "a.txt").string(), "--b", (dir.path() / "b.txt").string(),
               "--k", "2", "--groups", (dir.path() / "g.txt").string()},
              out) == 0);
  const auto j = nlohmann::json::parse(out.str());
  CHECK(j["num_queries"] == 3);
  // Query 1 is the top-two swap (Jaccard@2 1), 2 identical (1), 3 disjoint (0).
  CHECK(j["overall"]["Jaccard@2"]["mean"].get<double>() == Approx(2.0 / 3.0));
  CHECK(j["groups"]["heavy"]["Jaccard@2"]["mean"].get<double>() == Approx(1.0));
  CHECK(j["groups"]["light"]["AO"]["mean"].get<double>() == Approx(0.0));
  CHECK(j["groups"]["heavy"]["AO"]["mean"].get<double>() == Approx((2.0 / 3.0 + 1.0) / 2.0));
  CHECK(j["overall"]["RBO_ext"]["ci95"][0].get<double>() <
        j["overall"]["RBO_ext"]["mean"].get<double>());
  // Comparing a file with itself gives 1 for every normalised metric (FRBO@k at a k no list is
  // shorter than).
  out.str("");
  REQUIRE(RunEvalStability({"--a", (dir.path() / "a.txt").string(), "--b",
                            (dir.path() / "a.txt").string(), "--k", "2"},
                           out) == 0);
  const auto same = nlohmann::json::parse(out.str());
  for (const char* m : {"AO", "RBO_ext", "FRBO@2", "Jaccard@2"}) {
    INFO(m);
    CHECK(same["overall"][m]["mean"].get<double>() == Approx(1.0));
  }
  // Errors.
  dir.Write("c.txt", "2 4 5\n1 2 1 3\n");
  CHECK_THROWS_WITH(
      RunEvalStability(
          {"--a", (dir.path() / "a.txt").string(), "--b", (dir.path() / "c.txt").string()}, out),
      Catch::Contains("a.txt:3") && Catch::Contains("'3'") && Catch::Contains("no line in"));
  dir.Write("d.txt", "2 4 5\n1 2 1 3\n3 1 2\n4 1\n");
  CHECK_THROWS_WITH(
      RunEvalStability(
          {"--a", (dir.path() / "a.txt").string(), "--b", (dir.path() / "d.txt").string()}, out),
      Catch::Contains("d.txt:4") && Catch::Contains("'4'"));
  dir.Write("e.txt", "2 4 5\n1 2 2 3\n3 1\n");
  CHECK_THROWS_WITH(
      RunEvalStability(
          {"--a", (dir.path() / "a.txt").string(), "--b", (dir.path() / "e.txt").string()}, out),
      Catch::Contains("e.txt:2") && Catch::Contains("ranked twice"));
  dir.Write("g2.txt", "1 heavy\n2 heavy\n");
  CHECK_THROWS_WITH(RunEvalStability({"--a", (dir.path() / "a.txt").string(), "--b",
                                      (dir.path() / "b.txt").string(), "--groups",
                                      (dir.path() / "g2.txt").string()},
                                     out),
                    Catch::Contains("g2.txt") && Catch::Contains("'3' has no group"));
  CHECK_THROWS_WITH(RunEvalStability({"--a", (dir.path() / "a.txt").string(), "--b",
                                      (dir.path() / "b.txt").string(), "--p", "1.5"},
                                     out),
                    Catch::Contains("--p") && Catch::Contains("1.5"));
  // String ids (RecBole-style) share one item map across the two files.
  dir.Write("sa.txt", "u1 B00X A12\n");
  dir.Write("sb.txt", "u1 A12 B00X\n");
  out.str("");
  REQUIRE(RunEvalStability({"--a", (dir.path() / "sa.txt").string(), "--b",
                            (dir.path() / "sb.txt").string(), "--ids", "string", "--k", "1"},
                           out) == 0);
  const auto sj = nlohmann::json::parse(out.str());
  CHECK(sj["overall"]["Jaccard@1"]["mean"].get<double>() == 0.0);
  CHECK(sj["overall"]["AO"]["mean"].get<double>() == Approx(0.5));
}
