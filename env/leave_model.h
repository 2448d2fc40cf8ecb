// The session-conditioned leave hazard (sim.leave.hazard.conditional; issue 15): whether a
// simulated user leaves depends on what was recommended, not only on how many steps were taken.
//
//   logit h(t, x) = logit h0(t) + c + w . x,    x = [r_t, m_t, q_t]  (kLeaveFeatures = 3)
//
// h0 is the unconditional hazard fitted to the logged session lengths (FitHazard), used as an
// offset, so c = w = 0 is the old model. The features of step t:
//   r_t  the step's expected reward (the response model's, before any draw) scaled to [0, 1] by the
//        declared reward bounds;
//   m_t  satisfaction so far: m_1 = r_1, m_t = (1 - d) m_{t-1} + d r_t (d = satisfaction_decay);
//   q_t  the share of the last W recommended items of the episode (W = leave.repetition.window)
//        that are similar to the current one (the repetition rule's similarity; 0 at t = 1).
// The weights are the maximum-likelihood estimate (Newton-Raphson, a small ridge for the
// separable case) on the role's logged sessions, where step t of a session is its t-th item, its
// history the items logged before it (the start state {i_1} for a user's first item, as in the
// simulator's first step) and y_t = 1 at the session's last step. docs/simulator.md "Leaving".
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "data/sequences.h"
#include "env/response_model.h"

namespace recarena::env {

inline constexpr int64_t kLeaveFeatures = 3;

// Whether each row's item is similar to each of its recent items: items [B] int64, recent [B, W]
// int64 (-1 = no item), keys [num_items, F] float or undefined (then only equal ids are similar),
// threshold on keys[a] . keys[b]. Returns the count of similar recent items [B] int64;
// count_repeats false: recent items equal to the row's item do not count.
torch::Tensor SimilarRecentCount(const torch::Tensor& items, const torch::Tensor& recent,
                                 const torch::Tensor& keys, double threshold,
                                 bool count_repeats = true);

// One step's features [B, kLeaveFeatures] float and the updated satisfaction [B] float, from
// reward_norm [B] float in [0, 1], the previous satisfaction [B], first [B] bool (the episode's
// first step) and similar_share [B] float.
struct LeaveStepFeatures {
  torch::Tensor features, satisfaction;
};
LeaveStepFeatures LeaveFeatures(const torch::Tensor& reward_norm,
                                const torch::Tensor& prev_satisfaction, const torch::Tensor& first,
                                const torch::Tensor& similar_share, double satisfaction_decay);

// h(t, x) [B] float for base [B] = h0(t) and features [B, kLeaveFeatures]; weights = [c, w...]
// (1 + kLeaveFeatures numbers). h0 is clamped to [1e-6, 1 - 1e-6] before the logit.
torch::Tensor ConditionalHazard(const torch::Tensor& base, const torch::Tensor& features,
                                const std::vector<double>& weights);

// The [begin, end) position ranges of a logged sequence's sessions: the whole sequence, or, when
// gap_minutes > 0, its pieces between consecutive interactions more than gap_minutes apart.
std::vector<std::pair<int32_t, int32_t>> SessionPieces(const data::Sequence& seq,
                                                       double gap_minutes);

// The likelihood's rows: one per logged step.
struct HazardRows {
  std::vector<int64_t> step;    // 1-based step within the session
  std::vector<float> features;  // [n, kLeaveFeatures] row-major
  std::vector<uint8_t> left;    // 1 = the session ended at this step
  int64_t size() const { return static_cast<int64_t>(step.size()); }
};

// Maximum-likelihood [c, w...] of the offset logistic hazard on rows, with baseline[t-1] = h0(t)
// (steps beyond it use its last value) and ridge penalty l2 * |beta|^2 / 2. Throws recarena::Error
// on zero rows or an empty baseline.
std::vector<double> FitConditionalHazard(const HazardRows& rows,
                                         const std::vector<double>& baseline, double l2 = 1e-3);

// The rows of the role's logged sessions (sequences cut where the gap exceeds gap_minutes when
// > 0; steps beyond max_length dropped), with r_t from response (history: the last state_len items
// logged before the step), scaled by its declared reward bounds. keys / threshold / window as for
// SimilarRecentCount (count_repeats its flag). Evaluated on device in batches.
HazardRows LoggedHazardRows(const std::vector<data::Sequence>& seqs,
                            const ResponseEnsemble& response, int64_t num_items, int64_t state_len,
                            int64_t max_length, double gap_minutes, const torch::Tensor& keys,
                            double threshold, int64_t window, double satisfaction_decay,
                            bool count_repeats, torch::Device device);

}  // namespace recarena::env
