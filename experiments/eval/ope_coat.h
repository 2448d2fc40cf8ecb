// Coat (Schnabel et al. 2016) as a real-data check of off-policy evaluation: the self-selected
// (missing-not-at-random) train ratings are the logged data and Schnabel et al.'s naive-Bayes
// propensities p(u, i) = P(u rated i) the behaviour model, while the randomly exposed test
// ratings (16 uniform items per user) give an unbiased reference value of any policy.
//
// A policy pi(.|u) recommends one item to user u; its value is V = (1/U) sum_u sum_i pi(i|u)
// r(u, i) with r = 1 for a rating >= like_threshold, else 0. The train ratings map to OPE samples
// (experiments/eval/ope.h) so that IPS is the Horvitz-Thompson estimator of V: sample k = (u, i)
// has behaviour p(u, i) * U / n (n = number of train ratings), so (1/n) sum_k w_k r_k = (1/U)
// sum_u sum_{i rated} pi(i|u) r(u, i) / p(u, i); the mean weight is 1 when the propensities are
// right. The "naive" estimates use p(u, i) = n_u / N instead (every item equally likely to be
// rated by u, n_u = u's ratings). DR's reward model is each item's like rate in train (shrunk to
// the mean with 10 pseudo-ratings); its direct part is spread over u's samples (model_value =
// vhat(u) * n / (U n_u)) so that it averages to (1/U) sum_u vhat(u).
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/load_coat.h"
#include "experiments/eval/ope.h"

namespace recarena::experiments {

struct CoatOpeResult {
  double reference = 0.0;              // the MCAR test-set value
  double reference_half_width = 0.0;   // its 95% normal interval half-width (over users)
  std::vector<OpeEstimate> estimates;  // with Coat's propensities
  std::vector<OpeEstimate> naive;      // with uniform-within-user propensities
};

// pi [users][items] over the dataset's dense ids (rows sum to 1); coat from data::LoadCoat (part 0
// = train, part 1 = test). Throws recarena::Error for a policy of the wrong shape or a user without
// test ratings.
CoatOpeResult EvaluateCoatOpe(const data::Dataset& coat, const data::CoatPropensities& propensities,
                              const std::vector<std::vector<double>>& pi, double like_threshold,
                              const OpeOptions& options);

}  // namespace recarena::experiments
