// Scaled dot-product attention with an explicit mask, shared by the Transformer encoders (SASRec's
// causal blocks, BERT4Rec's bidirectional ones). Written out (matmul + masks) rather than
// torch::nn::MultiheadAttention, whose mask conventions differ across LibTorch versions.
#pragma once

#include <torch/torch.h>

namespace recarena::models {

// q, k, v [B, H, T, dh]; allowed [B, 1, T, T] bool (query t may attend key s; every query must
// allow at least one key). Returns the context softmax(q k^T / sqrt(dh), masked) v with dropout on
// the attention weights, heads merged: [B, T, H * dh].
torch::Tensor MaskedAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& allowed,
                              torch::nn::Dropout& dropout);

// A LayerNorm over the last dim with the given epsilon (SASRec 1e-8, BERT4Rec 1e-12).
torch::nn::LayerNorm MakeLayerNorm(int64_t dim, double eps);

}  // namespace recarena::models
