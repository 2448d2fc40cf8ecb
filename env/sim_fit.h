// Fitting a simulator from logs (`recarena sim fit`): role data, response-model training, leave
// hazard, start states, similarity keys.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "env/prepare.h"
#include "env/sim_config.h"
#include "env/simulator.h"

namespace recarena::env {

// The logs behind each role, a pure function of the config (data prepared with run.seed; the user
// split draws from Rng(run.seed).Fork(10)).
struct SimData {
  PreparedDataset prepared;
  std::vector<SimRole> roles;  // train, test, and eval when configured
  std::map<SimRole, std::vector<Sequence>> sequences;
  std::vector<UserId> train_users, test_users;  // ascending
};

// Loads and prepares the data and splits it into roles. Throws ConfigError for incompatible
// choices (an eval part the dataset does not have, ground truth outside the synthetic world, item
// features the dataset lacks, ...).
SimData BuildSimData(const SimFitConfig& cfg);

// One row of response-model training data.
struct ResponseRows {
  int64_t state_len = 1;
  std::vector<int64_t> items;    // [n x state_len], right-padded with num_items
  std::vector<int64_t> lengths;  // [n], >= 1
  std::vector<int64_t> users, actions;
  std::vector<float> targets;  // 1/0 (click) or rating / negative_value (rating)
  size_t size() const { return actions.size(); }
};
// Positive rows from the sequences (sequential models: every position t >= 1 with the last
// state_len items before it; DeepFM: every interaction, with its history if any, or the padding
// history of length 1 at t = 0) plus cfg.negatives uniform random items per positive with target 0
// (click) or negative_value (rating). Click targets are 1 for every logged interaction.
ResponseRows MakeResponseRows(const std::vector<Sequence>& seqs, const ResponseConfig& cfg,
                              int64_t num_items, int64_t state_len, Rng& rng);

// Trains one model on rows for cfg.epochs epochs (Adam, BCE-with-logits or MSE, shuffled with
// rng). progress(epoch, mean loss) is called after every epoch. Returns the final epoch's loss.
double TrainResponseModel(ResponseModelImpl& model, const ResponseRows& rows,
                          const ResponseConfig& cfg, torch::Device device, Rng& rng,
                          const std::function<void(int64_t, double)>& progress = {});

// Session lengths of sequences, cutting them additionally at time gaps > gap_minutes when > 0.
std::vector<int64_t> SessionLengths(const std::vector<Sequence>& seqs, double gap_minutes);

// Builds (and trains) the simulator of one role.
std::shared_ptr<Simulator> FitRole(const SimFitConfig& cfg, const SimData& data, SimRole role,
                                   torch::Device device,
                                   const std::function<void(const std::string&)>& report = {});

// Fits every role into dir (config.yaml first, then <role>/components.pt, simulator.json last).
// A role whose components.pt already exists from an interrupted fit with the same config is kept
// (resume). Throws ConfigError when dir holds a fit with a different config.
void FitSimulator(const SimFitConfig& cfg, const std::filesystem::path& dir,
                  const std::function<void(const std::string&)>& report = {});

}  // namespace recarena::env
