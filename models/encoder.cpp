#include "models/encoder.h"

#include "core/error.h"

namespace recarena::models {

namespace {

[[noreturn]] void Bad(const std::string& field, const std::string& message) {
  const std::string path = "model.encoder." + field;
  throw ConfigError(path, path + " " + message);
}

void RequireAtLeast(const std::string& field, int64_t value, int64_t min) {
  if (value < min) {
    Bad(field, "must be >= " + std::to_string(min) + ", got " + std::to_string(value));
  }
}

}  // namespace

void EncoderOptions::Validate() const {
  RequireAtLeast("state_len", state_len, 1);
  RequireAtLeast("hidden", hidden, 1);
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    Bad("dropout", "must be in [0, 1), got " + std::to_string(dropout));
  }
  RequireAtLeast("num_heads", num_heads, 1);
  if (hidden % num_heads != 0) {
    Bad("num_heads", "must divide model.encoder.hidden (" + std::to_string(hidden) + "), got " +
                         std::to_string(num_heads));
  }
  RequireAtLeast("num_blocks", num_blocks, 1);
  RequireAtLeast("caser_h_filters", caser_h_filters, 1);
  if (caser_heights.empty()) Bad("caser_heights", "must list at least one height");
  // Heights must fit the window only for Caser (a short state_len is fine for other encoders).
  for (size_t i = 0; i < caser_heights.size(); ++i) {
    const int64_t h = caser_heights[i];
    if (h < 1 || (kind == EncoderKind::kCaser && h > state_len)) {
      Bad("caser_heights", "entries must be in [1, state_len = " + std::to_string(state_len) +
                               "], got " + std::to_string(h) + " at index " + std::to_string(i));
    }
  }
  RequireAtLeast("caser_v_filters", caser_v_filters, 0);
  if (nextitnet_dilations.empty()) Bad("nextitnet_dilations", "must list at least one dilation");
  for (size_t i = 0; i < nextitnet_dilations.size(); ++i) {
    if (nextitnet_dilations[i] < 1) {
      Bad("nextitnet_dilations", "entries must be >= 1, got " +
                                     std::to_string(nextitnet_dilations[i]) + " at index " +
                                     std::to_string(i));
    }
  }
  RequireAtLeast("nextitnet_kernel", nextitnet_kernel, 1);
  if (!(bert4rec_mask_prob >= 0.0 && bert4rec_mask_prob < 1.0)) {
    Bad("bert4rec_mask_prob", "must be in [0, 1), got " + std::to_string(bert4rec_mask_prob));
  }
}

SequenceEncoderImpl::SequenceEncoderImpl(const EncoderOptions& options) : options_(options) {
  options_.Validate();
  if (options_.num_items < 1) {
    throw Error("sequence encoder: num_items must be >= 1 (the catalog size), got " +
                std::to_string(options_.num_items));
  }
  item_embedding_ = register_module(
      "item_embedding",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(options_.num_items + 1, options_.hidden)
                               .padding_idx(options_.num_items)));
  {
    // N(0, 0.01) as in the SNQN/SA2C reference implementations of all four encoders; the padding
    // row stays zero (and padding_idx keeps its gradient zero).
    torch::NoGradGuard no_grad;
    item_embedding_->weight.normal_(0.0, 0.01);
    item_embedding_->weight[options_.num_items].zero_();
  }
  input_dropout_ = register_module("input_dropout", torch::nn::Dropout(options_.dropout));
}

void SequenceEncoderImpl::CheckInputs(const torch::Tensor& items,
                                      const torch::Tensor& lengths) const {
  auto fail = [](const std::string& msg) { throw Error("sequence encoder: " + msg); };
  if (!items.defined() || items.dim() != 2 || items.scalar_type() != torch::kLong) {
    fail("items must be a [B, L] int64 tensor");
  }
  if (!lengths.defined() || lengths.dim() != 1 || lengths.scalar_type() != torch::kLong ||
      lengths.size(0) != items.size(0)) {
    fail("lengths must be a [B] int64 tensor with B = items.size(0) = " +
         std::to_string(items.size(0)));
  }
  if (items.device() != lengths.device()) fail("items and lengths must be on the same device");
  const int64_t L = items.size(1);
  if (L < 1 || L > options_.state_len) {
    fail("items has " + std::to_string(L) + " positions; expected 1.." +
         std::to_string(options_.state_len) + " (state_len)");
  }
  if (items.size(0) == 0) return;
  // One host sync for all range checks.
  const torch::Tensor ranges =
      torch::stack({lengths.min(), lengths.max(), items.min(), items.max()}).cpu();
  const int64_t* r = ranges.data_ptr<int64_t>();
  if (r[0] < 1 || r[1] > L) {
    fail("lengths must lie in [1, " + std::to_string(L) + "], got values in [" +
         std::to_string(r[0]) + ", " + std::to_string(r[1]) + "]");
  }
  if (r[2] < 0 || r[3] > options_.num_items) {
    fail("item ids must lie in [0, num_items = " + std::to_string(options_.num_items) +
         "], got values in [" + std::to_string(r[2]) + ", " + std::to_string(r[3]) + "]");
  }
}

torch::Tensor SequenceEncoderImpl::EmbedInputs(const torch::Tensor& items,
                                               const torch::Tensor& lengths) {
  const torch::Tensor mask = LengthMask(lengths, items.size(1)).unsqueeze(-1);  // [B, L, 1]
  torch::Tensor x = item_embedding_->forward(items) * mask.to(torch::kFloat);
  return input_dropout_->forward(x);
}

std::shared_ptr<SequenceEncoderImpl> MakeEncoder(const EncoderOptions& options) {
  for (const auto& e : EncoderRegistry()) {
    if (e.kind == options.kind) return e.make(options);
  }
  throw Error("MakeEncoder: unknown encoder kind " +
              std::to_string(static_cast<int>(options.kind)));
}

std::shared_ptr<SequenceEncoderImpl> CloneEncoder(const SequenceEncoderImpl& encoder) {
  std::shared_ptr<SequenceEncoderImpl> copy = MakeEncoder(encoder.options());
  // Move first, then copy the values in place: Module::to lays a GRU's weights out in the one
  // contiguous chunk cuDNN wants, and copy_ keeps them there (set_data would not: cuDNN then warns
  // and compacts the weights on every forward).
  const auto params = encoder.parameters();
  if (!params.empty()) copy->to(params.front().device());
  CopyModuleState(encoder, *copy);
  return copy;
}

void CopyModuleState(const torch::nn::Module& src, torch::nn::Module& dst) {
  torch::NoGradGuard no_grad;
  const auto src_params = src.named_parameters(/*recurse=*/true);
  for (auto& p : dst.named_parameters(/*recurse=*/true)) p.value().copy_(src_params[p.key()]);
  const auto src_buffers = src.named_buffers(/*recurse=*/true);
  for (auto& b : dst.named_buffers(/*recurse=*/true)) b.value().copy_(src_buffers[b.key()]);
}

torch::Tensor LengthMask(const torch::Tensor& lengths, int64_t L) {
  const torch::Tensor positions =
      torch::arange(L, torch::TensorOptions().dtype(torch::kLong).device(lengths.device()));
  return positions.unsqueeze(0) < lengths.unsqueeze(1);
}

torch::Tensor GatherLast(const torch::Tensor& states, const torch::Tensor& lengths) {
  const int64_t D = states.size(2);
  const torch::Tensor index = (lengths - 1).view({-1, 1, 1}).expand({states.size(0), 1, D});
  return states.gather(1, index).squeeze(1);
}

}  // namespace recarena::models
