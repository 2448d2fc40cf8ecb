// Dataset kinds and the one entry point that loads a real dataset from its source folder.
//
// LoadOptions, LoadReport and CsvFormatConfig are declared in env/load_options.h (included here).
// Each loader's header documents its file layout and representation choices:
//   ml-latest-small, ml-100k -> env/load_movielens.h   coat      -> env/load_coat.h
//   rc15                     -> env/load_rc15.h        amazon    -> env/load_amazon.h
//   lastfm-2k                -> env/load_lastfm.h      csv       -> env/load_generic_csv.h
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.h"
#include "env/dataset.h"
#include "env/load_options.h"

namespace recarena::env {

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
// the synthetic world is generated (see env/synthetic_world.h). report may be null.
Dataset LoadDataset(DatasetKind kind, const std::filesystem::path& source, const LoadOptions& opts,
                    LoadReport* report);

// The folder name under the shared data root for a kind ("ml-latest-small", "ml-100k", "coat",
// "rc15-sample", "amazon-industrial", "lastfm-2k"); "" for synthetic and csv.
std::string DefaultDataFolder(DatasetKind kind);

// Parses a dataset name (see EnumNames<DatasetKind>); throws Error listing the choices and the
// closest match.
DatasetKind ParseDatasetKind(std::string_view name);

}  // namespace recarena::env

namespace recarena::config {
template <>
struct EnumNames<env::DatasetKind> {
  static const std::vector<std::pair<env::DatasetKind, std::string>>& Table() {
    static const std::vector<std::pair<env::DatasetKind, std::string>> t = {
        {env::DatasetKind::kSynthetic, "synthetic"},
        {env::DatasetKind::kMlLatestSmall, "ml-latest-small"},
        {env::DatasetKind::kMl100k, "ml-100k"},
        {env::DatasetKind::kCoat, "coat"},
        {env::DatasetKind::kRc15, "rc15"},
        {env::DatasetKind::kAmazon, "amazon"},
        {env::DatasetKind::kLastfm, "lastfm-2k"},
        {env::DatasetKind::kCsv, "csv"}};
    return t;
  }
};
}  // namespace recarena::config
