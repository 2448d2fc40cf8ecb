// Readers for ranking files written by any recommender, for offline evaluation with
// experiments/eval/metrics.h (the `eval rankings` command). Formats (docs/metrics.md, "Input
// files"):
//
//   predictions  one line per query: query_id item item ...  (best first; may list no items)
//   truth        one line per query: query_id item [session [user]]
//   history      one line per query: query_id item item ...  (items of the user's EARLIER
//                sessions; a line with only the query id = no earlier items)
//   catalog      one item id per line, optionally a second column 0/1 = long-tail flag
//
// Fields are separated by whitespace and/or single commas; blank lines and lines whose first
// non-blank character is '#' are ignored; CRLF line ends are accepted. Ids are non-negative
// decimal integers (query ids int64, item/user ids int32, session ids int64).
//
// Strictness (every error is a FileError naming file, line and offending value): non-numeric or
// negative fields, empty fields ("1,,2"), a duplicate query id within a file, a duplicate item
// within one prediction line, a truth line without a prediction line AND a prediction line without
// a truth line (both directions: a model that skips hard queries must not look better), a history
// file that misses a query or names an unknown one, truth lines with differing column counts,
// catalog lines with differing column counts, duplicate catalog ids, flags other than 0/1, an item
// absent from the catalog, and files without any data line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/eval/metrics.h"

namespace recarena::experiments {

// File formats of predictions and truth. kPlain: the formats above. kTrec: trec_eval's files,
// predictions as a TREC run ("qid Q0 docno rank score [tag]"; a query's documents ranked by
// descending score, ties by ascending rank) and truth as TREC qrels ("qid iter docno rel"; the
// rel > 0 line of each query is its true item, a second one is an error; rel <= 0 lines are
// skipped). TREC files always use string ids. History and catalog stay in the plain format.
enum class RankingFormat { kPlain, kTrec };
// kInteger: ids as documented above. kString: query, item, session and user ids are any tokens
// (RecBole, TREC): items map to their index in the catalog sorted as strings, or without a catalog
// to the index of their first appearance (predictions, truth, history; num_items = distinct
// items); RankingQuery::query_id is then the query's position in the predictions file.
enum class RankingIds { kInteger, kString };
struct RankingReadOptions {
  RankingFormat format = RankingFormat::kPlain;
  RankingIds ids = RankingIds::kInteger;
  // A prepared dataset directory (empty = none): string item ids are its external ids and map to
  // its dense ids through items.tsv (an id it does not list is an error naming the file, line and
  // id); num_items, the long-tail flags and the popularity come from it. Needs kString ids and no
  // catalog file.
  std::filesystem::path dataset;
};

// Reads the files into queries (in prediction-file order) and fills *ctx (not null):
//  - with a catalog: ctx->num_items = number of catalog items, and every item id in the returned
//    queries is the item's index among the catalog ids sorted ascending (so a catalog listing
//    0..n-1 in any order keeps ids unchanged); ctx->long_tail = the flags when the catalog has a
//    second column, else empty.
//  - without a catalog: ids are kept, ctx->num_items = max item id seen in any file + 1 (coverage
//    then assumes a dense 0..max catalog), ctx->long_tail empty (CV_nov not reported). An id of
//    50 million or more is then an error (the metrics would allocate for a catalog that large;
//    give a catalog, a dataset, or string ids).
//  - ctx->popularity is cleared; ctx->has_history = whether a history file was given.
// An empty path means "not given" for history and catalog.
std::vector<RankingQuery> ReadRankingFiles(const std::filesystem::path& pred,
                                           const std::filesystem::path& truth,
                                           const std::filesystem::path& history_or_empty,
                                           const std::filesystem::path& catalog_or_empty,
                                           MetricsContext* ctx,
                                           const RankingReadOptions& opts = {});

// Two rankings of the same queries (`eval stability`): each file has one line per query, the
// query id then the ranked items (plain format, or a TREC run with opts.format = kTrec), like the
// predictions file above. Both files share one item map (integer ids as written, string ids by
// first appearance, or a dataset's id map with opts.dataset); opts' catalog is not used. Pairs
// come in the order of file a. FileError (file, line, value) for what ReadRankingFiles refuses in
// a predictions file, a query of one file missing from the other, or listed twice.
struct RankedListPair {
  std::string query;  // the query id as written in file a
  int64_t line_a = 0, line_b = 0;
  std::vector<int32_t> a, b;  // ranked items, best first
};
std::vector<RankedListPair> ReadRankingPairs(const std::filesystem::path& a,
                                             const std::filesystem::path& b,
                                             const RankingReadOptions& opts = {});

}  // namespace recarena::experiments
