#include "models/hierarchical_dt.h"

#include <string>

#include "core/error.h"
#include "models/encoder.h"

namespace recarena::models {

namespace {

torch::nn::LayerNorm MakeNorm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-8));
}

void Require(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}

}  // namespace

void HdtOptions::Validate() const {
  auto fail = [](const std::string& key, const std::string& what) {
    throw ConfigError("model.hdt." + key, "model.hdt." + key + " " + what);
  };
  if (dim < 1) fail("dim", "must be >= 1, got " + std::to_string(dim));
  if (num_heads < 1 || dim % num_heads != 0) {
    fail("num_heads", "must be >= 1 and divide model.hdt.dim, got " + std::to_string(num_heads));
  }
  if (inter_blocks < 1) fail("inter_blocks", "must be >= 1, got " + std::to_string(inter_blocks));
  if (intra_blocks < 1) fail("intra_blocks", "must be >= 1, got " + std::to_string(intra_blocks));
  if (max_steps < 1) fail("max_steps", "must be >= 1, got " + std::to_string(max_steps));
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    fail("dropout", "must lie in [0, 1), got " + std::to_string(dropout));
  }
}

// --- InterDT --------------------------------------------------------------------------------

InterDtImpl::InterDtImpl(const HdtOptions& options) : options_(options) {
  options_.Validate();
  return_embedding_ = register_module("return_embedding", torch::nn::Linear(1, options_.dim));
  token_type_ = register_module("token_type", torch::nn::Embedding(2, options_.dim));
  for (int64_t i = 0; i < options_.inter_blocks; ++i) {
    blocks_.push_back(
        register_module("block" + std::to_string(i),
                        SasRecBlock(options_.dim, options_.num_heads, options_.dropout)));
  }
  final_norm_ = register_module("final_norm", MakeNorm(options_.dim));
}

InterDtOutput InterDtImpl::forward(const torch::Tensor& returns, const torch::Tensor& states) {
  Require(returns.dim() == 2 && returns.size(1) >= 1, "InterDT: returns must be [B, C], C >= 1");
  const int64_t B = returns.size(0), C = returns.size(1), d = options_.dim;
  Require(states.dim() == 3 && states.size(0) == B && states.size(1) == C && states.size(2) == d,
          "InterDT: states must be [B, C, dim]");
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(returns.device());
  const torch::Tensor r_tok = return_embedding_->forward(returns.to(torch::kFloat).unsqueeze(-1)) +
                              token_type_->forward(torch::zeros({1}, long_opts));
  const torch::Tensor s_tok = states + token_type_->forward(torch::ones({1}, long_opts));
  // [B, C, 2, d] -> [B, 2C, d]: R_1, s_1, R_2, s_2, ...
  torch::Tensor x = torch::stack({r_tok, s_tok}, 2).reshape({B, 2 * C, d});
  const torch::Tensor session = torch::arange(2 * C, long_opts).div(2, "floor");
  const torch::Tensor allowed = (session.unsqueeze(1) >= session.unsqueeze(0))
                                    .view({1, 1, 2 * C, 2 * C})
                                    .expand({B, 1, 2 * C, 2 * C});
  const torch::Tensor mask = torch::ones({B, 2 * C, 1}, x.options());
  for (auto& block : blocks_) x = block->forward(x, allowed, mask);
  x = final_norm_->forward(x).view({B, C, 2, d});
  return {x.select(2, 0), x.select(2, 1)};
}

// --- IntraDT --------------------------------------------------------------------------------

IntraDtImpl::IntraDtImpl(const HdtOptions& options) : options_(options) {
  options_.Validate();
  Require(options_.num_items >= 1, "IntraDT: num_items must be >= 1");
  novelty_embedding_ = register_module("novelty_embedding", torch::nn::Linear(1, options_.dim));
  action_embedding_ = register_module(
      "action_embedding",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(options_.num_items + 1, options_.dim)
                               .padding_idx(options_.num_items)));
  timestep_embedding_ =
      register_module("timestep_embedding", torch::nn::Embedding(options_.max_steps, options_.dim));
  token_type_ = register_module("token_type", torch::nn::Embedding(4, options_.dim));
  input_dropout_ = register_module("input_dropout", torch::nn::Dropout(options_.dropout));
  for (int64_t i = 0; i < options_.intra_blocks; ++i) {
    blocks_.push_back(
        register_module("block" + std::to_string(i),
                        SasRecBlock(options_.dim, options_.num_heads, options_.dropout)));
  }
  final_norm_ = register_module("final_norm", MakeNorm(options_.dim));
}

IntraDtOutput IntraDtImpl::forward(const torch::Tensor& goal_return,
                                   const torch::Tensor& novelty_returns,
                                   const torch::Tensor& states, const torch::Tensor& actions,
                                   const torch::Tensor& steps) {
  const int64_t d = options_.dim;
  Require(states.dim() == 3 && states.size(2) == d, "IntraDT: states must be [B, T, dim]");
  const int64_t B = states.size(0), T = states.size(1);
  Require(T >= 1 && T <= options_.max_steps,
          "IntraDT: T = " + std::to_string(T) + " outside [1, max_steps]");
  Require(goal_return.sizes() == torch::IntArrayRef({B, d}), "IntraDT: goal_return must be [B, d]");
  Require(novelty_returns.sizes() == torch::IntArrayRef({B, T}),
          "IntraDT: novelty_returns must be [B, T]");
  Require(actions.sizes() == torch::IntArrayRef({B, T}) && actions.scalar_type() == torch::kLong,
          "IntraDT: actions must be [B, T] int64");
  Require(steps.sizes() == torch::IntArrayRef({B}) && steps.scalar_type() == torch::kLong,
          "IntraDT: steps must be [B] int64");
  Require(B == 0 || (steps.min().item<int64_t>() >= 1 && steps.max().item<int64_t>() <= T),
          "IntraDT: steps must lie in [1, T]");
  Require(B == 0 || (actions.min().item<int64_t>() >= 0 &&
                     actions.max().item<int64_t>() <= options_.num_items),
          "IntraDT: actions must lie in [0, num_items]");

  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(states.device());
  const torch::Tensor time = timestep_embedding_->forward(torch::arange(T, long_opts));  // [T, d]
  const torch::Tensor type = token_type_->forward(torch::arange(4, long_opts));          // [4, d]
  const torch::Tensor tokens =
      torch::stack({goal_return.unsqueeze(1).expand({B, T, d}),
                    novelty_embedding_->forward(novelty_returns.to(torch::kFloat).unsqueeze(-1)),
                    states, action_embedding_->forward(actions)},
                   2);  // [B, T, 4, d]
  torch::Tensor x =
      (tokens + time.view({1, T, 1, d}) + type.view({1, 1, 4, d})).reshape({B, 4 * T, d});

  const torch::Tensor valid_step = LengthMask(steps, T);  // [B, T] bool
  const torch::Tensor valid = valid_step.unsqueeze(2).expand({B, T, 4}).reshape({B, 4 * T});
  const torch::Tensor mask = valid.unsqueeze(-1).to(torch::kFloat);  // [B, 4T, 1]
  const torch::Tensor pos = torch::arange(4 * T, long_opts);
  const torch::Tensor causal = pos.unsqueeze(1) >= pos.unsqueeze(0);  // [query, key]
  const torch::Tensor allowed = (causal.unsqueeze(0) & valid.unsqueeze(1)).unsqueeze(1);

  x = input_dropout_->forward(x) * mask;
  for (auto& block : blocks_) x = block->forward(x, allowed, mask);
  x = (final_norm_->forward(x) * mask).view({B, T, 4, d});
  return {x.select(2, 0), x.select(2, 2)};
}

}  // namespace recarena::models
