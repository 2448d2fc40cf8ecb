#include "models/gru4rec.h"

#include <tuple>

namespace recarena::models {

Gru4RecImpl::Gru4RecImpl(const EncoderOptions& options) : SequenceEncoderImpl(options) {
  gru_ = register_module(
      "gru",
      torch::nn::GRU(
          torch::nn::GRUOptions(options_.hidden, options_.hidden).num_layers(1).batch_first(true)));
}

EncoderOutput Gru4RecImpl::forward(const torch::Tensor& items, const torch::Tensor& lengths) {
  CheckInputs(items, lengths);
  const torch::Tensor x = EmbedInputs(items, lengths);  // [B, L, D]
  // The GRU runs over the padding positions too; they come after the real items, so they cannot
  // reach any real position's output, and they are zeroed below.
  torch::Tensor states = std::get<0>(gru_->forward(x));  // [B, L, D]
  const torch::Tensor mask = LengthMask(lengths, items.size(1)).unsqueeze(-1);
  states = states * mask.to(states.scalar_type());
  return {GatherLast(states, lengths), states};
}

torch::Tensor Gru4RecImpl::Step(const torch::Tensor& item, const torch::Tensor& h) {
  // EmbedInputs for one real position (its mask is 1): embedding, then dropout.
  const torch::Tensor x = input_dropout_->forward(item_embedding_->forward(item)).unsqueeze(1);
  return std::get<0>(gru_->forward(x, h.unsqueeze(0))).squeeze(1);  // [R, 1, D] -> [R, D]
}

std::shared_ptr<SequenceEncoderImpl> MakeGru4Rec(const EncoderOptions& options) {
  return std::make_shared<Gru4RecImpl>(options);
}

}  // namespace recarena::models
