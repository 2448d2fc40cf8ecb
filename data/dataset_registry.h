// Dataset kinds, their registry (config name, default folder, loader: one row per kind), and the
// one entry point that loads a real dataset from its source folder. Adding a dataset touches its
// loader (data/load_foo.{h,cpp}) and this file: an enumerator and a row (docs/extending.md).
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
#include "data/load_amazon.h"
#include "data/load_coat.h"
#include "data/load_generic_csv.h"
#include "data/load_lastfm.h"
#include "data/load_movielens.h"
#include "data/load_options.h"
#include "data/load_rc15.h"

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

// One registered dataset. load is null for synthetic (generated, not loaded); a source that is a
// file rather than a folder is accepted when file_source is set (csv).
using DatasetLoader = Dataset (*)(const std::filesystem::path& source, const LoadOptions& opts,
                                  LoadReport* report);
struct DatasetEntry {
  DatasetKind kind;
  const char* name;    // the spelling of data.dataset in a config
  const char* folder;  // the folder under the shared data root; "" when there is none
  DatasetLoader load;
  bool file_source = false;
};

// Every dataset kind, in enum order.
inline const std::vector<DatasetEntry>& DatasetRegistry() {
  static const std::vector<DatasetEntry> registry = {
      {DatasetKind::kSynthetic, "synthetic", "", nullptr},
      {DatasetKind::kMlLatestSmall, "ml-latest-small", "ml-latest-small", &LoadMlLatestSmall},
      {DatasetKind::kMl100k, "ml-100k", "ml-100k", &LoadMl100k},
      {DatasetKind::kCoat, "coat", "coat", &LoadCoat},
      {DatasetKind::kRc15, "rc15", "rc15-sample", &LoadRc15},
      {DatasetKind::kAmazon, "amazon", "amazon-industrial", &LoadAmazon},
      {DatasetKind::kLastfm, "lastfm-2k", "lastfm-2k", &LoadLastfm},
      {DatasetKind::kCsv, "csv", "", &LoadGenericCsv, /*file_source=*/true},
  };
  return registry;
}

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
    static const std::vector<std::pair<data::DatasetKind, std::string>> t = [] {
      std::vector<std::pair<data::DatasetKind, std::string>> names;
      for (const auto& e : data::DatasetRegistry()) names.emplace_back(e.kind, e.name);
      return names;
    }();
    return t;
  }
};
}  // namespace recarena::config
