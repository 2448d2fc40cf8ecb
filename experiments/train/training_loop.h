// The one offline training loop: epochs of batches over a learner, validation every eval_every
// steps (NDCG@10 decides the best checkpoint), early stopping after `patience` validations without
// improvement, crash-safe checkpoints and exact resume. `recarena train` runs every offline model
// through it: the windowed models (supervised "Normal", MODT4R / MRDT, CPFT; offline_trainer.cpp)
// and the session models (HDT, session_normal; session_trainer.cpp).
//
// Files it writes in dir (atomically): last.pt (the learner's archive + LoopState + LibTorch's
// generator, after every validation and when it stops), best.pt (the same, at the best validation),
// metrics.jsonl (the validation history, rewritten from the state so it never disagrees with
// last.pt). The caller evaluates best.pt on the test set and writes metrics.json / report.md.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "agents/supervised.h"
#include "dist/process_group.h"
#include "experiments/train/offline_config.h"

namespace recarena::experiments {

// What the loop trains. Positions index the training data of one epoch (windows, or batches); the
// loop's cursor (checkpointed) is the next position, so a resumed run continues mid-epoch.
class OfflineLearner {
 public:
  virtual ~OfflineLearner() = default;
  // Shuffles / builds epoch `epoch` (a pure function of the run seed and epoch, so resuming
  // rebuilds the same); fresh = the epoch starts now, not a resume in its middle.
  virtual void StartEpoch(int64_t epoch, bool fresh) = 0;
  // Positions in the current epoch (> 0).
  virtual int64_t EpochSize() const = 0;
  // One gradient step on the batch that starts at *cursor; advances *cursor past it.
  virtual agents::MetricList Step(int64_t* cursor) = 0;
  // Validation metrics (they must include NDCG@10, else the first metric decides the best).
  virtual std::map<std::string, double> Validate() = 0;
  virtual void Save(torch::serialize::OutputArchive& archive) const = 0;
  virtual void Load(torch::serialize::InputArchive& archive) = 0;
  virtual int64_t step() const = 0;  // gradient steps taken (restored by Load)
};

struct TrainingLoopOptions {
  int64_t max_steps = 0, max_epochs = 0, eval_every = 1, patience = 0;  // train section
  std::string progress_label;                                           // "train <what>"
  // Each validation record holds train_loss; with all_loss_terms also train_<term> of every term.
  bool all_loss_terms = true;
  int64_t stop_after_steps = 0;  // > 0: stop after that many steps in this call (crash tests)
  // Data-parallel training (not owned; nullptr = one process): every rank steps the learner (which
  // averages its gradients through the group); rank 0 alone validates and writes the files, and
  // tells the others after each validation whether to stop. Every rank resumes from dir/last.pt.
  dist::ProcessGroup* group = nullptr;
};

// max_steps, max_epochs, eval_every and patience of the train section.
TrainingLoopOptions LoopOptionsFor(const TrainLoopConfig& train);

struct TrainingLoopResult {
  int64_t steps = 0;
  double best_valid_ndcg10 = 0.0;
  bool early_stopped = false;
  bool resumed = false;   // last.pt was there
  bool finished = false;  // false when stop_after_steps ended the call
};

// Resumes from dir/last.pt when it exists, trains until max_steps, max_epochs or early stopping,
// and leaves dir/best.pt (the last parameters when no validation ran).
TrainingLoopResult RunTrainingLoop(OfflineLearner& learner, const TrainingLoopOptions& options,
                                   const std::filesystem::path& dir);

}  // namespace recarena::experiments
