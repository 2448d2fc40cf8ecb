// CPFT: confidence-aware fine-tuning of a sequential recommender with conformal-prediction losses
// (Wang et al., "Confidence-aware Fine-tuning of Sequential Recommendation Systems via Conformal
// Prediction", Sec. 4, Eq. (4)-(6)). See docs/cpft.md for the choices made where the paper is open.
//
//   L_CPFT = L_CE(train batch) + beta * L_CPS(calibration batch) + gamma * L_CPD(calibration batch)
//
// Non-conformity score: THR, s(x, j) = 1 - p_j (paper Sec. 4.3). Because 1 - p is a decreasing
// function of log p, everything is computed in the log domain: with t = the conformal quantile of
// the batch's label values -log p_y (detached), the set is {j : -log p_j <= t}, which is exactly
// {j : 1 - p_j <= q} with q = 1 - exp(-t).
//   CPS (Eq. 4): mean over the batch of the relaxed set size sum_j sigmoid((log p_j + t) / T); as
//     T -> 0 every item with -log p_j < t counts 1, every item outside 0 (an item exactly at t
//     1/2). Every item's logit receives gradient (through log-softmax), in-set items included.
//   CPD (Eq. 5): for each query, the K items of the (hard) set closest to the true item by cosine
//     similarity of the output item vectors (the true item itself excluded), loss
//     sum (1 - cos(e_k, e_y)) / (K |B|). Minimising pulls those items towards the true item.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "agents/supervised.h"
#include "agents/types.h"
#include "core/config_schema.h"

namespace recarena::agents {

// How L_CPS is scaled (docs/cpft.md). none: Eq. (4) as written, the mean relaxed set size in items;
// catalog: that size divided by the catalog size N (the mean set *fraction*, in [0, 1]), so that
// beta means the same on a 1,000- and a 10,000-item catalog. Measured on ml-latest-small (9,742
// items): unnormalised CPS with beta >= 1 collapses the model to its popularity ranking
// (docs/results/cpft.md), so catalog is the default.
enum class CpsNormalization { kNone, kCatalog };

// Config section `cpft`. Defaults from the paper's sensitivity study (Tab. 4: alpha 0.3, beta 10,
// gamma 1, TopKClosest 10).
struct CpftOptions {
  double alpha = 0.3;  // miscoverage level of the training-time conformal sets, in (0, 1)
  double beta = 10.0;  // weight of L_CPS (Eq. 6), >= 0
  double gamma = 1.0;  // weight of L_CPD (Eq. 6), >= 0
  int64_t k = 10;      // TopKClosest of L_CPD, >= 1
  CpsNormalization cps_normalization = CpsNormalization::kCatalog;
  double temperature = 0.1;  // sigmoid temperature of the set relaxation, in log-probability units
  int64_t calib_batch_size = 256;  // calibration queries per step (the threshold's batch)
  std::string init_from;           // run directory whose best.pt initialises the model

  template <class V>
  void Visit(V& v) {
    v("alpha", alpha);
    v("beta", beta);
    v("gamma", gamma);
    v("k", k);
    v("cps_normalization", cps_normalization);
    v("temperature", temperature);
    v("calib_batch_size", calib_batch_size);
    v("init_from", init_from);
  }
  // Throws ConfigError("cpft.<key>", ...). init_from is checked by the caller (needed only when
  // model_kind is cpft).
  void Validate() const;
};

// --- loss pieces (pure functions of tensors; usable on hand-made inputs) -----------------------

// The 1-based index k = ceil((n + 1)(1 - alpha)) of the conformal quantile, clamped to [1, n]
// (a batch too small for alpha uses its largest value instead of +infinity).
int64_t BatchQuantileIndex(int64_t n, double alpha);

// label_values [B]: the k-th smallest (k = BatchQuantileIndex(B, alpha)), detached, 0-dim tensor.
torch::Tensor BatchConformalThreshold(const torch::Tensor& label_values, double alpha);

// log_probs [B, N] (log-softmax), t a 0-dim tensor: [B] relaxed set sizes
// sum_j sigmoid((log_probs[b, j] + t) / temperature). temperature > 0.
torch::Tensor SoftSetSize(const torch::Tensor& log_probs, const torch::Tensor& t,
                          double temperature);

// [B, N] bool: -log_probs <= t (the exact conformal set for THR threshold q = 1 - exp(-t)).
torch::Tensor HardSetMask(const torch::Tensor& log_probs, const torch::Tensor& t);

// Eq. (5) with CosSim read as the distance 1 - cos: item_vectors [N, D], set_mask [B, N] bool,
// targets [B] int64. For each row b the (at most) k set items j != targets[b] with the largest
// cos(e_j, e_{targets[b]}) contribute 1 - cos; the sum is divided by k * B. Gradient flows into
// item_vectors (both the chosen items and the target); the choice of items is not differentiated.
torch::Tensor CpdLoss(const torch::Tensor& item_vectors, const torch::Tensor& set_mask,
                      const torch::Tensor& targets, int64_t k);

struct CpftLossTerms {
  torch::Tensor total;         // ce + beta * cps + gamma * cpd (with autograd)
  torch::Tensor ce, cps, cpd;  // the three terms (with autograd); cps as cps_normalization says
  double threshold_q = 0.0;    // the batch's THR threshold q = 1 - exp(-t)
  double hard_set_size = 0.0;  // mean exact set size on the calibration batch
  double coverage = 0.0;       // share of calibration labels inside their (own-batch) set
};

// train_logits [B1, N] / train_targets [B1] give the CE term; calib_logits [B2, N] /
// calib_targets [B2] the conformal terms; item_vectors [N, D] the CPD embedding.
CpftLossTerms CpftLoss(const torch::Tensor& train_logits, const torch::Tensor& train_targets,
                       const torch::Tensor& calib_logits, const torch::Tensor& calib_targets,
                       const torch::Tensor& item_vectors, const CpftOptions& options);

// --- the agent ---------------------------------------------------------------------------------

// A SupervisedAgent (same networks, optimizer and checkpoint layout, so its checkpoints load into a
// SupervisedAgent and vice versa) whose update is the CPFT objective. It owns its networks and its
// Adam optimizer like its base.
class CpftAgent : public SupervisedAgent {
 public:
  CpftAgent(const SupervisedOptions& options, const CpftOptions& cpft, torch::Device device);

  // One Adam step on L_CPFT; train gives the CE term, calib the conformal terms. Returns, in order:
  // loss, ce, cps, cpd, set_size (exact mean set size on calib), coverage, threshold_q, grad_norm.
  MetricList UpdateCpft(const SequenceBatch& train, const SequenceBatch& calib);

  const CpftOptions& cpft_options() const { return cpft_; }

 private:
  CpftOptions cpft_;
};

}  // namespace recarena::agents

namespace recarena::config {
template <>
struct EnumNames<agents::CpsNormalization> {
  static const std::vector<std::pair<agents::CpsNormalization, std::string>>& Table() {
    static const std::vector<std::pair<agents::CpsNormalization, std::string>> t = {
        {agents::CpsNormalization::kNone, "none"}, {agents::CpsNormalization::kCatalog, "catalog"}};
    return t;
  }
};
}  // namespace recarena::config
