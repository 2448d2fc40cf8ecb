// The training loop of the session models of `recarena train` (thesis Ch. 5, docs/hdt.md):
//   hdt             agents::HdtAgent on user-parallel mini-batches of the training sessions
//                   (agents::BuildUserParallelBatches, users shuffled per epoch,
//                   hdt_data.batch_size users per batch; the states carried between sessions are
//                   reset per epoch);
//   session_normal  agents::SupervisedAgent (the "Normal" baseline) on next-item windows cut from
//                   the same training sessions (each window = a prefix of one session, at most
//                   model.encoder.state_len items; train.batch_size windows per batch).
// Both validate every train.eval_every steps on NDCG@10 of the validation queries (each user's
// second-last session, subsampled to train.max_valid_queries), keep best.pt, stop early after
// train.patience validations without improvement, and finally evaluate best.pt on the test queries
// (each user's last session, Sec. 5.4.1): HR@k, NDCG@k, MRR, CV_div@k (coverage), CV_nov@k,
// UP@k, HR_ser@k, NDCG_ser@k (history = the items of the user's earlier sessions).
//
// Run directory contract as for the other offline models (experiments/train/offline_trainer.h):
// config.yaml, last.pt, best.pt, metrics.jsonl, metrics.json, report.md, all written atomically;
// starting again with the same directory resumes from last.pt and reproduces an uninterrupted run
// (same seed, same thread count).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agents/hdt_batches.h"
#include "experiments/eval/metrics.h"
#include "experiments/train/offline_config.h"
#include "experiments/train/offline_trainer.h"

namespace recarena::experiments {

// Maps queries to [Q, num_items] float scores (any device).
using QueryScorer = std::function<torch::Tensor(const std::vector<agents::HdtQuery>& queries)>;

// Ranks the full catalog for each query (queries with target >= 0) and returns the metrics of
// experiments/eval/metrics.h with user = query user, session = query user (one evaluated session
// per user) and history = the items of the query's history sessions. max_queries > 0 evaluates an
// evenly spaced deterministic subsample; batch_size queries are scored at a time.
std::map<std::string, double> EvaluateSessionQueries(const QueryScorer& scorer,
                                                     const std::vector<agents::HdtQuery>& queries,
                                                     const MetricsContext& ctx,
                                                     const std::vector<int>& ks, int64_t batch_size,
                                                     int64_t max_queries = 0);

// Runs (or resumes) an hdt or session_normal run in run_dir (cfg.IsSessionModel()).
// stop_after_steps > 0 stops after that many steps in this call without the test evaluation.
// group: data-parallel training as RunOfflineTraining's (session_normal only; hdt with a group is
// an Error).
OfflineRunResult RunSessionTraining(const OfflineTrainConfig& cfg,
                                    const std::filesystem::path& run_dir,
                                    int64_t stop_after_steps = 0,
                                    dist::ProcessGroup* group = nullptr);

}  // namespace recarena::experiments
