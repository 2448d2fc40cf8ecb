#include "models/attention.h"

#include <cmath>
#include <limits>

namespace recarena::models {

namespace {

// Below this many keys LibTorch's CPU softmax over the last dim is slow: measured (one thread,
// torch 2.11, bench/attention_softmax.py) 144-255 ns per row of 8-15 against 21 ns per row of 16
// and 30 per row of 32.
constexpr int64_t kShortKeys = 16;

// softmax over the keys, the last dim of scores [..., S]: for S < kShortKeys the keys are moved to
// the front (one copy) and normalised along dim 0; the result is a permuted view.
torch::Tensor SoftmaxOverShortKeys(const torch::Tensor& scores) {
  if (scores.size(-1) >= kShortKeys) return torch::softmax(scores, -1);
  return torch::softmax(scores.movedim(-1, 0).contiguous(), 0).movedim(0, -1);
}

}  // namespace

torch::Tensor MaskedAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& allowed,
                              torch::nn::Dropout& dropout, AttentionLayout layout) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), dh = q.size(3);
  const double scale = std::sqrt(static_cast<double>(dh));
  const double blocked = -std::numeric_limits<float>::infinity();
  const bool short_window = layout == AttentionLayout::kShortWindow && q.is_cpu();
  torch::Tensor context;  // [B, H, T, dh]
  if (short_window && T == 1) {
    torch::Tensor scores = (k * q).sum(-1) / scale;  // [B, H, S]
    scores = scores.masked_fill(allowed.select(2, 0).logical_not(), blocked);
    const torch::Tensor attn = dropout->forward(SoftmaxOverShortKeys(scores));
    context = (attn.unsqueeze(-1) * v).sum(2, /*keepdim=*/true);
  } else {
    torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / scale;  // [B, H, T, S]
    scores = scores.masked_fill(allowed.logical_not(), blocked);
    const torch::Tensor attn =
        short_window ? SoftmaxOverShortKeys(scores) : torch::softmax(scores, -1);
    context = torch::matmul(dropout->forward(attn), v);
  }
  return context.transpose(1, 2).reshape({B, T, H * dh});
}

torch::nn::LayerNorm MakeLayerNorm(int64_t dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

}  // namespace recarena::models
