// The loop state of the offline training loops (windowed `recarena train` and the session loop of
// HDT / session_normal) and its crash-safe checkpoint: the model's own archive plus the loop
// position, the best validation score, the history and the loss sums, and LibTorch's generator.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace recarena::experiments {

// Loop state that a checkpoint must restore besides the model.
struct LoopState {
  int64_t epoch = 0;
  int64_t cursor = 0;  // next position (window or batch) within the epoch
  double best = -1.0;  // best validation NDCG@10 so far
  int64_t bad_evals = 0;
  bool stopped = false;
  nlohmann::json history = nlohmann::json::array();
  // Training-loss sums since the last validation (every loss term), with their count:
  // checkpointed so that a resumed run reports the same curve.
  std::map<std::string, double> loss_sums;
  int64_t loss_n = 0;

  // Ends a validation: appends rec to the history, clears the loss sums, and updates the best
  // score and the patience count (stopped after `patience` validations without improvement).
  // Returns whether ndcg improved on the best (the caller then saves best.pt).
  bool RecordValidation(nlohmann::json rec, double ndcg, int64_t patience);
};

// Writes file atomically: save_model(archive), the loop state and LibTorch's CPU generator.
void SaveLoopCheckpoint(const std::filesystem::path& file,
                        const std::function<void(torch::serialize::OutputArchive&)>& save_model,
                        const LoopState& st);
// Reads it back (load_model(archive) first, then the state; the generator is restored). Throws
// FileError naming the file when it cannot be read.
LoopState LoadLoopCheckpoint(
    const std::filesystem::path& file,
    const std::function<void(torch::serialize::InputArchive&)>& load_model);

// metrics.jsonl: one JSON object per line, written atomically.
void WriteHistory(const std::filesystem::path& dir, const nlohmann::json& history);

}  // namespace recarena::experiments
