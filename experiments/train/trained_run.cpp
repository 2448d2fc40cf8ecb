#include "experiments/train/trained_run.h"

#include <algorithm>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/strings.h"
#include "data/prepare.h"
#include "env/sim_config.h"

namespace recarena::experiments {

namespace fs = std::filesystem;

TrainedRun OpenTrainedRun(const fs::path& dir, const std::string& who) {
  TrainedRun run;
  run.dir = dir;
  run.config_file = dir / "config.yaml";
  run.best = dir / "best.pt";
  if (!fs::exists(run.config_file)) {
    throw FileError(run.config_file.string(), 0,
                    who + ": not found (" + QuoteForError(dir.string()) +
                        " must be a run directory of `recarena train`)");
  }
  run.cfg = config::Load<OfflineTrainConfig>(run.config_file);
  if (!fs::exists(run.best)) {
    throw FileError(run.best.string(), 0,
                    who +
                        ": not found (the run has no best checkpoint; a popularity run never "
                        "has one, a training run writes it after its first validation)");
  }
  return run;
}

void RequireModelKind(const TrainedRun& run, std::initializer_list<OfflineModel> accepted,
                      const std::string& who) {
  if (std::find(accepted.begin(), accepted.end(), run.cfg.model_kind) != accepted.end()) return;
  std::vector<std::string> names;
  for (OfflineModel m : accepted) names.push_back(config::EnumToString(m));
  throw FileError(run.config_file.string(), 0,
                  who + ": the run's model_kind is " + config::EnumToString(run.cfg.model_kind) +
                      "; this needs " + Join(names, " | "));
}

data::PreparedDataset SimulatorDataset(const fs::path& sim_dir) {
  const fs::path file = sim_dir / "config.yaml";
  if (!fs::exists(file))
    throw FileError(file.string(), 0, "not a fitted simulator directory (no config.yaml)");
  const auto sim_cfg = config::Load<env::SimFitConfig>(file);
  return data::PrepareDataset(sim_cfg.data, sim_cfg.run.seed);
}

}  // namespace recarena::experiments
