#include "experiments/train/session_trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agents/hdt.h"
#include "agents/supervised.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "data/windows.h"
#include "dist/grad_sync.h"
#include "experiments/eval/offline_eval.h"
#include "experiments/train/data_parallel.h"
#include "experiments/train/session_data.h"
#include "experiments/train/training_loop.h"
#include "models/checkpoint.h"
#include "models/device.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The epoch's shuffle: Rng(seed).Fork(1000 + epoch), as in the windowed offline loop.
Rng EpochRng(uint64_t seed, int64_t epoch) {
  return Rng(seed).Fork(1000 + static_cast<uint64_t>(epoch));
}

// A session model behind the one training loop: the cursor is the next batch of the epoch;
// validation scores the validation queries of the last-session protocol.
class SessionModel : public OfflineLearner {
 public:
  SessionModel(const SessionData& data, const OfflineTrainConfig& cfg) : data_(data), cfg_(cfg) {}
  // Builds the batches of an epoch (Build); throws when the training sessions give none.
  void StartEpoch(int64_t epoch, bool fresh) override {
    Build(epoch, fresh);
    if (NumBatches() == 0) {
      throw Error(fmt::format("dataset '{}': the training sessions give no batches",
                              data_.prepared.dataset.name));
    }
  }
  int64_t EpochSize() const override { return NumBatches(); }
  agents::MetricList Step(int64_t* cursor) override { return StepBatch((*cursor)++); }
  std::map<std::string, double> Validate() override {
    const QueryScorer scorer = [&](const std::vector<agents::HdtQuery>& q) { return Scores(q); };
    return EvaluateSessionQueries(scorer, data_.valid_queries, data_.metrics_context, cfg_.eval.ks,
                                  cfg_.eval.batch_size, cfg_.train.max_valid_queries);
  }
  virtual torch::Tensor Scores(const std::vector<agents::HdtQuery>& queries) = 0;

 protected:
  virtual void Build(int64_t epoch, bool fresh) = 0;
  virtual int64_t NumBatches() const = 0;
  virtual agents::MetricList StepBatch(int64_t index) = 0;
  const SessionData& data_;
  const OfflineTrainConfig& cfg_;
};

class HdtModel : public SessionModel {
 public:
  // sync: data-parallel over the batches' slots (agents/hdt.h; not owned, nullptr = one process).
  HdtModel(const agents::HdtAgentOptions& options, const SessionData& data,
           const OfflineTrainConfig& cfg, torch::Device device, dist::GradientSync* sync = nullptr)
      : SessionModel(data, cfg),
        agent_(options, device),
        batch_size_(cfg.hdt_data.batch_size),
        seed_(cfg.run.seed),
        sync_(sync) {
    if (sync_ != nullptr) {
      agent_.SetGradientSync(sync_, batch_size_);
      sync_->BroadcastParameters(agent_.parameters());
    }
  }
  torch::Tensor Scores(const std::vector<agents::HdtQuery>& queries) override {
    return agent_.Scores(queries);
  }
  void Save(torch::serialize::OutputArchive& archive) const override { agent_.Save(archive); }
  void Load(torch::serialize::InputArchive& archive) override { agent_.Load(archive); }
  int64_t step() const override { return agent_.step(); }

 protected:
  void Build(int64_t epoch, bool fresh) override {
    std::vector<agents::UserSessions> users = data_.train;
    Rng rng = EpochRng(seed_, epoch);
    rng.Shuffle(users);
    batches_ = agents::BuildUserParallelBatches(users, data_.returns, batch_size_, data_.num_items);
    if (fresh) agent_.ResetCarriedStates();
  }
  int64_t NumBatches() const override { return static_cast<int64_t>(batches_.size()); }
  agents::MetricList StepBatch(int64_t index) override {
    if (sync_ != nullptr) ReseedForRank(seed_, sync_->group().rank(), agent_.step());
    return agent_.Update(batches_.at(static_cast<size_t>(index)));
  }

 private:
  agents::HdtAgent agent_;
  int64_t batch_size_;
  uint64_t seed_;
  dist::GradientSync* sync_;
  std::vector<agents::HdtBatch> batches_;
};

// The "Normal" baseline: next-item windows within the training sessions.
class NormalModel : public SessionModel {
 public:
  // sync: data-parallel gradient averaging (not owned; nullptr = one process).
  NormalModel(const agents::SupervisedOptions& options, const SessionData& data,
              const OfflineTrainConfig& cfg, torch::Device device,
              dist::GradientSync* sync = nullptr)
      : SessionModel(data, cfg),
        agent_(options, device),
        state_len_(options.encoder.state_len),
        pad_(data.num_items),
        batch_size_(cfg.train.batch_size),
        seed_(cfg.run.seed),
        sync_(sync) {
    if (sync_ != nullptr) {
      agent_.SetGradientSync(sync_);
      sync_->BroadcastParameters(agent_.parameters());
    }
    std::vector<data::Sequence> seqs;
    for (const auto& u : data.train) {
      for (const auto& session : u.sessions) {
        data::Sequence s;
        s.user = static_cast<data::UserId>(u.user);
        s.items.assign(session.begin(), session.end());
        s.timestamps.assign(session.size(), 0.0);
        s.values.assign(session.size(), 1.0f);
        seqs.push_back(std::move(s));
      }
    }
    windows_ =
        data::MakeWindows(seqs, static_cast<int>(state_len_), static_cast<data::ItemId>(pad_));
  }
  torch::Tensor Scores(const std::vector<agents::HdtQuery>& queries) override {
    const auto q = static_cast<int64_t>(queries.size());
    auto items = torch::full({q, state_len_}, pad_, torch::kInt64);
    auto lengths = torch::empty({q}, torch::kInt64);
    for (int64_t r = 0; r < q; ++r) {
      // The current session's prefix only (the encoder G of HDT sees the same input).
      const auto& cur = queries[static_cast<size_t>(r)].current;
      const int64_t len = std::min<int64_t>(state_len_, static_cast<int64_t>(cur.size()));
      for (int64_t j = 0; j < len; ++j)
        items[r][j] = cur[cur.size() - static_cast<size_t>(len - j)];
      lengths[r] = len;
    }
    return agent_.Scores(items, lengths);
  }
  void Save(torch::serialize::OutputArchive& archive) const override { agent_.Save(archive); }
  void Load(torch::serialize::InputArchive& archive) override { agent_.Load(archive); }
  int64_t step() const override { return agent_.step(); }

 protected:
  void Build(int64_t epoch, bool /*fresh*/) override {
    perm_.resize(windows_.size());
    for (size_t i = 0; i < perm_.size(); ++i) perm_[i] = static_cast<int64_t>(i);
    Rng rng = EpochRng(seed_, epoch);
    rng.Shuffle(perm_);
  }
  int64_t NumBatches() const override {
    return (static_cast<int64_t>(perm_.size()) + batch_size_ - 1) / batch_size_;
  }
  agents::MetricList StepBatch(int64_t index) override {
    const auto begin = static_cast<size_t>(index * batch_size_);
    const size_t end = std::min(perm_.size(), begin + static_cast<size_t>(batch_size_));
    const std::vector<int64_t> rows(perm_.begin() + static_cast<std::ptrdiff_t>(begin),
                                    perm_.begin() + static_cast<std::ptrdiff_t>(end));
    return ShardedUpdate(sync_, seed_, agent_.step(), rows,
                         [this](const std::vector<int64_t>& shard) { return Update(shard); });
  }

 private:
  agents::MetricList Update(const std::vector<int64_t>& rows) {
    auto [items, lengths] = WindowTensors(windows_, rows);
    auto targets = torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt64);
    for (size_t r = 0; r < rows.size(); ++r)
      targets[static_cast<int64_t>(r)] = windows_.targets[static_cast<size_t>(rows[r])];
    const torch::Device d = agent_.device();
    return agent_.Update({items.to(d), lengths.to(d), targets.to(d)});
  }
  agents::SupervisedAgent agent_;
  int64_t state_len_;
  int64_t pad_;
  int64_t batch_size_;
  uint64_t seed_;
  dist::GradientSync* sync_;
  data::Windows windows_;
  std::vector<int64_t> perm_;
};

}  // namespace

std::map<std::string, double> EvaluateSessionQueries(const QueryScorer& scorer,
                                                     const std::vector<agents::HdtQuery>& queries,
                                                     const MetricsContext& ctx,
                                                     const std::vector<int>& ks, int64_t batch_size,
                                                     int64_t max_queries) {
  if (batch_size < 1) throw Error("EvaluateSessionQueries: batch_size must be >= 1");
  MetricsConfig mcfg;
  mcfg.ks = ks;
  MetricsContext context = ctx;
  context.has_history = true;
  RankingMetricsAccumulator acc(context, mcfg);
  const int max_k = *std::max_element(ks.begin(), ks.end());
  std::vector<size_t> rows;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (queries[i].target >= 0) rows.push_back(i);
  }
  if (max_queries > 0 && static_cast<int64_t>(rows.size()) > max_queries) {
    std::vector<size_t> sub;
    const double stride = static_cast<double>(rows.size()) / static_cast<double>(max_queries);
    for (int64_t j = 0; j < max_queries; ++j) sub.push_back(rows[static_cast<size_t>(j * stride)]);
    rows.swap(sub);
  }
  for (size_t begin = 0; begin < rows.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(rows.size(), begin + static_cast<size_t>(batch_size));
    std::vector<agents::HdtQuery> batch;
    for (size_t r = begin; r < end; ++r) batch.push_back(queries[rows[r]]);
    const torch::Tensor scores = scorer(batch).to(torch::kCPU, torch::kFloat32).contiguous();
    if (scores.dim() != 2 || scores.size(0) != static_cast<int64_t>(batch.size())) {
      throw Error("EvaluateSessionQueries: the scorer must return [queries, num_items] scores");
    }
    const auto n = static_cast<int32_t>(scores.size(1));
    const float* sp = scores.data_ptr<float>();
    for (size_t r = 0; r < batch.size(); ++r) {
      const agents::HdtQuery& hq = batch[r];
      const float* s = sp + r * static_cast<size_t>(n);
      RankingQuery q;
      q.query_id = static_cast<int64_t>(rows[begin + r]);
      q.target = static_cast<int32_t>(hq.target);
      q.ranked = TopK(s, n, max_k);
      q.target_rank = RankOf(s, n, q.target);
      q.user = static_cast<int32_t>(hq.user);
      q.session = hq.user;
      for (const auto& session : hq.history)
        for (int64_t item : session) q.history.push_back(static_cast<int32_t>(item));
      acc.Add(q);
    }
  }
  return acc.Result();
}

OfflineRunResult RunSessionTraining(const OfflineTrainConfig& cfg_in, const fs::path& dir,
                                    int64_t stop_after_steps, dist::ProcessGroup* group) {
  if (!cfg_in.IsSessionModel())
    throw Error("RunSessionTraining: model_kind is not a session model");
  OfflineTrainConfig cfg = cfg_in;
  OfflineRunResult result;
  if (cfg.train.threads > 0) torch::set_num_threads(static_cast<int>(cfg.train.threads));
  const torch::Device device = models::ResolveDevice(cfg.run.device);
  const bool is_hdt = cfg.model_kind == OfflineModel::kHdt;
  const SessionData data = BuildSessionData(cfg);
  cfg.hdt_model.encoder.num_items = data.num_items;
  cfg.model.encoder.num_items = data.num_items;

  torch::manual_seed(cfg.run.seed);
  auto make_model = [&](dist::GradientSync* sync) -> std::unique_ptr<SessionModel> {
    if (is_hdt) return std::make_unique<HdtModel>(cfg.hdt_model, data, cfg, device, sync);
    return std::make_unique<NormalModel>(cfg.model, data, cfg, device, sync);
  };
  std::unique_ptr<dist::GradientSync> sync;
  if (group != nullptr) sync = std::make_unique<dist::GradientSync>(*group);
  std::unique_ptr<SessionModel> model = make_model(sync.get());
  const models::EncoderKind encoder = is_hdt ? cfg.hdt_model.encoder.kind : cfg.model.encoder.kind;
  const std::string name =
      config::EnumToString(encoder) + " + " + config::EnumToString(cfg.model_kind);
  TrainingLoopOptions loop = LoopOptionsFor(cfg.train);
  loop.progress_label = "train " + name;
  loop.stop_after_steps = stop_after_steps;
  loop.group = group;
  const TrainingLoopResult lr = RunTrainingLoop(*model, loop, dir);
  result.steps = lr.steps;
  result.early_stopped = lr.early_stopped;
  result.resumed = lr.resumed;
  if (!lr.finished || (group != nullptr && group->rank() != 0)) return result;
  result.best_valid_ndcg10 = lr.best_valid_ndcg10;

  // Final test evaluation with the best parameters.
  std::unique_ptr<SessionModel> best_model = make_model(nullptr);
  models::LoadArchiveFile(dir / "best.pt",
                          [&](torch::serialize::InputArchive& a) { best_model->Load(a); });
  QueryScorer best_scorer = [&](const std::vector<agents::HdtQuery>& q) {
    return best_model->Scores(q);
  };
  result.test_metrics = EvaluateSessionQueries(best_scorer, data.test_queries, data.metrics_context,
                                               cfg.eval.ks, cfg.eval.batch_size);
  json m(result.test_metrics);
  m["model"] = config::EnumToString(encoder);
  m["model_kind"] = config::EnumToString(cfg.model_kind);
  m["steps"] = result.steps;
  m["best_valid_NDCG@10"] = result.best_valid_ndcg10;
  m["users"] = data.users.size();
  m["test_queries"] = data.test_queries.size();
  WriteFileAtomic(dir / "metrics.json", m.dump(2) + "\n");

  std::ostringstream md;
  md << "# " << cfg.run.name << ": " << name << " on " << config::EnumToString(cfg.data.dataset)
     << "\n\nlast-session protocol (docs/hdt.md): " << data.users.size() << " users, "
     << data.test_queries.size() << " test queries; steps: " << result.steps
     << ", best validation NDCG@10: " << fmt::format("{:.4f}", result.best_valid_ndcg10)
     << (result.early_stopped ? " (early stopped)" : "") << "\n\n| metric | test |\n|---|---|\n";
  for (const auto& [k, v] : result.test_metrics)
    md << "| " << k << " | " << fmt::format("{:.4f}", v) << " |\n";
  WriteFileAtomic(dir / "report.md", md.str());
  return result;
}

}  // namespace recarena::experiments
