// Opening a run directory of `recarena train` to use its trained model (conformal-eval, dt-sweep,
// CPFT's and the online decision transformer's init_from): one place that says what a run holds
// and how a missing piece or a wrong model kind is reported.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string>

#include "data/prepare.h"
#include "experiments/train/offline_config.h"

namespace recarena::experiments {

struct TrainedRun {
  std::filesystem::path dir;
  std::filesystem::path
      config_file;             // dir/config.yaml, the resolved config the run was trained with
  std::filesystem::path best;  // dir/best.pt, the best checkpoint by validation
  OfflineTrainConfig cfg;      // read strictly from config_file
};

// Reads dir/config.yaml and checks that dir/best.pt exists. Throws FileError naming the missing
// file, prefixed with `who` (the command or config key asking, e.g. "conformal-eval" or
// "cpft.init_from"), when dir is not a `recarena train` run or has no best checkpoint yet.
TrainedRun OpenTrainedRun(const std::filesystem::path& dir, const std::string& who);

// Throws FileError(run.config_file) naming the run's model_kind and the accepted ones unless it is
// one of `accepted`.
void RequireModelKind(const TrainedRun& run, std::initializer_list<OfflineModel> accepted,
                      const std::string& who);

// The dataset a `recarena sim fit` directory was fitted on, prepared again from its config.yaml
// (the same pipeline and seed, so its item ids are the simulator's). FileError when sim_dir has no
// config.yaml.
data::PreparedDataset SimulatorDataset(const std::filesystem::path& sim_dir);

}  // namespace recarena::experiments
