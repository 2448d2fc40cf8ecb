// Options and report shared by every dataset loader (see data/dataset_registry.h), including the
// column layout of the generic CSV loader (data/load_generic_csv.h).
//
// Bad lines: by default the first malformed line of any file is a FileError naming the file, the
// line and the offending value. With LoadOptions::skip_bad_lines, malformed *lines* are counted in
// the LoadReport and skipped instead; problems with a file as a whole (missing, empty, unknown
// column, wrong header) are always errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/dataset.h"
#include "data/value_kind_names.h"

namespace recarena::data {

// Layout of a generic interaction file. Columns are header names when header = true, 0-based
// column indices ("0", "3") when header = false.
struct CsvFormatConfig {
  std::string file = "interactions.csv";  // relative to the source folder
  std::string separator = ",";            // "," "\t" "tab" ";" "|" "whitespace"
  bool header = true;
  std::string user_column = "user_id";
  std::string item_column = "item_id";
  std::string time_column = "timestamp";  // "" = none: timestamp = 0-based record index
  std::string value_column = "";          // "" = implicit 1
  std::string session_column = "";        // "" = none (session -1)
  std::string time_format = "unix";       // unix (seconds) | unix_ms | iso8601
  // Maps a non-numeric value column, e.g. {"click=1", "buy=5"}. When non-empty every value must be
  // one of the keys.
  std::vector<std::string> value_map;
  ValueKind value_kind = ValueKind::kImplicit;

  template <class V>
  void Visit(V& v) {
    v("file", file);
    v("separator", separator);
    v("header", header);
    v("user_column", user_column);
    v("item_column", item_column);
    v("time_column", time_column);
    v("value_column", value_column);
    v("session_column", session_column);
    v("time_format", time_format);
    v("value_map", value_map);
    v("value_kind", value_kind);
  }
  // Throws ConfigError("<field>", ...) for an unknown separator/time format, an empty user/item
  // column, a non-index column when header = false, or a malformed value_map entry.
  void Validate() const;

  // The separator as a character; '\0' means "runs of whitespace". Requires a valid separator.
  char SeparatorChar() const;
  // value_map parsed into (key, value) pairs (Validate's rules).
  std::vector<std::pair<std::string, double>> ParsedValueMap() const;
};

struct LoadOptions {
  bool skip_bad_lines = false;
  CsvFormatConfig csv;

  template <class V>
  void Visit(V& v) {
    v("skip_bad_lines", skip_bad_lines);
    v("csv", csv);
  }
  void Validate() const { csv.Validate(); }
};

struct LoadReport {
  int64_t skipped_lines = 0;
  std::vector<std::string> skipped_examples;  // the first 10 messages
  std::vector<std::string> files_read;
  // Facts about the data worth telling the user (e.g. ids referenced but missing from a catalog).
  std::vector<std::string> notes;
};

// Applies skip_bad_lines to one bad line: rethrows e when skipping is off, otherwise counts it in
// report (which may be null).
void HandleBadLine(const FileError& e, const LoadOptions& opts, LoadReport* report);

// The record loop every loader runs over a file: `read()` fetches the next record (false at the
// end) and `body()` consumes it; a FileError from either is one bad line for HandleBadLine
// (counted and skipped under skip_bad_lines, otherwise rethrown, naming file and line).
template <class Read, class Body>
void ForEachRecord(const LoadOptions& opts, LoadReport* report, Read&& read, Body&& body) {
  while (true) {
    try {
      if (!read()) break;
      body();
    } catch (const FileError& e) {
      HandleBadLine(e, opts, report);
    }
  }
}
// Records a file in report->files_read (report may be null).
void NoteFileRead(const std::string& file, LoadReport* report);
void AddNote(const std::string& note, LoadReport* report);

}  // namespace recarena::data
