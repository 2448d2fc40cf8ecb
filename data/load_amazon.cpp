#include "data/load_amazon.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/json_read.h"
#include "core/strings.h"
#include "data/text_reader.h"

namespace recarena::data {

namespace fs = std::filesystem;

namespace {

void SkipSpaces(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

// The single file in folder whose name ends with suffix.
fs::path FindOne(const fs::path& folder, const std::string& suffix) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw FileError(folder.string(), 0, "folder not found");
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      found.push_back(entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  if (found.empty()) throw FileError(folder.string(), 0, "no file matching *" + suffix);
  if (found.size() > 1) {
    std::vector<std::string> names;
    for (const auto& p : found) names.push_back(p.filename().string());
    throw FileError(folder.string(), 0,
                    "more than one file matching *" + suffix + ": " + Join(names, ", "));
  }
  return found[0];
}

std::string JsonString(const nlohmann::json& obj, const char* key, const std::string& file,
                       const std::string& item) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (!it->is_string()) {
    throw FileError(file, 0,
                    fmt::format("item {}: \"{}\" must be a string, got {}", QuoteForError(item),
                                key, QuoteForError(it->dump())));
  }
  return it->get<std::string>();
}

void ReadCatalog(const fs::path& path, Dataset& ds, LoadReport* report) {
  const std::string file = path.string();
  NoteFileRead(file, report);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(file, 0, "cannot open file");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  if (text.empty()) throw FileError(file, 0, "file is empty");
  const nlohmann::json root = ParseJson(text, file);
  if (!root.is_object()) throw FileError(file, 0, "expected a JSON object of items");
  std::vector<std::pair<int64_t, const nlohmann::json*>> entries;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const int64_t id = ParseInt64(it.key(), file, 0, "item id (JSON key)");
    if (id < 0) throw FileError(file, 0, "negative item id " + QuoteForError(it.key()));
    if (!it->is_object()) {
      throw FileError(file, 0, "item " + QuoteForError(it.key()) + " is not a JSON object");
    }
    entries.emplace_back(id, &*it);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [id, obj] : entries) {
    const std::string key = std::to_string(id);
    if (ds.items.Find(key) >= 0) throw FileError(file, 0, "duplicate item id " + key);
    const ItemId item = ds.items.Intern(key);
    ds.items.Normalize();
    ds.items.titles[item] = JsonString(*obj, "title", file, key);
    const std::string desc = JsonString(*obj, "description", file, key);
    if (auto parts = ParsePythonStringList(desc)) {
      ds.items.texts[item] = Join(*parts, "\n");
    } else {
      ds.items.texts[item] = desc;
    }
    const std::string brand = JsonString(*obj, "brand", file, key);
    if (!brand.empty()) ds.items.categories[item].push_back(brand);
    const std::string cats = JsonString(*obj, "categories", file, key);
    if (!cats.empty()) ds.items.categories[item].push_back(cats);
  }
  if (ds.items.size() == 0) throw FileError(file, 0, "no items");
}

void ReadInfo(const fs::path& path, Dataset& ds, const LoadOptions& opts, LoadReport* report) {
  LineReader in(path);
  NoteFileRead(in.file_name(), report);
  std::string text;
  ForEachRecord(
      opts, report, [&] { return in.Next(text); },
      [&] {
        if (text.empty()) return;
        const size_t first = text.find('\t');
        const size_t last = text.rfind('\t');
        if (first == std::string::npos || first == last) {
          throw FileError(in.file_name(), in.line_number(),
                          "expected 'sid<TAB>title<TAB>item_id': " + QuoteForError(text));
        }
        const std::string_view id_text = std::string_view(text).substr(last + 1);
        const int64_t id = ParseInt64(id_text, in.file_name(), in.line_number(), "item_id");
        const ItemId item = ds.items.Find(std::to_string(id));
        if (item < 0) {
          throw FileError(in.file_name(), in.line_number(),
                          "item_id " + QuoteForError(id_text) + " is not in the item index");
        }
        if (ds.items.titles[item].empty()) {
          ds.items.titles[item] = text.substr(first + 1, last - first - 1);
        }
      });
}

size_t ColumnIndex(const std::vector<std::string>& header, const std::string& name,
                   const std::string& file) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  throw FileError(file, 1,
                  "no column " + QuoteForError(name) + DidYouMean(name, header) +
                      "; columns: " + Join(header, ","));
}

void ReadSequences(const fs::path& path, uint8_t part, Dataset& ds, int64_t& row_index,
                   const LoadOptions& opts, LoadReport* report) {
  CsvReader in(path, ',');
  NoteFileRead(in.file_name(), report);
  std::vector<std::string> fields;
  if (!in.Next(fields)) throw FileError(in.file_name(), 0, "no header line");
  const std::vector<std::string> header = fields;
  const size_t c_user = ColumnIndex(header, "user_id", in.file_name());
  const size_t c_hist = ColumnIndex(header, "history_item_id", in.file_name());
  const size_t c_item = ColumnIndex(header, "item_id", in.file_name());
  int64_t rows = 0;
  ForEachRecord(
      opts, report, [&] { return in.Next(fields); },
      [&] {
        const std::string& file = in.file_name();
        const int64_t line = in.line_number();
        RequireFieldCount(fields.size(), header.size(), Join(fields, ","), file, line);
        auto seq = ParsePythonIntList(fields[c_hist]);
        if (!seq) {
          throw FileError(
              file, line,
              "history_item_id is not a Python list of integers: " + QuoteForError(fields[c_hist]));
        }
        seq->push_back(ParseInt64(fields[c_item], file, line, "item_id"));
        std::vector<ItemId> items;
        for (int64_t id : *seq) {
          const ItemId item = ds.items.Find(std::to_string(id));
          if (item < 0) {
            throw FileError(file, line, fmt::format("item id {} is not in the item index", id));
          }
          items.push_back(item);
        }
        if (fields[c_user].empty()) throw FileError(file, line, "empty user_id");
        const UserId user = ds.users.Intern(fields[c_user]);
        for (size_t k = 0; k < items.size(); ++k) {
          Interaction x;
          x.user = user;
          x.item = items[k];
          x.timestamp = static_cast<double>(k);
          x.value = 1.0f;
          x.session = row_index;
          x.part = part;
          ds.interactions.push_back(x);
        }
        ++row_index;
        ++rows;
      });
  if (rows == 0) throw FileError(in.file_name(), 0, "no data rows");
}

}  // namespace

std::optional<std::vector<int64_t>> ParsePythonIntList(std::string_view s) {
  size_t i = 0;
  SkipSpaces(s, i);
  if (i >= s.size() || s[i] != '[') return std::nullopt;
  ++i;
  std::vector<int64_t> out;
  SkipSpaces(s, i);
  if (i < s.size() && s[i] == ']') {
    ++i;
  } else {
    while (true) {
      SkipSpaces(s, i);
      size_t j = i;
      if (j < s.size() && s[j] == '-') ++j;
      const size_t digits = j;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      if (j == digits) return std::nullopt;
      int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + j, v);
      if (ec != std::errc() || ptr != s.data() + j) return std::nullopt;
      out.push_back(v);
      i = j;
      SkipSpaces(s, i);
      if (i >= s.size()) return std::nullopt;
      if (s[i] == ']') {
        ++i;
        break;
      }
      if (s[i] != ',') return std::nullopt;
      ++i;
    }
  }
  SkipSpaces(s, i);
  if (i != s.size()) return std::nullopt;
  return out;
}

std::optional<std::vector<std::string>> ParsePythonStringList(std::string_view s) {
  size_t i = 0;
  SkipSpaces(s, i);
  if (i >= s.size() || s[i] != '[') return std::nullopt;
  ++i;
  std::vector<std::string> out;
  SkipSpaces(s, i);
  if (i < s.size() && s[i] == ']') {
    ++i;
  } else {
    while (true) {
      SkipSpaces(s, i);
      if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return std::nullopt;
      const char quote = s[i++];
      std::string value;
      bool closed = false;
      while (i < s.size()) {
        const char c = s[i++];
        if (c == quote) {
          closed = true;
          break;
        }
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= s.size()) return std::nullopt;
        const char e = s[i++];
        switch (e) {
          case 'n':
            value += '\n';
            break;
          case 't':
            value += '\t';
            break;
          case 'r':
            value += '\r';
            break;
          case '\\':
          case '\'':
          case '"':
            value += e;
            break;
          default:
            value += '\\';
            value += e;
            break;  // Python keeps unknown escapes verbatim
        }
      }
      if (!closed) return std::nullopt;
      out.push_back(std::move(value));
      SkipSpaces(s, i);
      if (i >= s.size()) return std::nullopt;
      if (s[i] == ']') {
        ++i;
        break;
      }
      if (s[i] != ',') return std::nullopt;
      ++i;
    }
  }
  SkipSpaces(s, i);
  if (i != s.size()) return std::nullopt;
  return out;
}

Dataset LoadAmazon(const fs::path& dir, const LoadOptions& opts, LoadReport* report) {
  Dataset ds;
  ds.name = "amazon";
  ds.value_kind = ValueKind::kImplicit;
  ds.parts = {"valid", "test"};
  ReadCatalog(FindOne(dir / "index", ".item.json"), ds, report);
  std::error_code ec;
  if (fs::is_directory(dir / "info", ec)) ReadInfo(FindOne(dir / "info", ".txt"), ds, opts, report);
  int64_t row_index = 0;
  ReadSequences(FindOne(dir / "valid", ".csv"), 0, ds, row_index, opts, report);
  ReadSequences(FindOne(dir / "test", ".csv"), 1, ds, row_index, opts, report);
  ds.items.Normalize();
  ds.CheckConsistency();
  return ds;
}

}  // namespace recarena::data
