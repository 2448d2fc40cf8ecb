// `recarena sim predict DIR --role R --input FILE`: a fitted simulator's response model on pairs a
// user supplies, so anyone can check the simulator against their own held-out data.
//
// Input: CSV (RFC 4180, UTF-8) with the header line `user,history,item`, then one query per line:
//   user     the dataset's external user id; may be empty for sequential response models (they
//            read the history only); required by deepfm models
//   history  the external ids of the items the user consumed before, oldest first, separated by
//            spaces; may be empty; the model reads the last state_len of them
//   item     the external id of the item shown
// Ids are the dataset's own (as in its files), mapped through the same preprocessing as the fit.
// Output: one number per query, in order: P(click) for click targets, the rating for rating
// targets (the simulator's expected reward, before any Bernoulli draw).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "data/dataset.h"
#include "env/simulator.h"

namespace recarena::experiments {

struct PredictQuery {
  int64_t user = 0;              // dense id (0 when the line left it empty)
  std::vector<int64_t> history;  // dense ids, oldest first
  int64_t item = 0;
};

// Parses FILE against the dataset's id tables. FileError(file, line, value) for a bad header, a
// wrong field count, an unknown user or item id, or an empty user when need_user.
std::vector<PredictQuery> ReadPredictQueries(const std::filesystem::path& file,
                                             const data::Dataset& dataset, bool need_user);

// The simulator's expected reward for every query (batches of 4096 on device), on the host.
std::vector<float> PredictQueries(const env::Simulator& sim, const std::vector<PredictQuery>& q,
                                  torch::Device device);

}  // namespace recarena::experiments
