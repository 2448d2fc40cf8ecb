#include <catch2/catch.hpp>

#include <cmath>
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

TEST_CASE("rankings_io: string ids (RecBole-style) with and without a catalog", "[rankings_io]") {
  TempDir dir;
  using recarena::experiments::RankingIds;
  using recarena::experiments::RankingReadOptions;
  RankingReadOptions strings;
  strings.ids = RankingIds::kString;
  const auto pred = dir.Write("pred.txt", "u7 B00X A12\nu2 A12\n");
  const auto truth = dir.Write("truth.txt", "u2 C3 s1 alice\nu7 B00X s2 bob\n");
  const auto hist = dir.Write("hist.txt", "u7 C3\nu2\n");
  MetricsContext ctx;
  auto qs = ReadRankingFiles(pred, truth, hist, "", &ctx, strings);
  REQUIRE(qs.size() == 2);
  // First appearance: B00X 0, A12 1 (predictions), C3 2 (truth).
  CHECK(qs[0].query_id == 0);
  CHECK(qs[0].ranked == std::vector<int32_t>{0, 1});
  CHECK(qs[0].target == 0);
  CHECK(qs[0].history == std::vector<int32_t>{2});
  CHECK(qs[1].query_id == 1);
  CHECK(qs[1].target == 2);
  CHECK(qs[1].session != qs[0].session);
  CHECK(qs[1].user != qs[0].user);
  CHECK(ctx.num_items == 3);
  // With a catalog: its ids sorted as strings ("A12" < "B00X" < "C3" < "Z9").
  const auto cat = dir.Write("cat.txt", "Z9 1\nC3 0\nA12 0\nB00X 1\n");
  qs = ReadRankingFiles(pred, truth, "", cat, &ctx, strings);
  CHECK(qs[0].ranked == std::vector<int32_t>{1, 0});
  CHECK(qs[1].target == 2);
  CHECK(ctx.num_items == 4);
  CHECK(ctx.long_tail == std::vector<uint8_t>{0, 1, 0, 1});
  // Errors still name file, line and value.
  dir.Write("pred.txt", "u7 B00X Q\n");
  dir.Write("truth.txt", "u7 B00X\n");
  CHECK_THROWS_WITH(ReadRankingFiles(pred, truth, "", cat, &ctx, strings),
                    Catch::Contains("pred.txt:1") && Catch::Contains("'Q'") &&
                        Catch::Contains("not in the catalog"));
  dir.Write("truth.txt", "u8 B00X\n");
  CHECK_THROWS_WITH(ReadRankingFiles(pred, truth, "", "", &ctx, strings),
                    Catch::Contains("truth.txt:1") && Catch::Contains("'u8'"));
  // The default still refuses them.
  CHECK_THROWS_WITH(ReadRankingFiles(pred, truth, "", "", &ctx),
                    Catch::Contains("pred.txt:1") && Catch::Contains("'u7'"));
}

TEST_CASE("rankings_io: TREC run and qrels give the metrics of the same plain files",
          "[rankings_io][cli]") {
  TempDir dir;
  // Query q1 ranks d3 > d1 > d2 by score (written out of order, d1 and d2 tie on score: rank
  // decides); q2 ranks d2 > d4. The relevant documents are d1 (q1) and d4 (q2).
  dir.Write("run.trec",
            "q1 Q0 d1 2 0.5 sys\nq2 Q0 d4 2 0.1 sys\nq1 Q0 d3 1 0.9 sys\nq1 Q0 d2 3 0.5 sys\n"
            "q2 Q0 d2 1 0.7 sys\n");
  dir.Write("qrels.trec", "q1 0 d1 1\nq1 0 d2 0\nq2 0 d4 2\nq2 0 d3 0\n");
  // The same as plain files with d1..d4 -> 1..4.
  dir.Write("pred.txt", "1 3 1 2\n2 2 4\n");
  dir.Write("truth.txt", "1 1\n2 4\n");
  auto run = [&](std::vector<std::string> args) {
    std::ostringstream out;
    REQUIRE(RunEvalRankings(args, out) == 0);
    return nlohmann::json::parse(out.str());
  };
  const auto trec = run({"--pred", (dir.path() / "run.trec").string(), "--truth",
                         (dir.path() / "qrels.trec").string(), "--format", "trec", "--k", "1,2"});
  const auto plain = run({"--pred", (dir.path() / "pred.txt").string(), "--truth",
                          (dir.path() / "truth.txt").string(), "--k", "1,2"});
  // Both true items are at rank 2 (q1: d3 d1 d2, q2: d2 d4).
  CHECK(trec["HR@1"] == 0.0);
  CHECK(trec["HR@2"] == 1.0);
  CHECK(trec["NDCG@2"].get<double>() == Approx(1.0 / std::log2(3.0)));
  for (const char* m : {"HR@1", "HR@2", "NDCG@2"}) {
    INFO(m);
    CHECK(trec[m] == plain[m]);
  }
  // Errors: a second relevant document, a bad score, a short run line, a bad flag.
  dir.Write("qrels2.trec", "q1 0 d1 1\nq1 0 d2 1\n");
  std::ostringstream out;
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", (dir.path() / "run.trec").string(), "--truth",
                                     (dir.path() / "qrels2.trec").string(), "--format", "trec"},
                                    out),
                    Catch::Contains("qrels2.trec:2") && Catch::Contains("line 1"));
  dir.Write("run2.trec", "q1 Q0 d1 1 high sys\n");
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", (dir.path() / "run2.trec").string(), "--truth",
                                     (dir.path() / "qrels.trec").string(), "--format", "trec"},
                                    out),
                    Catch::Contains("run2.trec:1") && Catch::Contains("'high'"));
  dir.Write("run3.trec", "q1 d1 1 0.5\n");
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", (dir.path() / "run3.trec").string(), "--truth",
                                     (dir.path() / "qrels.trec").string(), "--format", "trec"},
                                    out),
                    Catch::Contains("run3.trec:1") && Catch::Contains("qid Q0 docno"));
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", "p", "--truth", "t", "--format", "csv"}, out),
                    Catch::Contains("--format") && Catch::Contains("'csv'"));
}

TEST_CASE("rankings_io: --dataset maps external ids through a prepared dataset's items.tsv",
          "[rankings_io][cli]") {
  TempDir dir;
  // A prepared dataset's item table (the only file --dataset reads): dense ids 0..3 with the
  // external ids movieLens would have, counts and long-tail flags.
  dir.Write("ds/items.tsv",
            "id\texternal_id\tcount\tlong_tail\ttitle\tcategories\ttext\n"
            "0\t318\t90\t0\tA\t\t\n1\t1\t50\t0\tB\t\t\n2\t2571\t3\t1\tC\t\t\n3\t50\t1\t1\tD\t\t\n");
  dir.Write("pred.txt", "u1 2571 318\nu2 50 1 318\n");
  dir.Write("truth.txt", "u1 318\nu2 318\n");
  // The same queries in dense ids, with the same catalog flags.
  dir.Write("pred_dense.txt", "0 2 0\n1 3 1 0\n");
  dir.Write("truth_dense.txt", "0 0\n1 0\n");
  dir.Write("cat_dense.txt", "0 0\n1 0\n2 1\n3 1\n");
  auto run = [&](std::vector<std::string> args) {
    std::ostringstream out;
    REQUIRE(RunEvalRankings(args, out) == 0);
    return nlohmann::json::parse(out.str());
  };
  const auto mapped = run({"--pred", (dir.path() / "pred.txt").string(), "--truth",
                           (dir.path() / "truth.txt").string(), "--dataset",
                           (dir.path() / "ds").string(), "--k", "1,2,3"});
  const auto dense = run({"--pred", (dir.path() / "pred_dense.txt").string(), "--truth",
                          (dir.path() / "truth_dense.txt").string(), "--catalog",
                          (dir.path() / "cat_dense.txt").string(), "--k", "1,2,3"});
  CHECK(mapped["HR@1"] == 0.0);
  CHECK(mapped["HR@2"] == 0.5);
  CHECK(mapped["HR@3"] == 1.0);
  for (auto it = dense.begin(); it != dense.end(); ++it) {
    INFO(it.key());
    CHECK(mapped.at(it.key()) == it.value());
  }
  // The dataset's popularity and flags reach the context.
  MetricsContext ctx;
  recarena::experiments::RankingReadOptions opts;
  opts.ids = recarena::experiments::RankingIds::kString;
  opts.dataset = dir.path() / "ds";
  ReadRankingFiles(dir.path() / "pred.txt", dir.path() / "truth.txt", "", "", &ctx, opts);
  CHECK(ctx.num_items == 4);
  CHECK(ctx.long_tail == std::vector<uint8_t>{0, 0, 1, 1});
  CHECK(ctx.popularity == std::vector<int64_t>{90, 50, 3, 1});
  // An id the dataset does not list names the file, the line, the id and the items table.
  dir.Write("pred_bad.txt", "u1 2571 318\nu2 50 999\n");
  std::ostringstream out;
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", (dir.path() / "pred_bad.txt").string(), "--truth",
                                     (dir.path() / "truth.txt").string(), "--dataset",
                                     (dir.path() / "ds").string()},
                                    out),
                    Catch::Contains("pred_bad.txt:2") && Catch::Contains("'999'") &&
                        Catch::Contains("items.tsv"));
  // With a catalog too, or with integer ids, it is refused; a missing table is named.
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", (dir.path() / "pred.txt").string(), "--truth",
                                     (dir.path() / "truth.txt").string(), "--dataset",
                                     (dir.path() / "ds").string(), "--catalog",
                                     (dir.path() / "cat_dense.txt").string()},
                                    out),
                    Catch::Contains("not both"));
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", (dir.path() / "pred.txt").string(), "--truth",
                                     (dir.path() / "truth.txt").string(), "--dataset",
                                     (dir.path() / "ds").string(), "--ids", "integer"},
                                    out),
                    Catch::Contains("string ids"));
  CHECK_THROWS_WITH(RunEvalRankings({"--pred", (dir.path() / "pred.txt").string(), "--truth",
                                     (dir.path() / "truth.txt").string(), "--dataset",
                                     (dir.path() / "nowhere").string()},
                                    out),
                    Catch::Contains("nowhere/items.tsv") && Catch::Contains("does not exist"));
}

TEST_CASE("rankings_io: without a catalog, a huge item id is refused, not allocated for",
          "[rankings_io]") {
  // Found by fuzz/rankings_fuzz's long run: "650007644" made the metrics allocate 2.6 GB for a
  // dense catalog 0..650007644.
  TempDir dir;
  CHECK(ErrorOf(dir, "1 44 650007644\n", "1 44\n").find("pred.txt:1") != std::string::npos);
  CHECK(ErrorOf(dir, "1 44 650007644\n", "1 44\n").find("'650007644'") != std::string::npos);
  CHECK(ErrorOf(dir, "1 44\n", "1 000000000000000283317727\n").find("--catalog") !=
        std::string::npos);
  CHECK(ErrorOf(dir, "1 44 49999999\n", "1 44\n") == "no error");
  // With a catalog or string ids the same id is fine.
  CHECK(ErrorOf(dir, "1 44 650007644\n", "1 44\n", "", "44\n650007644\n") == "no error");
}
