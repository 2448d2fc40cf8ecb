// The offline training loop of `recarena train`: supervised next-item training ("Normal") or the
// popularity floor, or CPFT fine-tuning of a trained run (model_kind cpft: CE on the training
// windows + conformal losses on the validation windows, from cpft.init_from's best.pt), validation
// every N steps on NDCG@10, best-checkpoint keeping, early stopping, crash-safe resume, final test
// evaluation.
//
// Run directory contract:
//   config.yaml     resolved config (written first)
//   last.pt         latest checkpoint: model, optimizer, step, epoch, batch cursor, torch RNG
//   state,
//                   best validation score, validations without improvement, and the metrics history
//   best.pt         parameters of the best validation NDCG@10
//   metrics.jsonl   one JSON object per validation (the training curve), rewritten from last.pt's
//                   history each time so that it never disagrees with the checkpoint
//   metrics.json    final test metrics of the best checkpoint (plus steps, best validation)
//   report.md       a short table
// All files are written atomically. Starting again with the same run directory resumes from last.pt
// and produces the same parameters as an uninterrupted run (same seed, same thread count).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/prepare.h"
#include "data/windows.h"
#include "dist/process_group.h"
#include "experiments/eval/metrics.h"
#include "experiments/train/offline_config.h"

namespace recarena::experiments {

struct OfflineRunResult {
  std::map<std::string, double> test_metrics;
  double best_valid_ndcg10 = 0.0;
  int64_t steps = 0;
  bool early_stopped = false;
  bool resumed = false;
};

// The data of a run exactly as RunOfflineTraining builds it (used again by `recarena
// conformal-eval`): data::PrepareDataset(cfg.data, cfg.run.seed); the validation sequences are
// split.valid, or, when the split has none, a deterministic share
// (train.valid_fraction_if_missing, Rng(run.seed).Fork(3)) held out of split.train; windows of
// length data.window.state_len with padding id = catalog size.
struct OfflineData {
  data::PreparedDataset prepared;
  std::vector<data::Sequence> train_seqs;  // training sequences (after the hold-out, if any)
  std::vector<data::Sequence> valid_seqs;
  data::Windows train_w, valid_w, test_w;
  int32_t num_items() const { return static_cast<int32_t>(prepared.dataset.items.size()); }
};
OfflineData BuildOfflineData(const OfflineTrainConfig& cfg);

// cfg.model with encoder.num_items and encoder.state_len filled in (what the agent is built with).
agents::SupervisedOptions ResolvedModelOptions(const OfflineTrainConfig& cfg, int64_t num_items);

// The metrics context of a run's test evaluation: catalog size and the dataset's long-tail flags
// (no earlier-session history).
MetricsContext ContextFor(const data::PreparedDataset& p);

// The novel-item set I_nov of the decision transformers' novelty returns: the bottom 90% of items
// by interaction count in the training sequences (thesis Sec. 4.4.3), [num_items] 0/1.
std::vector<uint8_t> TrainingLongTail(const std::vector<data::Sequence>& train_seqs,
                                      int32_t num_items);
// The fixed item vectors of dt.similarity features (models::ItemAttributeVectors of the dataset's
// catalog: multi-hot categories / genres, else dense features); undefined for learned. Throws
// ConfigError("dt.similarity") when the dataset has neither categories nor features.
torch::Tensor DtSimilarityVectors(const agents::Modt4rOptions& dt,
                                  const data::PreparedDataset& data);
// The same for any option `key` (e.g. rl.smorl.similarity) holding a ReturnSimilarity.
torch::Tensor SimilarityVectors(agents::ReturnSimilarity similarity, const std::string& key,
                                const data::PreparedDataset& data);
// The token order of a decision-transformer model_kind (mrdt -> kMrdt, otherwise kModt4r).
models::TokenOrder OrderOf(OfflineModel kind);

// A fresh agent of a windowed model_kind (normal, cpft's base, the decision transformers, the
// offline RL learners), built as RunOfflineTraining builds it, to Load a run's checkpoint into.
std::unique_ptr<agents::SupervisedAgent> MakeWindowAgent(const OfflineTrainConfig& cfg,
                                                         const OfflineData& od,
                                                         torch::Device device);

// Runs (or resumes) training in run_dir. The session models (model_kind hdt, session_normal) are
// delegated to RunSessionTraining (experiments/train/session_trainer.h). stop_after_steps > 0 stops
// the loop after that many steps in this call without evaluating the test set (used to simulate a
// crash in tests). group (not owned; nullptr = one process): data-parallel training of the windowed
// models, every rank calling this with the same config and run_dir; rank 0 alone validates,
// evaluates the test set and writes the files, the others return after the loop with steps only.
OfflineRunResult RunOfflineTraining(const OfflineTrainConfig& cfg,
                                    const std::filesystem::path& run_dir,
                                    int64_t stop_after_steps = 0,
                                    dist::ProcessGroup* group = nullptr);

}  // namespace recarena::experiments
