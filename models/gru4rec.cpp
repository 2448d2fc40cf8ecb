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

std::shared_ptr<SequenceEncoderImpl> MakeGru4Rec(const EncoderOptions& options) {
  return std::make_shared<Gru4RecImpl>(options);
}

}  // namespace recarena::models
