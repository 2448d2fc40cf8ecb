#include "data/dataset_registry.h"

#include "core/strings.h"
#include "data/load_amazon.h"
#include "data/load_coat.h"
#include "data/load_generic_csv.h"
#include "data/load_lastfm.h"
#include "data/load_movielens.h"
#include "data/load_rc15.h"

namespace recarena::data {

namespace fs = std::filesystem;

Dataset LoadDataset(DatasetKind kind, const fs::path& source, const LoadOptions& opts,
                    LoadReport* report) {
  if (kind == DatasetKind::kSynthetic) {
    throw Error(
        "the synthetic dataset is generated, not loaded from files (see data/synthetic_world.h)");
  }
  std::error_code ec;
  const bool ok = kind == DatasetKind::kCsv ? fs::exists(source, ec) : fs::is_directory(source, ec);
  if (!ok) {
    throw FileError(source.string(), 0,
                    "dataset folder for '" + config::EnumToString(kind) +
                        "' not found (set data.source or RECARENA_DATA_DIR)");
  }
  Dataset ds;
  switch (kind) {
    case DatasetKind::kMlLatestSmall:
      ds = LoadMlLatestSmall(source, opts, report);
      break;
    case DatasetKind::kMl100k:
      ds = LoadMl100k(source, opts, report);
      break;
    case DatasetKind::kCoat:
      ds = LoadCoat(source, opts, report);
      break;
    case DatasetKind::kRc15:
      ds = LoadRc15(source, opts, report);
      break;
    case DatasetKind::kAmazon:
      ds = LoadAmazon(source, opts, report);
      break;
    case DatasetKind::kLastfm:
      ds = LoadLastfm(source, opts, report);
      break;
    case DatasetKind::kCsv:
      ds = LoadGenericCsv(source, opts, report);
      break;
    case DatasetKind::kSynthetic:
      break;
  }
  ds.CheckConsistency();
  return ds;
}

std::string DefaultDataFolder(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::kMlLatestSmall:
      return "ml-latest-small";
    case DatasetKind::kMl100k:
      return "ml-100k";
    case DatasetKind::kCoat:
      return "coat";
    case DatasetKind::kRc15:
      return "rc15-sample";
    case DatasetKind::kAmazon:
      return "amazon-industrial";
    case DatasetKind::kLastfm:
      return "lastfm-2k";
    case DatasetKind::kSynthetic:
    case DatasetKind::kCsv:
      return "";
  }
  return "";
}

DatasetKind ParseDatasetKind(std::string_view name) {
  for (const auto& [kind, n] : config::EnumNames<DatasetKind>::Table()) {
    if (n == name) return kind;
  }
  const auto choices = config::EnumChoices<DatasetKind>();
  throw Error("unknown dataset " + QuoteForError(name) + DidYouMean(name, choices) +
              "; choices: " + Join(choices, "|"));
}

}  // namespace recarena::data
