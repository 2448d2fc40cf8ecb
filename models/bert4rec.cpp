#include "models/bert4rec.h"

#include <string>

#include "core/error.h"
#include "models/attention.h"

namespace recarena::models {

namespace {
constexpr double kLayerNormEps = 1e-12;
}  // namespace

Bert4RecBlockImpl::Bert4RecBlockImpl(int64_t dim, int64_t num_heads, double dropout)
    : dim_(dim), num_heads_(num_heads) {
  qkv_ = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
  out_ = register_module("out", torch::nn::Linear(dim, dim));
  attn_norm_ = register_module("attn_norm", MakeLayerNorm(dim, kLayerNormEps));
  ffn1_ = register_module("ffn1", torch::nn::Linear(dim, 4 * dim));
  ffn2_ = register_module("ffn2", torch::nn::Linear(4 * dim, dim));
  ffn_norm_ = register_module("ffn_norm", MakeLayerNorm(dim, kLayerNormEps));
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
}

torch::Tensor Bert4RecBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& allowed,
                                         const torch::Tensor& mask) {
  const int64_t B = x.size(0), T = x.size(1), H = num_heads_, dh = dim_ / num_heads_;
  const auto qkv = qkv_->forward(x).view({B, T, 3, H, dh}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv[0], k = qkv[1], v = qkv[2];  // [B, H, T, dh]
  // Every row keeps key 0 (lengths >= 1), so no row is all -inf.
  const torch::Tensor context = MaskedAttention(q, k, v, allowed, dropout_);
  torch::Tensor h = attn_norm_->forward(x + dropout_->forward(out_->forward(context)));
  const torch::Tensor ffn = ffn2_->forward(torch::gelu(ffn1_->forward(h)));
  h = ffn_norm_->forward(h + dropout_->forward(ffn));
  return h * mask;
}

Bert4RecImpl::Bert4RecImpl(const EncoderOptions& options) : SequenceEncoderImpl(options) {
  mask_embedding_ = register_parameter("mask_embedding", torch::empty({options_.hidden}));
  position_embedding_ = register_module(
      "position_embedding", torch::nn::Embedding(options_.state_len + 1, options_.hidden));
  {
    torch::NoGradGuard no_grad;
    mask_embedding_.normal_(0.0, 0.02);
    position_embedding_->weight.normal_(0.0, 0.02);
  }
  for (int64_t i = 0; i < options_.num_blocks; ++i) {
    blocks_.push_back(
        register_module("block" + std::to_string(i),
                        Bert4RecBlock(options_.hidden, options_.num_heads, options_.dropout)));
  }
}

torch::Tensor Bert4RecImpl::Encode(const torch::Tensor& tokens, const torch::Tensor& lengths) {
  const int64_t T = tokens.size(1);
  if (T > options_.state_len + 1) {
    throw Error("bert4rec: " + std::to_string(T) +
                " tokens exceed state_len + 1 = " + std::to_string(options_.state_len + 1));
  }
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(tokens.device());
  const torch::Tensor table =
      torch::cat({item_embedding_->weight, mask_embedding_.unsqueeze(0)}, 0);  // [N + 2, D]
  const torch::Tensor valid = LengthMask(lengths, T);                          // [B, T]
  const torch::Tensor mask = valid.unsqueeze(-1).to(torch::kFloat);
  torch::Tensor x =
      torch::embedding(table, tokens) + position_embedding_->forward(torch::arange(T, long_opts));
  x = input_dropout_->forward(x) * mask;
  // Bidirectional: every real position attends to every real position.
  const torch::Tensor allowed = valid.unsqueeze(1).expand({-1, T, -1}).unsqueeze(1);
  for (auto& block : blocks_) x = block->forward(x, allowed, mask);
  return x;
}

torch::Tensor Bert4RecImpl::Last(const torch::Tensor& items, const torch::Tensor& lengths) {
  CheckInputs(items, lengths);
  const int64_t B = items.size(0), L = items.size(1);
  // items + one padding column, [MASK] written at position lengths[b].
  torch::Tensor tokens =
      torch::cat({items, torch::full({B, 1}, options_.num_items, items.options())}, 1);
  tokens = tokens.masked_fill(LengthMask(lengths, L + 1).logical_not(), options_.num_items);
  tokens = tokens.scatter(1, lengths.unsqueeze(1), mask_token());
  const torch::Tensor out = Encode(tokens, lengths + 1);
  return out.gather(1, lengths.view({B, 1, 1}).expand({B, 1, options_.hidden})).squeeze(1);
}

EncoderOutput Bert4RecImpl::forward(const torch::Tensor& items, const torch::Tensor& lengths) {
  CheckInputs(items, lengths);
  const int64_t B = items.size(0), L = items.size(1);
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(items.device());
  // Row (b, t): items[b, 0..t], [MASK] at t + 1, padding after; its state is the output at t + 1.
  const torch::Tensor pos = torch::arange(L + 1, long_opts);            // [L + 1]
  const torch::Tensor t = torch::arange(L, long_opts).view({1, L, 1});  // prefix end
  torch::Tensor tokens = torch::cat(
      {items, torch::full({B, 1}, options_.num_items, items.options())}, 1);  // [B, L + 1]
  tokens = tokens.unsqueeze(1).expand({B, L, L + 1});
  tokens = torch::where(pos.view({1, 1, L + 1}) <= t, tokens,
                        torch::full_like(tokens, options_.num_items));
  tokens = torch::where(pos.view({1, 1, L + 1}) == t + 1, torch::full_like(tokens, mask_token()),
                        tokens);
  // Rows past the sequence's end are computed on a one-item prefix and zeroed below.
  const torch::Tensor real = LengthMask(lengths, L);  // [B, L]
  const torch::Tensor row_len = torch::where(real, t.view({1, L}) + 2, 2);
  const torch::Tensor out = Encode(tokens.reshape({B * L, L + 1}), row_len.reshape({B * L}));
  const torch::Tensor at = (t.view({1, L}) + 1).expand({B, L}).reshape({B * L, 1, 1});
  torch::Tensor states =
      out.gather(1, at.expand({B * L, 1, options_.hidden})).view({B, L, options_.hidden});
  states = states * real.unsqueeze(-1).to(torch::kFloat);
  return {GatherLast(states, lengths), states};
}

std::shared_ptr<SequenceEncoderImpl> MakeBert4Rec(const EncoderOptions& options) {
  return std::make_shared<Bert4RecImpl>(options);
}

}  // namespace recarena::models
