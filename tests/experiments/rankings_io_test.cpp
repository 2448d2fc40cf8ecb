#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "experiments/cli/eval_commands.h"
#include "experiments/eval/rankings_io.h"
#include "test_util.h"

using recarena::Error;
using recarena::FileError;
using recarena::experiments::MetricsContext;
using recarena::experiments::RankingQuery;
using recarena::experiments::ReadRankingFiles;
using recarena::experiments::RunEvalRankings;
using recarena::testing::TempDir;

namespace {

// Reads pred/truth (and optional history/catalog) written into dir; returns the error message.
std::string ErrorOf(const TempDir& dir, const std::string& pred, const std::string& truth,
                    const std::string& history = "", const std::string& catalog = "") {
  const auto p = dir.Write("pred.txt", pred);
  const auto t = dir.Write("truth.txt", truth);
  const auto h = history.empty() ? std::filesystem::path() : dir.Write("hist.txt", history);
  const auto c = catalog.empty() ? std::filesystem::path() : dir.Write("cat.txt", catalog);
  MetricsContext ctx;
  try {
    ReadRankingFiles(p, t, h, c, &ctx);
  } catch (const FileError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("rankings_io: reads whitespace/comma files without a catalog", "[rankings_io]") {
  TempDir dir;
  const auto pred = dir.Write("pred.txt",
                              "# query then items, best first\n"
                              "7, 3 ,1,4\r\n"
                              "\n"
                              "2\t5 0\n"
                              "9\n");  // a query with no recommendations
  const auto truth = dir.Write("truth.txt", "2 1\n9 6\n7,3\n");
  MetricsContext ctx;
  ctx.popularity = {1, 2};  // cleared by the reader
  const auto qs = ReadRankingFiles(pred, truth, "", "", &ctx);
  REQUIRE(qs.size() == 3);
  CHECK(qs[0].query_id == 7);
  CHECK(qs[0].ranked == std::vector<int32_t>{3, 1, 4});
  CHECK(qs[0].target == 3);
  CHECK(qs[1].query_id == 2);
  CHECK(qs[1].ranked == std::vector<int32_t>{5, 0});
  CHECK(qs[1].target == 1);
  CHECK(qs[2].ranked.empty());
  CHECK(qs[2].target == 6);
  CHECK(qs[0].session == -1);
  CHECK(qs[0].user == -1);
  CHECK(ctx.num_items == 7);  // max id 6 (a truth item) + 1
  CHECK(ctx.long_tail.empty());
  CHECK(ctx.popularity.empty());
  CHECK_FALSE(ctx.has_history);
}

TEST_CASE("rankings_io: catalog remaps sparse ids and carries long-tail flags", "[rankings_io]") {
  TempDir dir;
  // Catalog ids 10 < 20 < 30 < 40 become 0..3 (sorted order, whatever the file order).
  const auto cat = dir.Write("cat.txt", "30 1\n10 0\n40 1\n20 0\n");
  const auto pred = dir.Write("pred.txt", "1 40 10\n2 20\n");
  const auto truth = dir.Write("truth.txt", "1 10 5 100\n2 30 6 100\n");
  const auto hist = dir.Write("hist.txt", "2 10 10 40\n1\n");
  MetricsContext ctx;
  const auto qs = ReadRankingFiles(pred, truth, hist, cat, &ctx);
  REQUIRE(qs.size() == 2);
  CHECK(qs[0].ranked == std::vector<int32_t>{3, 0});
  CHECK(qs[0].target == 0);
  CHECK(qs[0].session == 5);
  CHECK(qs[0].user == 100);
  CHECK(qs[0].history.empty());  // "1" alone: no earlier sessions
  CHECK(qs[1].ranked == std::vector<int32_t>{1});
  CHECK(qs[1].target == 2);
  CHECK(qs[1].session == 6);
  CHECK(qs[1].history == std::vector<int32_t>{0, 0, 3});
  CHECK(ctx.num_items == 4);
  CHECK(ctx.long_tail == std::vector<uint8_t>{0, 0, 1, 1});  // flags of 10, 20, 30, 40
  CHECK(ctx.has_history);
}

TEST_CASE("rankings_io: malformed files name file, line and value", "[rankings_io]") {
  TempDir dir;
  using Catch::Contains;
  // Non-numeric item on line 2.
  CHECK_THAT(ErrorOf(dir, "1 2 3\n2 4 abc\n", "1 2\n2 4\n"),
             Contains("pred.txt:2") && Contains("'abc'"));
  // Negative and non-integer values.
  CHECK_THAT(ErrorOf(dir, "1 2 -3\n", "1 2\n"), Contains("pred.txt:1") && Contains("'-3'"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2.5\n"), Contains("truth.txt:1") && Contains("'2.5'"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 99999999999\n"),
             Contains("truth.txt:1") && Contains("large"));
  // Empty field.
  CHECK_THAT(ErrorOf(dir, "1 2\n2 3,,4\n", "1 2\n2 3\n"),
             Contains("pred.txt:2") && Contains("empty field"));
  CHECK_THAT(ErrorOf(dir, "1 2,\n", "1 2\n"), Contains("pred.txt:1") && Contains("empty field"));
  // Duplicate query ids and duplicate items.
  CHECK_THAT(ErrorOf(dir, "1 2\n# c\n1 3\n", "1 2\n"),
             Contains("pred.txt:3") && Contains("'1'") && Contains("line 1"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2\n1 2\n"), Contains("truth.txt:2") && Contains("twice"));
  CHECK_THAT(ErrorOf(dir, "1 2 5 2\n", "1 2\n"),
             Contains("pred.txt:1") && Contains("ranked twice"));
  // Truth missing for a predicted query, and truth for a query never predicted.
  CHECK_THAT(ErrorOf(dir, "1 2\n2 3\n", "1 2\n"),
             Contains("truth.txt") && Contains("query id 2") && Contains("pred.txt:2"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2\n5 3\n"),
             Contains("truth.txt:2") && Contains("'5'") && Contains("predictions"));
  // Truth shape.
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1\n"), Contains("truth.txt:1"));
  CHECK_THAT(ErrorOf(dir, "1 2\n2 3\n", "1 2 7\n2 3\n"),
             Contains("truth.txt:2") && Contains("same columns"));
  // Empty files.
  CHECK_THAT(ErrorOf(dir, "", "1 2\n"), Contains("pred.txt") && Contains("empty"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "# only a comment\n\n"),
             Contains("truth.txt") && Contains("empty"));
  // History: missing query, unknown query.
  CHECK_THAT(ErrorOf(dir, "1 2\n2 3\n", "1 2\n2 3\n", "1 4\n"),
             Contains("hist.txt") && Contains("query id 2") && Contains("no history line"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2\n", "1 4\n3 4\n"),
             Contains("hist.txt:2") && Contains("'3'"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2\n", "1 x\n"), Contains("hist.txt:1") && Contains("'x'"));
  // Catalog problems.
  CHECK_THAT(ErrorOf(dir, "1 2 9\n", "1 2\n", "", "1\n2\n3\n"),
             Contains("pred.txt:1") && Contains("'9'") && Contains("not in the catalog"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2\n", "", "1 0\n2 yes\n"),
             Contains("cat.txt:2") && Contains("'yes'"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2\n", "", "1 0\n2\n"), Contains("cat.txt:2"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2\n", "", "2\n1\n2\n"),
             Contains("cat.txt:3") && Contains("twice"));
  CHECK_THAT(ErrorOf(dir, "1 2\n", "1 2\n", "", "1 0\n2 0\n"),
             Contains("cat.txt") && Contains("long-tail"));
  // Missing file.
  MetricsContext ctx;
  CHECK_THROWS_WITH(
      ReadRankingFiles(dir.path() / "nope.txt", dir.path() / "truth.txt", "", "", &ctx),
      Catch::Contains("nope.txt") && Catch::Contains("cannot open"));
}

// ---------------------------------------------------------------------------------------------
// The `eval rankings` command end to end.

TEST_CASE("RunEvalRankings: metrics JSON from files", "[rankings_io][cli]") {
  TempDir dir;
  // Catalog 0..5; long-tail = {2, 4, 5}.
  const auto cat = dir.Write("cat.txt", "0 0\n1 0\n2 1\n3 0\n4 1\n5 1\n");
  const auto pred = dir.Write("pred.txt", "# query items\n1, 3 1 4\n2 2,3,0\n3 5 0 1\n");
  // query item session user
  const auto truth = dir.Write("truth.txt", "1 3 100 7\n2 0 100 7\n3 2 200 8\n");
  const auto hist = dir.Write("hist.txt", "1 4\n2 4 3 0\n3\n");
  std::ostringstream out;
  const int rc = RunEvalRankings({"--pred", pred.string(), "--truth", truth.string(), "--history",
                                  hist.string(), "--catalog", cat.string(), "--k", "1, 2"},
                                 out);
  CHECK(rc == 0);
  const auto j = nlohmann::json::parse(out.str());
  // Ranks: q1 target 3 at 0; q2 target 0 at 2; q3 target 2 absent.
  CHECK(j.at("num_queries").get<int64_t>() == 3);
  CHECK(j.at("num_queries").is_number_integer());
  CHECK(j.at("HR@1").get<double>() == Approx(1.0 / 3.0));
  CHECK(j.at("HR@2").get<double>() == Approx(1.0 / 3.0));
  CHECK(j.at("NDCG@2").get<double>() == Approx(1.0 / 3.0));
  CHECK(j.at("MRR").get<double>() == Approx((1.0 + 1.0 / 3.0) / 3.0));  // 4/9
  // Top-1 union {3,2,5} = 3/6; top-2 union {3,1,2,5,0} = 5/6. Long-tail {2,5} of {2,4,5} = 2/3.
  CHECK(j.at("CV_div@1").get<double>() == Approx(0.5));
  CHECK(j.at("CV_div@2").get<double>() == Approx(5.0 / 6.0));
  CHECK(j.at("CV_nov@1").get<double>() == Approx(2.0 / 3.0));
  CHECK(j.at("CV_nov@2").get<double>() == Approx(2.0 / 3.0));
  // Session 100: [3,1], [2,3] -> 4 recs, 3 distinct at k=2; session 200: none repeated.
  CHECK(j.at("num_sessions").get<int64_t>() == 2);
  CHECK(j.at("R@1").get<double>() == Approx(0.0));
  CHECK(j.at("R@2").get<double>() == Approx(0.5));
  // User 7: q1 (history {4}) unseen @1 1, @2 2; q2 (history {4,3,0}) @1 1, @2 1 -> 1, 1.5.
  // User 8: q3 (no history) @1 1, @2 2. UP@1 = 1, UP@2 = (1.5 + 2) / 2 = 1.75.
  CHECK(j.at("num_users").get<int64_t>() == 2);
  CHECK(j.at("UP@1").get<double>() == Approx(1.0));
  CHECK(j.at("UP@2").get<double>() == Approx(1.75));
  // Serendipitous: q1 (hit at rank 0) and q3 (miss); q2's target 0 is in its history.
  CHECK(j.at("num_serendipity_queries").get<int64_t>() == 2);
  CHECK(j.at("HR_ser@1").get<double>() == Approx(0.5));
  CHECK(j.at("NDCG_ser@2").get<double>() == Approx(0.5));
  CHECK(out.str().find("\n  \"") != std::string::npos);  // pretty-printed, 2-space indent
}

TEST_CASE("RunEvalRankings: defaults, help and option errors", "[rankings_io][cli]") {
  TempDir dir;
  const auto pred = dir.Write("pred.txt", "1 0 1 2\n");
  const auto truth = dir.Write("truth.txt", "1 2\n");
  std::ostringstream out;
  CHECK(RunEvalRankings({"--pred", pred.string(), "--truth", truth.string()}, out) == 0);
  const auto j = nlohmann::json::parse(out.str());
  CHECK(j.at("HR@5").get<double>() == 1.0);
  CHECK(j.at("HR@20").get<double>() == 1.0);
  CHECK(j.at("NDCG@5").get<double>() == Approx(0.5));     // rank 2: 1/log2(4)
  CHECK(j.at("CV_div@10").get<double>() == Approx(1.0));  // catalog 0..2, all shown
  CHECK_FALSE(j.contains("CV_nov@5"));
  CHECK_FALSE(j.contains("UP@5"));
  CHECK_FALSE(j.contains("R@5"));

  std::ostringstream help;
  CHECK(RunEvalRankings({"--help"}, help) == 0);
  CHECK_THAT(help.str(), Catch::Contains("--pred") && Catch::Contains("--truth") &&
                             Catch::Contains("--history") && Catch::Contains("--k"));

  std::ostringstream sink;
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", pred.string()}, sink),
                    Catch::Contains("--truth") && Catch::Contains("missing"));
  CHECK_THROWS_WITH(RunEvalRankings({}, sink), Catch::Contains("--pred"));
  CHECK_THROWS_WITH(
      RunEvalRankings({"--pred", pred.string(), "--truth", truth.string(), "--k", "5,x"}, sink),
      Catch::Contains("'x'"));
  CHECK_THROWS_WITH(
      RunEvalRankings({"--pred", pred.string(), "--truth", truth.string(), "--k", "5,5"}, sink),
      Catch::Contains("twice"));
  CHECK_THROWS_AS(RunEvalRankings({"--pred", pred.string(), "--bogus", "1"}, sink), Error);
  CHECK_THROWS_AS(RunEvalRankings({"--pred", pred.string(), "--truth", "/nonexistent/t.txt"}, sink),
                  FileError);
}
