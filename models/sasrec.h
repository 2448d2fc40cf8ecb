// SASRec state encoder (Kang & McAuley 2018): self-attention over the item sequence.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/attention.h"
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
  // (1 at real positions). Returns [B, L, D], zero where mask is 0. keys / values, when given,
  // receive the attention's keys and values [B, H, L, dh] (an incremental cache's contents).
  // layout: models/attention.h (the simulator's cache paths use kShortWindow).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed,
                        const torch::Tensor& mask, torch::Tensor* keys = nullptr,
                        torch::Tensor* values = nullptr,
                        AttentionLayout layout = AttentionLayout::kTextbook);
  // One new real position per row (incremental decoding). x [R, 1, D] is the new position's
  // input; keys / values [R, H, L, dh] hold the earlier positions' and receive the new one at
  // position pos [R] int64 (written in place; also returned in new_key / new_value [R, H, dh]);
  // allowed [R, 1, 1, L] = (s <= pos). Returns the new position's output [R, 1, D]: forward's row
  // pos for the sequence extended by it (causal attention never lets an earlier position see a
  // later one, so nothing else changes). Attention with AttentionLayout::kShortWindow.
  torch::Tensor Step(const torch::Tensor& x, torch::Tensor& keys, torch::Tensor& values,
                     const torch::Tensor& pos, const torch::Tensor& allowed, torch::Tensor& new_key,
                     torch::Tensor& new_value);

 private:
  // The attention's residual and the feed-forward part: [.., D] -> [.., D] (before the mask).
  torch::Tensor Feedforward(const torch::Tensor& q_in, const torch::Tensor& context);

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
//
// Incremental use (the simulator's step cache, env/response_cache.h): a SasRecCache holds every
// block's keys and values for B sequences. ForwardCaching is forward that also stores rows'
// keys/values; Append extends rows by one item each at position lengths (< L) and returns their
// new last state, computing one position instead of L. Both equal forward to rounding (GEMMs of
// other shapes, AttentionLayout::kShortWindow), as tests/models/sasrec_cache_test.cpp checks.
struct SasRecCache {
  // Per block [B, L, H, dh] float (position-major, so that one (row, position) is one index pair).
  std::vector<torch::Tensor> keys, values;
};

class SasRecImpl : public SequenceEncoderImpl {
 public:
  explicit SasRecImpl(const EncoderOptions& options);
  EncoderOutput forward(const torch::Tensor& items, const torch::Tensor& lengths) override;

  // An empty cache (zeros) for B sequences on the module's device.
  SasRecCache MakeCache(int64_t B) const;
  // forward(items, lengths).last [R, D] for the R sequences of items [R, L] / lengths [R], whose
  // keys/values are written into cache rows `rows` [R] int64.
  torch::Tensor ForwardCaching(const torch::Tensor& items, const torch::Tensor& lengths,
                               SasRecCache& cache, const torch::Tensor& rows);
  // Appends item [R] int64 at position pos [R] (0 <= pos < L, the rows' old lengths) to cache
  // rows `rows`, which must hold those sequences' first pos positions. Returns the last state
  // [R, D] of the extended sequences (= forward(...).last with lengths pos + 1).
  torch::Tensor Append(const torch::Tensor& item, const torch::Tensor& pos, SasRecCache& cache,
                       const torch::Tensor& rows);

 private:
  // forward, also writing rows' keys/values into cache when it is given.
  EncoderOutput Encode(const torch::Tensor& items, const torch::Tensor& lengths, SasRecCache* cache,
                       const torch::Tensor& rows);

  torch::nn::Embedding position_embedding_{nullptr};
  std::vector<SasRecBlock> blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
};

}  // namespace recarena::models
