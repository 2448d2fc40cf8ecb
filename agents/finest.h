// FINEST: rank-preserving fine-tuning of a sequential recommender against training-data
// perturbations (Oh, Ustun, McAuley & Kumar;
// ../shared/papers/finest-rank-preserving-finetuning.txt, Sec. 4, Eqs. 3-5; the public code's
// constants in ../shared/notes/stability_reference.md).
//
// After pre-training, each training instance i keeps its reference list R_i (the model's top K
// items) and competitive items C_i (ranks K+1..2K). Fine-tuning minimises
//   L = CE + w * mean_i [ L1_i + L2_i ],
//   L1_i = mean_{j<K} max(0, m - (z_{R_ij} - z_{R_i,j+1}))    (Eq. 3: keep the order within R)
//   L2_i = mean_{j<=K} max(0, m - (z_{R_ij} - z_{C_ij}))      (Eq. 4: keep R above C)
// with hinge margin m, while each epoch a fresh share of the instances is perturbed ("simulated")
// and left out of the regulariser (their reference lists describe other inputs).
// **Choice** (docs/stability.md): the public code adds each user's L1 + L2 to the batch loss (a
// sum over users); recarena's instances are windows and the regulariser is their mean, so w
// means the same at every batch size (the code's w multiplies a sum over about B users).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>

#include "agents/supervised.h"
#include "agents/types.h"
#include "core/rng.h"

namespace recarena::agents {

// Config section `finest`. Defaults from the public code (BERT4Rec / LSTM): K 100, margin 0.1,
// weight 1, 1% of the instances simulated per epoch, fine-tuning learning rate 1e-4.
struct FinestOptions {
  int64_t k = 100;                 // reference list length K (competitive items: the next K)
  double margin = 0.1;             // hinge margin m of Eqs. 3-4, >= 0
  double weight = 1.0;             // w, >= 0
  double simulation_ratio = 0.01;  // share of training instances perturbed each epoch, [0, 1]
  double lr = 1e-4;                // fine-tuning learning rate, > 0
  std::string init_from;           // run directory whose best.pt is the pre-trained model

  template <class V>
  void Visit(V& v) {
    v("k", k);
    v("margin", margin);
    v("weight", weight);
    v("simulation_ratio", simulation_ratio);
    v("lr", lr);
    v("init_from", init_from);
  }
  void Validate() const;  // ConfigError("finest.<key>", ...)
};

// The reference list and competitive items of each row of logits [B, N] (N >= 2K): the items at
// ranks 1..K and K+1..2K by descending logit, ties by smaller item id. Returns ([B, K], [B, K])
// int64 on logits' device.
std::pair<torch::Tensor, torch::Tensor> ReferenceLists(const torch::Tensor& logits, int64_t k);

// [B] L1_i + L2_i of each row: logits [B, N], reference / competitive [B, K] int64 (K >= 2 for
// L1; with K = 1, L1 is 0).
torch::Tensor RankPreservingPerRow(const torch::Tensor& logits, const torch::Tensor& reference,
                                   const torch::Tensor& competitive, double margin);

struct FinestLossTerms {
  torch::Tensor total;  // ce + weight * reg (with autograd)
  torch::Tensor ce;     // mean cross-entropy over all rows
  torch::Tensor reg;    // mean of L1 + L2 over the rows with include = true (0 when none)
};
// logits [B, N], targets [B] int64, include [B] bool: rows whose reference lists apply (not
// simulated this epoch).
FinestLossTerms FinestLoss(const torch::Tensor& logits, const torch::Tensor& targets,
                           const torch::Tensor& reference, const torch::Tensor& competitive,
                           const torch::Tensor& include, const FinestOptions& options);

// FINEST's simulated perturbation of one window (a state of item ids, right-padded): one of
// {delete a random item of the state, replace one with `least_popular`, insert `least_popular`
// at a random position} chosen uniformly, as the public code picks a mode per simulated row.
// items [L] int64 on the CPU (modified in place), length in [1, L]; returns the new length. A
// deletion from a state of length 1 becomes a replacement (a state keeps an item); an insertion
// into a full state drops its oldest item.
int64_t SimulatePerturbation(torch::Tensor& items, int64_t length, int64_t least_popular,
                             int64_t padding_id, Rng& rng);

// A SupervisedAgent (same networks and checkpoint layout: its checkpoints load into a plain
// SupervisedAgent) trained with FinestLoss at learning rate finest.lr. Owns its networks and Adam.
class FinestAgent : public SupervisedAgent {
 public:
  FinestAgent(const SupervisedOptions& options, const FinestOptions& finest, torch::Device device);

  // The current model's reference lists of the windows items [B, L] / lengths [B] (eval mode, no
  // grad): ([B, K], [B, K]) int32 on the CPU.
  std::pair<torch::Tensor, torch::Tensor> References(const torch::Tensor& items,
                                                     const torch::Tensor& lengths);

  // One Adam step on FinestLoss: reference / competitive [B, K] int64 and include [B] bool on the
  // agent's device. Returns loss, ce, reg, grad_norm.
  MetricList UpdateFinest(const SequenceBatch& batch, const torch::Tensor& reference,
                          const torch::Tensor& competitive, const torch::Tensor& include);

 private:
  FinestOptions finest_;
};

}  // namespace recarena::agents
