// Dataset kinds and the one entry point that loads a real dataset from its source folder.
//
// LoadOptions, LoadReport and CsvFormatConfig are declared in data/load_options.h (included here).
// Each loader's header documents its file layout and representation choices:
//   ml-latest-small, ml-100k -> data/load_movielens.h   coat      -> data/load_coat.h
//   rc15                     -> data/load_rc15.h        amazon    -> data/load_amazon.h
//   lastfm-2k                -> data/load_lastfm.h      csv       -> data/load_generic_csv.h
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "data/dataset.h"
#include "data/load_options.h"

namespace recarena::data {

enum class DatasetKind {
  kSynthetic,
  kMlLatestSmall,
  kMl100k,
  kCoat,
  kRc15,
  kAmazon,
  kLastfm,
  kCsv
};

// Loads a real dataset from its source folder (for kCsv: a folder holding opts.csv.file, or the
// file itself) and checks its consistency. kSynthetic is not handled here: it throws Error saying
// the synthetic world is generated (see data/synthetic_world.h). report may be null.
Dataset LoadDataset(DatasetKind kind, const std::filesystem::path& source, const LoadOptions& opts,
                    LoadReport* report);

// The folder name under the shared data root for a kind ("ml-latest-small", "ml-100k", "coat",
// "rc15-sample", "amazon-industrial", "lastfm-2k"); "" for synthetic and csv.
std::string DefaultDataFolder(DatasetKind kind);

// Parses a dataset name (see EnumNames<DatasetKind>); throws Error listing the choices and the
// closest match.
DatasetKind ParseDatasetKind(std::string_view name);

}  // namespace recarena::data

namespace recarena::config {
template <>
struct EnumNames<data::DatasetKind> {
  static const std::vector<std::pair<data::DatasetKind, std::string>>& Table() {
    static const std::vector<std::pair<data::DatasetKind, std::string>> t = {
        {data::DatasetKind::kSynthetic, "synthetic"},
        {data::DatasetKind::kMlLatestSmall, "ml-latest-small"},
        {data::DatasetKind::kMl100k, "ml-100k"},
        {data::DatasetKind::kCoat, "coat"},
        {data::DatasetKind::kRc15, "rc15"},
        {data::DatasetKind::kAmazon, "amazon"},
        {data::DatasetKind::kLastfm, "lastfm-2k"},
        {data::DatasetKind::kCsv, "csv"}};
    return t;
  }
};
}  // namespace recarena::config
