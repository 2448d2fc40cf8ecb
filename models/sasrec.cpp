#include "models/sasrec.h"

#include <string>

#include "core/error.h"

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
                                       const torch::Tensor& mask, torch::Tensor* keys,
                                       torch::Tensor* values, AttentionLayout layout) {
  const int64_t B = x.size(0), L = x.size(1), H = num_heads_, dh = dim_ / num_heads_;
  const torch::Tensor q_in = attn_norm_->forward(x);
  auto heads = [&](const torch::Tensor& t) {  // [B, L, D] -> [B, H, L, dh]
    return t.view({B, L, H, dh}).transpose(1, 2);
  };
  const torch::Tensor q = heads(query_->forward(q_in));
  const torch::Tensor k = heads(key_->forward(x));
  const torch::Tensor v = heads(value_->forward(x));
  if (keys != nullptr) *keys = k;
  if (values != nullptr) *values = v;
  // Every query row keeps key 0 (lengths >= 1 and 0 <= t), so no row is all -inf.
  const torch::Tensor context = MaskedAttention(q, k, v, allowed, attn_dropout_, layout);
  return Feedforward(q_in, context) * mask;
}

torch::Tensor SasRecBlockImpl::Feedforward(const torch::Tensor& q_in,
                                           const torch::Tensor& context) {
  torch::Tensor h = q_in + dropout_->forward(out_->forward(context));
  h = ffn_norm_->forward(h);
  return h + dropout_->forward(ffn2_->forward(dropout_->forward(torch::relu(ffn1_->forward(h)))));
}

torch::Tensor SasRecBlockImpl::Step(const torch::Tensor& x, torch::Tensor& keys,
                                    torch::Tensor& values, const torch::Tensor& pos,
                                    const torch::Tensor& allowed, torch::Tensor& new_key,
                                    torch::Tensor& new_value) {
  const int64_t R = x.size(0), H = num_heads_, dh = dim_ / num_heads_;
  auto heads = [&](const torch::Tensor& t) {  // [R, 1, D] -> [R, H, 1, dh]
    return t.view({R, 1, H, dh}).transpose(1, 2);
  };
  const torch::Tensor q_in = attn_norm_->forward(x);
  const torch::Tensor q = heads(query_->forward(q_in));
  const auto at = pos.view({R, 1, 1, 1}).expand({R, H, 1, dh});
  const torch::Tensor k = heads(key_->forward(x)), v = heads(value_->forward(x));  // [R, H, 1, dh]
  keys.scatter_(2, at, k);
  values.scatter_(2, at, v);
  new_key = k.squeeze(2);
  new_value = v.squeeze(2);
  const torch::Tensor context =
      MaskedAttention(q, keys, values, allowed, attn_dropout_, AttentionLayout::kShortWindow);
  return Feedforward(q_in, context);  // a real position: forward's mask is 1
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
  return Encode(items, lengths, nullptr, torch::Tensor());
}

EncoderOutput SasRecImpl::Encode(const torch::Tensor& items, const torch::Tensor& lengths,
                                 SasRecCache* cache, const torch::Tensor& rows) {
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
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (cache == nullptr) {
      x = blocks_[i]->forward(x, allowed, mask);
      continue;
    }
    torch::Tensor k, v;
    x = blocks_[i]->forward(x, allowed, mask, &k, &v, AttentionLayout::kShortWindow);
    cache->keys[i].index_copy_(0, rows, k.transpose(1, 2));
    cache->values[i].index_copy_(0, rows, v.transpose(1, 2));
  }
  const torch::Tensor states = final_norm_->forward(x) * mask;
  return {GatherLast(states, lengths), states};
}

SasRecCache SasRecImpl::MakeCache(int64_t B) const {
  const int64_t H = options_.num_heads, dh = options_.hidden / options_.num_heads;
  const auto opts = item_embedding_->weight.options();
  SasRecCache c;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    c.keys.push_back(torch::zeros({B, options_.state_len, H, dh}, opts));
    c.values.push_back(torch::zeros({B, options_.state_len, H, dh}, opts));
  }
  return c;
}

torch::Tensor SasRecImpl::ForwardCaching(const torch::Tensor& items, const torch::Tensor& lengths,
                                         SasRecCache& cache, const torch::Tensor& rows) {
  if (items.dim() != 2 || items.size(1) != options_.state_len) {
    throw Error("SasRec::ForwardCaching: items must be [R, state_len = " +
                std::to_string(options_.state_len) + "], got " + c10::str(items.sizes()));
  }
  return Encode(items, lengths, &cache, rows).last;
}

torch::Tensor SasRecImpl::Append(const torch::Tensor& item, const torch::Tensor& pos,
                                 SasRecCache& cache, const torch::Tensor& rows) {
  const int64_t R = item.size(0), L = options_.state_len;
  // Only the new position's input: embedding + positional embedding (its mask is 1).
  torch::Tensor x = item_embedding_->forward(item) + position_embedding_->forward(pos);
  x = input_dropout_->forward(x).unsqueeze(1);  // [R, 1, D]
  const auto s = torch::arange(L, pos.options());
  const torch::Tensor allowed = (s.unsqueeze(0) <= pos.unsqueeze(1)).view({R, 1, 1, L});
  for (size_t i = 0; i < blocks_.size(); ++i) {
    // The rows' keys/values as [R, H, L, dh] (a gathered copy); only the new position goes back.
    torch::Tensor k = cache.keys[i].index_select(0, rows).transpose(1, 2);
    torch::Tensor v = cache.values[i].index_select(0, rows).transpose(1, 2);
    torch::Tensor new_k, new_v;
    x = blocks_[i]->Step(x, k, v, pos, allowed, new_k, new_v);
    cache.keys[i].index_put_({rows, pos}, new_k);
    cache.values[i].index_put_({rows, pos}, new_v);
  }
  return final_norm_->forward(x).squeeze(1);
}

std::shared_ptr<SequenceEncoderImpl> MakeSasRec(const EncoderOptions& options) {
  return std::make_shared<SasRecImpl>(options);
}

}  // namespace recarena::models
