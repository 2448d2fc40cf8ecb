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

#include "data/prepare.h"
#include "env/sim_config.h"
#include "env/simulator.h"

namespace recarena::env {

// The logs behind each role, a pure function of the config (data prepared with run.seed; the user
// split draws from Rng(run.seed).Fork(10)).
struct SimData {
  data::PreparedDataset prepared;
  std::vector<SimRole> roles;  // train, test, and eval when configured
  std::map<SimRole, std::vector<data::Sequence>> sequences;
  std::vector<data::UserId> train_users, test_users;  // ascending
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
  std::vector<float> weights;  // [n] loss weights (inverse propensities); empty = all 1
  size_t size() const { return actions.size(); }
};
// Draws the sampled negatives of response rows. kUniform: rng.UniformInt(num_items) (one draw per
// negative). kPopularity: item i with probability (counts[i] + 1) / sum_j (counts[j] + 1), by
// inverse CDF on one rng.Uniform() per negative; counts has num_items entries.
class NegativeSampler {
 public:
  NegativeSampler(NegativeSampling kind, int64_t num_items,
                  const std::vector<int64_t>& counts = {});
  int64_t Draw(Rng& rng) const;
  NegativeSampling kind() const { return kind_; }

 private:
  NegativeSampling kind_;
  int64_t num_items_;
  std::vector<double> cdf_;  // kPopularity: cumulative weights, last = 1
};

// The listed rows of rows, in the listed order.
ResponseRows SelectRows(const ResponseRows& rows, const std::vector<size_t>& pick);
// The first min(n, rows.size()) rows.
ResponseRows HeadRows(const ResponseRows& rows, size_t n);

// Item counts of sequences ([num_items]).
std::vector<int64_t> ItemCounts(const std::vector<data::Sequence>& seqs, int64_t num_items);

// Positive rows from the sequences (sequential models: every position t >= 1 with the last
// state_len items before it; DeepFM: every interaction, with its history if any, or the padding
// history of length 1 at t = 0) plus cfg.negatives items per positive from the sampler (uniform
// when none is given) with target 0 (click) or negative_value (rating). Click targets are 1 for
// every logged interaction.
ResponseRows MakeResponseRows(const std::vector<data::Sequence>& seqs, const ResponseConfig& cfg,
                              int64_t num_items, int64_t state_len, Rng& rng,
                              const NegativeSampler* sampler = nullptr);

// Trains one model on rows for cfg.epochs epochs (Adam, BCE-with-logits or MSE, shuffled with
// rng; with rows.weights, each batch's loss is the weighted mean sum_b w_b l_b / sum_b w_b, the
// self-normalised IPS estimate of Schnabel et al. 2016). progress(epoch, mean loss) is called after
// every epoch. Returns the final epoch's loss. With validation rows and cfg.early_stopping > 0, the
// mean validation loss is measured after every epoch, training stops after early_stopping epochs
// without improvement, and the model keeps the parameters of its best validation epoch; progress
// then gets the validation loss too.
double TrainResponseModel(ResponseModelImpl& model, const ResponseRows& rows,
                          const ResponseConfig& cfg, torch::Device device, Rng& rng,
                          const std::function<void(int64_t, double)>& progress = {},
                          const ResponseRows* validation = nullptr,
                          const std::function<void(int64_t, double)>& validation_progress = {});

// The ensemble's expected reward for the first max_rows rows (all when max_rows < 0), computed on
// device in batches of 4096: [n] on the host.
std::vector<float> PredictRows(const ResponseEnsemble& response, const ResponseRows& rows,
                               torch::Device device, int64_t max_rows = -1);

// Inverse-propensity weights 1 / P(observed) of the rows' (user, item) pairs, for rows.weights:
// logged rows (every row of a rating fit without negatives; the first of each 1 + negatives group
// otherwise) get 1 / p, sampled negatives 1. Needs a dataset whose exposure is known (Coat's
// propensities.ascii); ConfigError("sim.response.ips") for any other.
std::vector<float> IpsWeights(const data::Dataset& ds, const data::DataConfig& data,
                              const ResponseRows& rows, int64_t negatives);

// Session lengths of sequences, cutting them additionally at time gaps > gap_minutes when > 0.
std::vector<int64_t> SessionLengths(const std::vector<data::Sequence>& seqs, double gap_minutes);

// Builds (and trains) the simulator of one role. With sim.response.calibration set, a
// calibration_users share of the role's users (at least one, never all) is held out of the
// response model's training and the calibration is fitted on their rows (negatives as in
// training). Pessimism applies to the train role only (test and eval measure agents).
std::shared_ptr<Simulator> FitRole(const SimFitConfig& cfg, const SimData& data, SimRole role,
                                   torch::Device device,
                                   const std::function<void(const std::string&)>& report = {});

// Fits every role into dir (config.yaml first, then <role>/components.pt, simulator.json last).
// A role whose components.pt already exists from an interrupted fit with the same config is kept
// (resume). Throws ConfigError when dir holds a fit with a different config.
void FitSimulator(const SimFitConfig& cfg, const std::filesystem::path& dir,
                  const std::function<void(const std::string&)>& report = {});

}  // namespace recarena::env
