#include "data/load_options.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "core/strings.h"

namespace recarena::data {

namespace {
bool IsIndex(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}
}  // namespace

char CsvFormatConfig::SeparatorChar() const {
  if (separator == "," || separator == ";" || separator == "|") return separator[0];
  if (separator == "\t" || separator == "tab") return '\t';
  if (separator == "whitespace") return '\0';
  throw ConfigError("separator", "unknown separator " + QuoteForError(separator) +
                                     "; choices: \",\" \"\\t\" tab \";\" \"|\" whitespace");
}

std::vector<std::pair<std::string, double>> CsvFormatConfig::ParsedValueMap() const {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& entry : value_map) {
    const size_t eq = entry.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("value_map", "value_map entry " + QuoteForError(entry) +
                                         " must look like name=number (e.g. buy=5)");
    }
    const std::string key = entry.substr(0, eq);
    const std::string num = entry.substr(eq + 1);
    double v = 0;
    const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (num.empty() || ec != std::errc() || ptr != num.data() + num.size() || !std::isfinite(v)) {
      throw ConfigError("value_map", "value_map entry " + QuoteForError(entry) + ": " +
                                         QuoteForError(num) + " is not a number");
    }
    for (const auto& [k, _] : out) {
      if (k == key) {
        throw ConfigError("value_map", "value_map names " + QuoteForError(key) + " twice");
      }
    }
    out.emplace_back(key, v);
  }
  return out;
}

void CsvFormatConfig::Validate() const {
  if (file.empty()) throw ConfigError("file", "csv.file must name the interaction file");
  SeparatorChar();
  if (user_column.empty()) throw ConfigError("user_column", "csv.user_column must be set");
  if (item_column.empty()) throw ConfigError("item_column", "csv.item_column must be set");
  if (!header) {
    const std::pair<const char*, const std::string*> cols[] = {{"user_column", &user_column},
                                                               {"item_column", &item_column},
                                                               {"time_column", &time_column},
                                                               {"value_column", &value_column},
                                                               {"session_column", &session_column}};
    for (const auto& [name, col] : cols) {
      if (!col->empty() && !IsIndex(*col)) {
        throw ConfigError(name, std::string("csv.") + name + " = " + QuoteForError(*col) +
                                    " must be a 0-based column index when header is false");
      }
    }
  }
  static const std::vector<std::string> kFormats = {"unix", "unix_ms", "iso8601"};
  bool known = false;
  for (const auto& f : kFormats) known = known || f == time_format;
  if (!known) {
    throw ConfigError("time_format", "unknown csv.time_format " + QuoteForError(time_format) +
                                         DidYouMean(time_format, kFormats) +
                                         "; choices: unix|unix_ms|iso8601");
  }
  if (!value_map.empty() && value_column.empty()) {
    throw ConfigError("value_map", "csv.value_map needs csv.value_column");
  }
  ParsedValueMap();
}

void HandleBadLine(const FileError& e, const LoadOptions& opts, LoadReport* report) {
  if (!opts.skip_bad_lines) throw e;
  if (report == nullptr) return;
  ++report->skipped_lines;
  if (report->skipped_examples.size() < 10) report->skipped_examples.push_back(e.what());
}

void NoteFileRead(const std::string& file, LoadReport* report) {
  if (report) report->files_read.push_back(file);
}

void AddNote(const std::string& note, LoadReport* report) {
  if (report) report->notes.push_back(note);
}

}  // namespace recarena::data
