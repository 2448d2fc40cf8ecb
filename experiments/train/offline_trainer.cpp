#include "experiments/train/offline_trainer.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "agents/cpft.h"
#include "agents/finest.h"
#include "agents/modt4r.h"
#include "agents/offline_q.h"
#include "agents/popularity.h"
#include "agents/sqn.h"
#include "agents/supervised.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/strings.h"
#include "data/perturb.h"
#include "data/prepare.h"
#include "data/windows.h"
#include "dist/grad_sync.h"
#include "experiments/eval/metrics.h"
#include "experiments/eval/offline_eval.h"
#include "experiments/train/data_parallel.h"
#include "experiments/train/session_trainer.h"
#include "experiments/train/trained_run.h"
#include "experiments/train/training_loop.h"
#include "models/checkpoint.h"
#include "models/device.h"
#include "models/item_attributes.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void WriteReport(const fs::path& dir, const OfflineTrainConfig& cfg, const std::string& model_name,
                 const std::map<std::string, double>& m, const OfflineRunResult& r) {
  std::ostringstream md;
  md << "# " << cfg.run.name << ": " << model_name << " on "
     << config::EnumToString(cfg.data.dataset) << "\n\n";
  md << "steps: " << r.steps
     << ", best validation NDCG@10: " << fmt::format("{:.4f}", r.best_valid_ndcg10)
     << (r.early_stopped ? " (early stopped)" : "") << "\n\n| metric | test |\n|---|---|\n";
  for (const auto& [k, v] : m) md << "| " << k << " | " << fmt::format("{:.4f}", v) << " |\n";
  WriteFileAtomic(dir / "report.md", md.str());
}

// CPFT calibration rows of one step: positions [step * b, (step + 1) * b) of the endless sequence
// of calibration-epoch permutations (epoch e shuffled with Rng(seed).Fork(5000 + e)); b is capped
// at the number of calibration windows n.
std::vector<int64_t> CalibrationRows(uint64_t seed, int64_t step, int64_t batch, int64_t n) {
  const int64_t b = std::min(batch, n);
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(b));
  int64_t cached_epoch = -1;
  std::vector<int64_t> perm;
  for (int64_t j = 0; j < b; ++j) {
    const int64_t g = step * b + j;
    const int64_t epoch = g / n;
    if (epoch != cached_epoch) {
      perm.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
      Rng rng = Rng(seed).Fork(5000 + static_cast<uint64_t>(epoch));
      rng.Shuffle(perm);
      cached_epoch = epoch;
    }
    rows.push_back(perm[static_cast<size_t>(g % n)]);
  }
  return rows;
}

// The checkpoint a fine-tuning (CPFT, FINEST) starts from: init_from/best.pt, after checking that
// the initial run used the same data (data.perturb aside), seed and model (otherwise item ids or
// shapes would silently mean something else). key names the config key (cpft.init_from), what the
// fine-tuning.
fs::path CheckInitRun(const OfflineTrainConfig& cfg, const std::string& init_from,
                      const std::string& key, const std::string& what) {
  const TrainedRun run = OpenTrainedRun(init_from, key);
  RequireModelKind(run, {OfflineModel::kNormal, OfflineModel::kCpft, OfflineModel::kFinest}, key);
  const OfflineTrainConfig& init = run.cfg;
  const fs::path &cfg_file = run.config_file, &ckpt = run.best;
  auto differs = [&](const std::string& part) {
    return FileError(cfg_file.string(), 0,
                     "the initial run's " + part + " differs from this config's; " + what +
                         " must fine-tune a model trained on the same data with the same model");
  };
  // A perturbation of the training data keeps the catalog and ids: it may differ.
  data::DataConfig a = init.data, b = cfg.data;
  a.perturb = b.perturb = data::PerturbConfig{};
  if (config::ToYamlString(a) != config::ToYamlString(b)) throw differs("data section");
  if (init.run.seed != cfg.run.seed)
    throw differs("run.seed (it fixes the synthetic world and the split)");
  // (num_items is not a config key, so it is absent from both texts.)
  if (config::ToYamlString(init.model.encoder) != config::ToYamlString(cfg.model.encoder)) {
    throw differs("model.encoder section");
  }
  return ckpt;
}

// Loads a fine-tuning's (CPFT, FINEST) initial weights from init_from/best.pt (CheckInitRun).
void InitFineTuning(agents::SupervisedAgent& agent, const OfflineTrainConfig& cfg,
                    const std::string& init_from, const std::string& key, const std::string& what) {
  const fs::path init = CheckInitRun(cfg, init_from, key, what);
  agent.InitFrom(init, what);
  log::Info("{}: initialised from {}", what, init.string());
}

// The windowed models' learner: batches of train.batch_size training windows in the epoch's order
// (Rng(seed).Fork(1000 + epoch)); the cursor is the next window. CPFT adds its calibration batch of
// validation windows (CalibrationRows: a pure function of seed and step, so a resumed run draws
// the same). FINEST records every training window's reference lists with the initial model (at
// construction, before a resume loads later weights) and each epoch simulates a perturbation of
// finest.simulation_ratio of the windows (Rng(seed).Fork(9000 + epoch)), which leave its
// regulariser for that epoch. Validation: the validation windows, or the training windows when
// there are none. Data-parallel (sync set): every rank walks the same epoch order and takes its
// contiguous shard of each global batch (rows [n r / W, n (r + 1) / W)), and of CPFT's calibration
// batch; LibTorch's generator (dropout, cloze masks) is reseeded per (seed, rank, step) so that the
// ranks draw independent masks and a resumed rank draws what it would have (docs/distributed.md).
class WindowLearner : public OfflineLearner {
 public:
  WindowLearner(std::unique_ptr<agents::SupervisedAgent> agent, agents::CpftAgent* cpft,
                agents::FinestAgent* finest, const OfflineTrainConfig& cfg, const OfflineData& od,
                const MetricsContext& ctx, const OfflineEvalOptions& valid_opts,
                dist::GradientSync* sync = nullptr)
      : agent_(std::move(agent)),
        cpft_(cpft),
        finest_(finest),
        cfg_(cfg),
        od_(od),
        ctx_(ctx),
        valid_opts_(valid_opts),
        sync_(sync) {
    if (finest_ != nullptr) RecordReferences();
    if (sync_ != nullptr) {
      agent_->SetGradientSync(sync_);
      sync_->BroadcastParameters(agent_->parameters());
    }
  }
  void StartEpoch(int64_t epoch, bool /*fresh*/) override {
    perm_.resize(od_.train_w.size());
    for (size_t i = 0; i < perm_.size(); ++i) perm_[i] = static_cast<int64_t>(i);
    Rng rng = Rng(cfg_.run.seed).Fork(1000 + static_cast<uint64_t>(epoch));
    rng.Shuffle(perm_);
    if (finest_ == nullptr) return;
    // The windows simulated this epoch: round(ratio * N) of them.
    std::vector<int64_t> order = perm_;
    Rng sim = Rng(cfg_.run.seed).Fork(9000 + static_cast<uint64_t>(epoch));
    sim.Shuffle(order);
    simulated_.assign(perm_.size(), 0);
    const auto n = std::llround(cfg_.finest.simulation_ratio * static_cast<double>(order.size()));
    for (int64_t i = 0; i < n; ++i) simulated_[static_cast<size_t>(order[i])] = 1;
    sim_rng_ = sim;  // each row's draws: sim_rng_.Fork(row + 1), the same after a resume
  }
  int64_t EpochSize() const override { return static_cast<int64_t>(perm_.size()); }
  agents::MetricList Step(int64_t* cursor) override {
    const int64_t end = std::min(EpochSize(), *cursor + cfg_.train.batch_size);
    const std::vector<int64_t> rows(perm_.begin() + *cursor, perm_.begin() + end);
    *cursor = end;
    return ShardedUpdate(sync_, cfg_.run.seed, agent_->step(), rows,
                         [this](const std::vector<int64_t>& shard) { return Update(shard); });
  }
  std::map<std::string, double> Validate() override {
    const BatchScorer scorer = [&](const torch::Tensor& items, const torch::Tensor& lengths) {
      return agent_->Scores(items, lengths);
    };
    return EvaluateWindows(scorer, od_.valid_w.size() ? od_.valid_w : od_.train_w, ctx_,
                           valid_opts_);
  }
  void Save(torch::serialize::OutputArchive& a) const override { agent_->Save(a); }
  void Load(torch::serialize::InputArchive& a) override { agent_->Load(a); }
  int64_t step() const override { return agent_->step(); }

 private:
  void RecordReferences() {
    const data::Windows& w = od_.train_w;
    const auto n = static_cast<int64_t>(w.size());
    ref_ = torch::empty({n, cfg_.finest.k}, torch::kInt32);
    comp_ = torch::empty({n, cfg_.finest.k}, torch::kInt32);
    Progress progress("finest reference lists", n, 2.0);
    for (int64_t b = 0; b < n; b += cfg_.eval.batch_size) {
      std::vector<int64_t> rows;
      for (int64_t r = b; r < std::min(n, b + cfg_.eval.batch_size); ++r) rows.push_back(r);
      auto [items, lengths] = WindowTensors(w, rows);
      auto [r, c] = finest_->References(items.to(agent_->device()), lengths.to(agent_->device()));
      ref_.narrow(0, b, r.size(0)).copy_(r);
      comp_.narrow(0, b, c.size(0)).copy_(c);
      progress.Add(r.size(0));
    }
    progress.Finish();
    least_popular_ = data::LeastPopularItem(od_.train_seqs, od_.num_items());
    log::Info("finest: reference lists of {} training windows recorded (K = {})", n, cfg_.finest.k);
  }
  agents::MetricList FinestStep(const std::vector<int64_t>& rows) {
    agents::SequenceBatch batch = Batch(od_.train_w, rows);
    torch::Tensor items = batch.items.to(torch::kCPU).clone();
    torch::Tensor lengths = batch.lengths.to(torch::kCPU).clone();
    auto include = torch::ones({static_cast<int64_t>(rows.size())}, torch::kBool);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!simulated_[static_cast<size_t>(rows[i])]) continue;
      torch::Tensor row = items[static_cast<int64_t>(i)];
      Rng row_rng = sim_rng_.Fork(static_cast<uint64_t>(rows[i]) + 1);
      lengths[static_cast<int64_t>(i)] =
          agents::SimulatePerturbation(row, lengths[static_cast<int64_t>(i)].item<int64_t>(),
                                       least_popular_, od_.num_items(), row_rng);
      include[static_cast<int64_t>(i)] = false;
    }
    const torch::Device d = agent_->device();
    batch.items = items.to(d);
    batch.lengths = lengths.to(d);
    const auto index = torch::tensor(rows, torch::kInt64);
    return finest_->UpdateFinest(batch, ref_.index_select(0, index).to(d, torch::kInt64),
                                 comp_.index_select(0, index).to(d, torch::kInt64), include.to(d));
  }
  // One update on the training windows `rows` (plus CPFT's calibration batch, sharded alike).
  agents::MetricList Update(const std::vector<int64_t>& rows) {
    if (finest_ != nullptr) return FinestStep(rows);
    const agents::SequenceBatch batch = Batch(od_.train_w, rows);
    if (cpft_ == nullptr) return agent_->Update(batch);
    std::vector<int64_t> calib_rows =
        CalibrationRows(cfg_.run.seed, agent_->step(), cfg_.cpft.calib_batch_size,
                        static_cast<int64_t>(od_.valid_w.size()));
    if (sync_ != nullptr && calib_rows.size() >= static_cast<size_t>(sync_->group().size())) {
      calib_rows = ShardRows(calib_rows, sync_->group().rank(), sync_->group().size());
    }
    return cpft_->UpdateCpft(batch, Batch(od_.valid_w, calib_rows));
  }
  // Targets, values and done flags (a row is done when it is the last of its sequence: rows are
  // ordered by sequence and position) of the windows `rows`.
  agents::SequenceBatch Batch(const data::Windows& w, const std::vector<int64_t>& rows) const {
    auto [items, lengths] = WindowTensors(w, rows);
    const auto b = static_cast<int64_t>(rows.size());
    auto targets = torch::empty({b}, torch::kInt64);
    auto values = torch::empty({b}, torch::kFloat);
    auto done = torch::empty({b}, torch::kBool);
    for (int64_t r = 0; r < b; ++r) {
      const auto i = static_cast<size_t>(rows[static_cast<size_t>(r)]);
      targets.data_ptr<int64_t>()[r] = w.targets[i];
      values.data_ptr<float>()[r] = w.values[i];
      done.data_ptr<bool>()[r] =
          i + 1 == w.size() || w.sequence_index[i + 1] != w.sequence_index[i];
    }
    const torch::Device d = agent_->device();
    return {items.to(d), lengths.to(d), targets.to(d), values.to(d), done.to(d)};
  }
  std::unique_ptr<agents::SupervisedAgent> agent_;
  agents::CpftAgent* cpft_;      // agent_ when model_kind is cpft, else nullptr
  agents::FinestAgent* finest_;  // agent_ when model_kind is finest, else nullptr
  torch::Tensor ref_, comp_;     // finest: [train windows, K] int32 reference / competitive items
  std::vector<uint8_t> simulated_;  // finest: [train windows] simulated this epoch
  Rng sim_rng_;                     // finest: this epoch's stream of simulation draws
  int64_t least_popular_ = 0;
  const OfflineTrainConfig& cfg_;
  const OfflineData& od_;
  MetricsContext ctx_;
  OfflineEvalOptions valid_opts_;
  dist::GradientSync* sync_;  // data-parallel gradient averaging (not owned), nullptr alone
  std::vector<int64_t> perm_;
};

// model_kind popularity: no training; the test metrics of the training popularity ranking.
OfflineRunResult RunPopularity(const OfflineTrainConfig& cfg, const OfflineData& od,
                               const MetricsContext& ctx, const OfflineEvalOptions& test_opts,
                               const fs::path& dir) {
  OfflineRunResult result;
  const int32_t num_items = od.num_items();
  agents::PopularityRecommender pop(od.train_seqs, num_items);
  auto scores = torch::tensor(pop.scores());
  BatchScorer scorer = [&](const torch::Tensor& items, const torch::Tensor&) {
    return scores.unsqueeze(0).expand({items.size(0), num_items});
  };
  result.test_metrics = EvaluateWindows(scorer, od.test_w, ctx, test_opts);
  json m(result.test_metrics);
  m["model"] = "popularity";
  WriteFileAtomic(dir / "metrics.json", m.dump(2) + "\n");
  WriteFileAtomic(dir / "metrics.jsonl", std::string());
  WriteReport(dir, cfg, "popularity", result.test_metrics, result);
  return result;
}

}  // namespace

MetricsContext ContextFor(const data::PreparedDataset& p) {
  MetricsContext ctx;
  ctx.num_items = p.dataset.items.size();
  ctx.long_tail = p.item_stats.long_tail;
  ctx.has_history = false;
  return ctx;
}

std::vector<uint8_t> TrainingLongTail(const std::vector<data::Sequence>& train_seqs,
                                      int32_t num_items) {
  std::vector<int64_t> counts(static_cast<size_t>(num_items), 0);
  for (const auto& s : train_seqs)
    for (data::ItemId it : s.items) ++counts[static_cast<size_t>(it)];
  return LongTailFromPopularity(counts, 0.1);
}

torch::Tensor SimilarityVectors(agents::ReturnSimilarity similarity, const std::string& key,
                                const data::PreparedDataset& data) {
  if (similarity != agents::ReturnSimilarity::kFeatures) return {};
  torch::Tensor v = models::ItemAttributeVectors(data.dataset.items);
  if (!v.defined()) {
    throw ConfigError(key, fmt::format("{} is features, but dataset '{}' has no item categories "
                                       "or features; use learned",
                                       key, data.dataset.name));
  }
  return v;
}

torch::Tensor DtSimilarityVectors(const agents::Modt4rOptions& dt,
                                  const data::PreparedDataset& data) {
  return SimilarityVectors(dt.similarity, "dt.similarity", data);
}

models::TokenOrder OrderOf(OfflineModel kind) {
  return kind == OfflineModel::kMrdt ? models::TokenOrder::kMrdt : models::TokenOrder::kModt4r;
}

OfflineData BuildOfflineData(const OfflineTrainConfig& cfg) {
  OfflineData od;
  od.prepared = data::PrepareDataset(cfg.data, cfg.run.seed);
  const data::PreparedDataset& data = od.prepared;
  const data::ItemId pad = data.padding_id();
  std::vector<data::Sequence>& train_seqs = od.train_seqs;
  std::vector<data::Sequence>& valid_seqs = od.valid_seqs;
  train_seqs = data.split.train;
  valid_seqs = data.split.valid;
  if (valid_seqs.empty()) {
    // Hold out a deterministic share of training sequences for validation.
    std::vector<size_t> idx(train_seqs.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    Rng rng = Rng(cfg.run.seed).Fork(3);
    rng.Shuffle(idx);
    const auto n_valid =
        static_cast<size_t>(cfg.train.valid_fraction_if_missing * static_cast<double>(idx.size()));
    std::vector<uint8_t> is_valid(train_seqs.size(), 0);
    for (size_t i = 0; i < n_valid; ++i) is_valid[idx[i]] = 1;
    std::vector<data::Sequence> kept;
    for (size_t i = 0; i < train_seqs.size(); ++i)
      (is_valid[i] ? valid_seqs : kept).push_back(train_seqs[i]);
    train_seqs.swap(kept);
    log::Info("no validation split: held out {} of {} training sequences", valid_seqs.size(),
              valid_seqs.size() + train_seqs.size());
  }
  const int L = cfg.data.window.state_len;
  od.train_w = data::MakeWindows(train_seqs, L, pad);
  od.valid_w = data::MakeWindows(valid_seqs, L, pad);
  od.test_w = data::MakeWindows(data.split.test, L, pad);
  return od;
}

agents::SupervisedOptions ResolvedModelOptions(const OfflineTrainConfig& cfg, int64_t num_items) {
  agents::SupervisedOptions m = cfg.model;
  m.encoder.num_items = num_items;
  m.encoder.state_len = cfg.data.window.state_len;
  return m;
}

namespace {
// beta(a) of SA2C's IPS weight: each item's share of the training sequences' interactions.
std::vector<float> TrainingPopularityShares(const std::vector<data::Sequence>& seqs,
                                            int32_t num_items) {
  std::vector<double> counts(static_cast<size_t>(num_items), 0.0);
  double total = 0.0;
  for (const auto& s : seqs) {
    for (data::ItemId it : s.items) {
      counts[static_cast<size_t>(it)] += 1.0;
      total += 1.0;
    }
  }
  std::vector<float> shares(counts.size());
  for (size_t i = 0; i < counts.size(); ++i)
    shares[i] = static_cast<float>(total > 0.0 ? counts[i] / total : 0.0);
  return shares;
}

agents::SqnVariant VariantOf(OfflineModel kind) {
  switch (kind) {
    case OfflineModel::kSqn:
      return agents::SqnVariant::kSqn;
    case OfflineModel::kSac:
      return agents::SqnVariant::kSac;
    case OfflineModel::kSnqn:
      return agents::SqnVariant::kSnqn;
    case OfflineModel::kSmorl:
      return agents::SqnVariant::kSmorl;
    default:
      return agents::SqnVariant::kSa2c;
  }
}

}  // namespace

std::unique_ptr<agents::SupervisedAgent> MakeWindowAgent(const OfflineTrainConfig& cfg,
                                                         const OfflineData& od,
                                                         torch::Device device) {
  if (cfg.IsOfflineRl()) {
    const bool smorl = cfg.model_kind == OfflineModel::kSmorl;
    return std::make_unique<agents::SqnAgent>(
        cfg.model, cfg.rl, VariantOf(cfg.model_kind),
        TrainingPopularityShares(od.train_seqs, od.num_items()), MixSeed(cfg.run.seed, 17), device,
        smorl ? TrainingLongTail(od.train_seqs, od.num_items()) : std::vector<uint8_t>{},
        smorl ? SimilarityVectors(cfg.rl.smorl.similarity, "rl.smorl.similarity", od.prepared)
              : torch::Tensor());
  }
  if (cfg.IsOfflineQ()) {
    const auto variant = cfg.model_kind == OfflineModel::kCql ? agents::OfflineQVariant::kCql
                                                              : agents::OfflineQVariant::kBcq;
    return std::make_unique<agents::OfflineQAgent>(cfg.model, cfg.offline_q, variant, device);
  }
  if (!cfg.IsDecisionTransformer())
    return std::make_unique<agents::SupervisedAgent>(cfg.model, device);
  auto a = std::make_unique<agents::Modt4rAgent>(cfg.model, cfg.dt, OrderOf(cfg.model_kind),
                                                 TrainingLongTail(od.train_seqs, od.num_items()),
                                                 device);
  if (const torch::Tensor v = DtSimilarityVectors(cfg.dt, od.prepared); v.defined()) {
    a->SetSimilarityVectors(v);
  }
  return a;
}

OfflineRunResult RunOfflineTraining(const OfflineTrainConfig& cfg_in, const fs::path& dir,
                                    int64_t stop_after_steps, dist::ProcessGroup* group) {
  if (cfg_in.IsSessionModel()) return RunSessionTraining(cfg_in, dir, stop_after_steps, group);
  OfflineTrainConfig cfg = cfg_in;
  if (cfg.train.threads > 0) torch::set_num_threads(static_cast<int>(cfg.train.threads));
  const torch::Device device = models::ResolveDevice(cfg.run.device);
  const OfflineData od = BuildOfflineData(cfg);
  const std::string& name = od.prepared.dataset.name;
  log::Info("{}: {} items, windows train {} / valid {} / test {}", name, od.num_items(),
            od.train_w.size(), od.valid_w.size(), od.test_w.size());
  if (od.train_w.size() == 0 || od.test_w.size() == 0) {
    throw Error(fmt::format(
        "dataset '{}' gives {} training and {} test windows; nothing to train or evaluate", name,
        od.train_w.size(), od.test_w.size()));
  }
  const MetricsContext ctx = ContextFor(od.prepared);
  OfflineEvalOptions test_opts;
  test_opts.ks = cfg.eval.ks;
  test_opts.batch_size = cfg.eval.batch_size;
  test_opts.last_only = cfg.eval.protocol == EvalProtocol::kLast;
  if (cfg.model_kind == OfflineModel::kPopularity) {
    if (group != nullptr && group->rank() != 0) return {};  // nothing to train: rank 0 evaluates
    return RunPopularity(cfg, od, ctx, test_opts, dir);
  }

  cfg.model = ResolvedModelOptions(cfg, od.num_items());
  torch::manual_seed(cfg.run.seed);
  const bool is_cpft = cfg.model_kind == OfflineModel::kCpft;
  const bool is_finest = cfg.model_kind == OfflineModel::kFinest;
  const bool is_dt = cfg.IsDecisionTransformer();
  // Decision transformers, offline RL and FINEST: named by model_kind in labels and metrics.
  const bool named_kind = is_dt || cfg.IsOfflineRl() || cfg.IsOfflineQ() || is_finest;
  if (is_finest && 2 * cfg.finest.k > od.num_items()) {
    // Checked here, not in Validate(): the catalog size is known once the data are prepared.
    throw ConfigError(
        "finest.k", fmt::format("finest.k = {} needs at least 2K = {} items (a reference list and "
                                "as many competitive items), but the catalog of '{}' has {}",
                                cfg.finest.k, 2 * cfg.finest.k, name, od.num_items()));
  }
  std::unique_ptr<agents::SupervisedAgent> agent;
  agents::CpftAgent* cpft = nullptr;
  agents::FinestAgent* finest = nullptr;
  if (is_finest) {
    auto a = std::make_unique<agents::FinestAgent>(cfg.model, cfg.finest, device);
    InitFineTuning(*a, cfg, cfg.finest.init_from, "finest.init_from", "FINEST");
    finest = a.get();
    agent = std::move(a);
  } else if (is_cpft) {
    if (od.valid_w.size() == 0) {
      throw Error(fmt::format(
          "model_kind cpft: dataset '{}' gives no validation windows, which CPFT needs as "
          "calibration data for its conformal losses",
          name));
    }
    auto a = std::make_unique<agents::CpftAgent>(cfg.model, cfg.cpft, device);
    InitFineTuning(*a, cfg, cfg.cpft.init_from, "cpft.init_from", "CPFT");
    cpft = a.get();
    agent = std::move(a);
  } else {
    agent = MakeWindowAgent(cfg, od, device);
  }
  OfflineEvalOptions valid_opts = test_opts;
  valid_opts.max_queries = cfg.train.max_valid_queries;
  std::unique_ptr<dist::GradientSync> sync;
  if (group != nullptr) sync = std::make_unique<dist::GradientSync>(*group);
  WindowLearner learner(std::move(agent), cpft, finest, cfg, od, ctx, valid_opts, sync.get());
  TrainingLoopOptions loop = LoopOptionsFor(cfg.train);
  loop.progress_label = "train " + (named_kind ? config::EnumToString(cfg.model_kind)
                                               : config::EnumToString(cfg.model.encoder.kind));
  loop.all_loss_terms = is_cpft || named_kind;
  loop.stop_after_steps = stop_after_steps;
  loop.group = group;
  const TrainingLoopResult lr = RunTrainingLoop(learner, loop, dir);
  if (sync != nullptr && sync->synchronizations() > 0) {
    log::Info("distributed: {} ranks, {:.3f} MB of gradients all-reduced per step", group->size(),
              static_cast<double>(sync->bytes_reduced()) /
                  static_cast<double>(sync->synchronizations()) / 1e6);
  }
  OfflineRunResult result;
  result.steps = lr.steps;
  result.early_stopped = lr.early_stopped;
  result.resumed = lr.resumed;
  if (!lr.finished || (group != nullptr && group->rank() != 0)) return result;
  result.best_valid_ndcg10 = lr.best_valid_ndcg10;

  // Final test evaluation with the best parameters (CPFT's: in a plain supervised agent).
  std::unique_ptr<agents::SupervisedAgent> best_agent = MakeWindowAgent(cfg, od, device);
  models::LoadArchiveFile(dir / "best.pt",
                          [&](torch::serialize::InputArchive& a) { best_agent->Load(a); });
  BatchScorer best_scorer = [&](const torch::Tensor& items, const torch::Tensor& lengths) {
    return best_agent->Scores(items, lengths);
  };
  result.test_metrics = EvaluateWindows(best_scorer, od.test_w, ctx, test_opts);
  json m(result.test_metrics);
  m["model"] = config::EnumToString(cfg.model.encoder.kind);
  if (is_cpft || named_kind) m["model_kind"] = config::EnumToString(cfg.model_kind);
  m["steps"] = result.steps;
  m["best_valid_NDCG@10"] = result.best_valid_ndcg10;
  WriteFileAtomic(dir / "metrics.json", m.dump(2) + "\n");
  const std::string suffix =
      is_cpft ? " + CPFT" : (named_kind ? " + " + config::EnumToString(cfg.model_kind) : "");
  WriteReport(dir, cfg, config::EnumToString(cfg.model.encoder.kind) + suffix, result.test_metrics,
              result);
  return result;
}

}  // namespace recarena::experiments
