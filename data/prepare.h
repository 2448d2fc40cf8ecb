// The data pipeline behind `recarena data prepare`: load (or generate) -> preprocess -> sequences
// -> split -> item statistics. Pure function of the config and the seed.
#pragma once

#include <cstdint>
#include <optional>

#include "data/data_config.h"
#include "data/dataset.h"
#include "data/dataset_registry.h"
#include "data/perturb.h"
#include "data/preprocess.h"
#include "data/sequences.h"
#include "data/splits.h"
#include "data/synthetic_world.h"

namespace recarena::data {

struct PreparedDataset {
  Dataset dataset;  // after preprocessing; ids dense, padding id = dataset.items.size()
  SequenceUnit unit = SequenceUnit::kUser;  // resolved unit of the sequences
  SequenceSplit split;                      // train / valid / test sequences
  ItemStats item_stats;  // popularity and long-tail set over the preprocessed log (all parts)
  PreprocessReport preprocess_report;
  LoadReport load_report;
  std::optional<SyntheticGroundTruth> truth;  // the synthetic world only
  std::vector<PerturbedRow> perturbation;     // data.perturb's changes to split.train, if any

  ItemId padding_id() const { return dataset.items.size(); }
};

// The folder a config reads from (data.source, or the shared data root + the dataset's folder).
std::filesystem::path ResolveSource(const DataConfig& cfg);

// Runs the pipeline. seed is run.seed: the synthetic world uses Rng(seed).Fork(1), the split
// Rng(seed).Fork(2), the perturbation Rng(seed).Fork(7) (or Rng(data.perturb.seed)), so changing
// one stage's consumption never shifts another's stream.
PreparedDataset PrepareDataset(const DataConfig& cfg, uint64_t seed);

}  // namespace recarena::data
