#include "data/dataset_registry.h"

#include "core/error.h"
#include "core/strings.h"

namespace recarena::data {

namespace fs = std::filesystem;

namespace {
const DatasetEntry& EntryOf(DatasetKind kind) {
  for (const auto& e : DatasetRegistry()) {
    if (e.kind == kind) return e;
  }
  throw Error("dataset kind " + std::to_string(static_cast<int>(kind)) + " is not registered");
}
}  // namespace

Dataset LoadDataset(DatasetKind kind, const fs::path& source, const LoadOptions& opts,
                    LoadReport* report) {
  const DatasetEntry& entry = EntryOf(kind);
  if (entry.load == nullptr) {
    throw Error(
        "the synthetic dataset is generated, not loaded from files (see data/synthetic_world.h)");
  }
  std::error_code ec;
  const bool ok = entry.file_source ? fs::exists(source, ec) : fs::is_directory(source, ec);
  if (!ok) {
    throw FileError(source.string(), 0,
                    "dataset folder for '" + std::string(entry.name) +
                        "' not found (set data.source or RECARENA_DATA_DIR)");
  }
  Dataset ds = entry.load(source, opts, report);
  ds.CheckConsistency();
  return ds;
}

std::string DefaultDataFolder(DatasetKind kind) { return EntryOf(kind).folder; }

DatasetKind ParseDatasetKind(std::string_view name) {
  for (const auto& [kind, n] : config::EnumNames<DatasetKind>::Table()) {
    if (n == name) return kind;
  }
  const auto choices = config::EnumChoices<DatasetKind>();
  throw Error("unknown dataset " + QuoteForError(name) + DidYouMean(name, choices) +
              "; choices: " + Join(choices, "|"));
}

}  // namespace recarena::data
