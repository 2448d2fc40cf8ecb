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

#include <filesystem>
#include <vector>

#include "experiments/eval/metrics.h"

namespace recarena::experiments {

// Reads the files into queries (in prediction-file order) and fills *ctx (not null):
//  - with a catalog: ctx->num_items = number of catalog items, and every item id in the returned
//    queries is the item's index among the catalog ids sorted ascending (so a catalog listing
//    0..n-1 in any order keeps ids unchanged); ctx->long_tail = the flags when the catalog has a
//    second column, else empty.
//  - without a catalog: ids are kept, ctx->num_items = max item id seen in any file + 1 (coverage
//    then assumes a dense 0..max catalog), ctx->long_tail empty (CV_nov not reported).
//  - ctx->popularity is cleared; ctx->has_history = whether a history file was given.
// An empty path means "not given" for history and catalog.
std::vector<RankingQuery> ReadRankingFiles(const std::filesystem::path& pred,
                                           const std::filesystem::path& truth,
                                           const std::filesystem::path& history_or_empty,
                                           const std::filesystem::path& catalog_or_empty,
                                           MetricsContext* ctx);

}  // namespace recarena::experiments
