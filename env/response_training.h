// The response model's training data and training loop (used by `recarena sim fit` and the
// reference models of the fidelity reports): rows from logged sequences with sampled negatives,
// Adam with early stopping on validation users, batched prediction.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/rng.h"
#include "data/exposures.h"
#include "data/sequences.h"
#include "env/response_model.h"
#include "env/sim_config.h"

namespace recarena::env {

// One row of response-model training data.
struct ResponseRows {
  int64_t state_len = 1;
  std::vector<int64_t> items;    // [n x state_len], right-padded with num_items
  std::vector<int64_t> lengths;  // [n], >= 1
  std::vector<int64_t> users, actions;
  std::vector<float> targets;        // 1/0 (click) or rating / negative_value (rating)
  std::vector<float> weights;        // [n] loss weights (inverse propensities); empty = all 1
  std::vector<float> neighbourhood;  // [n] out-of-fold f(h, a); empty = from the model
  size_t size() const { return actions.size(); }
};
// Draws the sampled negatives of response rows. kUniform: rng.UniformInt(num_items) (one draw per
// negative). kPopularity: item i with probability (counts[i] + 1) / sum_j (counts[j] + 1), by
// inverse CDF on one rng.Uniform() per negative; counts has num_items entries. kMixed: one
// rng.Uniform() picks the scheme (< 0.5: uniform), then one draw of that scheme. kExposure draws
// nothing (MakeResponseRows takes the log's exposures instead; Draw throws).
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
// every logged interaction. With a kExposure sampler the negatives are instead every exposure of
// each sequence (exposures->Of(user, session)) whose step has at least one click of the sequence
// before it (any, for DeepFM), with those clicks as history: a sequence's rows are in time order,
// an exposure before the click that shares its history. Throws recarena::Error when a kExposure
// sampler comes without exposures.
ResponseRows MakeResponseRows(const std::vector<data::Sequence>& seqs, const ResponseConfig& cfg,
                              int64_t num_items, int64_t state_len, Rng& rng,
                              const NegativeSampler* sampler = nullptr,
                              const data::ExposureIndex* exposures = nullptr);

// Each row's f(h, a) (env/item_neighbourhood.h) from the similarities of the other 5 folds of
// seqs' users, over the last rows.state_len items: [rows.size()] floats.
std::vector<float> OutOfFoldNeighbourhood(const std::vector<data::Sequence>& seqs,
                                          const ResponseRows& rows, int64_t num_items);

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

}  // namespace recarena::env
