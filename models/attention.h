// Scaled dot-product attention with an explicit mask, shared by the Transformer encoders (SASRec's
// causal blocks, BERT4Rec's bidirectional ones). Written out (matmul + masks) rather than
// torch::nn::MultiheadAttention, whose mask conventions differ across LibTorch versions.
#pragma once

#include <torch/torch.h>

namespace recarena::models {

// How MaskedAttention lays out its work; both give the same values to rounding.
enum class AttentionLayout {
  // The textbook computation: matmul, softmax over the last dim, matmul. Training and every
  // model's forward use it, so fitted models and learning curves stay bit for bit what they were.
  kTextbook,
  // For the simulator's incremental step (SasRec ForwardCaching / Append, inference over short
  // windows), on the CPU: one query per row is a multiply-and-sum instead of B * H matrix products
  // of 1 x dh x S, and below 16 keys the softmax runs along a leading keys dim, where LibTorch's
  // kernel vectorises across rows instead of taking its slow path for short last dims
  // (bench/attention_softmax.py; docs/benchmarks.md, "The attention's softmax"). On CUDA, where it
  // was not measured, it is kTextbook.
  kShortWindow,
};

// q [B, H, T, dh], k, v [B, H, S, dh]; allowed [B, 1, T, S] bool (query t may attend key s; every
// query must allow at least one key). Returns the context softmax(q k^T / sqrt(dh), masked) v with
// dropout on the attention weights, heads merged: [B, T, H * dh].
torch::Tensor MaskedAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& allowed,
                              torch::nn::Dropout& dropout,
                              AttentionLayout layout = AttentionLayout::kTextbook);

// A LayerNorm over the last dim with the given epsilon (SASRec 1e-8, BERT4Rec 1e-12).
torch::nn::LayerNorm MakeLayerNorm(int64_t dim, double eps);

}  // namespace recarena::models
