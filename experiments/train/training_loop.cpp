#include "experiments/train/training_loop.h"

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/progress.h"
#include "experiments/train/train_state.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void SaveCheckpoint(const fs::path& file, const OfflineLearner& learner, const LoopState& st) {
  SaveLoopCheckpoint(
      file, [&](torch::serialize::OutputArchive& a) { learner.Save(a); }, st);
}

bool Lead(const TrainingLoopOptions& o) { return o.group == nullptr || o.group->rank() == 0; }

// One validation: the record of the history, the best checkpoint, last.pt and metrics.jsonl.
void Validate(OfflineLearner& learner, const TrainingLoopOptions& o, const fs::path& dir,
              LoopState* st) {
  const auto v = learner.Validate();
  const double ndcg = v.count("NDCG@10") ? v.at("NDCG@10") : v.begin()->second;
  json rec = {{"step", learner.step()}, {"epoch", st->epoch}};
  const double n = static_cast<double>(std::max<int64_t>(1, st->loss_n));
  rec["train_loss"] = st->loss_sums["loss"] / n;
  if (o.all_loss_terms) {
    for (const auto& [key, sum] : st->loss_sums) rec["train_" + key] = sum / n;
  }
  for (const auto& [key, val] : v) rec["valid_" + key] = val;
  const double train_loss = rec["train_loss"].get<double>();
  if (st->RecordValidation(std::move(rec), ndcg, o.patience)) {
    SaveCheckpoint(dir / "best.pt", learner, *st);
  }
  log::Info("step {} epoch {} loss {:.4f} valid NDCG@10 {:.4f} (best {:.4f})", learner.step(),
            st->epoch, train_loss, ndcg, st->best);
  SaveCheckpoint(dir / "last.pt", learner, *st);
  WriteHistory(dir, st->history);
}

// Validate on rank 0 of a data-parallel job (everywhere when alone); the others receive its stop
// decision and best score.
void ValidateShared(OfflineLearner& learner, const TrainingLoopOptions& o, const fs::path& dir,
                    LoopState* st) {
  if (Lead(o)) Validate(learner, o, dir, st);
  if (o.group == nullptr) return;
  std::vector<torch::Tensor> decision{
      torch::tensor({st->stopped ? 1.0 : 0.0, st->best}, torch::kDouble)};
  o.group->Broadcast(decision, 0, "the validation's stop decision");
  st->stopped = decision[0][0].item<double>() != 0.0;
  st->best = decision[0][1].item<double>();
}

}  // namespace

TrainingLoopOptions LoopOptionsFor(const TrainLoopConfig& train) {
  TrainingLoopOptions o;
  o.max_steps = train.max_steps;
  o.max_epochs = train.max_epochs;
  o.eval_every = train.eval_every;
  o.patience = train.patience;
  return o;
}

TrainingLoopResult RunTrainingLoop(OfflineLearner& learner, const TrainingLoopOptions& o,
                                   const fs::path& dir) {
  TrainingLoopResult result;
  LoopState st;
  const fs::path last = dir / "last.pt", best = dir / "best.pt";
  if (fs::exists(last)) {
    st = LoadLoopCheckpoint(last, [&](torch::serialize::InputArchive& a) { learner.Load(a); });
    result.resumed = true;
    log::Info("resuming from {} at step {}", last.string(), learner.step());
  }
  learner.StartEpoch(st.epoch, st.cursor == 0);
  Progress progress(o.progress_label, o.max_steps, 2.0, Lead(o));
  progress.Resume(learner.step());
  int64_t steps_this_call = 0;
  while (!st.stopped && learner.step() < o.max_steps && st.epoch < o.max_epochs) {
    if (st.cursor >= learner.EpochSize()) {
      ++st.epoch;
      st.cursor = 0;
      learner.StartEpoch(st.epoch, true);
      continue;
    }
    const agents::MetricList metrics = learner.Step(&st.cursor);
    ++st.loss_n;
    for (const auto& [key, value] : metrics) st.loss_sums[key] += value;
    progress.Set(learner.step());
    ++steps_this_call;
    if (learner.step() % o.eval_every == 0 || learner.step() == o.max_steps) {
      ValidateShared(learner, o, dir, &st);
    }
    if (o.stop_after_steps > 0 && steps_this_call >= o.stop_after_steps) {
      progress.Finish();
      if (Lead(o)) SaveCheckpoint(last, learner, st);
      result.steps = learner.step();
      result.early_stopped = st.stopped;
      return result;
    }
  }
  progress.Finish();
  if (Lead(o)) {
    if (!fs::exists(best)) SaveCheckpoint(best, learner, st);
    SaveCheckpoint(last, learner, st);
    WriteHistory(dir, st.history);
  }
  result.steps = learner.step();
  result.best_valid_ndcg10 = st.best;
  result.early_stopped = st.stopped;
  result.finished = true;
  return result;
}

}  // namespace recarena::experiments
