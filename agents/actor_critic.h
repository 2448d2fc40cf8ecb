// The network and the optimisation step shared by the policy-gradient agents (PgAgent, A2cAgent),
// and the masked-softmax helpers they use.
//
// Network: one sequence encoder (models/encoder.h) whose last state h [B, D] feeds
//   actor  Linear(D, N): policy logits over the catalog,
//   critic Linear(D, C): C = 1 for a state value V(s) (PG baseline, standard A2C) or C = N for
//                        Q(s, .) (thesis A2C); C = 0: no critic head.
// One Adam optimizer over all parameters (encoder included: the encoder is shared by actor and
// critic). Parameters come from LibTorch's global generator (seeded by the runner).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "dist/grad_sync.h"
#include "models/encoder.h"
#include "policies/exploration.h"

namespace recarena::agents {

// log pi(.|s) of the policy restricted to the allowed items: log_softmax of the logits with the
// masked entries set to -inf (so their probability is exactly 0). logits [B, N] float, mask [B, N]
// bool with at least one allowed item per row. Masked entries of the result are -inf.
torch::Tensor MaskedLogSoftmax(const torch::Tensor& logits, const torch::Tensor& mask);

// Entropy [B] of the masked policy, -sum_{a allowed} pi(a) log pi(a), from MaskedLogSoftmax's
// output. Differentiable without NaN gradients (masked entries contribute exactly 0).
torch::Tensor MaskedEntropy(const torch::Tensor& log_probs, const torch::Tensor& mask);

// The action selection of the policy agents (OnlineAgent::Act): explore = true samples through the
// explorer from the policy logits (categorical = sampling from the masked policy itself; any other
// configured strategy works on the logits as its scores); explore = false: the argmax of the policy
// over the allowed items, ties to the smallest id (greedy all true); rng is then not used.
policies::ActionSelection SelectFromPolicy(const torch::Tensor& logits, const torch::Tensor& mask,
                                           bool explore, policies::Explorer& explorer, int64_t step,
                                           Rng& rng);

class ActorCritic;

// The thesis A2C (Ch. 7) in two pieces, shared by the a2c agent's thesis variant, the A-iALP
// agents and iALP distillation (experiments/train/ialp_distill.h).
// TD target of Eq. 7.8: y = r + discount * max_{a' allowed at s'} Q(s', a') [B] float, with
// discount [B] float = gamma for a live or truncated row, 0 where the user left (no bootstrap;
// then max Q is never read, so an all-masked row is harmless). Q from net in eval mode, no grad.
torch::Tensor ThesisTdTarget(ActorCritic& net, const torch::Tensor& next_items,
                             const torch::Tensor& next_lengths, const torch::Tensor& next_mask,
                             const torch::Tensor& rewards, const torch::Tensor& discount);
struct ThesisA2cLosses {
  torch::Tensor actor;   // -mean log pi(a|s) * A,  A = (y - Q(s, a)).detach()   (7.6 x 7.9)
  torch::Tensor critic;  // mean (y - Q(s, a))^2                                  (7.8)
};
// q [B, N] the critic rows of the states (with grad), log_probs [B, N] the policy's log pi(.|s)
// (with grad; a mixture for A-iALP_ap, Eq. 7.15), actions [B] int64, targets [B] from
// ThesisTdTarget. The total loss is actor + value_coef * critic (Eq. 7.10 for value_coef 1).
ThesisA2cLosses ThesisA2cLoss(const torch::Tensor& q, const torch::Tensor& log_probs,
                              const torch::Tensor& actions, const torch::Tensor& targets);

class ActorCritic {
 public:
  // encoder.num_items is overwritten with num_items. lr > 0, grad_clip >= 0 (0 = no clipping),
  // critic_outputs >= 0; violations throw recarena::Error.
  ActorCritic(models::EncoderOptions encoder, int64_t num_items, int64_t critic_outputs, double lr,
              double grad_clip, torch::Device device);
  ActorCritic(const ActorCritic&) = delete;
  ActorCritic& operator=(const ActorCritic&) = delete;

  struct Output {
    torch::Tensor logits;  // [B, N] float
    torch::Tensor critic;  // [B, C] float (undefined when C = 0)
  };
  // items [B, L] int64, lengths [B] int64 (moved to the device). train = true: train() mode
  // (dropout active) and autograd as the caller's guards allow; false: eval() mode. The caller
  // opens a NoGradGuard when it needs no gradients.
  Output Forward(const torch::Tensor& items, const torch::Tensor& lengths, bool train);

  // zero_grad, loss.backward(), clipping of the global L2 norm of all gradients to grad_clip (when
  // > 0), one Adam step. Returns the global gradient norm before clipping as a 0-dim float64
  // tensor on the device (nothing waits for the device; agents read it with their metrics).
  // With a GradientSync set (dist/grad_sync.h; not owned), the gradients are averaged over the
  // data-parallel ranks with the sync's share before clipping.
  torch::Tensor Step(const torch::Tensor& loss);
  void SetGradientSync(dist::GradientSync* sync) { sync_ = sync; }
  dist::GradientSync* gradient_sync() const { return sync_; }

  std::vector<torch::Tensor> parameters() const;
  int64_t num_items() const { return num_items_; }
  torch::Device device() const { return device_; }

  // Networks and optimizer state under the keys "encoder", "actor", "critic", "optimizer".
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);
  // The networks alone (encoder, actor, critic) from an archive Save wrote; the optimizer keeps its
  // fresh state (a warm start that learns from a new reward). Throws recarena::Error naming a
  // missing section; a shape mismatch is LibTorch's error.
  void LoadNetworks(torch::serialize::InputArchive& archive);
  // Freezes (or unfreezes) every parameter: requires_grad false, so no loss reaches them.
  void SetFrozen(bool frozen);

 private:
  int64_t num_items_;
  double grad_clip_;
  torch::Device device_;
  std::shared_ptr<models::SequenceEncoderImpl> encoder_;
  torch::nn::Linear actor_{nullptr};
  torch::nn::Linear critic_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  dist::GradientSync* sync_ = nullptr;
};

}  // namespace recarena::agents
