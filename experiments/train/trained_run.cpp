#include "experiments/train/trained_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "core/config.h"
#include "core/config_schema.h"
#include "core/error.h"
#include "core/strings.h"
#include "data/prepare.h"
#include "env/sim_config.h"
#include "models/checkpoint.h"
#include "models/device.h"

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

void CheckSameCatalog(const data::PreparedDataset& run, const data::PreparedDataset& sim,
                      const fs::path& run_cfg, const fs::path& sim_dir, const std::string& who) {
  const auto& a = run.dataset.items.external_ids;
  const auto& b = sim.dataset.items.external_ids;
  if (a.size() != b.size()) {
    throw FileError(run_cfg.string(), 0,
                    fmt::format("{}: the run's catalog has {} items, the simulator {} ({}) has {}",
                                who, a.size(), sim_dir.string(), run.dataset.name, b.size()));
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      throw FileError(
          run_cfg.string(), 0,
          fmt::format("{}: item {} is {} in the run's dataset but {} in the "
                      "simulator's ({}): prepare both from the same data config",
                      who, i, QuoteForError(a[i]), QuoteForError(b[i]), sim_dir.string()));
    }
  }
}

LoadedWindowRun LoadWindowRunForSimulator(const fs::path& run_dir, const fs::path& sim_dir,
                                          int64_t sim_state_len, const std::string& who) {
  LoadedWindowRun r = LoadWindowRun(run_dir, who);
  if (r.run.cfg.data.window.state_len != sim_state_len) {
    throw FileError(r.run.config_file.string(), 0,
                    fmt::format("{}: data.window.state_len is {}, the simulator's state_len {}",
                                who, r.run.cfg.data.window.state_len, sim_state_len));
  }
  CheckSameCatalog(r.od.prepared, SimulatorDataset(sim_dir), r.run.config_file, sim_dir, who);
  return r;
}

LoadedWindowRun LoadWindowRun(const fs::path& dir, const std::string& who) {
  LoadedWindowRun r{OpenTrainedRun(dir, who), {}, nullptr};
  OfflineTrainConfig& cfg = r.run.cfg;
  if (cfg.model_kind == OfflineModel::kPopularity || cfg.IsSessionModel()) {
    throw FileError(r.run.config_file.string(), 0,
                    fmt::format("{}: model_kind {} has no windowed model to load", who,
                                config::EnumToString(cfg.model_kind)));
  }
  if (cfg.train.threads > 0) torch::set_num_threads(static_cast<int>(cfg.train.threads));
  r.od = BuildOfflineData(cfg);
  cfg.model = ResolvedModelOptions(cfg, r.od.num_items());
  r.agent = MakeWindowAgent(cfg, r.od, models::ResolveDevice(cfg.run.device));
  models::LoadArchiveFile(r.run.best, [&](torch::serialize::InputArchive& a) { r.agent->Load(a); });
  return r;
}

}  // namespace recarena::experiments
