// Item scorer: maps encoder states to one score (logit) per catalog item.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace recarena::models {

struct ItemScorerOptions {
  int64_t dim = 64;       // state size D
  int64_t num_items = 0;  // catalog size; scores cover items 0..num_items-1 (never the padding id)
  bool tied = false;      // score = state . item_embedding[i] (+ bias) instead of a Linear layer
  bool bias = true;       // a learned per-item bias (both modes)
};

// Untied: Linear(D -> num_items). Tied: state @ table[0:num_items]^T (+ bias), where table is the
// encoder's [num_items + 1, D] item_embeddings(); the padding row is excluded. The tied table is
// held by reference to the same tensor, not registered here, so an optimizer over
// encoder->parameters() + scorer->parameters() updates it once; it follows the encoder's .to()
// because LibTorch moves parameters in place.
class ItemScorerImpl : public torch::nn::Module {
 public:
  // tied_table must be given (shape [num_items + 1, dim]) iff options.tied; throws recarena::Error.
  explicit ItemScorerImpl(const ItemScorerOptions& options, torch::Tensor tied_table = {});
  // state [..., D] float -> [..., num_items] scores.
  torch::Tensor forward(const torch::Tensor& state);
  const ItemScorerOptions& options() const { return options_; }

 private:
  ItemScorerOptions options_;
  torch::nn::Linear linear_{nullptr};  // untied mode
  torch::Tensor tied_table_;           // tied mode: the encoder's embedding parameter
  torch::Tensor bias_;                 // tied mode with bias: [num_items]
};
TORCH_MODULE(ItemScorer);

}  // namespace recarena::models
