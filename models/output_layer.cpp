#include "models/output_layer.h"

#include <string>

#include "core/error.h"

namespace recarena::models {

ItemScorerImpl::ItemScorerImpl(const ItemScorerOptions& options, torch::Tensor tied_table)
    : options_(options) {
  if (options_.dim < 1 || options_.num_items < 1) {
    throw Error(
        "ItemScorer: dim and num_items must be >= 1, got dim = " + std::to_string(options_.dim) +
        ", num_items = " + std::to_string(options_.num_items));
  }
  if (!options_.tied) {
    if (tied_table.defined()) throw Error("ItemScorer: a tied table was given but tied = false");
    linear_ = register_module(
        "linear",
        torch::nn::Linear(
            torch::nn::LinearOptions(options_.dim, options_.num_items).bias(options_.bias)));
    return;
  }
  if (!tied_table.defined() || tied_table.dim() != 2 ||
      tied_table.size(0) != options_.num_items + 1 || tied_table.size(1) != options_.dim) {
    throw Error("ItemScorer: tied = true needs the encoder's item embedding table of shape [" +
                std::to_string(options_.num_items + 1) + ", " + std::to_string(options_.dim) +
                "] (num_items + 1 rows, the last one padding)");
  }
  tied_table_ = tied_table;
  if (options_.bias) {
    bias_ = register_parameter("bias", torch::zeros({options_.num_items}, tied_table.options()));
  }
}

torch::Tensor ItemScorerImpl::forward(const torch::Tensor& state) {
  if (!options_.tied) return linear_->forward(state);
  torch::Tensor scores = torch::matmul(state, tied_table_.narrow(0, 0, options_.num_items).t());
  if (bias_.defined()) scores = scores + bias_;
  return scores;
}

}  // namespace recarena::models
