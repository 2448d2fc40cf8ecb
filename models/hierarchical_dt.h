// The two transformers of the Hierarchical Decision Transformer (HDT, thesis Ch. 5, Eqs. 5.3-5.14).
// Both reuse SasRecBlock (models/sasrec.h) as their attention block.
//
// InterDT (Eqs. 5.3-5.4) reads per-session token pairs (R_c, s_c) and returns, at the return
// position, the goal return R~_c and, at the state position, the goal state g_c. Tokens of session
// c attend to every token of sessions <= c (block-causal), so both outputs of session c see R_c and
// s_c (Eq. 5.4 is self-attention over the pair) and nothing of later sessions.
//
// IntraDT (Eqs. 5.9-5.12) reads, per step t of the current session, the 4 tokens
// (R~_c, R^n_{c,t}, s_{c,t}, a_{c,t}) laid out as position 4(t-1) + k, k = 0..3, and attends
// causally (key position <= query position, and only keys of real steps). The return hidden
// R~_{c,t} is the output at k = 0 and the state hidden s~_{c,t} the output at k = 2: neither sees
// a_{c,t} (k = 3) nor any later token. The heads (W_r, W_a) live with the agent (agents/hdt.h).
//
// All tensors float32 unless stated; every input on the module's device.
// Parameters come from LibTorch's global generator (seeded by the caller, see models/encoder.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/config_schema.h"
#include "models/sasrec.h"

namespace recarena::models {

// Config section `model.hdt` (shared by InterDT and IntraDT). num_items is not a config key: the
// agent copies it from the encoder options.
struct HdtOptions {
  int64_t num_items = 0;     // catalog size N; action padding id = N (embedding rows N + 1)
  int64_t dim = 64;          // token / hidden size d (must equal the encoder's hidden size)
  int64_t num_heads = 1;     // heads of every SasRecBlock; dim % num_heads == 0
  int64_t inter_blocks = 1;  // SasRecBlocks of InterDT (T_1: one self-attention layer)
  int64_t intra_blocks = 1;  // SasRecBlocks of IntraDT (T_2: the GPT)
  int64_t max_steps = 19;    // largest number of IntraDT steps T (timestep embedding rows)
  double dropout = 0.1;

  template <class V>
  void Visit(V& v) {
    v("dim", dim);
    v("num_heads", num_heads);
    v("inter_blocks", inter_blocks);
    v("intra_blocks", intra_blocks);
    v("max_steps", max_steps);
    v("dropout", dropout);
  }
  // Throws ConfigError("model.hdt.<key>", ...) (num_items is not checked here).
  void Validate() const;
};

struct InterDtOutput {
  torch::Tensor goal_return;  // [B, C, d]: R~_c, output at the return position of session c
  torch::Tensor goal_state;   // [B, C, d]: g_c, output at the state position of session c
};

class InterDtImpl : public torch::nn::Module {
 public:
  explicit InterDtImpl(const HdtOptions& options);
  // returns [B, C] float: R_c (embedded by a trainable Linear(1, d)); states [B, C, d] float: s_c
  // (s_1 = 0 by the caller). C >= 1; every session is real (no padding).
  InterDtOutput forward(const torch::Tensor& returns, const torch::Tensor& states);

 private:
  HdtOptions options_;
  torch::nn::Linear return_embedding_{nullptr};
  torch::nn::Embedding token_type_{nullptr};  // 0 = return token, 1 = state token
  std::vector<SasRecBlock> blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
};
TORCH_MODULE(InterDt);

struct IntraDtOutput {
  torch::Tensor return_hidden;  // [B, T, d]: R~_{c,t}, output at token k = 0 of step t
  torch::Tensor state_hidden;   // [B, T, d]: s~_{c,t}, output at token k = 2 of step t
  // Both are 0 at steps t >= steps[b].
};

class IntraDtImpl : public torch::nn::Module {
 public:
  explicit IntraDtImpl(const HdtOptions& options);
  // goal_return [B, d]: R~_c (the same token at every step); novelty_returns [B, T] float:
  // R^n_{c,t} (embedded by a trainable Linear(1, d)); states [B, T, d]: s_{c,t}; actions [B, T]
  // int64 in [0, N]: a_{c,t} (N = padding, e.g. for the unknown action of the step to predict);
  // steps [B] int64 in [1, T]: real steps per row (positions >= steps[b] are padding and never
  // attended to). T <= options.max_steps. A learned timestep embedding is added to the 4 tokens of
  // each step and a token-type embedding to each of the 4 kinds.
  IntraDtOutput forward(const torch::Tensor& goal_return, const torch::Tensor& novelty_returns,
                        const torch::Tensor& states, const torch::Tensor& actions,
                        const torch::Tensor& steps);

 private:
  HdtOptions options_;
  torch::nn::Linear novelty_embedding_{nullptr};
  torch::nn::Embedding action_embedding_{nullptr};
  torch::nn::Embedding timestep_embedding_{nullptr};
  torch::nn::Embedding token_type_{nullptr};  // 0 = R~_c, 1 = R^n, 2 = s, 3 = a
  torch::nn::Dropout input_dropout_{nullptr};
  std::vector<SasRecBlock> blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
};
TORCH_MODULE(IntraDt);

}  // namespace recarena::models
