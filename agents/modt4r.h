// MODT4R (thesis Ch. 4, Sec. 4.4) and its MRDT variant (Sec. 4.5.1): a decision transformer that
// predicts the next item conditioned on the user state and three returns (accuracy, novelty,
// diversity). See docs/decision_transformer.md for the equations and every choice made.
//
//   UserTrans = the SupervisedAgent's sequence encoder (SASRec in the shipped configs), its W_u
//   head
//               = the SupervisedAgent's output layer (Eq. 4.13);
//   MoTrans   = models::DecisionTransformer (Eqs. 4.7-4.11, W_o inside it);
//   W_a       = action_head_ (Eq. 4.12).
//   L = L_S + L_a + beta L_R (Eqs. 4.14-4.17) over every real position of a window.
//   Score_p = A^_p + alpha Y^_p (Eq. 4.19), with Algorithm 2's returns.
//
// The agent is a SupervisedAgent (same Update/Scores/Save/Load interface) so that the offline
// training loop, checkpoints and evaluation run it unchanged.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "agents/mo_returns.h"
#include "agents/supervised.h"
#include "agents/types.h"
#include "core/config_schema.h"
#include "models/decision_transformer.h"

namespace recarena::agents {

// Which item vectors define the cosine similarity of the diversity return (Eq. 4.5 footnote).
// kLearned: the UserTrans item embeddings as they are at the moment the returns are computed
// (detached; during training: at every step, at inference: the trained ones).
// kFeatures: fixed item attribute vectors given by the caller (SetSimilarityVectors; e.g. the
// multi-hot genres / categories of the dataset, models::ItemAttributeVectors).
enum class ReturnSimilarity { kLearned, kFeatures };

// Config section `dt` (model_kind modt4r | mrdt). alpha, lambda and epsilon only act at inference
// and can be changed on a trained agent (Modt4rAgent::SetInference).
struct Modt4rOptions {
  int64_t num_heads = 1;   // MoTrans heads
  int64_t num_blocks = 1;  // MoTrans GPT blocks
  double dropout = 0.1;    // MoTrans dropout
  double beta = 1.0;       // weight of L_R (Eq. 4.17), >= 0
  double alpha = 1.0;      // weight of UserTrans scores at inference (Eq. 4.19), >= 0
  double lambda = 1.0;     // diversity-return scale at inference (Sec. 4.4.6), >= 0
  double epsilon = 0.5;    // novelty threshold of Eq. 4.18, in [0, 1]
  ReturnSimilarity similarity = ReturnSimilarity::kLearned;

  template <class V>
  void Visit(V& v) {
    v("num_heads", num_heads);
    v("num_blocks", num_blocks);
    v("dropout", dropout);
    v("beta", beta);
    v("alpha", alpha);
    v("lambda", lambda);
    v("epsilon", epsilon);
    v("similarity", similarity);
  }
  // Throws ConfigError("dt.<key>", ...).
  void Validate() const;
};

// Inference-time (run-time) parameters.
struct Modt4rInference {
  double alpha = 1.0;
  InferenceReturnOptions returns;  // epsilon, lambda
};

// Loss terms of one batch (tensors with autograd).
struct Modt4rLoss {
  torch::Tensor total, l_s, l_a, l_r;
};

class Modt4rAgent : public SupervisedAgent {
 public:
  // options.encoder.num_items and state_len must be filled in; long_tail [num_items] 0/1 is the
  // novel-item set I_nov (bottom 90% of items by training popularity). order picks MODT4R / MRDT.
  Modt4rAgent(const SupervisedOptions& options, const Modt4rOptions& dt, models::TokenOrder order,
              std::vector<uint8_t> long_tail, torch::Device device);

  // batch.items [B, L] windows x_1..x_n, batch.targets [B] = x_{n+1}: every position t of a window
  // is a training step with action a_t = x_{t+1}. One Adam step on L; returns
  // {loss, l_s, l_a, l_r, grad_norm}.
  MetricList Update(const SequenceBatch& batch) override;
  // Eq. 4.19 at the last real position with Algorithm 2's returns built from each prefix:
  // [B, num_items] float on the agent's device; eval mode, no grad.
  torch::Tensor Scores(const torch::Tensor& items, const torch::Tensor& lengths) override;
  // Same with caller-given returns [B, L, 3] float (acc, nov, div per step).
  torch::Tensor ScoresWithReturns(const torch::Tensor& items, const torch::Tensor& lengths,
                                  const torch::Tensor& returns);

  // The loss of a batch with given per-position actions [B, L] (padding id after lengths) and
  // returns [B, L, 3], in train() mode with autograd.
  Modt4rLoss Loss(const torch::Tensor& items, const torch::Tensor& lengths,
                  const torch::Tensor& actions, const torch::Tensor& returns);

  // Per-position actions [B, L] int64 (x_{t+1}, targets at lengths-1, padding after) and training
  // returns [B, L, 3] float (Algorithm 1, line 4; 0 at padding) of a window batch, on the device.
  torch::Tensor WindowActions(const SequenceBatch& batch) const;
  torch::Tensor TrainingReturnTensor(const torch::Tensor& items, const torch::Tensor& lengths,
                                     const torch::Tensor& actions) const;
  // Algorithm 2's returns [B, L, 3] float for test prefixes (0 at padding), on the device.
  torch::Tensor InferenceReturnTensor(const torch::Tensor& items,
                                      const torch::Tensor& lengths) const;
  // The simulator's returns [B, L, 3] float (OnlineReturns per row, lambda from inference(); 0 at
  // padding), on the device: items/lengths are the observation's history, accuracy_to_go and
  // novelty_to_go [B] each row's episode targets minus what its user consumed so far.
  torch::Tensor OnlineReturnTensor(const torch::Tensor& items, const torch::Tensor& lengths,
                                   const std::vector<double>& accuracy_to_go,
                                   const std::vector<double>& novelty_to_go) const;

  // The fixed item vectors of ReturnSimilarity::kFeatures: [num_items, F] float (any device;
  // kept on the CPU). Throws recarena::Error for another shape. Must be set before returns are
  // computed when dt.similarity is features (Error otherwise).
  void SetSimilarityVectors(const torch::Tensor& vectors);

  void SetInference(const Modt4rInference& inference) { inference_ = inference; }
  const Modt4rInference& inference() const { return inference_; }

  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  std::vector<torch::Tensor> parameters() const override;

  models::DecisionTransformer& motrans() { return motrans_; }
  const std::vector<uint8_t>& long_tail() const { return long_tail_; }
  const SupervisedOptions& options() const { return options_; }

 private:
  // Rows of the similarity item vectors for items[b, 0..lengths[b]) ([len][D] per row), on the CPU.
  std::vector<std::vector<std::vector<float>>> RowVectors(const torch::Tensor& items,
                                                          const torch::Tensor& lengths) const;
  // [B, L, 3] float on the device: row b's returns are returns_of(b, x, vectors) over its real
  // items x [len] and their similarity vectors (0 at padding).
  using RowReturns = std::function<MoReturns(int64_t, const std::vector<int32_t>&,
                                             const std::vector<std::vector<float>>&)>;
  torch::Tensor ReturnTensor(const torch::Tensor& items, const torch::Tensor& lengths,
                             const RowReturns& returns_of) const;

  Modt4rOptions dt_;
  std::vector<uint8_t> long_tail_;
  Modt4rInference inference_;
  models::DecisionTransformer motrans_{nullptr};
  torch::nn::Linear action_head_{nullptr};  // W_a, b_a
  torch::Tensor similarity_vectors_;        // [num_items, F] float CPU (kFeatures)
};

}  // namespace recarena::agents

namespace recarena::config {
template <>
struct EnumNames<recarena::agents::ReturnSimilarity> {
  static const std::vector<std::pair<recarena::agents::ReturnSimilarity, std::string>>& Table() {
    static const std::vector<std::pair<recarena::agents::ReturnSimilarity, std::string>> t = {
        {recarena::agents::ReturnSimilarity::kLearned, "learned"},
        {recarena::agents::ReturnSimilarity::kFeatures, "features"}};
    return t;
  }
};
}  // namespace recarena::config
