// The `data:` section of a config: which dataset, where it is, and how it is preprocessed, split
// and windowed. Shared by `data prepare`, training and simulator commands.
#pragma once

#include <string>
#include <type_traits>

#include "core/config_schema.h"
#include "core/run_config.h"
#include "data/dataset_registry.h"
#include "data/perturb.h"
#include "data/preprocess.h"
#include "data/splits.h"
#include "data/synthetic_world.h"
#include "data/windows.h"

namespace recarena::config {
class YamlWriter;
}  // namespace recarena::config

namespace recarena::data {

struct DataConfig {
  DatasetKind dataset = DatasetKind::kSynthetic;
  // Dataset folder. Empty: <data root>/<default folder of the dataset> (data root =
  // $RECARENA_DATA_DIR or ../shared/data). Relative paths are relative to the working directory.
  std::string source;
  bool skip_bad_lines = false;  // count and report bad lines instead of failing on the first
  // Which predefined parts of the log to use (e.g. [tags] for lastfm-2k); empty = all parts.
  std::vector<std::string> parts;
  CsvFormatConfig csv;        // dataset: csv only
  SyntheticConfig synthetic;  // dataset: synthetic only
  PreprocessConfig preprocess;
  SplitConfig split;
  WindowConfig window;
  PerturbConfig perturb;  // perturbs the training sequences after the split (data/perturb.h)

  template <class V>
  void Visit(V& v) {
    v("dataset", dataset);
    v("source", source);
    v("skip_bad_lines", skip_bad_lines);
    v("parts", parts);
    v("csv", csv);
    v("synthetic", synthetic);
    v("preprocess", preprocess);
    v("split", split);
    v("window", window);
    // The resolved config.yaml lists the section only when it perturbs, so that run directories
    // made before the section existed still resume (their config.yaml is compared textually).
    if (!std::is_same_v<V, config::YamlWriter> || perturb.kind != PerturbKind::kNone) {
      v("perturb", perturb);
    }
  }
  void Validate() const;
};

// The config of `recarena data prepare`.
struct DataPrepareConfig {
  RunConfig run;
  DataConfig data;
  template <class V>
  void Visit(V& v) {
    v("run", run);
    v("data", data);
  }
  void Validate() const {
    run.Validate();
    data.Validate();
  }
};

}  // namespace recarena::data
