// SASRec state encoder (Kang & McAuley 2018): self-attention over the item sequence.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/encoder.h"

namespace recarena::models {

// One SASRec block, as in the reference code: q = LN(x); x = q + Dropout(Attn(q, x, x));
// h = LN(x); x = h + FFN(h) with FFN = Dropout(W2 ReLU(Dropout(W1 h))); x *= mask.
// Attention is written out (matmul + explicit masks) rather than torch::nn::MultiheadAttention,
// whose mask conventions differ across LibTorch versions.
class SasRecBlockImpl : public torch::nn::Module {
 public:
  SasRecBlockImpl(int64_t dim, int64_t num_heads, double dropout);
  // x [B, L, D]; allowed [B, 1, L, L] bool (query t may attend key s); mask [B, L, 1] float
  // (1 at real positions). Returns [B, L, D], zero where mask is 0.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed,
                        const torch::Tensor& mask);

 private:
  int64_t dim_;
  int64_t num_heads_;
  torch::nn::LayerNorm attn_norm_{nullptr}, ffn_norm_{nullptr};
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, out_{nullptr};
  torch::nn::Linear ffn1_{nullptr}, ffn2_{nullptr};
  torch::nn::Dropout attn_dropout_{nullptr}, dropout_{nullptr};
};
TORCH_MODULE(SasRecBlock);

// Input = item embedding + learned positional embedding (positions 0..state_len-1 from the start
// of the sequence), dropout, padding zeroed; then options.num_blocks blocks with options.num_heads
// heads; a final layer norm. Query t attends to keys s <= t with s < lengths (causal + key padding
// mask); outputs at padding positions are zero. last = states at lengths - 1.
class SasRecImpl : public SequenceEncoderImpl {
 public:
  explicit SasRecImpl(const EncoderOptions& options);
  EncoderOutput forward(const torch::Tensor& items, const torch::Tensor& lengths) override;

 private:
  torch::nn::Embedding position_embedding_{nullptr};
  std::vector<SasRecBlock> blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
};

}  // namespace recarena::models
