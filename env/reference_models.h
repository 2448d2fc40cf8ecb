// Reference response models for the simulator's fidelity reports: what a learned response model
// must beat on the same held-out rows before its simulator is trusted (docs/simulator.md).
//
//   popularity  raw score log(1 + count of the item in the role's logs)
//   item_knn    item-to-item co-occurrence: c(j, a) counts how often item a follows item j within
//               the state_len items before it in a logged sequence; the raw score of (history h,
//               action a) is sum over the distinct items j of h of c(j, a) / sqrt(n_j * n_a), with
//               n the item counts (cosine-normalised, as in item-based kNN, Sarwar et al. 2001)
//   mf          a factored item-item model (FISM, Kabbur et al. 2013): raw score
//               b_a + q_a . (sum_{j in h} p_j) / sqrt(|h|), trained like the response model (same
//               rows: logged positives and sampled negatives, BCE for clicks, MSE for ratings).
//               Users appear only through their history, so it scores users it never saw, as the
//               held-out protocol needs.
// Each raw score becomes a reward-scale prediction through a calibration fitted on the role's own
// training rows (Platt for clicks, least squares for ratings), so log-loss and RMSE compare like
// with like.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/rng.h"
#include "data/sequences.h"
#include "env/calibration.h"
#include "env/item_neighbourhood.h"
#include "env/sim_fit.h"

namespace recarena::env {

// The item_knn reference: f(h, a) of env/item_neighbourhood.h over the role's logs.
class ItemKnn {
 public:
  // seqs: the role's logged sequences; window: how many preceding items co-occur (>= 1).
  ItemKnn(const std::vector<data::Sequence>& seqs, int64_t num_items, int64_t window);
  // Raw scores of rows ([rows.size()]).
  std::vector<float> Score(const ResponseRows& rows) const;
  // S(j, a) = c(j, a) / sqrt(n_j * n_a); 0 when the pair never co-occurred.
  double Similarity(int64_t j, int64_t a) const;

 private:
  CoOccurrence s_;
};

struct HistoryMfOptions {
  int64_t dim = 32;
  int64_t epochs = 5;
  int64_t batch_size = 1024;
  double lr = 5e-3;
  double weight_decay = 0.0;
};

class HistoryMfImpl : public torch::nn::Module {
 public:
  HistoryMfImpl(int64_t num_items, int64_t dim);
  // items [B, L] int64 (padding num_items), lengths [B] int64 >= 1, actions [B] -> raw [B] float.
  torch::Tensor forward(const torch::Tensor& items, const torch::Tensor& lengths,
                        const torch::Tensor& actions);

 private:
  int64_t num_items_;
  torch::nn::Embedding history_{nullptr}, target_{nullptr}, bias_{nullptr};
};
TORCH_MODULE(HistoryMf);

// Trains a HistoryMf on rows (CPU, rng for the init seed and the shuffles) and returns it in eval
// mode.
HistoryMf TrainHistoryMf(const ResponseRows& rows, ResponseTarget target, int64_t num_items,
                         const HistoryMfOptions& options, Rng& rng);
std::vector<float> ScoreRows(HistoryMf& model, const ResponseRows& rows);

// The three reference models of one role, fitted on that role's logs.
class ReferenceModels {
 public:
  // seqs: the role's logs. A validation_users share of its users (at least one, never all) is held
  // out: the models are fitted on the other users' sequences and rows (cfg's negatives and
  // negative_sampling, as the learned model's rows), and each model's calibration on the held-out
  // users' rows (at most max_cal_rows of them), so that no reference is calibrated on the rows it
  // memorised.
  // exposures: the log's, needed when cfg.negative_sampling is kExposure.
  ReferenceModels(const std::vector<data::Sequence>& seqs, const ResponseConfig& cfg,
                  int64_t num_items, int64_t state_len, Rng& rng, int64_t max_cal_rows = 50000,
                  const data::ExposureIndex* exposures = nullptr);
  static const std::vector<std::string>& Names();  // popularity, item_knn, mf
  // Reward-scale predictions of the named model for rows.
  std::vector<float> Predict(const std::string& name, const ResponseRows& rows);

 private:
  std::vector<float> Raw(const std::string& name, const ResponseRows& rows);
  std::vector<int64_t> counts_;
  std::unique_ptr<ItemKnn> knn_;
  HistoryMf mf_{nullptr};
  std::unordered_map<std::string, Calibration> calibration_;
};

}  // namespace recarena::env
