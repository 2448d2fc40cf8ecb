#include "models/decision_transformer.h"

#include <string>

#include "core/error.h"

namespace recarena::models {

namespace {
torch::nn::LayerNorm MakeNorm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-8));
}
}  // namespace

DecisionTransformerImpl::DecisionTransformerImpl(const DecisionTransformerOptions& options)
    : options_(options) {
  if (options_.hidden < 1 || options_.num_heads < 1 || options_.num_blocks < 1 ||
      options_.max_len < 1 || options_.num_items < 1) {
    throw Error(
        "DecisionTransformer: hidden, num_heads, num_blocks, max_len, num_items must be >= 1");
  }
  if (options_.hidden % options_.num_heads != 0) {
    throw Error("DecisionTransformer: hidden (" + std::to_string(options_.hidden) +
                ") must be divisible by num_heads (" + std::to_string(options_.num_heads) + ")");
  }
  const int64_t D = options_.hidden;
  action_embedding_ =
      register_module("action_embedding",
                      torch::nn::Embedding(torch::nn::EmbeddingOptions(options_.num_items + 1, D)));
  position_embedding_ =
      register_module("position_embedding", torch::nn::Embedding(options_.max_len, D));
  return_embedding_ = register_parameter("return_embedding", torch::randn({3, D}) * 0.02);
  {
    torch::NoGradGuard ng;
    action_embedding_->weight.normal_(0.0, 0.02);
    position_embedding_->weight.normal_(0.0, 0.02);
  }
  input_norm_ = register_module("input_norm", MakeNorm(D));
  final_norm_ = register_module("final_norm", MakeNorm(D));
  input_dropout_ = register_module("input_dropout", torch::nn::Dropout(options_.dropout));
  for (int64_t i = 0; i < options_.num_blocks; ++i) {
    blocks_.push_back(register_module("block" + std::to_string(i),
                                      SasRecBlock(D, options_.num_heads, options_.dropout)));
  }
  return_head_ = register_module("return_head", torch::nn::Linear(D, 3));
}

int64_t DecisionTransformerImpl::StateSlot() const {
  return options_.token_order == TokenOrder::kModt4r ? 0 : 3;
}

int64_t DecisionTransformerImpl::ReturnSlot(int64_t objective) const {
  return options_.token_order == TokenOrder::kModt4r ? 1 + objective : objective;
}

DecisionTransformerOutput DecisionTransformerImpl::forward(const torch::Tensor& states,
                                                           const torch::Tensor& returns,
                                                           const torch::Tensor& actions,
                                                           const torch::Tensor& lengths) {
  const int64_t B = states.size(0), T = states.size(1), D = options_.hidden;
  constexpr int64_t K = DecisionTransformerOptions::kTokensPerStep;
  if (T > options_.max_len || states.size(2) != D || returns.size(0) != B || returns.size(1) != T ||
      returns.size(2) != 3 || actions.size(0) != B || actions.size(1) != T ||
      lengths.size(0) != B) {
    throw Error(
        "DecisionTransformer: inputs must be states [B, T, D], returns [B, T, 3], actions "
        "[B, T], lengths [B] with T <= max_len and D = hidden");
  }
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(states.device());
  const torch::Tensor steps = torch::arange(T, long_opts);
  const torch::Tensor pos = position_embedding_->forward(steps).unsqueeze(0);  // [1, T, D]
  const torch::Tensor valid = LengthMask(lengths, T);                          // [B, T]
  // Return tokens: R_{t,o} * E_o, [B, T, 3, D].
  const torch::Tensor ret_tok = returns.unsqueeze(-1) * return_embedding_.view({1, 1, 3, D});
  const torch::Tensor act_tok = action_embedding_->forward(actions);  // [B, T, D]
  std::vector<torch::Tensor> slots(K);
  slots[static_cast<size_t>(StateSlot())] = states;
  for (int64_t o = 0; o < 3; ++o) slots[static_cast<size_t>(ReturnSlot(o))] = ret_tok.select(2, o);
  slots[static_cast<size_t>(ActionSlot())] = act_tok;
  for (auto& s : slots) s = s + pos;
  const torch::Tensor tokens = torch::stack(slots, 2).reshape({B, T * K, D});  // [B, 5T, D]

  // Token j belongs to step j / 5; causal over tokens, keys of padded steps masked.
  const torch::Tensor tok_idx = torch::arange(T * K, long_opts);
  const torch::Tensor tok_valid = valid.repeat_interleave(K, 1);  // [B, 5T]
  const torch::Tensor causal = tok_idx.unsqueeze(1) >= tok_idx.unsqueeze(0);
  const torch::Tensor allowed = (causal.unsqueeze(0) & tok_valid.unsqueeze(1)).unsqueeze(1);
  const torch::Tensor mask = tok_valid.unsqueeze(-1).to(states.scalar_type());
  torch::Tensor x = input_dropout_->forward(input_norm_->forward(tokens)) * mask;
  for (auto& block : blocks_) x = block->forward(x, allowed, mask);
  const torch::Tensor out = (final_norm_->forward(x) * mask).view({B, T, K, D});

  DecisionTransformerOutput r;
  r.tokens = tokens;
  r.action_repr = out.select(2, ActionSlot() - 1);
  // Source token of each return prediction: the token just before it.
  std::vector<torch::Tensor> src(3);
  const torch::Tensor vmask = valid.to(states.scalar_type());
  std::vector<torch::Tensor> masks(3, vmask);
  for (int64_t o = 0; o < 3; ++o) {
    const int64_t slot = ReturnSlot(o);
    if (slot > 0) {
      src[static_cast<size_t>(o)] = out.select(2, slot - 1);
    } else {
      // kMrdt R_acc: the previous step's action token; step 1 has none (zero input, masked).
      const torch::Tensor prev = out.select(2, K - 1);
      src[static_cast<size_t>(o)] =
          torch::cat({torch::zeros({B, 1, D}, prev.options()), prev.slice(1, 0, T - 1)}, 1);
      masks[static_cast<size_t>(o)] = vmask * (steps > 0).to(states.scalar_type()).unsqueeze(0);
    }
  }
  const torch::Tensor w = return_head_->weight, b = return_head_->bias;  // [3, D], [3]
  std::vector<torch::Tensor> preds(3);
  for (int64_t o = 0; o < 3; ++o) {
    preds[static_cast<size_t>(o)] = torch::matmul(src[static_cast<size_t>(o)], w[o]) + b[o];
  }
  r.return_preds = torch::stack(preds, 2);
  r.return_mask = torch::stack(masks, 2);
  return r;
}

}  // namespace recarena::models
