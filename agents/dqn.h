// Deep Q-learning for next-item recommendation in a simulator (Mnih et al. 2015; double Q-learning,
// van Hasselt et al. 2016; n-step returns). See docs/agents.md, section "DQN".
//
// Network: the state encoder (options.encoder, num_items set from the catalog) maps the
// observation's history to h [B, D]; a Linear(D, num_items) head gives Q(s, .) [B, N]. The target
// network is a deep copy (CloneEncoder + a copy of the head), never trained directly.
//
// Per Observe (one VectorEnv step of B slots): the explorer's counts are updated with the actions,
// the transition goes through the n-step accumulator into the replay buffer, step() increases by
// one, and when at least dqn.learning_starts transitions have been stored and step() is a multiple
// of dqn.train_every, dqn.updates_per_step gradient steps follow, each on a batch of
// dqn.batch_size transitions sampled uniformly from the buffer with the agent's own Rng.
//
// One gradient step (Update):
//   y = R + discount * V(s'),   discount = gamma^k or 0 if the user left within the k steps,
//   V(s') = Q_target(s', argmax_{a allowed} Q_online(s', a))   (double_q)
//         = max_{a allowed} Q_target(s', a)                      (otherwise),
//   loss = mean over the batch of MSE(Q(s, a), y) or Huber (smooth L1, beta = 1);
//   Adam(lr) after clipping the global gradient L2 norm to grad_clip (0 = off).
// The target network is copied from the online one every target_every gradient steps (hard) or
// moved by Polyak averaging with tau after every gradient step.
//
// Modes and randomness: Q-values for acting and for targets are computed in eval() mode without
// gradient; the online network is in train() mode for the loss, so encoder dropout (drawn from
// LibTorch's global generator, not checkpointed) applies there only. Replay sampling uses the
// agent's own Rng, seeded at construction (see the constructor) and checkpointed.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "agents/online_agent.h"
#include "agents/online_config.h"
#include "agents/replay_buffer.h"
#include "core/rng.h"
#include "models/encoder.h"
#include "policies/exploration.h"

namespace recarena::agents {

class DqnAgent : public OnlineAgent {
 public:
  // Builds the online and target networks on device (parameters from LibTorch's global
  // generator). replay_seed seeds the replay-sampling Rng; when absent it is drawn from LibTorch's
  // global generator after the networks are built, so the runner's torch::manual_seed(run seed)
  // decides it. Throws recarena::Error / ConfigError for invalid sizes (num_items < 1, non-positive
  // counts in options.dqn, tau outside (0, 1], gamma outside [0, 1]).
  DqnAgent(const OnlineAgentOptions& options, const policies::ExplorationOptions& exploration,
           int64_t num_items, torch::Device device,
           std::optional<uint64_t> replay_seed = std::nullopt);
  DqnAgent(const DqnAgent&) = delete;
  DqnAgent& operator=(const DqnAgent&) = delete;

  // explore = true: the Explorer over the Q-values at step(); false: greedy argmax over allowed
  // items, ties to the smallest id (rng unused). Actions on the observation's device.
  policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                bool explore, Rng& rng) override;
  // Q(s, .) [B, N] float on the agent's device (online network, eval mode, no grad).
  torch::Tensor Scores(const env::Observation& obs) override;
  // See the top of the file. Returns, when updates happened, their means of "loss", "q_mean"
  // (mean Q(s, a) of the batch), "target_mean" (mean y) and "grad_norm" (pre-clip), then
  // "grad_steps" (total) and, for epsilon-greedy exploration, "epsilon" at step(); else empty.
  MetricList Observe(const Transition& t) override;
  // Networks, target networks, optimizer, replay buffer, n-step windows, counters, explorer and
  // the replay Rng. Load expects an archive written by an agent with the same options.
  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  int64_t step() const override { return env_steps_; }
  std::string name() const override { return "dqn"; }
  // Sharded: rank r of W samples its shard [bs r / W, bs (r + 1) / W) of the global replay batch
  // of dqn.batch_size rows from its own replay buffer (its replay stream forked by rank) and
  // weights its gradients by that share; learning starts when the ranks' transitions add up to
  // dqn.learning_starts; each rank's replay keeps up to dqn.buffer_size of its own users'
  // transitions. Throws ConfigError when dqn.batch_size < W.
  bool SetGradientSync(dist::GradientSync* sync) override;

  // One gradient step on batch (+ the target update that is due); returns {"loss", "q_mean",
  // "target_mean", "grad_norm"} (grad_norm before clipping).
  MetricList Update(const ReplayBuffer::Batch& batch);
  struct Loss {
    torch::Tensor loss;  // scalar, differentiable in parameters() (online net in train mode)
    torch::Tensor q_sa;  // [S] Q(s, a) of the batch
    torch::Tensor y;     // [S] TD targets (no grad)
  };
  // The loss of one gradient step, without the step.
  Loss ComputeLoss(const ReplayBuffer::Batch& batch);
  // The TD targets y [S] float of a batch (no grad), as defined at the top of the file.
  torch::Tensor TdTargets(const ReplayBuffer::Batch& batch);
  // Q-values [B, N] of the target network (eval mode, no grad).
  torch::Tensor TargetScores(const env::Observation& obs);
  // Copies the online network into the target network.
  void SyncTarget();

  int64_t grad_steps() const { return grad_steps_; }
  const ReplayBuffer& buffer() const { return buffer_; }
  std::vector<torch::Tensor> parameters() const;         // online, trainable
  std::vector<torch::Tensor> target_parameters() const;  // target, frozen
  torch::nn::Linear& head() { return head_; }
  models::SequenceEncoderImpl& encoder() { return *encoder_; }
  torch::nn::Linear& target_head() { return target_head_; }
  torch::Device device() const { return device_; }

 private:
  dist::GradientSync* sync_ = nullptr;
  // Q-values [B, N] of (encoder, head) for obs moved to the agent's device, in the current mode.
  torch::Tensor Q(models::SequenceEncoderImpl& encoder, torch::nn::Linear& head,
                  const env::Observation& obs);
  // Q(s, a) [B] for one action per row (actions [B] int64): h . W[a] + b[a], the same values as
  // Q(...).gather(1, a) without the [B, N] product. The loss and the double-Q target need only
  // these entries, so an update costs one full-catalog product (the argmax) instead of three
  // forward and two backward ones; the head's gradient is still dense (zero rows for items not
  // in the batch), so Adam sees exactly the gradient of the full computation.
  torch::Tensor QAt(models::SequenceEncoderImpl& encoder, torch::nn::Linear& head,
                    const env::Observation& obs, const torch::Tensor& actions);
  void UpdateTarget();

  OnlineAgentOptions options_;
  int64_t num_items_;
  torch::Device device_;
  std::shared_ptr<models::SequenceEncoderImpl> encoder_, target_encoder_;
  torch::nn::Linear head_{nullptr}, target_head_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  policies::Explorer explorer_;
  ReplayBuffer buffer_;
  NStepAccumulator nstep_;
  Rng rng_;
  int64_t env_steps_ = 0;
  int64_t grad_steps_ = 0;
};

}  // namespace recarena::agents
