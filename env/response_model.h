// Learned user-response (reward) models of the simulator, and the ensemble that combines them.
//
// Every model maps (context, action) to one raw output per row: a logit for click targets, a
// rating for rating targets. The context is what the simulator knows about a user in an episode:
// the consumed history (right-padded, as for the policies/ encoders) and the user id.
//   ResponseInput: items [B, L] int64 (padding id = num_items), lengths [B] int64 >= 1,
//                  users [B] int64 (dense ids of the role's dataset), actions [B] int64 in
//                  [0, num_items). All on the model's device.
// Sequential (thesis Sec. 7.3, "reward model based on a sequential recommender" [155]):
//   h = Encoder(history)  (GRU4Rec/SASRec/Caser/NextItNet from policies/)
//   out(a) = h . W[a] + b[a], with an output table W [num_items, D] separate from the input
//   embeddings.
// DeepFM (Guo et al. 2017; DORL's Coat user model): fields = user id, item id, and, when the
// dataset has them, the user's and the item's dense feature vectors each projected to one field
// embedding (x_feat @ P). out = w0 + first-order(user) + first-order(item) + FM pairwise term
//   0.5 * sum_d ((sum_f e_fd)^2 - sum_f e_fd^2) + MLP(concat(e_f)).
// Parameters are initialised from LibTorch's global generator (the fitter seeds it per model).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "env/calibration.h"
#include "env/item_neighbourhood.h"
#include "env/sim_config.h"

namespace recarena::env {

struct ResponseInput {
  torch::Tensor items;    // [B, L] int64
  torch::Tensor lengths;  // [B] int64
  torch::Tensor users;    // [B] int64
  torch::Tensor actions;  // [B] int64
  // Optional [B] float: the neighbourhood score f(h, a) given by the caller (out of fold while
  // training, env/item_neighbourhood.h); undefined = computed from the model's similarities.
  torch::Tensor neighbourhood{};
};

class ResponseModelImpl : public torch::nn::Module {
 public:
  ~ResponseModelImpl() override = default;
  // Raw output for each row's action: [B] float.
  virtual torch::Tensor forward(const ResponseInput& in) = 0;
  // Raw outputs for every catalog item: [B, num_items] float (in.actions is ignored).
  virtual torch::Tensor ScoreAll(const ResponseInput& in) = 0;
  // The item vectors that describe the catalog for this model ([num_items, D]); used as learned
  // item embeddings by fidelity reports.
  virtual torch::Tensor ItemVectors() const = 0;
  // Called once by the trainer before the first epoch with all training rows (targets [B] float):
  // a model may initialise parameters from them. Default: nothing.
  virtual void WarmStart(const ResponseInput& in, const torch::Tensor& targets,
                         ResponseTarget target) {
    (void)in, (void)targets, (void)target;
  }
};

// With history_bag, the state adds FISM's bag of the history (Kabbur et al. 2013):
//   h = Encoder(history) + sum_{j in history} P[j] / sqrt(|history|)
// with its own table P [num_items + 1, D] (padding row zero), so the model holds the item-factored
// reference model of the fidelity reports as a special case. With the bag, P and the output table
// start from N(0, 0.05^2) (FISM's init) instead of N(0, 1/D). Without the history encoder
// (history_encoder = false, which needs the bag) the model is FISM alone: h = the bag term.
//
// With neighbourhood, the output adds Koren's (2008) explicit item-item term on fixed co-occurrence
// similarities (env/item_neighbourhood.h) with three learned weights:
//   out(a) += w0 + w1 [f(h, a) > 0] + w2 [f(h, a) > 0] log f(h, a)
// (a log-linear response to the similarity, so its scale needs no tuning). WarmStart sets w by
// logistic regression (least squares for ratings) of the training targets on these features
// alone, so training starts from the item-kNN model and the factor parts learn what it misses;
// from zero, the few Adam steps before early stopping leave w far from it. The similarities are
// buffers (saved with the model); SetNeighbourhood fills them from the fit users' logs. Training
// rows must bring their own out-of-fold f (ResponseInput::neighbourhood): a row's own sequence
// is in the similarities, so f > 0 would mark nearly every logged positive and the weights would
// learn that leak (measured: training loss 0.002, held-out loss 1.2 on amazon-industrial).
struct SequentialResponseImpl : ResponseModelImpl {
  explicit SequentialResponseImpl(const models::EncoderOptions& options, bool history_bag = false,
                                  bool history_encoder = true, bool neighbourhood = false);
  void SetNeighbourhood(const CoOccurrence& c);  // needs neighbourhood; c on any device
  torch::Tensor forward(const ResponseInput& in) override;
  torch::Tensor ScoreAll(const ResponseInput& in) override;
  torch::Tensor ItemVectors() const override { return out_table_->weight; }
  void WarmStart(const ResponseInput& in, const torch::Tensor& targets,
                 ResponseTarget target) override;
  torch::Tensor State(const ResponseInput& in);  // [B, D]
  // forward(in) from h = State(in) [B, D] computed earlier (env/response_cache.h keeps it).
  torch::Tensor FromState(const torch::Tensor& h, const ResponseInput& in);
  // The history-bag part of State for items [B, L] (history_bag only): [B, D].
  torch::Tensor Bag(const torch::Tensor& items);

  std::shared_ptr<models::SequenceEncoderImpl> encoder;  // null without the history encoder
  torch::nn::Embedding bag_table_{nullptr};              // [num_items + 1, D] (history_bag only)
  torch::nn::Embedding out_table_{nullptr};              // [num_items, D]
  torch::nn::Embedding out_bias_{nullptr};               // [num_items, 1]
  torch::Tensor nb_keys_, nb_values_, nb_weight_;        // neighbourhood only; weight [3]
  int64_t num_items_ = 0;

 private:
  CoOccurrence Neighbourhood() const { return {nb_keys_, nb_values_, num_items_}; }
  // f(h, a) per row: in.neighbourhood when given, else from the similarities. [B] float.
  torch::Tensor Score(const ResponseInput& in) const;
  // [f > 0, [f > 0] log f] for f [B]: [B, 2].
  static torch::Tensor NeighbourhoodFeatures(const torch::Tensor& f);
  // w0 + features . (w1, w2) for f of any shape.
  torch::Tensor NeighbourhoodTerm(const torch::Tensor& f) const;
};

struct DeepFmShape {
  int64_t num_users = 0, num_items = 0;
  torch::Tensor user_features;  // [num_users, Fu] float or undefined (no user features)
  torch::Tensor item_features;  // [num_items, Fi] float or undefined
};

struct DeepFmResponseImpl : ResponseModelImpl {
  DeepFmResponseImpl(const DeepFmShape& shape, int64_t dim, const std::vector<int64_t>& hidden);
  torch::Tensor forward(const ResponseInput& in) override;
  torch::Tensor ScoreAll(const ResponseInput& in) override;
  torch::Tensor ItemVectors() const override { return item_emb_->weight; }
  // Shifts the global bias w0 so that the mean raw output on the training rows is the targets'
  // mean (ratings) or its logit (clicks, the mean clamped to [1e-4, 1 - 1e-4]): the model starts
  // at the base rate instead of at 0, which on a 1-5 rating scale takes the first epochs of Adam
  // (and, with early stopping on few validation users, the only ones) to reach.
  void WarmStart(const ResponseInput& in, const torch::Tensor& targets,
                 ResponseTarget target) override;

 private:
  // users [N], items [N] -> [N] raw outputs.
  torch::Tensor Pairs(const torch::Tensor& users, const torch::Tensor& items);

  int64_t num_users_, num_items_;
  torch::nn::Embedding user_emb_{nullptr}, item_emb_{nullptr};
  torch::nn::Embedding user_bias_{nullptr}, item_bias_{nullptr};
  torch::nn::Linear user_feat_{nullptr}, item_feat_{nullptr};  // projections (may be null)
  torch::Tensor user_features_, item_features_;                // buffers (may be empty)
  torch::Tensor global_bias_;
  torch::nn::Sequential mlp_{nullptr};
};

// The synthetic world's true click model (eval role, eval.kind ground_truth): out(u, a) =
// (utility(u, a) - no_click_utility) / choice_temperature, so sigmoid(out) is the probability that
// the user clicks a one-item slate under the world's multinomial logit (docs/synthetic_world.md).
struct GroundTruthResponseImpl : ResponseModelImpl {
  // utility [num_users, num_items] float.
  GroundTruthResponseImpl(torch::Tensor utility, double no_click_utility, double temperature);
  torch::Tensor forward(const ResponseInput& in) override;
  torch::Tensor ScoreAll(const ResponseInput& in) override;
  torch::Tensor ItemVectors() const override { return utility_.t(); }

  torch::Tensor utility_;  // buffer
  double no_click_utility_, temperature_;
};

// Builds one model of cfg.kind. num_items must be set in shape (and in cfg.encoder for
// sequential, which this function fills in). With cfg.neighbourhood, the similarities are set
// from `neighbourhood` when given (a fit), else left empty for a checkpoint load to fill.
std::shared_ptr<ResponseModelImpl> MakeResponseModel(const ResponseConfig& cfg,
                                                     const DeepFmShape& shape,
                                                     const CoOccurrence* neighbourhood = nullptr);

// The simulator's reward function: K models of one kind, their outputs mapped to the reward scale
// (sigmoid for click targets, identity for ratings), combined as
//   calibration(mean) - pessimism * std   (population std over K of the uncalibrated outputs;
//                                           0 for K = 1)
// and clamped to [reward_min, reward_max]. The calibration is the identity unless the fit set one
// (sim.response.calibration, env/calibration.h).
class ResponseEnsemble {
 public:
  ResponseEnsemble(ResponseConfig cfg, std::vector<std::shared_ptr<ResponseModelImpl>> models);
  // [B] float on the models' device: the expected reward of each row's action (P(click) for click
  // targets, the rating for rating targets), before any Bernoulli draw. No grad, eval mode.
  torch::Tensor Expected(const ResponseInput& in) const;
  // [B, num_items] float: Expected for every item (the oracle's view).
  torch::Tensor ExpectedAll(const ResponseInput& in) const;
  // The disagreement term alone (std over models, reward scale) [B]; zeros for K = 1.
  torch::Tensor Disagreement(const ResponseInput& in) const;
  const ResponseConfig& config() const { return cfg_; }
  const std::vector<std::shared_ptr<ResponseModelImpl>>& models() const { return models_; }
  const Calibration& calibration() const { return calibration_; }
  void SetCalibration(const Calibration& c) { calibration_ = c; }
  void to(torch::Device device);
  // The expected reward from the K models' raw outputs (each [B], in models() order): what
  // Expected returns for the input that produced them.
  torch::Tensor Combine(const std::vector<torch::Tensor>& outputs) const;

 private:
  ResponseConfig cfg_;
  Calibration calibration_;
  std::vector<std::shared_ptr<ResponseModelImpl>> models_;
};

}  // namespace recarena::env
