// Opening a run directory of `recarena train` to use its trained model (conformal-eval, dt-sweep,
// CPFT's and the online decision transformer's init_from): one place that says what a run holds
// and how a missing piece or a wrong model kind is reported.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>

#include "data/prepare.h"
#include "experiments/train/offline_config.h"
#include "experiments/train/offline_trainer.h"

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

// Throws FileError(run_cfg), prefixed with `who`, unless the run's and the simulator's catalogs
// list the same external item ids in the same order (the same dense ids).
void CheckSameCatalog(const data::PreparedDataset& run, const data::PreparedDataset& sim,
                      const std::filesystem::path& run_cfg, const std::filesystem::path& sim_dir,
                      const std::string& who);

// A run's windowed model (any model_kind but popularity and the session models) loaded from
// best.pt, with the data it was trained on and its resolved model options (cfg.model); on the
// run's run.device, with its train.threads.
struct LoadedWindowRun {
  TrainedRun run;
  OfflineData od;
  std::unique_ptr<agents::SupervisedAgent> agent;
};
LoadedWindowRun LoadWindowRun(const std::filesystem::path& dir, const std::string& who);
// LoadWindowRun, then checks that the run can act in the simulator fitted in sim_dir: the same
// catalog (CheckSameCatalog) and window length (FileError naming both otherwise).
LoadedWindowRun LoadWindowRunForSimulator(const std::filesystem::path& run_dir,
                                          const std::filesystem::path& sim_dir,
                                          int64_t sim_state_len, const std::string& who);

}  // namespace recarena::experiments
