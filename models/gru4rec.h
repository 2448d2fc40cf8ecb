// GRU4Rec state encoder (Hidasi et al. 2016): item embedding + one GRU layer of width D.
#pragma once

#include <torch/torch.h>

#include "models/encoder.h"

namespace recarena::models {

// states = the GRU's per-position outputs (causal by construction; zeroed at padding positions),
// last = the output at lengths - 1. Uses options.hidden, options.dropout (input embeddings).
class Gru4RecImpl : public SequenceEncoderImpl {
 public:
  explicit Gru4RecImpl(const EncoderOptions& options);
  EncoderOutput forward(const torch::Tensor& items, const torch::Tensor& lengths) override;

 private:
  torch::nn::GRU gru_{nullptr};
};

}  // namespace recarena::models
