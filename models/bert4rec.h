// BERT4Rec (Sun et al., CIKM 2019): a bidirectional Transformer over the item sequence, trained
// with the masked-item (cloze) objective. The fifth state encoder (FINEST evaluates on it,
// docs/stability.md).
//
// How a bidirectional model meets the causal encoder contract (models/encoder.h). BERT4Rec
// recommends the next item by appending a [MASK] token after the sequence and reading the
// Transformer's output at that position. So here:
//   Last(items, lengths)     = the output at the [MASK] appended at position lengths[b], one pass
//                              over items[b, 0..lengths-1] + [MASK] (attention bidirectional among
//                              those lengths+1 positions): the next-item state.
//   forward(...).states[b,t] = the same next-item state for the prefix items[b, 0..t]: one pass per
//                              prefix ([MASK] at t + 1), batched as B*L rows; causal by
//                              construction, and forward(...).last = states at lengths - 1 exactly.
//                              It costs L passes, so consumers that need only the last state call
//                              Last (the supervised learners do).
//   Encode(tokens, lengths)  = the raw bidirectional outputs for token ids in [0, num_items + 1]
//                              (num_items = padding, num_items + 1 = [MASK]), for the cloze loss.
// The [MASK] embedding is a parameter of its own, so item_embeddings() keeps its [num_items + 1, D]
// shape. Positions are learned, counted from the start, state_len + 1 of them (a window of
// state_len items plus the [MASK]).
//
// Block (the paper's Transformer layer, post-LN): x = LN(x + Dropout(MHA(x))); x = LN(x +
// Dropout(W2 GELU(W1 x))), W1: D -> 4D. options.num_blocks blocks of options.num_heads heads (the
// paper uses 2 and 2; the shared defaults are 1 and 1, so configs set them).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/encoder.h"

namespace recarena::models {

class Bert4RecBlockImpl : public torch::nn::Module {
 public:
  Bert4RecBlockImpl(int64_t dim, int64_t num_heads, double dropout);
  // x [B, T, D]; allowed [B, 1, T, T] bool (query t may attend key s); mask [B, T, 1] float.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed,
                        const torch::Tensor& mask);

 private:
  int64_t dim_, num_heads_;
  torch::nn::Linear qkv_{nullptr}, out_{nullptr}, ffn1_{nullptr}, ffn2_{nullptr};
  torch::nn::LayerNorm attn_norm_{nullptr}, ffn_norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(Bert4RecBlock);

class Bert4RecImpl : public SequenceEncoderImpl {
 public:
  explicit Bert4RecImpl(const EncoderOptions& options);
  EncoderOutput forward(const torch::Tensor& items, const torch::Tensor& lengths) override;
  torch::Tensor Last(const torch::Tensor& items, const torch::Tensor& lengths) override;
  // tokens [B, T] int64 in [0, num_items + 1], T <= state_len + 1; lengths [B] in [1, T]: real
  // tokens (items or [MASK]) at positions < lengths. Returns [B, T, D], zero at padding positions.
  torch::Tensor Encode(const torch::Tensor& tokens, const torch::Tensor& lengths);
  int64_t mask_token() const { return options_.num_items + 1; }

 private:
  torch::Tensor mask_embedding_;  // [D]
  torch::nn::Embedding position_embedding_{nullptr};
  std::vector<Bert4RecBlock> blocks_;
};

}  // namespace recarena::models
