#include "models/sasrec.h"

#include <string>

#include "models/attention.h"

namespace recarena::models {

namespace {
constexpr double kLayerNormEps = 1e-8;
}  // namespace

SasRecBlockImpl::SasRecBlockImpl(int64_t dim, int64_t num_heads, double dropout)
    : dim_(dim), num_heads_(num_heads) {
  attn_norm_ = register_module("attn_norm", MakeLayerNorm(dim, kLayerNormEps));
  query_ = register_module("query", torch::nn::Linear(dim, dim));
  key_ = register_module("key", torch::nn::Linear(dim, dim));
  value_ = register_module("value", torch::nn::Linear(dim, dim));
  out_ = register_module("out", torch::nn::Linear(dim, dim));
  ffn_norm_ = register_module("ffn_norm", MakeLayerNorm(dim, kLayerNormEps));
  ffn1_ = register_module("ffn1", torch::nn::Linear(dim, dim));
  ffn2_ = register_module("ffn2", torch::nn::Linear(dim, dim));
  attn_dropout_ = register_module("attn_dropout", torch::nn::Dropout(dropout));
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
}

torch::Tensor SasRecBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& allowed,
                                       const torch::Tensor& mask) {
  const int64_t B = x.size(0), L = x.size(1), H = num_heads_, dh = dim_ / num_heads_;
  const torch::Tensor q_in = attn_norm_->forward(x);
  auto heads = [&](const torch::Tensor& t) {  // [B, L, D] -> [B, H, L, dh]
    return t.view({B, L, H, dh}).transpose(1, 2);
  };
  const torch::Tensor q = heads(query_->forward(q_in));
  const torch::Tensor k = heads(key_->forward(x));
  const torch::Tensor v = heads(value_->forward(x));
  // Every query row keeps key 0 (lengths >= 1 and 0 <= t), so no row is all -inf.
  const torch::Tensor context = MaskedAttention(q, k, v, allowed, attn_dropout_);
  torch::Tensor h = q_in + dropout_->forward(out_->forward(context));
  h = ffn_norm_->forward(h);
  h = h + dropout_->forward(ffn2_->forward(dropout_->forward(torch::relu(ffn1_->forward(h)))));
  return h * mask;
}

SasRecImpl::SasRecImpl(const EncoderOptions& options) : SequenceEncoderImpl(options) {
  position_embedding_ = register_module("position_embedding",
                                        torch::nn::Embedding(options_.state_len, options_.hidden));
  {
    torch::NoGradGuard no_grad;
    position_embedding_->weight.normal_(0.0, 0.01);
  }
  for (int64_t i = 0; i < options_.num_blocks; ++i) {
    blocks_.push_back(
        register_module("block" + std::to_string(i),
                        SasRecBlock(options_.hidden, options_.num_heads, options_.dropout)));
  }
  final_norm_ = register_module("final_norm", MakeLayerNorm(options_.hidden, kLayerNormEps));
}

EncoderOutput SasRecImpl::forward(const torch::Tensor& items, const torch::Tensor& lengths) {
  CheckInputs(items, lengths);
  const int64_t L = items.size(1);
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(items.device());
  const torch::Tensor positions = torch::arange(L, long_opts);
  const torch::Tensor valid = LengthMask(lengths, L);  // [B, L]
  const torch::Tensor mask = valid.unsqueeze(-1).to(torch::kFloat);
  // Not EmbedInputs: the positional embedding joins before the input dropout; padding is zeroed.
  torch::Tensor x = item_embedding_->forward(items) + position_embedding_->forward(positions);
  x = input_dropout_->forward(x) * mask;
  const torch::Tensor causal = positions.unsqueeze(1) >= positions.unsqueeze(0);  // [t, s]
  const torch::Tensor allowed = (causal.unsqueeze(0) & valid.unsqueeze(1)).unsqueeze(1);
  for (auto& block : blocks_) x = block->forward(x, allowed, mask);
  const torch::Tensor states = final_norm_->forward(x) * mask;
  return {GatherLast(states, lengths), states};
}

std::shared_ptr<SequenceEncoderImpl> MakeSasRec(const EncoderOptions& options) {
  return std::make_shared<SasRecImpl>(options);
}

}  // namespace recarena::models
