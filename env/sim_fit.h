// Fitting a simulator from logs (`recarena sim fit`): role data, leave hazard, start states,
// similarity keys; the response model's rows and training are in env/response_training.h.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/prepare.h"
#include "env/response_training.h"
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
  // The fitted parts' exposures, when the log records them (sim.response.negative_sampling
  // exposure needs them).
  data::ExposureIndex exposures;
};

// Loads and prepares the data and splits it into roles. Throws ConfigError for incompatible
// choices (an eval part the dataset does not have, ground truth outside the synthetic world, item
// features the dataset lacks, ...).
SimData BuildSimData(const SimFitConfig& cfg);

// Inverse-propensity weights 1 / P(observed) of the rows' (user, item) pairs, for rows.weights:
// logged rows (every row of a rating fit without negatives; the first of each 1 + negatives group
// otherwise) get 1 / p, sampled negatives 1. Needs a dataset whose exposure is known (Coat's
// propensities.ascii); ConfigError("sim.response.ips") for any other. clip > 0 caps each 1 / p
// at clip (sim.response.ips_clip).
std::vector<float> IpsWeights(const data::Dataset& ds, const data::DataConfig& data,
                              const ResponseRows& rows, int64_t negatives, double clip = 0.0);

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
