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
  // One more position: h [R, D] is forward(...).last of R sequences (the GRU's hidden state after
  // their last real item) and item [R] the item appended to each; returns forward(...).last of
  // the longer sequences [R, D], computing only the new position (the incremental simulator step,
  // env/response_cache.h). Equal to forward to rounding (other GEMM shapes).
  torch::Tensor Step(const torch::Tensor& item, const torch::Tensor& h);

 private:
  torch::nn::GRU gru_{nullptr};
};

}  // namespace recarena::models
