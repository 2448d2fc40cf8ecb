#include "experiments/session_trainer.h"

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
#include "core/progress.h"
#include "core/rng.h"
#include "data/windows.h"
#include "experiments/offline_eval.h"
#include "experiments/session_data.h"
#include "experiments/train_state.h"
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

// One trainable session model behind the common loop.
class SessionModel {
 public:
  virtual ~SessionModel() = default;
  // Builds the batches of an epoch; fresh = the epoch starts now (not a resume in its middle).
  virtual void StartEpoch(int64_t epoch, bool fresh) = 0;
  virtual int64_t NumBatches() const = 0;
  virtual agents::MetricList Step(int64_t index) = 0;
  virtual torch::Tensor Scores(const std::vector<agents::HdtQuery>& queries) = 0;
  virtual void Save(torch::serialize::OutputArchive& archive) const = 0;
  virtual void Load(torch::serialize::InputArchive& archive) = 0;
  virtual int64_t step() const = 0;
};

class HdtModel : public SessionModel {
 public:
  HdtModel(const agents::HdtAgentOptions& options, const SessionData& data, int64_t batch_size,
           uint64_t seed, torch::Device device)
      : agent_(options, device), data_(data), batch_size_(batch_size), seed_(seed) {}
  void StartEpoch(int64_t epoch, bool fresh) override {
    std::vector<agents::UserSessions> users = data_.train;
    Rng rng = EpochRng(seed_, epoch);
    rng.Shuffle(users);
    batches_ = agents::BuildUserParallelBatches(users, data_.returns, batch_size_, data_.num_items);
    if (fresh) agent_.ResetCarriedStates();
  }
  int64_t NumBatches() const override { return static_cast<int64_t>(batches_.size()); }
  agents::MetricList Step(int64_t index) override {
    return agent_.Update(batches_.at(static_cast<size_t>(index)));
  }
  torch::Tensor Scores(const std::vector<agents::HdtQuery>& queries) override {
    return agent_.Scores(queries);
  }
  void Save(torch::serialize::OutputArchive& archive) const override { agent_.Save(archive); }
  void Load(torch::serialize::InputArchive& archive) override { agent_.Load(archive); }
  int64_t step() const override { return agent_.step(); }

 private:
  agents::HdtAgent agent_;
  const SessionData& data_;
  int64_t batch_size_;
  uint64_t seed_;
  std::vector<agents::HdtBatch> batches_;
};

// The "Normal" baseline: next-item windows within the training sessions.
class NormalModel : public SessionModel {
 public:
  NormalModel(const agents::SupervisedOptions& options, const SessionData& data, int64_t batch_size,
              uint64_t seed, torch::Device device)
      : agent_(options, device),
        state_len_(options.encoder.state_len),
        pad_(data.num_items),
        batch_size_(batch_size),
        seed_(seed) {
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
  void StartEpoch(int64_t epoch, bool /*fresh*/) override {
    perm_.resize(windows_.size());
    for (size_t i = 0; i < perm_.size(); ++i) perm_[i] = static_cast<int64_t>(i);
    Rng rng = EpochRng(seed_, epoch);
    rng.Shuffle(perm_);
  }
  int64_t NumBatches() const override {
    return (static_cast<int64_t>(perm_.size()) + batch_size_ - 1) / batch_size_;
  }
  agents::MetricList Step(int64_t index) override {
    const auto begin = static_cast<size_t>(index * batch_size_);
    const size_t end = std::min(perm_.size(), begin + static_cast<size_t>(batch_size_));
    const std::vector<int64_t> rows(perm_.begin() + static_cast<std::ptrdiff_t>(begin),
                                    perm_.begin() + static_cast<std::ptrdiff_t>(end));
    auto [items, lengths] = WindowTensors(windows_, rows);
    auto targets = torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt64);
    for (size_t r = 0; r < rows.size(); ++r)
      targets[static_cast<int64_t>(r)] = windows_.targets[static_cast<size_t>(rows[r])];
    const torch::Device d = agent_.device();
    return agent_.Update({items.to(d), lengths.to(d), targets.to(d)});
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

 private:
  agents::SupervisedAgent agent_;
  int64_t state_len_;
  int64_t pad_;
  int64_t batch_size_;
  uint64_t seed_;
  data::Windows windows_;
  std::vector<int64_t> perm_;
};

void SaveCheckpoint(const fs::path& file, const SessionModel& model, const LoopState& st) {
  SaveLoopCheckpoint(
      file, [&](torch::serialize::OutputArchive& a) { model.Save(a); }, st);
}

LoopState LoadCheckpoint(const fs::path& file, SessionModel& model) {
  return LoadLoopCheckpoint(file, [&](torch::serialize::InputArchive& a) { model.Load(a); });
}

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
                                    int64_t stop_after_steps) {
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
  auto make_model = [&]() -> std::unique_ptr<SessionModel> {
    if (is_hdt) {
      return std::make_unique<HdtModel>(cfg.hdt_model, data, cfg.hdt_data.batch_size, cfg.run.seed,
                                        device);
    }
    return std::make_unique<NormalModel>(cfg.model, data, cfg.train.batch_size, cfg.run.seed,
                                         device);
  };
  std::unique_ptr<SessionModel> model = make_model();
  QueryScorer scorer = [&](const std::vector<agents::HdtQuery>& q) { return model->Scores(q); };

  LoopState st;
  const fs::path last = dir / "last.pt", best = dir / "best.pt";
  if (fs::exists(last)) {
    st = LoadCheckpoint(last, *model);
    result.resumed = true;
    log::Info("resuming from {} at step {}", last.string(), model->step());
  }
  model->StartEpoch(st.epoch, st.cursor == 0);
  if (model->NumBatches() == 0) {
    throw Error(fmt::format("dataset '{}': the training sessions give no batches",
                            data.prepared.dataset.name));
  }
  const models::EncoderKind encoder = is_hdt ? cfg.hdt_model.encoder.kind : cfg.model.encoder.kind;
  const std::string name =
      config::EnumToString(encoder) + " + " + config::EnumToString(cfg.model_kind);
  const int64_t total_steps = cfg.train.max_steps;
  Progress progress("train " + name, total_steps, 2.0);
  progress.Set(model->step());
  int64_t steps_this_call = 0;
  while (!st.stopped && model->step() < total_steps && st.epoch < cfg.train.max_epochs) {
    if (st.cursor >= model->NumBatches()) {
      ++st.epoch;
      st.cursor = 0;
      model->StartEpoch(st.epoch, true);
      continue;
    }
    const agents::MetricList metrics = model->Step(st.cursor++);
    ++st.loss_n;
    for (const auto& [key, value] : metrics) st.loss_sums[key] += value;
    progress.Set(model->step());
    ++steps_this_call;
    if (model->step() % cfg.train.eval_every == 0 || model->step() == total_steps) {
      const auto v =
          EvaluateSessionQueries(scorer, data.valid_queries, data.metrics_context, cfg.eval.ks,
                                 cfg.eval.batch_size, cfg.train.max_valid_queries);
      const double ndcg = v.count("NDCG@10") ? v.at("NDCG@10") : v.begin()->second;
      json rec = {{"step", model->step()}, {"epoch", st.epoch}};
      const double n = static_cast<double>(std::max<int64_t>(1, st.loss_n));
      rec["train_loss"] = st.loss_sums["loss"] / n;
      for (const auto& [key, sum] : st.loss_sums) rec["train_" + key] = sum / n;
      for (const auto& [key, val] : v) rec["valid_" + key] = val;
      const double train_loss = rec["train_loss"].get<double>();
      if (st.RecordValidation(std::move(rec), ndcg, cfg.train.patience)) {
        SaveCheckpoint(best, *model, st);
      }
      log::Info("step {} epoch {} loss {:.4f} valid NDCG@10 {:.4f} (best {:.4f})", model->step(),
                st.epoch, train_loss, ndcg, st.best);
      SaveCheckpoint(last, *model, st);
      WriteHistory(dir, st.history);
    }
    if (stop_after_steps > 0 && steps_this_call >= stop_after_steps) {
      progress.Finish();
      SaveCheckpoint(last, *model, st);
      result.steps = model->step();
      return result;
    }
  }
  progress.Finish();
  result.early_stopped = st.stopped;
  if (!fs::exists(best)) SaveCheckpoint(best, *model, st);
  SaveCheckpoint(last, *model, st);
  WriteHistory(dir, st.history);
  result.steps = model->step();
  result.best_valid_ndcg10 = st.best;

  // Final test evaluation with the best parameters.
  std::unique_ptr<SessionModel> best_model = make_model();
  models::LoadArchiveFile(best, [&](torch::serialize::InputArchive& a) { best_model->Load(a); });
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
