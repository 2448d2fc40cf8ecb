// Supervised Q-learning for sequential recommendation from logs (Xin et al.): SQN and SAC
// ("Self-Supervised Reinforcement Learning for Recommender Systems", SIGIR 2020) and SNQN and SA2C
// ("Supervised Advantage Actor-Critic for Recommender Systems", WSDM 2022), the base learners of
// the thesis's LE / LEA (Ch. 6, Eqs. 6.3-6.15). docs/offline_rl.md records the choices.
//
// Each of two networks n in {0, 1} is a sequence encoder (models/encoder.h) with a supervised head
// (logits over the catalog, trained with cross-entropy; ranking uses network 0's) and a Q head
// Q_n(s, .) [B, N]. Every step a coin flip makes one network the main (updated) network and the
// other the target (van Hasselt's double Q-learning alternated per batch, as the reference code
// does; no lagged or Polyak copy). With a* = argmax_a Q_main(s', a) the TD target of a logged
// transition (s, a, r, s', done) is
//   y = r + gamma * (1 - done) * Q_tgt(s', a*),     L_q = 0.5 * (y - Q_main(s, a))^2     (Eq. 6.3)
// and of a sampled negative action a- (reward 0, next state = s, never done)
//   y- = gamma * Q_tgt(s, argmax_a Q_main(s, a)),   L_q- = 0.5 * (y- - Q_main(s, a-))^2.
// Per row, with CE = -log softmax(logits)[a]:
//   SQN   L = CE + L_q
//   SAC   L = CE * sg(Q_main(s, a)) + L_q
//   SNQN  L = CE + L_q + sum_j L_q-_j                                                  (Eq. 6.5)
//   SA2C  L = w_q * (L_q + sum_j L_q-_j) + CE * w * A, with the advantage
//         A = clip(sg(Q(s, a) - (Q(s, a) + sum_j Q(s, a-_j)) / (1 + K)), adv_min, adv_max)
//         and the IPS weight w = clip(sg(pi(a|s)) / beta(a), ips_min, ips_max)^ips_smooth
//         (pi = softmax of the supervised logits, beta = item popularity; smooth 0 gives w = 1).
// SA2C trains sa2c_switch_step steps of SNQN first, then its own loss with a second Adam (lr2) per
// network.
// SMORL (Stamenkovic et al., WSDM 2022; the thesis's multi-objective baseline, Ch. 4) has three Q
// heads per network, Q_o for o in {accuracy, diversity, novelty}, and per-objective rewards of a
// logged transition computed from the supervised head's top-1 item p at s (as the public
// replications do): r_acc = the reward of the logged item, r_div = 1 - cos(v(last item of s), v(p))
// over item vectors v, r_nov = 1 if p is in the long tail (the bottom 90% of items by training
// popularity, the I_nov of MODT4R's novelty returns). With scalarisation weights w_o,
//   a* = argmax_a sum_o w_o Q_main,o(s', a),  y_o = r_o + gamma * (1 - done) * Q_tgt,o(s', a*),
//   SMORL L = CE + alpha * sum_o w_o * 0.5 * (y_o - Q_main,o(s, a))^2.
// The batch loss is the mean over rows. TD targets and selectors are computed in eval()
// mode without gradient; the main network's Q(s, .) and logits in train() mode.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "agents/modt4r.h"
#include "agents/supervised.h"
#include "agents/types.h"
#include "core/config_schema.h"
#include "core/rng.h"

namespace recarena::agents {

enum class SqnVariant { kSqn, kSac, kSnqn, kSa2c, kSmorl };

// How a logged interaction's value becomes the reward r of its transition.
//   constant: every interaction earns `click` (a click log: the reference code's r_click = 0.2)
//   threshold: value >= threshold earns `purchase`, below it `click` (ratings read as
//              "purchase" vs "click", or a purchase flag stored as the value)
//   value: scale * value (ratings, play counts)
enum class RewardKind { kConstant, kThreshold, kValue };

struct RewardOptions {
  RewardKind kind = RewardKind::kConstant;
  double click = 0.2;
  double purchase = 1.0;
  double threshold = 4.0;
  double scale = 1.0;

  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("click", click);
    v("purchase", purchase);
    v("threshold", threshold);
    v("scale", scale);
  }
  // rewards [B] float for values [B] float (same device).
  torch::Tensor Rewards(const torch::Tensor& values) const;
};

// SMORL's settings (`rl.smorl`). Defaults are the replications' (reference notes Sec. 2): equal
// weights, alpha 1.
struct SmorlOptions {
  double w_accuracy = 1.0, w_diversity = 1.0, w_novelty = 1.0;
  double alpha = 1.0;  // weight of the multi-objective Q loss next to CE
  // Item vectors of r_div: learned = network 0's item embeddings at the step (detached; the
  // replications use a separately pre-trained, frozen embedding), features = the catalog's
  // attribute vectors (genres, categories).
  ReturnSimilarity similarity = ReturnSimilarity::kLearned;

  template <class V>
  void Visit(V& v) {
    v("w_accuracy", w_accuracy);
    v("w_diversity", w_diversity);
    v("w_novelty", w_novelty);
    v("alpha", alpha);
    v("similarity", similarity);
  }
};

// Config section `rl` (model_kind sqn | sac | snqn | sa2c | smorl). Defaults are the reference
// code's
// (../shared/notes/offline_rl_reference.md Sec. 1.3): gamma 0.5, 10 negatives, SA2C after 15,000
// steps with lr2 0.001, advantage clipped to [0, 10], IPS off.
struct SqnOptions {
  double discount = 0.5;
  int64_t num_negatives = 10;  // SNQN / SA2C: uniform items other than the logged one
  RewardOptions reward;
  int64_t sa2c_switch_step = 15000;  // SA2C: SNQN steps before the actor-critic phase
  double lr2 = 0.001;                // SA2C: Adam learning rate of the actor-critic phase
  double q_weight = 1.0;             // SA2C: weight of the Q losses in its phase
  double advantage_min = 0.0, advantage_max = 10.0;
  double ips_smooth = 0.0;  // exponent of the clipped IPS weight; 0 = no IPS
  double ips_min = 0.1, ips_max = 10.0;
  SmorlOptions smorl;  // SMORL only

  template <class V>
  void Visit(V& v) {
    v("discount", discount);
    v("num_negatives", num_negatives);
    v("reward", reward);
    v("sa2c_switch_step", sa2c_switch_step);
    v("lr2", lr2);
    v("q_weight", q_weight);
    v("advantage_min", advantage_min);
    v("advantage_max", advantage_max);
    v("ips_smooth", ips_smooth);
    v("ips_min", ips_min);
    v("ips_max", ips_max);
    v("smorl", smorl);
  }
  // Throws ConfigError("rl.<key>", ...).
  void Validate() const;
};

// --- loss pieces (pure functions of tensors; golden-tested on hand-made batches) ---------------

// Double-Q TD loss: 0.5 * (y - q_sa)^2 with y[b] = rewards[b] + discounts[b] * target[b, argmax_a
// selector[b, a]] (y detached; ties in the argmax go to the smallest item id). rewards / discounts
// [B] float, selector and target [B, N] (no grad); q_sa [B] (with grad) gives [B], or q_sa [B, K]
// (K actions sharing one target per row, SNQN's negatives) gives [B, K].
torch::Tensor DoubleQLoss(const torch::Tensor& q_sa, const torch::Tensor& rewards,
                          const torch::Tensor& discounts, const torch::Tensor& selector,
                          const torch::Tensor& target);

// The next state of a window: items [B, L] right-padded with lengths [B], and the item appended
// (targets [B]); when a row is full its oldest item drops out. Returns {next_items, next_lengths}.
std::pair<torch::Tensor, torch::Tensor> AppendToWindow(const torch::Tensor& items,
                                                       const torch::Tensor& lengths,
                                                       const torch::Tensor& targets,
                                                       int64_t padding_id);

struct SqnLossInputs {
  torch::Tensor logits;         // [B, N] supervised head, with grad
  torch::Tensor q;              // [B, N] Q_main(s, .), with grad
  torch::Tensor actions;        // [B] int64 logged items
  torch::Tensor rewards;        // [B] float
  torch::Tensor not_done;       // [B] float, 1 - done
  torch::Tensor next_selector;  // [B, N] Q_main(s', .), no grad
  torch::Tensor next_target;    // [B, N] Q_tgt(s', .), no grad
  // SNQN / SA2C only:
  torch::Tensor negatives;     // [B, K] int64 sampled actions
  torch::Tensor cur_selector;  // [B, N] Q_main(s, .), eval mode, no grad
  torch::Tensor cur_target;    // [B, N] Q_tgt(s, .), no grad
  torch::Tensor behaviour;     // [N] float beta(a), SA2C with ips_smooth > 0 only
};

struct SqnLossTerms {
  torch::Tensor total;      // the batch loss (with autograd)
  torch::Tensor ce;         // mean CE
  torch::Tensor q_pos;      // mean L_q of the logged actions
  torch::Tensor q_neg;      // mean over rows of sum_j L_q-_j (0 without negatives)
  torch::Tensor advantage;  // mean clipped advantage (SA2C phase; else 0)
  torch::Tensor ips;        // mean IPS weight (SA2C phase; else 1)
};

// The loss of `variant` (kSa2c = its actor-critic phase; not kSmorl) as defined at the top of the
// file.
SqnLossTerms SqnLoss(const SqnLossInputs& in, SqnVariant variant, const SqnOptions& options);

// SMORL's per-objective rewards [B, 3] (accuracy, diversity, novelty): accuracy [B] float,
// last_items [B] (the last item of each state), top1 [B] (the supervised head's best item),
// item_vectors [N, D] float, long_tail [N] float 0/1. A zero item vector has cosine 0.
torch::Tensor SmorlRewards(const torch::Tensor& accuracy, const torch::Tensor& last_items,
                           const torch::Tensor& top1, const torch::Tensor& item_vectors,
                           const torch::Tensor& long_tail);

// SMORL's scalarised double-Q loss per row [B]: q_sa [B, 3] (with grad), rewards [B, 3], discounts
// [B], selector and target [B, 3, N] (no grad), weights [3]: sum_o w_o 0.5 (y_o - q_sa_o)^2 with
// the shared a* = argmax_a sum_o w_o selector_o(a) (ties to the smallest id).
torch::Tensor SmorlQLoss(const torch::Tensor& q_sa, const torch::Tensor& rewards,
                         const torch::Tensor& discounts, const torch::Tensor& selector,
                         const torch::Tensor& target, const torch::Tensor& weights);

// --- the agent ---------------------------------------------------------------------------------

// A SupervisedAgent whose encoder_ / head_ are network 0's encoder and supervised head (so Scores
// ranks with network 0's supervised head, as the papers evaluate); it adds network 0's Q head and
// all of network 1, and one Adam per network and phase. Update needs batch.values and batch.done.
// Randomness (the coin flip and the negatives of a step) comes from Rng(seed).Fork(step), so a
// resumed run draws the same; parameters come from LibTorch's global generator (seeded by the
// runner).
class SqnAgent : public SupervisedAgent {
 public:
  // behaviour [num_items]: item popularity beta(a) (shares summing to 1), used by SA2C's IPS.
  // SMORL only: long_tail [num_items] 0/1 and, for rl.smorl.similarity features, item_vectors
  // [num_items, F].
  SqnAgent(const SupervisedOptions& options, const SqnOptions& rl, SqnVariant variant,
           std::vector<float> behaviour, uint64_t seed, torch::Device device,
           const std::vector<uint8_t>& long_tail = {},
           const torch::Tensor& item_vectors = torch::Tensor());

  // One gradient step of the main network; returns loss, ce, q_pos, q_neg, advantage, ips,
  // q_mean (mean Q_main(s, a)), grad_norm; SMORL: loss, ce, q (its Q loss), r_div, r_nov, q_mean
  // (scalarised), grad_norm.
  MetricList Update(const SequenceBatch& batch) override;

  void Save(torch::serialize::OutputArchive& archive) const override;
  void Load(torch::serialize::InputArchive& archive) override;
  std::vector<torch::Tensor> parameters() const override;

  // Q_n(s, .) [B, N] in eval mode without grad (tests, OPE); SMORL: sum_o w_o Q_n,o.
  torch::Tensor QValues(int net, const torch::Tensor& items, const torch::Tensor& lengths);
  // SMORL: Q_n,o(s, .) [B, 3, N] in eval mode without grad.
  torch::Tensor ObjectiveQValues(int net, const torch::Tensor& items, const torch::Tensor& lengths);

 private:
  struct Net {
    std::shared_ptr<models::SequenceEncoderImpl> encoder;
    torch::nn::Linear ce{nullptr}, q{nullptr};
    std::unique_ptr<torch::optim::Adam> opt, opt2;
    std::vector<torch::Tensor> parameters() const;
  };
  void SetMode(Net& n, bool train);
  // [B, K] uniform items != actions[b] (rejection of the logged item only, as the reference).
  torch::Tensor SampleNegatives(const torch::Tensor& actions, Rng& rng) const;
  // Q heads of n at h [B, D]: [B, N], or [B, 3, N] for SMORL.
  torch::Tensor Heads(Net& n, const torch::Tensor& h) const;
  MetricList SmorlUpdate(const SequenceBatch& batch, Net& m, Net& t);

  SqnOptions rl_;
  SqnVariant variant_;
  torch::Tensor behaviour_;                                 // [N] float on device_
  torch::Tensor long_tail_, item_vectors_, smorl_weights_;  // SMORL: [N], [N, F] or undefined, [3]
  uint64_t seed_;
  Net nets_[2];  // nets_[0].encoder / .ce alias the base's encoder_ / head_
};

}  // namespace recarena::agents

namespace recarena::config {
template <>
struct EnumNames<agents::RewardKind> {
  static const std::vector<std::pair<agents::RewardKind, std::string>>& Table() {
    static const std::vector<std::pair<agents::RewardKind, std::string>> t = {
        {agents::RewardKind::kConstant, "constant"},
        {agents::RewardKind::kThreshold, "threshold"},
        {agents::RewardKind::kValue, "value"}};
    return t;
  }
};
}  // namespace recarena::config
