// Discrete-action offline RL baselines on the sequence-encoder backbone, the ones peer libraries
// ship (d3rlpy's DiscreteCQL / DiscreteBCQ): conservative Q-learning (Kumar et al., "Conservative
// Q-Learning for Offline Reinforcement Learning", NeurIPS 2020, CQL(H), Eq. 4) and discrete
// batch-constrained Q-learning (Fujimoto et al., "Benchmarking Batch Deep Reinforcement Learning
// Algorithms", 2019, Sec. 4). docs/offline_rl.md records the choices.
//
// One online network (encoder + Q head, the SupervisedAgent's encoder_ / head_, so Scores is Q) and
// a target copy refreshed every `target_update_every` steps. For a logged transition (s, a, r, s',
// done) with a* = argmax over the allowed a' of Q(s', a') (online network, eval mode):
//   y = r + gamma * (1 - done) * Q_tgt(s', a*),   L_td = 0.5 * (y - Q(s, a))^2
//   CQL  L = L_td + alpha * (logsumexp_a' Q(s, a') - Q(s, a))               (CQL(H), Eq. 4)
//   BCQ  L = L_td + bc_weight * (CE(G(s), a) + logit_penalty * mean G(s)^2)
// where BCQ's imitation head G shares the encoder (as Fujimoto et al.'s discrete BCQ does) and the
// allowed actions are those with G(a|s) / max_a' G(a'|s) >= threshold (every action for CQL).
// BCQ ranks the allowed actions by Q, then the others below them by G (BcqScores). The batch loss
// is the mean over rows.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "agents/sqn.h"
#include "agents/supervised.h"
#include "agents/types.h"

namespace recarena::agents {

enum class OfflineQVariant { kCql, kBcq };

// Config section `offline_q` (model_kind cql | bcq). Discount and rewards as in the SQN family (so
// the learners compare on one reward); alpha 1 is CQL's default for discrete control, threshold
// 0.3 and the 0.01 logit penalty are Fujimoto et al.'s discrete-BCQ defaults.
struct OfflineQOptions {
  double discount = 0.5;
  RewardOptions reward;
  int64_t target_update_every = 200;  // steps between hard copies of the online network
  double cql_alpha = 1.0;
  double bcq_threshold = 0.3;
  double bcq_bc_weight = 1.0;
  double bcq_logit_penalty = 0.01;

  template <class V>
  void Visit(V& v) {
    v("discount", discount);
    v("reward", reward);
    v("target_update_every", target_update_every);
    v("cql_alpha", cql_alpha);
    v("bcq_threshold", bcq_threshold);
    v("bcq_bc_weight", bcq_bc_weight);
    v("bcq_logit_penalty", bcq_logit_penalty);
  }
  // Throws ConfigError("offline_q.<key>", ...).
  void Validate() const;
};

// --- loss pieces (pure functions; golden-tested) ------------------------------------------------

// CQL(H)'s regulariser per row: logsumexp_a Q(s, a) - Q(s, actions) [B], q [B, N], actions [B].
torch::Tensor CqlPenalty(const torch::Tensor& q, const torch::Tensor& actions);

// BCQ's allowed actions [B, N] bool: G(a|s) / max_a' G(a'|s) >= threshold, computed from the
// imitation logits [B, N] as logit - max logit >= log(threshold) (the argmax is always allowed).
torch::Tensor BcqAllowed(const torch::Tensor& bc_logits, double threshold);

// A full ranking [B, N] for BCQ: allowed actions score Q(s, a); the others score below every
// allowed one of their row, ordered by G: min allowed Q - 2 + G(a|s) / max G, which lies in
// (min - 2, min - 2 + threshold), so the greedy action is the argmax over the allowed ones.
torch::Tensor BcqScores(const torch::Tensor& q, const torch::Tensor& bc_logits, double threshold);

// --- the agent ---------------------------------------------------------------------------------

// Update needs batch.values and batch.done (the offline trainer fills them). Parameters come from
// LibTorch's global generator (seeded by the runner); the updates draw no randomness.
class OfflineQAgent : public SupervisedAgent {
 public:
  OfflineQAgent(const SupervisedOptions& options, const OfflineQOptions& q, OfflineQVariant variant,
                torch::Device device);

  // One Adam step; returns loss, td, cql (CQL) or bc (BCQ), q_mean (mean Q(s, a)), grad_norm.
  MetricList Update(const SequenceBatch& batch) override;
  // CQL: Q(s, .); BCQ: BcqScores. [B, N], eval mode, no grad.
  torch::Tensor Scores(const torch::Tensor& items, const torch::Tensor& lengths) override;

  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  std::vector<torch::Tensor> parameters() const override;

  // Q(s, .) of the online network [B, N], eval mode, no grad (tests, OPE).
  torch::Tensor QValues(const torch::Tensor& items, const torch::Tensor& lengths);

 private:
  void SyncTarget();

  OfflineQOptions q_;
  OfflineQVariant variant_;
  torch::nn::Linear bc_{nullptr};  // BCQ's imitation head G (undefined for CQL)
  std::shared_ptr<models::SequenceEncoderImpl> target_encoder_;
  torch::nn::Linear target_head_{nullptr};
};

}  // namespace recarena::agents
