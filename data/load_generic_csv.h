// Generic interaction-file loader configured by CsvFormatConfig (declared in data/load_options.h):
// CSV/TSV with RFC-4180 quoting, or whitespace-separated columns.
//
// The file is `source` itself when source is a regular file, else source / opts.csv.file.
// Users and items get dense ids in order of first appearance; external ids are the column text
// (surrounding spaces trimmed). timestamp: the time column in unix seconds (unix_ms is divided by
// 1000; iso8601 is converted to UTC seconds), or the 0-based record index when time_column is "".
// value: the value column (a number, or a value_map key), 1 when value_column is "". session: the
// dense index (first appearance) of the session column's value, -1 when session_column is "".
// One part "all"; value_kind and the dataset name ("csv") from the config.
// A header line whose column names do not include a configured column is a FileError naming the
// file, the column, the closest match and all available columns.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "data/dataset.h"
#include "data/load_options.h"

namespace recarena::data {

Dataset LoadGenericCsv(const std::filesystem::path& source, const LoadOptions& opts,
                       LoadReport* report);

// Parses an ISO-8601 date/time into unix seconds (UTC):
// YYYY-MM-DD[(T|' ')hh:mm[:ss[.fraction]]][Z|+hh:mm|-hh:mm|+hhmm|-hhmm]; no zone means UTC.
// nullopt for anything else (including impossible dates and times).
std::optional<double> ParseIso8601(std::string_view s);

}  // namespace recarena::data
