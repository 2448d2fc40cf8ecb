// HDT: the Hierarchical Decision Transformer (thesis Ch. 5) personalising a sequential
// recommender (GRU4Rec / Caser / NextItNet / SASRec via models::MakeEncoder) across sessions.
// See docs/hdt.md for the equations and every choice where the thesis is vague.
//
// Per session C_c of a user (one row of an HdtBatch):
//   g_c, R~_c     = InterDT(R_c, s_c)                      (Eqs. 5.3-5.4; s_1 = 0)
//   s_{c,t}       = W_x [G(x_{c,1..t}), g_c] + b_x          (Eqs. 5.5-5.6; the goal is fused with
//                   the encoder's output state, because a SequenceEncoder takes item ids)
//   s_{c+1}       = s_{c,len}, the state after the whole session (carried to the next batch by
//   slot) R~_{c,t}, s~_{c,t} = IntraDT(R~_c, R^n_{c,t}, s_{c,t}, a_{c,t})          (Eqs. 5.9-5.12)
//   R^_{c,t} = W_r R~_{c,t} + b_r;  action logits W_a s~_{c,t} + b_a          (Eqs. 5.13-5.14)
//   L_g: CE(W_u g_c + b_u, x_{c,1}); L_S: CE(W_s s_{c,t} + b_s, a_{c,t}); L_a: CE(action logits,
//   a_{c,t}); L_R: MSE(R^_{c,t}, R_{c,t})                                      (Eqs. 5.15-5.20)
//   L = L_S + alpha L_R + beta L_a + lambda L_g                                 (Eq. 5.21)
// Step terms are averaged over all real (row, step) pairs of the batch, L_g over rows. The
// activation delta of Eqs. 5.14/5.15/5.17 is the identity (logits go straight into the softmax).
//
// The agent owns its networks and its Adam optimizer. Parameters are initialised from LibTorch's
// global generator (the caller seeds it, see models/encoder.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agents/hdt_batches.h"
#include "agents/types.h"
#include "core/config_schema.h"
#include "dist/grad_sync.h"
#include "models/encoder.h"
#include "models/hierarchical_dt.h"

namespace recarena::agents {

// How Scores ranks items. The thesis (Sec. 5.3.5) only says "items are ranked by the scores from
// the sequential model and the InterDT"; read here as the sequential head on the goal-conditioned
// state s_{c,t} (g_c comes from InterDT). W_u's scores are not used for ranking: W_u is trained on
// the FIRST item of a session only (Eq. 5.16). IntraDT's action head (Eq. 5.14) is the DT reading.
enum class HdtScoring {
  kSequential,       // log_softmax(W_s s_{c,t} + b_s)
  kAction,           // log_softmax(W_a s~_{c,t} + b_a)
  kSequentialAction  // the sum of both (default: uses both target returns, R_c and R^n_{c,t})
};

// Config section `model` of an HDT run.
struct HdtAgentOptions {
  models::EncoderOptions encoder;  // encoder.num_items is filled from the data by the caller
  models::HdtOptions hdt;          // hdt.num_items is copied from encoder.num_items
  double alpha = 0.5;              // weight of L_R (thesis, Album: 0.5)
  double beta = 0.1;               // weight of L_a (Album: 0.1)
  double lambda = 0.2;             // weight of L_g (Album: 0.2)
  double lr = 1e-3;
  double weight_decay = 0.0;
  double grad_clip = 0.0;  // max global L2 norm of gradients; 0 = off
  HdtScoring scoring = HdtScoring::kSequentialAction;

  template <class V>
  void Visit(V& v) {
    v("encoder", encoder);
    v("hdt", hdt);
    v("alpha", alpha);
    v("beta", beta);
    v("lambda", lambda);
    v("lr", lr);
    v("weight_decay", weight_decay);
    v("grad_clip", grad_clip);
    v("scoring", scoring);
  }
  // Throws ConfigError("model.<key>", ...); also requires model.hdt.dim == model.encoder.hidden
  // and model.hdt.max_steps >= model.encoder.state_len - 1.
  void Validate() const;
};

class HdtAgent {
 public:
  // Validates options (ConfigError) and encoder.num_items >= 1 (recarena::Error).
  HdtAgent(const HdtAgentOptions& options, torch::Device device);
  HdtAgent(const HdtAgent&) = delete;
  HdtAgent& operator=(const HdtAgent&) = delete;

  // One Adam step on Eq. 5.21 for one user-parallel mini-batch (CPU or device tensors; session
  // lengths <= encoder.state_len). s_c is 0 for rows with new_user, else the state carried from
  // the previous batch of the same slot (0 if the slot was never seen); afterwards each row's
  // s_{c+1} (detached: truncated back-propagation between sessions) is stored for its slot.
  // Returns, in order: loss, l_s, l_r, l_a, l_g, grad_norm (pre-clip).
  MetricList Update(const HdtBatch& batch);

  // [Q, num_items] float log-scores (see HdtScoring) for each query's next item, eval mode, no
  // grad; the queries' histories are run through InterDT / the encoder session by session from
  // s_1 = 0 (as in training). Sessions longer than the encoder's state_len keep their last items;
  // the current session keeps its last min(state_len, hdt.max_steps) items (and returns).
  torch::Tensor Scores(const std::vector<HdtQuery>& queries);

  // Forgets the states carried between batches (e.g. at the start of an epoch).
  void ResetCarriedStates();

  // Data parallelism over the batches' slots (docs/distributed.md; sync not owned, nullptr = one
  // process). Rank r of W takes the rows of every batch whose slot lies in [S r / W, S (r + 1) / W)
  // (S = num_slots, the batches' user-parallel width), so each user's sessions stay on one rank.
  // Its loss terms are weighted by its share of the batch's real steps (L_S, L_R, L_a) and of its
  // rows (L_g), the gradients summed over the ranks: the single-process gradient up to summation
  // order. The carried states of every slot are summed over the ranks after each update (each
  // slot's from its owner), so every rank, and every checkpoint, holds all of them. Every rank
  // must call Update on the same batches; the reported losses are the whole batch's.
  void SetGradientSync(dist::GradientSync* sync, int64_t num_slots);

  // Networks, optimizer, step and carried states.
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);

  int64_t step() const { return step_; }
  torch::Device device() const { return device_; }
  const HdtAgentOptions& options() const { return options_; }
  std::vector<torch::Tensor> parameters() const;

 private:
  struct SessionPass {
    torch::Tensor goal_state;   // [B, d] g_c
    torch::Tensor goal_return;  // [B, d] R~_c
    torch::Tensor states;       // [B, L, d] s_{c,t} (goal-fused), 0 at padding
    torch::Tensor last_state;   // [B, d] s_{c,len} (the next session's s_{c+1})
  };
  // inter_returns [B] float, prev_states [B, d], items [B, L] int64, lengths [B] int64 >= 1.
  SessionPass RunSession(const torch::Tensor& inter_returns, const torch::Tensor& prev_states,
                         const torch::Tensor& items, const torch::Tensor& lengths);
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> Modules() const;
  void SetTrain(bool on);

  HdtAgentOptions options_;
  torch::Device device_;
  std::shared_ptr<models::SequenceEncoderImpl> encoder_;
  models::InterDt inter_{nullptr};
  models::IntraDt intra_{nullptr};
  torch::nn::Linear goal_fusion_{nullptr};  // W_x: [2d] -> d (Eq. 5.5)
  torch::nn::Linear goal_head_{nullptr};    // W_u: d -> N (Eq. 5.15)
  torch::nn::Linear seq_head_{nullptr};     // W_s: d -> N (Eq. 5.17)
  torch::nn::Linear return_head_{nullptr};  // W_r: d -> 1 (Eq. 5.13)
  torch::nn::Linear action_head_{nullptr};  // W_a: d -> N (Eq. 5.14)
  std::unique_ptr<torch::optim::Adam> optimizer_;
  torch::Tensor carried_;  // [num_slots, d] float on device_: s_{c+1} per slot (detached)
  dist::GradientSync* sync_ = nullptr;
  int64_t num_slots_ = 0;  // sharded: the batches' width S
  int64_t step_ = 0;
};

}  // namespace recarena::agents

namespace recarena::config {
template <>
struct EnumNames<recarena::agents::HdtScoring> {
  static const std::vector<std::pair<recarena::agents::HdtScoring, std::string>>& Table() {
    using recarena::agents::HdtScoring;
    static const std::vector<std::pair<HdtScoring, std::string>> t = {
        {HdtScoring::kSequential, "sequential"},
        {HdtScoring::kAction, "action"},
        {HdtScoring::kSequentialAction, "sequential_action"}};
    return t;
  }
};
}  // namespace recarena::config
