// MoTrans: the causally masked (GPT) transformer of MODT4R and its MRDT variant (thesis Sec. 4.4.4,
// Eqs. 4.7-4.11; MRDT in Sec. 4.5.1). Its blocks are SasRecBlock (models/sasrec.h).
//
// Per time step t five tokens are stacked (Eq. 4.8), in one of two orders:
//   kModt4r: (s_t, R_acc, R_nov, R_div, a_t)   kMrdt: (R_acc, R_nov, R_div, s_t, a_t)
// Return token = R_{t,o} * E_o (a learned vector per objective, Eq. 4.7); action token = a learned
// action embedding of a_t; every token of step t gets the learned positional embedding P_t.
//
// Reading rule (see docs/decision_transformer.md): every prediction is read from the output of the
// token immediately BEFORE the token it predicts, so a quantity never sees itself:
//   action a_t      <- token 3 of step t (R_div for kModt4r, s_t for kMrdt);
//   R_{t,acc}       <- s_t (kModt4r) / a_{t-1} (kMrdt; none for t = 1, masked out);
//   R_{t,nov}       <- R_acc token of step t;  R_{t,div} <- R_nov token of step t.
// Hence a_t and every token after it cannot change the step-t predictions (the causal mask).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "core/config_schema.h"
#include "models/sasrec.h"

namespace recarena::models {

enum class TokenOrder { kModt4r, kMrdt };

struct DecisionTransformerOptions {
  int64_t hidden = 64;  // D: must equal the state size of the encoder that produces the states
  int64_t num_heads = 1;
  int64_t num_blocks = 1;
  double dropout = 0.1;
  TokenOrder token_order = TokenOrder::kModt4r;
  int64_t max_len = 10;   // T_max: positional embeddings
  int64_t num_items = 0;  // action vocabulary; action id num_items = padding / unknown action
  static constexpr int64_t kTokensPerStep = 5;
  static constexpr int64_t kNumObjectives = 3;  // acc, nov, div (last dim of returns)
};

struct DecisionTransformerOutput {
  torch::Tensor action_repr;   // [B, T, D] float: output of the token preceding a_t
  torch::Tensor return_preds;  // [B, T, 3] float: R^_{t,o} (Eq. 4.11), o = acc, nov, div
  torch::Tensor return_mask;   // [B, T, 3] float: 1 where return_preds is defined and t real
  torch::Tensor tokens;        // [B, 5T, D] float: the stacked input tokens (Eqs. 4.7-4.8)
};

class DecisionTransformerImpl : public torch::nn::Module {
 public:
  // Throws recarena::Error on invalid options (hidden % num_heads, sizes < 1).
  explicit DecisionTransformerImpl(const DecisionTransformerOptions& options);

  // states [B, T, D] float (UserTrans output, any values at padding); returns [B, T, 3] float;
  // actions [B, T] int64 in [0, num_items] (num_items = unknown, e.g. the last step at inference);
  // lengths [B] int64 in [1, T]; T <= max_len. All on one device. Tokens of steps t >= lengths
  // are masked out as keys, and their outputs are zero.
  DecisionTransformerOutput forward(const torch::Tensor& states, const torch::Tensor& returns,
                                    const torch::Tensor& actions, const torch::Tensor& lengths);

  // Index of the token kind within a step for this order (0..4).
  int64_t StateSlot() const;
  int64_t ReturnSlot(int64_t objective) const;  // objective 0 = acc, 1 = nov, 2 = div
  static constexpr int64_t ActionSlot() { return 4; }

  const DecisionTransformerOptions& options() const { return options_; }

 private:
  DecisionTransformerOptions options_;
  torch::nn::Embedding action_embedding_{nullptr};    // [num_items + 1, D]
  torch::nn::Embedding position_embedding_{nullptr};  // [max_len, D]
  torch::Tensor return_embedding_;                    // [3, D]: E_acc, E_nov, E_div
  torch::nn::LayerNorm input_norm_{nullptr}, final_norm_{nullptr};
  torch::nn::Dropout input_dropout_{nullptr};
  std::vector<SasRecBlock> blocks_;
  torch::nn::Linear return_head_{nullptr};  // W_o, b_o of Eq. 4.11, one column per objective
};
TORCH_MODULE(DecisionTransformer);

}  // namespace recarena::models

namespace recarena::config {
template <>
struct EnumNames<recarena::models::TokenOrder> {
  static const std::vector<std::pair<recarena::models::TokenOrder, std::string>>& Table() {
    using recarena::models::TokenOrder;
    static const std::vector<std::pair<TokenOrder, std::string>> t = {
        {TokenOrder::kModt4r, "modt4r"}, {TokenOrder::kMrdt, "mrdt"}};
    return t;
  }
};
}  // namespace recarena::config
