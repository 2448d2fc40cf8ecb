#include "experiments/train/dt_setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "data/prepare.h"
#include "env/sim_config.h"
#include "experiments/eval/metrics.h"
#include "experiments/train/offline_trainer.h"
#include "experiments/train/trained_run.h"

namespace recarena::experiments {

namespace fs = std::filesystem;

namespace {

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto n = static_cast<double>(v.size());
  const auto rank = static_cast<size_t>(std::max(1.0, std::ceil(q * n)));
  return v[std::min(rank, v.size()) - 1];
}

}  // namespace

LoggedReturnQuantiles FirstStepReturnQuantiles(const data::Windows& windows,
                                               const std::vector<uint8_t>& long_tail, double q) {
  if (windows.size() == 0) throw Error("FirstStepReturnQuantiles: no logged windows");
  std::vector<double> acc, nov;
  acc.reserve(windows.size());
  nov.reserve(windows.size());
  const auto L = static_cast<size_t>(windows.state_len);
  for (size_t w = 0; w < windows.size(); ++w) {
    const auto n = static_cast<size_t>(windows.lengths[w]);
    double novel = 0.0;
    // a_t = x_{t+1} for t < n, a_n = the target.
    for (size_t t = 1; t < n; ++t)
      novel += long_tail[static_cast<size_t>(windows.states[w * L + t])] ? 1.0 : 0.0;
    novel += long_tail[static_cast<size_t>(windows.targets[w])] ? 1.0 : 0.0;
    acc.push_back(static_cast<double>(n));
    nov.push_back(novel);
  }
  LoggedReturnQuantiles out;
  out.accuracy = Quantile(acc, q);
  out.novelty = Quantile(nov, q);
  out.windows = static_cast<int64_t>(windows.size());
  return out;
}

agents::DtSetup ResolveDtSetup(const OnlineRunConfig& cfg, const env::Simulator& train_sim) {
  const agents::DtOnlineOptions& o = cfg.agent.dt;
  const fs::path sim_dir = cfg.simulator.dir;
  agents::DtSetup setup;
  setup.batch_size = o.batch_size;
  setup.train_every = o.train_every;
  setup.learning_starts = o.learning_starts;
  setup.buffer_size = o.buffer_size;
  const int32_t L = static_cast<int32_t>(train_sim.state_len);
  std::vector<data::Sequence> logged;  // for quantile targets
  if (!o.init_from.empty()) {
    const TrainedRun run = OpenTrainedRun(o.init_from, "agent.dt.init_from");
    RequireModelKind(run, {OfflineModel::kModt4r, OfflineModel::kMrdt}, "agent.dt.init_from");
    const OfflineTrainConfig& off = run.cfg;
    const fs::path &run_cfg = run.config_file, &best = run.best;
    if (off.data.window.state_len != L) {
      throw FileError(run_cfg.string(), 0,
                      fmt::format("agent.dt.init_from: data.window.state_len is {}, the "
                                  "simulator's state_len {}",
                                  off.data.window.state_len, L));
    }
    OfflineData od = BuildOfflineData(off);
    if (od.num_items() != train_sim.num_items) {
      throw FileError(run_cfg.string(), 0,
                      fmt::format("agent.dt.init_from: the run has {} items, the simulator {}",
                                  od.num_items(), train_sim.num_items));
    }
    CheckSameCatalog(od.prepared, SimulatorDataset(sim_dir), run_cfg, sim_dir,
                     "agent.dt.init_from");
    setup.model = ResolvedModelOptions(off, od.num_items());
    setup.transformer = off.dt;
    setup.order = OrderOf(off.model_kind);
    setup.long_tail = TrainingLongTail(od.train_seqs, od.num_items());
    setup.init_checkpoint = best.string();
    setup.similarity_vectors = DtSimilarityVectors(off.dt, od.prepared);
    logged = std::move(od.train_seqs);
  } else {
    setup.model.encoder = cfg.agent.encoder;
    setup.model.encoder.num_items = train_sim.num_items;
    setup.model.encoder.state_len = L;
    setup.model.lr = cfg.agent.lr;
    setup.model.grad_clip = cfg.agent.grad_clip;
    setup.transformer = o.transformer;
    setup.order = o.order;
    setup.long_tail = LongTailFromPopularity(train_sim.logged_item_counts, 0.1);
    const bool features = o.transformer.similarity == agents::ReturnSimilarity::kFeatures;
    if (o.target.kind == agents::DtTargetKind::kQuantile || features) {
      const data::PreparedDataset sim_data = SimulatorDataset(sim_dir);
      logged = sim_data.split.train;
      if (features) setup.similarity_vectors = DtSimilarityVectors(o.transformer, sim_data);
    }
  }
  setup.transformer.alpha = o.alpha;
  setup.transformer.lambda = o.lambda;
  if (o.target.kind == agents::DtTargetKind::kValue) {
    setup.target_accuracy = o.target.accuracy;
    setup.target_novelty = o.target.novelty;
  } else {
    const data::Windows w =
        data::MakeWindows(logged, L, static_cast<data::ItemId>(train_sim.num_items));
    const auto qs = FirstStepReturnQuantiles(w, setup.long_tail, o.target.quantile);
    setup.target_accuracy = std::max(1.0, qs.accuracy);
    setup.target_novelty = qs.novelty;
    log::Info("dt: targets at the {} quantile of {} logged windows: R_acc {} R_nov {}",
              o.target.quantile, qs.windows, setup.target_accuracy, setup.target_novelty);
  }
  return setup;
}

}  // namespace recarena::experiments
