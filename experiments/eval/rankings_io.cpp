#include "experiments/eval/rankings_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <fstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/error.h"

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

constexpr int64_t kMaxItem = INT32_MAX - 1;  // so that max id + 1 still fits num_items

// Maps file item ids to the ids used in RankingQuery (catalog index, or unchanged).
class ItemMap {
 public:
  void SetCatalog(std::vector<int64_t> sorted_ids, std::string catalog_file) {
    sorted_ = std::move(sorted_ids);
    catalog_file_ = std::move(catalog_file);
    has_catalog_ = true;
  }
  int32_t Map(const std::string& file, int64_t line, const std::string& field) {
    const int64_t id = ParseId(file, line, field, "item id", kMaxItem);
    if (!has_catalog_) {
      max_id_ = std::max(max_id_, id);
      return static_cast<int32_t>(id);
    }
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), id);
    if (it == sorted_.end() || *it != id) {
      throw FileError(
          file, line,
          fmt::format("item {} is not in the catalog {}", QuoteForError(field), catalog_file_));
    }
    return static_cast<int32_t>(it - sorted_.begin());
  }
  int32_t NumItems() const {
    return has_catalog_ ? static_cast<int32_t>(sorted_.size()) : static_cast<int32_t>(max_id_ + 1);
  }

 private:
  bool has_catalog_ = false;
  std::vector<int64_t> sorted_;
  std::string catalog_file_;
  int64_t max_id_ = -1;
};

// Reads the catalog; returns (sorted ids, flags aligned with them or empty).
std::pair<std::vector<int64_t>, std::vector<uint8_t>> ReadCatalog(const fs::path& path) {
  const std::string file = path.string();
  const auto rows = ReadRows(path, "catalog");
  const size_t columns = rows.front().fields.size();
  std::vector<std::pair<int64_t, uint8_t>> items;
  std::unordered_map<int64_t, int64_t> line_of;
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
    const int64_t id = ParseId(file, row.line, row.fields[0], "item id", kMaxItem);
    uint8_t flag = 0;
    if (columns == 2) {
      const std::string& f = row.fields[1];
      if (f != "0" && f != "1") {
        throw FileError(file, row.line,
                        fmt::format("long-tail flag must be 0 or 1, got {}", QuoteForError(f)));
      }
      flag = f == "1" ? 1 : 0;
    }
    auto [it, inserted] = line_of.emplace(id, row.line);
    if (!inserted) {
      throw FileError(file, row.line,
                      fmt::format("item {} is listed twice (also on line {})",
                                  QuoteForError(row.fields[0]), it->second));
    }
    items.emplace_back(id, flag);
  }
  std::sort(items.begin(), items.end());
  std::vector<int64_t> ids;
  std::vector<uint8_t> flags;
  for (const auto& [id, flag] : items) {
    ids.push_back(id);
    flags.push_back(flag);
  }
  if (columns == 1) flags.clear();
  if (columns == 2 && std::find(flags.begin(), flags.end(), 1) == flags.end()) {
    throw FileError(file, 0, "no item has long-tail flag 1, so CV_nov would be undefined");
  }
  return {std::move(ids), std::move(flags)};
}

}  // namespace

std::vector<RankingQuery> ReadRankingFiles(const fs::path& pred, const fs::path& truth,
                                           const fs::path& history_or_empty,
                                           const fs::path& catalog_or_empty, MetricsContext* ctx) {
  if (ctx == nullptr) throw Error("ReadRankingFiles: ctx must not be null");
  ItemMap items;
  std::vector<uint8_t> long_tail;
  if (!catalog_or_empty.empty()) {
    auto [ids, flags] = ReadCatalog(catalog_or_empty);
    items.SetCatalog(std::move(ids), catalog_or_empty.string());
    long_tail = std::move(flags);
  }

  // Predictions.
  const std::string pred_file = pred.string();
  std::vector<RankingQuery> queries;
  std::vector<int64_t> pred_line;             // [queries] line in the predictions file
  std::unordered_map<int64_t, size_t> index;  // query id -> position in queries
  for (const Row& row : ReadRows(pred, "predictions")) {
    RankingQuery q;
    q.query_id = ParseId(pred_file, row.line, row.fields[0], "query id", INT64_MAX);
    auto [it, inserted] = index.emplace(q.query_id, queries.size());
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
                                    QuoteForError(row.fields[f]), q.query_id));
      }
      q.ranked.push_back(item);
    }
    queries.push_back(std::move(q));
    pred_line.push_back(row.line);
  }

  // Truth.
  const std::string truth_file = truth.string();
  {
    const auto rows = ReadRows(truth, "truth");
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
      const int64_t qid = ParseId(truth_file, row.line, row.fields[0], "query id", INT64_MAX);
      auto it = index.find(qid);
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
      if (columns >= 3)
        q.session = ParseId(truth_file, row.line, row.fields[2], "session id", INT64_MAX);
      if (columns >= 4) {
        q.user = static_cast<int32_t>(
            ParseId(truth_file, row.line, row.fields[3], "user id", INT32_MAX));
      }
    }
    for (size_t i = 0; i < queries.size(); ++i) {
      if (truth_line[i] == 0) {
        throw FileError(truth_file, 0,
                        fmt::format("query id {} (predictions {}:{}) has no truth line",
                                    queries[i].query_id, pred_file, pred_line[i]));
      }
    }
  }

  // History.
  if (!history_or_empty.empty()) {
    const std::string history_file = history_or_empty.string();
    std::vector<int64_t> history_line(queries.size(), 0);
    for (const Row& row : ReadRows(history_or_empty, "history")) {
      const int64_t qid = ParseId(history_file, row.line, row.fields[0], "query id", INT64_MAX);
      auto it = index.find(qid);
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
                                    queries[i].query_id, pred_file, pred_line[i]));
      }
    }
  }

  ctx->num_items = items.NumItems();
  ctx->long_tail = std::move(long_tail);
  ctx->popularity.clear();
  ctx->has_history = !history_or_empty.empty();
  return queries;
}

}  // namespace recarena::experiments
