#include "data/load_generic_csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "core/strings.h"
#include "data/text_reader.h"

namespace recarena::data {

namespace fs = std::filesystem;

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Reads records either with CsvReader (quoting) or by whitespace splitting.
class RecordSource {
 public:
  RecordSource(const fs::path& path, char sep) {
    if (sep == '\0') {
      lines_ = std::make_unique<LineReader>(path);
    } else {
      csv_ = std::make_unique<CsvReader>(path, sep);
    }
  }
  bool Next(std::vector<std::string>& fields) {
    if (csv_) return csv_->Next(fields);
    std::string text;
    do {
      if (!lines_->Next(text)) return false;
    } while (Trim(text).empty());
    fields.clear();
    for (auto f : SplitWhitespace(text)) fields.emplace_back(f);
    return true;
  }
  int64_t line() const { return csv_ ? csv_->line_number() : lines_->line_number(); }
  const std::string& file() const { return csv_ ? csv_->file_name() : lines_->file_name(); }

 private:
  std::unique_ptr<CsvReader> csv_;
  std::unique_ptr<LineReader> lines_;
};

}  // namespace

std::optional<double> ParseIso8601(std::string_view s) {
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!Digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, month) ||
      s[7] != '-' || !Digits(s, 8, 2, day)) {
    return std::nullopt;
  }
  if (!IsValidDate(year, month, day)) return std::nullopt;
  size_t i = 10;
  double fraction = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    if (!Digits(s, i + 1, 2, hour) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, minute)) {
      return std::nullopt;
    }
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!Digits(s, i + 1, 2, second)) return std::nullopt;
      i += 3;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        double scale = 0.1;
        const size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          fraction += (s[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
        if (i == start) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  }
  int64_t offset = 0;
  if (i < s.size()) {
    if (s[i] == 'Z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      const int sign = s[i] == '+' ? 1 : -1;
      int oh, om;
      if (!Digits(s, i + 1, 2, oh)) return std::nullopt;
      size_t j = i + 3;
      if (j < s.size() && s[j] == ':') ++j;
      if (!Digits(s, j, 2, om) || oh > 23 || om > 59) return std::nullopt;
      offset = sign * (oh * 3600 + om * 60);
      i = j + 2;
    } else {
      return std::nullopt;
    }
  }
  if (i != s.size()) return std::nullopt;
  const int64_t secs =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return static_cast<double>(secs) + fraction;
}

Dataset LoadGenericCsv(const fs::path& source, const LoadOptions& opts, LoadReport* report) {
  const CsvFormatConfig& cfg = opts.csv;
  cfg.Validate();
  std::error_code ec;
  const fs::path path = fs::is_regular_file(source, ec) ? source : source / cfg.file;
  RecordSource in(path, cfg.SeparatorChar());
  NoteFileRead(in.file(), report);
  const auto value_map = cfg.ParsedValueMap();

  std::vector<std::string> fields;
  std::vector<std::string> header;
  if (cfg.header) {
    if (!in.Next(fields)) throw FileError(in.file(), 0, "no header line");
    for (auto& f : fields) f = std::string(Trim(f));
    // A UTF-8 byte-order mark would otherwise become part of the first column name.
    if (!fields.empty() && fields[0].rfind("\xEF\xBB\xBF", 0) == 0) fields[0].erase(0, 3);
    header = fields;
  }
  // Column -> index; -1 for an unused ("") column.
  auto resolve = [&](const std::string& column, const char* key) -> int64_t {
    if (column.empty()) return -1;
    if (!cfg.header) return ParseInt64(column, in.file(), 0, key);
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == column) return static_cast<int64_t>(i);
    }
    throw FileError(
        in.file(), in.line(),
        fmt::format("csv.{}: no column {} in the header{}; columns: {}", key, QuoteForError(column),
                    DidYouMean(column, header), Join(header, ", ")));
  };
  const int64_t c_user = resolve(cfg.user_column, "user_column");
  const int64_t c_item = resolve(cfg.item_column, "item_column");
  const int64_t c_time = resolve(cfg.time_column, "time_column");
  const int64_t c_value = resolve(cfg.value_column, "value_column");
  const int64_t c_session = resolve(cfg.session_column, "session_column");
  const int64_t needed = cfg.header ? static_cast<int64_t>(header.size())
                                    : 1 + std::max({c_user, c_item, c_time, c_value, c_session});

  Dataset ds;
  ds.name = "csv";
  ds.value_kind = cfg.value_kind;
  std::unordered_map<std::string, int64_t> sessions;
  int64_t record = 0;
  ForEachRecord(
      opts, report, [&] { return in.Next(fields); },
      [&] {
        const std::string& file = in.file();
        const int64_t line = in.line();
        const int64_t n = static_cast<int64_t>(fields.size());
        if (cfg.header ? n != needed : n < needed) {
          throw FileError(
              file, line,
              fmt::format("expected {}{} fields, found {}: {}", cfg.header ? "" : "at least ",
                          needed, n, QuoteForError(Join(fields, ","))));
        }
        auto field = [&](int64_t c) { return Trim(fields[static_cast<size_t>(c)]); };
        const auto user = field(c_user);
        const auto item = field(c_item);
        if (user.empty()) throw FileError(file, line, "empty user id");
        if (item.empty()) throw FileError(file, line, "empty item id");
        Interaction x;
        if (c_time < 0) {
          x.timestamp = static_cast<double>(record);
        } else {
          const auto t = field(c_time);
          if (cfg.time_format == "iso8601") {
            const auto parsed = ParseIso8601(t);
            if (!parsed) {
              throw FileError(
                  file, line,
                  "bad timestamp: " + QuoteForError(t) + " is not an ISO-8601 date/time");
            }
            x.timestamp = *parsed;
          } else {
            x.timestamp = ParseDouble(t, file, line, "timestamp");
            if (cfg.time_format == "unix_ms") x.timestamp /= 1000.0;
          }
        }
        if (c_value >= 0) {
          const auto v = field(c_value);
          if (value_map.empty()) {
            x.value = ParseFloat(v, file, line, "value");
          } else {
            bool found = false;
            std::vector<std::string> keys;
            for (const auto& [k, num] : value_map) {
              keys.push_back(k);
              if (k == v) {
                x.value = static_cast<float>(num);
                found = true;
              }
            }
            if (!found) {
              throw FileError(file, line,
                              "value " + QuoteForError(v) + " is not in csv.value_map" +
                                  DidYouMean(v, keys) + "; keys: " + Join(keys, ", "));
            }
          }
        }
        if (c_session >= 0) {
          const std::string s(field(c_session));
          x.session = sessions.emplace(s, static_cast<int64_t>(sessions.size())).first->second;
        }
        x.user = ds.users.Intern(std::string(user));
        x.item = ds.items.Intern(std::string(item));
        ds.interactions.push_back(x);
        ++record;
      });
  if (ds.interactions.empty()) throw FileError(in.file(), 0, "no interactions");
  ds.items.Normalize();
  ds.CheckConsistency();
  return ds;
}

}  // namespace recarena::data
