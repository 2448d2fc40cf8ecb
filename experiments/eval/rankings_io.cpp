#include "experiments/eval/rankings_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "data/prepared_io.h"

namespace recarena::experiments {

namespace {

namespace fs = std::filesystem;

struct Row {
  int64_t line = 0;
  std::vector<std::string> fields;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Splits a line into fields separated by whitespace and/or single commas. Returns no fields for a
// blank or comment line. An empty field (",," or a leading/trailing comma) is an error.
std::vector<std::string> SplitFields(const std::string& file, int64_t line_no,
                                     std::string_view line) {
  std::vector<std::string> fields;
  size_t i = 0;
  const size_t n = line.size();
  while (i < n && IsSpace(line[i])) ++i;
  if (i == n || line[i] == '#') return fields;
  bool need_field = true;  // at the start, or right after a comma
  bool after_comma = false;
  while (i < n) {
    if (IsSpace(line[i])) {
      ++i;
      continue;
    }
    if (line[i] == ',') {
      if (need_field) {
        throw FileError(file, line_no,
                        fmt::format("empty field before the comma at column {} in {}", i + 1,
                                    QuoteForError(line)));
      }
      need_field = true;
      after_comma = true;
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < n && !IsSpace(line[i]) && line[i] != ',') ++i;
    fields.emplace_back(line.substr(start, i - start));
    need_field = false;
    after_comma = false;
  }
  if (after_comma) {
    throw FileError(file, line_no,
                    fmt::format("empty field after the last comma in {}", QuoteForError(line)));
  }
  return fields;
}

// Reads the data lines of a file (blank and '#' lines skipped). Throws when it cannot be opened or
// has no data line.
std::vector<Row> ReadRows(const fs::path& path, const char* role) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(file, 0, fmt::format("cannot open the {} file", role));
  std::vector<Row> rows;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view view(line);
    if (line_no == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);  // UTF-8 BOM
    auto fields = SplitFields(file, line_no, view);
    if (!fields.empty()) rows.push_back({line_no, std::move(fields)});
  }
  if (in.bad()) throw FileError(file, 0, fmt::format("read error in the {} file", role));
  if (rows.empty()) {
    throw FileError(file, 0, fmt::format("the {} file has no data lines (it is empty)", role));
  }
  return rows;
}

// A non-negative decimal integer <= max_value.
int64_t ParseId(const std::string& file, int64_t line, const std::string& field, const char* what,
                int64_t max_value) {
  int64_t value = 0;
  const char* begin = field.data();
  const char* end = begin + field.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc() && ptr == end && value > max_value)) {
    throw FileError(
        file, line,
        fmt::format("{} {} is too large (at most {})", what, QuoteForError(field), max_value));
  }
  if (ec != std::errc() || ptr != end) {
    throw FileError(
        file, line,
        fmt::format("expected a non-negative integer {}, got {}", what, QuoteForError(field)));
  }
  if (value < 0) {
    throw FileError(file, line,
                    fmt::format("{} must be non-negative, got {}", what, QuoteForError(field)));
  }
  return value;
}

constexpr int64_t kMaxItem = INT32_MAX - 1;   // so that max id + 1 still fits num_items
constexpr int64_t kMaxDenseItems = 50000000;  // without a catalog: ids below 50 million

// Maps file item ids to the ids used in RankingQuery (catalog index, or unchanged). String ids:
// catalog index (catalog ids sorted as strings), or without a catalog the index of first
// appearance (predictions, then truth, then history).
class ItemMap {
 public:
  explicit ItemMap(RankingIds ids) : strings_(ids == RankingIds::kString) {}
  void SetCatalog(std::vector<std::string> sorted_ids, std::string catalog_file) {
    if (strings_) {
      for (size_t i = 0; i < sorted_ids.size(); ++i) {
        by_name_.emplace(sorted_ids[i], static_cast<int32_t>(i));
      }
    } else {
      for (const auto& id : sorted_ids) sorted_.push_back(std::stoll(id));
    }
    catalog_size_ = static_cast<int32_t>(sorted_ids.size());
    catalog_file_ = std::move(catalog_file);
    has_catalog_ = true;
  }
  // A prepared dataset's id map: external id i is dense item i (string ids only).
  void SetIdMap(const std::vector<std::string>& external_ids, std::string items_file) {
    for (size_t i = 0; i < external_ids.size(); ++i) {
      by_name_.emplace(external_ids[i], static_cast<int32_t>(i));
    }
    catalog_size_ = static_cast<int32_t>(external_ids.size());
    catalog_file_ = std::move(items_file);
    has_catalog_ = true;
  }
  int32_t Map(const std::string& file, int64_t line, const std::string& field) {
    if (strings_) {
      auto it = by_name_.find(field);
      if (it != by_name_.end()) return it->second;
      if (has_catalog_) throw NotInCatalog(file, line, field);
      if (by_name_.size() >= static_cast<size_t>(kMaxItem)) {
        throw FileError(file, line, "more than " + std::to_string(kMaxItem) + " distinct items");
      }
      const auto id = static_cast<int32_t>(by_name_.size());
      by_name_.emplace(field, id);
      return id;
    }
    const int64_t id = ParseId(file, line, field, "item id", kMaxItem);
    if (!has_catalog_) {
      // Without a catalog the ids are taken as a dense 0..max catalog, whose size every metric
      // allocates for: a huge id would ask for gigabytes (found by fuzz/rankings_fuzz).
      if (id >= kMaxDenseItems) {
        throw FileError(file, line,
                        fmt::format("item id {} would make the catalog 0..{} ({} items) without "
                                    "--catalog; give the catalog (--catalog FILE or --dataset "
                                    "DIR) or --ids string (ids by first appearance); at most {} "
                                    "items are assumed dense",
                                    QuoteForError(field), id, id + 1, kMaxDenseItems));
      }
      max_id_ = std::max(max_id_, id);
      return static_cast<int32_t>(id);
    }
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), id);
    if (it == sorted_.end() || *it != id) throw NotInCatalog(file, line, field);
    return static_cast<int32_t>(it - sorted_.begin());
  }
  int32_t NumItems() const {
    if (has_catalog_) return catalog_size_;
    return strings_ ? static_cast<int32_t>(by_name_.size()) : static_cast<int32_t>(max_id_ + 1);
  }

 private:
  FileError NotInCatalog(const std::string& file, int64_t line, const std::string& field) const {
    return FileError(
        file, line,
        fmt::format("item {} is not in the catalog {}", QuoteForError(field), catalog_file_));
  }
  bool strings_;
  bool has_catalog_ = false;
  int32_t catalog_size_ = 0;
  std::vector<int64_t> sorted_;
  std::unordered_map<std::string, int32_t> by_name_;
  std::string catalog_file_;
  int64_t max_id_ = -1;
};

// Keys of query / session / user ids: integers (their value, so "07" and "7" are one id) or, with
// string ids, the token itself. Returns the key; *number gets the integer, or for string ids the
// index of the key's first appearance.
class IdKeys {
 public:
  IdKeys(RankingIds ids, const char* what, int64_t max_value)
      : strings_(ids == RankingIds::kString), what_(what), max_value_(max_value) {}
  std::string Key(const std::string& file, int64_t line, const std::string& field,
                  int64_t* number) {
    if (!strings_) {
      *number = ParseId(file, line, field, what_, max_value_);
      return std::to_string(*number);
    }
    *number = static_cast<int64_t>(first_.emplace(field, first_.size()).first->second);
    return field;
  }

 private:
  bool strings_;
  const char* what_;
  int64_t max_value_;
  std::unordered_map<std::string, size_t> first_;
};

// Reads the catalog; returns (sorted ids, flags aligned with them or empty). Integer ids are
// sorted by value (and returned as decimal strings), string ids as strings.
std::pair<std::vector<std::string>, std::vector<uint8_t>> ReadCatalog(const fs::path& path,
                                                                      RankingIds kind) {
  const std::string file = path.string();
  const auto rows = ReadRows(path, "catalog");
  const size_t columns = rows.front().fields.size();
  std::vector<std::pair<int64_t, uint8_t>> items;  // (integer id or position in names, flag)
  std::vector<std::string> names;
  std::unordered_map<std::string, int64_t> line_of;
  for (const Row& row : rows) {
    if (row.fields.size() > 2) {
      throw FileError(file, row.line,
                      fmt::format("expected 'item_id' or 'item_id long_tail_flag', got {} fields "
                                  "(extra field {})",
                                  row.fields.size(), QuoteForError(row.fields[2])));
    }
    if (row.fields.size() != columns) {
      throw FileError(file, row.line,
                      fmt::format("has {} field(s) but line {} has {}; every catalog line must "
                                  "have the same columns",
                                  row.fields.size(), rows.front().line, columns));
    }
    const bool strings = kind == RankingIds::kString;
    const int64_t id = strings ? static_cast<int64_t>(names.size())
                               : ParseId(file, row.line, row.fields[0], "item id", kMaxItem);
    const std::string key = strings ? row.fields[0] : std::to_string(id);
    uint8_t flag = 0;
    if (columns == 2) {
      const std::string& f = row.fields[1];
      if (f != "0" && f != "1") {
        throw FileError(file, row.line,
                        fmt::format("long-tail flag must be 0 or 1, got {}", QuoteForError(f)));
      }
      flag = f == "1" ? 1 : 0;
    }
    auto [it, inserted] = line_of.emplace(key, row.line);
    if (!inserted) {
      throw FileError(file, row.line,
                      fmt::format("item {} is listed twice (also on line {})",
                                  QuoteForError(row.fields[0]), it->second));
    }
    items.emplace_back(id, flag);
    names.push_back(key);
  }
  if (kind == RankingIds::kString) {
    std::sort(items.begin(), items.end(),
              [&](const auto& a, const auto& b) { return names[a.first] < names[b.first]; });
  } else {
    std::sort(items.begin(), items.end());
  }
  std::vector<std::string> ids;
  std::vector<uint8_t> flags;
  for (const auto& [id, flag] : items) {
    ids.push_back(kind == RankingIds::kString ? names[id] : std::to_string(id));
    flags.push_back(flag);
  }
  if (columns == 1) flags.clear();
  if (columns == 2 && std::find(flags.begin(), flags.end(), 1) == flags.end()) {
    throw FileError(file, 0, "no item has long-tail flag 1, so CV_nov would be undefined");
  }
  return {std::move(ids), std::move(flags)};
}

// TREC run ("qid Q0 docno rank score [tag]", trec_eval's input) as one row per query, at the line
// of its first document: the query id, then its documents by descending score (ties: ascending
// rank, the order the writer meant).
std::vector<Row> ReadTrecRun(const fs::path& path) {
  const std::string file = path.string();
  struct Doc {
    double score;
    int64_t rank;
    std::string name;
  };
  std::vector<Row> out;
  std::vector<std::vector<Doc>> docs;
  std::unordered_map<std::string, size_t> at;
  for (Row& row : ReadRows(path, "predictions (TREC run)")) {
    if (row.fields.size() != 5 && row.fields.size() != 6) {
      throw FileError(file, row.line,
                      fmt::format("expected a TREC run line 'qid Q0 docno rank score tag', got {} "
                                  "field(s) in a line starting with {}",
                                  row.fields.size(), QuoteForError(row.fields[0])));
    }
    const int64_t rank = ParseId(file, row.line, row.fields[3], "rank", INT64_MAX);
    const std::string& text = row.fields[4];
    char* end = nullptr;
    const double score = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(score)) {
      throw FileError(file, row.line,
                      fmt::format("score must be a finite number, got {}", QuoteForError(text)));
    }
    auto [it, fresh] = at.emplace(row.fields[0], out.size());
    if (fresh) {
      out.push_back({row.line, {row.fields[0]}});
      docs.emplace_back();
    }
    docs[it->second].push_back({score, rank, std::move(row.fields[2])});
  }
  for (size_t q = 0; q < out.size(); ++q) {
    std::stable_sort(docs[q].begin(), docs[q].end(), [](const Doc& a, const Doc& b) {
      return a.score != b.score ? a.score > b.score : a.rank < b.rank;
    });
    for (auto& d : docs[q]) out[q].fields.push_back(std::move(d.name));
  }
  return out;
}

// TREC qrels ("qid iter docno rel") as truth rows "qid docno" of the relevant (rel > 0) lines.
// eval rankings scores one true next item per query: a second relevant document of a query is an
// error naming both lines.
std::vector<Row> ReadTrecQrels(const fs::path& path) {
  const std::string file = path.string();
  std::vector<Row> out;
  std::unordered_map<std::string, int64_t> line_of;
  for (Row& row : ReadRows(path, "truth (TREC qrels)")) {
    if (row.fields.size() != 4) {
      throw FileError(file, row.line,
                      fmt::format("expected a TREC qrels line 'qid iter docno rel', got {} "
                                  "field(s) in a line starting with {}",
                                  row.fields.size(), QuoteForError(row.fields[0])));
    }
    int64_t rel = 0;
    const std::string& text = row.fields[3];
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), rel);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      throw FileError(file, row.line,
                      fmt::format("relevance must be an integer, got {}", QuoteForError(text)));
    }
    if (rel <= 0) continue;
    auto [it, fresh] = line_of.emplace(row.fields[0], row.line);
    if (!fresh) {
      throw FileError(file, row.line,
                      fmt::format("query {} has a second relevant document (the first is on line "
                                  "{}); eval rankings scores one true next item per query",
                                  QuoteForError(row.fields[0]), it->second));
    }
    out.push_back({row.line, {row.fields[0], std::move(row.fields[2])}});
  }
  if (out.empty()) throw FileError(file, 0, "no relevant (rel > 0) line");
  return out;
}

}  // namespace

std::vector<RankingQuery> ReadRankingFiles(const fs::path& pred, const fs::path& truth,
                                           const fs::path& history_or_empty,
                                           const fs::path& catalog_or_empty, MetricsContext* ctx,
                                           const RankingReadOptions& opts) {
  if (ctx == nullptr) throw Error("ReadRankingFiles: ctx must not be null");
  const bool trec = opts.format == RankingFormat::kTrec;
  const RankingIds ids_kind = trec ? RankingIds::kString : opts.ids;
  ItemMap items(ids_kind);
  IdKeys query_keys(ids_kind, "query id", INT64_MAX);
  IdKeys session_keys(ids_kind, "session id", INT64_MAX);
  IdKeys user_keys(ids_kind, "user id", INT32_MAX);
  std::vector<uint8_t> long_tail;
  std::vector<int64_t> popularity;
  if (!opts.dataset.empty()) {
    if (!catalog_or_empty.empty()) {
      throw Error("give a catalog or a dataset's id map, not both (the dataset is the catalog)");
    }
    if (ids_kind != RankingIds::kString) {
      throw Error("a dataset's id map names items by external id: use string ids with it");
    }
    data::PreparedItems table = data::LoadPreparedItems(opts.dataset);
    items.SetIdMap(table.external_ids, (opts.dataset / "items.tsv").string());
    if (std::find(table.long_tail.begin(), table.long_tail.end(), 1) != table.long_tail.end()) {
      long_tail = std::move(table.long_tail);
    }
    popularity = std::move(table.counts);
  } else if (!catalog_or_empty.empty()) {
    auto [ids, flags] = ReadCatalog(catalog_or_empty, ids_kind);
    items.SetCatalog(std::move(ids), catalog_or_empty.string());
    long_tail = std::move(flags);
  }

  // Predictions.
  const std::string pred_file = pred.string();
  std::vector<RankingQuery> queries;
  std::vector<int64_t> pred_line;                 // [queries] line in the predictions file
  std::vector<std::string> pred_query;            // [queries] query id as written
  std::unordered_map<std::string, size_t> index;  // query key -> position in queries
  for (const Row& row : trec ? ReadTrecRun(pred) : ReadRows(pred, "predictions")) {
    RankingQuery q;
    const std::string key = query_keys.Key(pred_file, row.line, row.fields[0], &q.query_id);
    auto [it, inserted] = index.emplace(key, queries.size());
    if (!inserted) {
      throw FileError(pred_file, row.line,
                      fmt::format("query id {} is listed twice (also on line {})",
                                  QuoteForError(row.fields[0]), pred_line[it->second]));
    }
    std::unordered_set<int32_t> seen;
    q.ranked.reserve(row.fields.size() - 1);
    for (size_t f = 1; f < row.fields.size(); ++f) {
      const int32_t item = items.Map(pred_file, row.line, row.fields[f]);
      if (!seen.insert(item).second) {
        throw FileError(pred_file, row.line,
                        fmt::format("item {} is ranked twice for query {}",
                                    QuoteForError(row.fields[f]), QuoteForError(row.fields[0])));
      }
      q.ranked.push_back(item);
    }
    queries.push_back(std::move(q));
    pred_line.push_back(row.line);
    pred_query.push_back(row.fields[0]);
  }

  // Truth.
  const std::string truth_file = truth.string();
  {
    const auto rows = trec ? ReadTrecQrels(truth) : ReadRows(truth, "truth");
    const size_t columns = rows.front().fields.size();
    std::vector<int64_t> truth_line(queries.size(), 0);
    for (const Row& row : rows) {
      if (row.fields.size() < 2 || row.fields.size() > 4) {
        throw FileError(truth_file, row.line,
                        fmt::format("expected 'query_id item [session [user]]', got {} field(s) in "
                                    "a line starting with {}",
                                    row.fields.size(), QuoteForError(row.fields[0])));
      }
      if (row.fields.size() != columns) {
        throw FileError(truth_file, row.line,
                        fmt::format("has {} fields but line {} has {}; every truth line must have "
                                    "the same columns",
                                    row.fields.size(), rows.front().line, columns));
      }
      int64_t unused = 0;
      auto it = index.find(query_keys.Key(truth_file, row.line, row.fields[0], &unused));
      if (it == index.end()) {
        throw FileError(truth_file, row.line,
                        fmt::format("query id {} has no line in the predictions file {}",
                                    QuoteForError(row.fields[0]), pred_file));
      }
      if (truth_line[it->second] != 0) {
        throw FileError(truth_file, row.line,
                        fmt::format("query id {} is listed twice (also on line {})",
                                    QuoteForError(row.fields[0]), truth_line[it->second]));
      }
      truth_line[it->second] = row.line;
      RankingQuery& q = queries[it->second];
      q.target = items.Map(truth_file, row.line, row.fields[1]);
      if (columns >= 3) session_keys.Key(truth_file, row.line, row.fields[2], &q.session);
      if (columns >= 4) {
        int64_t user = 0;
        user_keys.Key(truth_file, row.line, row.fields[3], &user);
        q.user = static_cast<int32_t>(user);
      }
    }
    for (size_t i = 0; i < queries.size(); ++i) {
      if (truth_line[i] == 0) {
        throw FileError(truth_file, 0,
                        fmt::format("query id {} (predictions {}:{}) has no truth line",
                                    pred_query[i], pred_file, pred_line[i]));
      }
    }
  }

  // History.
  if (!history_or_empty.empty()) {
    const std::string history_file = history_or_empty.string();
    std::vector<int64_t> history_line(queries.size(), 0);
    for (const Row& row : ReadRows(history_or_empty, "history")) {
      int64_t unused = 0;
      auto it = index.find(query_keys.Key(history_file, row.line, row.fields[0], &unused));
      if (it == index.end()) {
        throw FileError(history_file, row.line,
                        fmt::format("query id {} has no line in the predictions file {}",
                                    QuoteForError(row.fields[0]), pred_file));
      }
      if (history_line[it->second] != 0) {
        throw FileError(history_file, row.line,
                        fmt::format("query id {} is listed twice (also on line {})",
                                    QuoteForError(row.fields[0]), history_line[it->second]));
      }
      history_line[it->second] = row.line;
      RankingQuery& q = queries[it->second];
      for (size_t f = 1; f < row.fields.size(); ++f) {
        q.history.push_back(items.Map(history_file, row.line, row.fields[f]));
      }
    }
    for (size_t i = 0; i < queries.size(); ++i) {
      if (history_line[i] == 0) {
        throw FileError(history_file, 0,
                        fmt::format("query id {} (predictions {}:{}) has no history line (write "
                                    "the query id alone for a user without earlier sessions)",
                                    pred_query[i], pred_file, pred_line[i]));
      }
    }
  }

  ctx->num_items = items.NumItems();
  ctx->long_tail = std::move(long_tail);
  ctx->popularity = std::move(popularity);
  ctx->has_history = !history_or_empty.empty();
  return queries;
}

std::vector<RankedListPair> ReadRankingPairs(const fs::path& a, const fs::path& b,
                                             const RankingReadOptions& opts) {
  const bool trec = opts.format == RankingFormat::kTrec;
  const RankingIds ids_kind = trec ? RankingIds::kString : opts.ids;
  ItemMap items(ids_kind);
  if (!opts.dataset.empty()) {
    if (ids_kind != RankingIds::kString) {
      throw Error("a dataset's id map names items by external id: use string ids with it");
    }
    const data::PreparedItems table = data::LoadPreparedItems(opts.dataset);
    items.SetIdMap(table.external_ids, (opts.dataset / "items.tsv").string());
  }
  IdKeys query_keys(ids_kind, "query id", INT64_MAX);
  std::vector<RankedListPair> pairs;
  std::unordered_map<std::string, size_t> index;  // query key -> position in pairs
  for (int side = 0; side < 2; ++side) {
    const fs::path& path = side == 0 ? a : b;
    const std::string file = path.string();
    std::vector<uint8_t> seen_b(pairs.size(), 0);
    for (const Row& row : trec ? ReadTrecRun(path) : ReadRows(path, "ranking")) {
      int64_t unused = 0;
      const std::string key = query_keys.Key(file, row.line, row.fields[0], &unused);
      std::vector<int32_t> ranked;
      std::unordered_set<int32_t> distinct;
      for (size_t f = 1; f < row.fields.size(); ++f) {
        const int32_t item = items.Map(file, row.line, row.fields[f]);
        if (!distinct.insert(item).second) {
          throw FileError(file, row.line,
                          fmt::format("item {} is ranked twice for query {}",
                                      QuoteForError(row.fields[f]), QuoteForError(row.fields[0])));
        }
        ranked.push_back(item);
      }
      if (side == 0) {
        auto [it, inserted] = index.emplace(key, pairs.size());
        if (!inserted) {
          throw FileError(file, row.line,
                          fmt::format("query id {} is listed twice (also on line {})",
                                      QuoteForError(row.fields[0]), pairs[it->second].line_a));
        }
        pairs.push_back({row.fields[0], row.line, 0, std::move(ranked), {}});
        continue;
      }
      auto it = index.find(key);
      if (it == index.end()) {
        throw FileError(
            file, row.line,
            fmt::format("query id {} has no line in {}", QuoteForError(row.fields[0]), a.string()));
      }
      RankedListPair& p = pairs[it->second];
      if (p.line_b != 0) {
        throw FileError(file, row.line,
                        fmt::format("query id {} is listed twice (also on line {})",
                                    QuoteForError(row.fields[0]), p.line_b));
      }
      p.line_b = row.line;
      p.b = std::move(ranked);
    }
  }
  for (const RankedListPair& p : pairs) {
    if (p.line_b == 0) {
      throw FileError(
          a.string(), p.line_a,
          fmt::format("query id {} has no line in {}", QuoteForError(p.query), b.string()));
    }
  }
  return pairs;
}

}  // namespace recarena::experiments
