#include "experiments/offline_trainer.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "agents/cpft.h"
#include "agents/modt4r.h"
#include "agents/popularity.h"
#include "agents/supervised.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/strings.h"
#include "data/prepare.h"
#include "data/windows.h"
#include "experiments/metrics.h"
#include "experiments/offline_eval.h"
#include "experiments/session_trainer.h"
#include "experiments/train_state.h"
#include "experiments/trained_run.h"
#include "models/checkpoint.h"
#include "models/device.h"
#include "models/item_attributes.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<int64_t> EpochPermutation(uint64_t seed, int64_t epoch, int64_t n) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
  Rng rng = Rng(seed).Fork(1000 + static_cast<uint64_t>(epoch));
  rng.Shuffle(perm);
  return perm;
}

void SaveCheckpoint(const fs::path& file, const agents::SupervisedAgent& agent,
                    const LoopState& st) {
  SaveLoopCheckpoint(
      file, [&](torch::serialize::OutputArchive& a) { agent.Save(a); }, st);
}

LoopState LoadCheckpoint(const fs::path& file, agents::SupervisedAgent& agent) {
  return LoadLoopCheckpoint(file, [&](torch::serialize::InputArchive& a) { agent.Load(a); });
}

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

// The checkpoint CPFT starts from: cpft.init_from/best.pt, after checking that the initial run used
// the same data, seed and model (otherwise item ids or shapes would silently mean something else).
fs::path CheckCpftInit(const OfflineTrainConfig& cfg) {
  const TrainedRun run = OpenTrainedRun(cfg.cpft.init_from, "cpft.init_from");
  RequireModelKind(run, {OfflineModel::kNormal, OfflineModel::kCpft}, "cpft.init_from");
  const OfflineTrainConfig& init = run.cfg;
  const fs::path &cfg_file = run.config_file, &ckpt = run.best;
  auto differs = [&](const std::string& what) {
    return FileError(cfg_file.string(), 0,
                     "the initial run's " + what +
                         " differs from this config's; CPFT must fine-tune a model "
                         "trained on the same data with the same model");
  };
  if (config::ToYamlString(init.data) != config::ToYamlString(cfg.data))
    throw differs("data section");
  if (init.run.seed != cfg.run.seed)
    throw differs("run.seed (it fixes the synthetic world and the split)");
  // (num_items is not a config key, so it is absent from both texts.)
  if (config::ToYamlString(init.model.encoder) != config::ToYamlString(cfg.model.encoder)) {
    throw differs("model.encoder section");
  }
  return ckpt;
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

torch::Tensor DtSimilarityVectors(const agents::Modt4rOptions& dt,
                                  const data::PreparedDataset& data) {
  if (dt.similarity != agents::ReturnSimilarity::kFeatures) return {};
  torch::Tensor v = models::ItemAttributeVectors(data.dataset.items);
  if (!v.defined()) {
    throw ConfigError("dt.similarity",
                      fmt::format("dt.similarity is features, but dataset '{}' has no item "
                                  "categories or features; use learned",
                                  data.dataset.name));
  }
  return v;
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

OfflineRunResult RunOfflineTraining(const OfflineTrainConfig& cfg_in, const fs::path& dir,
                                    int64_t stop_after_steps) {
  if (cfg_in.IsSessionModel()) return RunSessionTraining(cfg_in, dir, stop_after_steps);
  OfflineTrainConfig cfg = cfg_in;
  OfflineRunResult result;
  if (cfg.train.threads > 0) torch::set_num_threads(static_cast<int>(cfg.train.threads));
  const torch::Device device = models::ResolveDevice(cfg.run.device);

  OfflineData od = BuildOfflineData(cfg);
  const data::PreparedDataset& data = od.prepared;
  const int32_t num_items = od.num_items();
  const std::vector<data::Sequence>& train_seqs = od.train_seqs;
  const data::Windows& train_w = od.train_w;
  const data::Windows& valid_w = od.valid_w;
  const data::Windows& test_w = od.test_w;
  log::Info("{}: {} items, windows train {} / valid {} / test {}", data.dataset.name, num_items,
            train_w.size(), valid_w.size(), test_w.size());
  if (train_w.size() == 0 || test_w.size() == 0) {
    throw Error(fmt::format(
        "dataset '{}' gives {} training and {} test windows; nothing to train or evaluate",
        data.dataset.name, train_w.size(), test_w.size()));
  }
  const MetricsContext ctx = ContextFor(data);
  OfflineEvalOptions test_opts;
  test_opts.ks = cfg.eval.ks;
  test_opts.batch_size = cfg.eval.batch_size;
  test_opts.last_only = cfg.eval.protocol == EvalProtocol::kLast;

  if (cfg.model_kind == OfflineModel::kPopularity) {
    agents::PopularityRecommender pop(train_seqs, num_items);
    auto scores = torch::tensor(pop.scores());
    BatchScorer scorer = [&](const torch::Tensor& items, const torch::Tensor&) {
      return scores.unsqueeze(0).expand({items.size(0), num_items});
    };
    result.test_metrics = EvaluateWindows(scorer, test_w, ctx, test_opts);
    json m(result.test_metrics);
    m["model"] = "popularity";
    WriteFileAtomic(dir / "metrics.json", m.dump(2) + "\n");
    WriteFileAtomic(dir / "metrics.jsonl", std::string());
    WriteReport(dir, cfg, "popularity", result.test_metrics, result);
    return result;
  }

  cfg.model = ResolvedModelOptions(cfg, num_items);
  torch::manual_seed(cfg.run.seed);
  const bool is_cpft = cfg.model_kind == OfflineModel::kCpft;
  const bool is_dt = cfg.IsDecisionTransformer();
  const std::vector<uint8_t> dt_long_tail =
      is_dt ? TrainingLongTail(train_seqs, num_items) : std::vector<uint8_t>{};
  const torch::Tensor dt_similarity = is_dt ? DtSimilarityVectors(cfg.dt, data) : torch::Tensor();
  // A fresh agent of the configured kind (normal or decision transformer).
  auto make_agent = [&]() -> std::unique_ptr<agents::SupervisedAgent> {
    if (is_dt) {
      auto a = std::make_unique<agents::Modt4rAgent>(cfg.model, cfg.dt, OrderOf(cfg.model_kind),
                                                     dt_long_tail, device);
      if (dt_similarity.defined()) a->SetSimilarityVectors(dt_similarity);
      return a;
    }
    return std::make_unique<agents::SupervisedAgent>(cfg.model, device);
  };
  std::unique_ptr<agents::SupervisedAgent> agent_ptr;
  agents::CpftAgent* cpft_agent = nullptr;
  if (is_cpft) {
    if (valid_w.size() == 0) {
      throw Error(fmt::format(
          "model_kind cpft: dataset '{}' gives no validation windows, which CPFT needs as "
          "calibration data for its conformal losses",
          data.dataset.name));
    }
    auto a = std::make_unique<agents::CpftAgent>(cfg.model, cfg.cpft, device);
    const fs::path init = CheckCpftInit(cfg);
    a->InitFrom(init);
    log::Info("cpft: initialised from {}", init.string());
    cpft_agent = a.get();
    agent_ptr = std::move(a);
  } else {
    agent_ptr = make_agent();
  }
  agents::SupervisedAgent& agent = *agent_ptr;
  BatchScorer scorer = [&](const torch::Tensor& items, const torch::Tensor& lengths) {
    return agent.Scores(items, lengths);
  };
  OfflineEvalOptions valid_opts = test_opts;
  valid_opts.max_queries = cfg.train.max_valid_queries;

  LoopState st;
  const fs::path last = dir / "last.pt", best = dir / "best.pt";
  if (fs::exists(last)) {
    st = LoadCheckpoint(last, agent);
    result.resumed = true;
    log::Info("resuming from {} at step {}", last.string(), agent.step());
  }

  const auto n_train = static_cast<int64_t>(train_w.size());
  std::vector<int64_t> perm = EpochPermutation(cfg.run.seed, st.epoch, n_train);
  const int64_t total_steps = cfg.train.max_steps;
  Progress progress("train " + (is_dt ? config::EnumToString(cfg.model_kind)
                                      : config::EnumToString(cfg.model.encoder.kind)),
                    total_steps, 2.0);
  progress.Set(agent.step());
  int64_t steps_this_call = 0;
  while (!st.stopped && agent.step() < total_steps && st.epoch < cfg.train.max_epochs) {
    if (st.cursor >= n_train) {
      ++st.epoch;
      st.cursor = 0;
      perm = EpochPermutation(cfg.run.seed, st.epoch, n_train);
      continue;
    }
    const int64_t end = std::min(n_train, st.cursor + cfg.train.batch_size);
    std::vector<int64_t> rows(perm.begin() + st.cursor, perm.begin() + end);
    st.cursor = end;
    auto [items, lengths] = WindowTensors(train_w, rows);
    auto targets = torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt64);
    for (size_t r = 0; r < rows.size(); ++r)
      targets[static_cast<int64_t>(r)] = train_w.targets[static_cast<size_t>(rows[r])];
    agents::SequenceBatch batch{items.to(device), lengths.to(device), targets.to(device)};
    agents::MetricList metrics;
    if (cpft_agent) {
      // The calibration batch is a pure function of (seed, step), so a resumed run draws the same.
      const auto calib_rows = CalibrationRows(cfg.run.seed, agent.step(), cfg.cpft.calib_batch_size,
                                              static_cast<int64_t>(valid_w.size()));
      auto [c_items, c_lengths] = WindowTensors(valid_w, calib_rows);
      auto c_targets = torch::empty({static_cast<int64_t>(calib_rows.size())}, torch::kInt64);
      for (size_t r = 0; r < calib_rows.size(); ++r)
        c_targets[static_cast<int64_t>(r)] = valid_w.targets[static_cast<size_t>(calib_rows[r])];
      agents::SequenceBatch calib{c_items.to(device), c_lengths.to(device), c_targets.to(device)};
      metrics = cpft_agent->UpdateCpft(batch, calib);
    } else {
      metrics = agent.Update(batch);
    }
    ++st.loss_n;
    for (const auto& [name, value] : metrics) st.loss_sums[name] += value;
    progress.Set(agent.step());
    ++steps_this_call;
    const bool eval_now = agent.step() % cfg.train.eval_every == 0 || agent.step() == total_steps;
    if (eval_now) {
      auto v = EvaluateWindows(scorer, valid_w.size() ? valid_w : train_w, ctx, valid_opts);
      const double ndcg = v.count("NDCG@10") ? v.at("NDCG@10") : v.begin()->second;
      json rec = {{"step", agent.step()},
                  {"epoch", st.epoch},
                  {"train_loss",
                   st.loss_sums["loss"] / static_cast<double>(std::max<int64_t>(1, st.loss_n))}};
      for (const auto& [k, val] : v) rec["valid_" + k] = val;
      if (is_cpft || is_dt) {
        for (const auto& [k, val] : st.loss_sums) {
          rec["train_" + k] = val / static_cast<double>(std::max<int64_t>(1, st.loss_n));
        }
      }
      const double train_loss = rec["train_loss"].get<double>();
      if (st.RecordValidation(std::move(rec), ndcg, cfg.train.patience)) {
        SaveCheckpoint(best, agent, st);
      }
      result.early_stopped = st.stopped;
      log::Info("step {} epoch {} loss {:.4f} valid NDCG@10 {:.4f} (best {:.4f})", agent.step(),
                st.epoch, train_loss, ndcg, st.best);
      SaveCheckpoint(last, agent, st);
      WriteHistory(dir, st.history);
    }
    if (stop_after_steps > 0 && steps_this_call >= stop_after_steps) {
      progress.Finish();
      SaveCheckpoint(last, agent, st);
      result.steps = agent.step();
      return result;
    }
  }
  progress.Finish();
  result.early_stopped = st.stopped;
  if (!fs::exists(best)) SaveCheckpoint(best, agent, st);
  SaveCheckpoint(last, agent, st);
  WriteHistory(dir, st.history);
  result.steps = agent.step();
  result.best_valid_ndcg10 = st.best;

  // Final test evaluation with the best parameters.
  std::unique_ptr<agents::SupervisedAgent> best_agent = make_agent();
  models::LoadArchiveFile(best, [&](torch::serialize::InputArchive& a) { best_agent->Load(a); });
  BatchScorer best_scorer = [&](const torch::Tensor& items, const torch::Tensor& lengths) {
    return best_agent->Scores(items, lengths);
  };
  result.test_metrics = EvaluateWindows(best_scorer, test_w, ctx, test_opts);
  json m(result.test_metrics);
  m["model"] = config::EnumToString(cfg.model.encoder.kind);
  if (is_cpft || is_dt) m["model_kind"] = config::EnumToString(cfg.model_kind);
  m["steps"] = result.steps;
  m["best_valid_NDCG@10"] = result.best_valid_ndcg10;
  WriteFileAtomic(dir / "metrics.json", m.dump(2) + "\n");
  const std::string suffix =
      is_cpft ? " + CPFT" : (is_dt ? " + " + config::EnumToString(cfg.model_kind) : "");
  WriteReport(dir, cfg, config::EnumToString(cfg.model.encoder.kind) + suffix, result.test_metrics,
              result);
  return result;
}

}  // namespace recarena::experiments
