// Debiasing where exposure is known: matrix factorisation trained naively and with inverse
// propensity scoring on the self-selected ratings, evaluated on ratings of randomly exposed items
// (Schnabel et al. 2016, "Recommendations as Treatments", Sec. 5 and their Coat experiment).
//
// Model: r_hat(u, i) = mu + b_u + b_i + p_u . q_i. Loss over the training ratings O:
//   naive  sum_O (r - r_hat)^2 / |O|
//   IPS    sum_O (r - r_hat)^2 / P_ui / sum_O 1 / P_ui   (self-normalised IPS)
//   + lambda * mean_O (|p_u|^2 + |q_i|^2)
// trained full-batch with Adam. lambda is chosen per arm from lambdas by the arm's own loss on a
// held-out 10% of the training ratings (naive: plain MSE; IPS: the IPS-weighted MSE), then the
// arm is refitted on all training ratings. Evaluation on the random-exposure ratings: RMSE, MAE
// and AUC of liked (rating >= liked_threshold) against the other ratings.
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "data/load_coat.h"

namespace recarena::env {

struct DebiasOptions {
  int64_t dim = 8;
  int64_t steps = 500;  // full-batch Adam steps
  double lr = 0.02;
  std::vector<double> lambdas{1e-3, 1e-2, 1e-1, 1.0};
  int64_t seeds = 5;
  double liked_threshold = 4.0;
};

struct DebiasArm {
  // One entry per seed.
  std::vector<double> rmse, mae, auc, lambda;
};

struct DebiasResult {
  DebiasArm naive, ips;
  int64_t train_ratings = 0, test_ratings = 0;
};

// Trains and evaluates both arms for options.seeds seeds (Rng(seed).Fork(s) for seed s: the
// validation split, the initialisation and nothing else). train_part: the self-selected ratings,
// test_part: the random-exposure ones; prop indexes users and items by their external ids
// ("0", "1", ...). Throws recarena::Error when a part has no ratings.
DebiasResult CompareNaiveIps(const data::Dataset& ds, const data::CoatPropensities& prop,
                             int train_part, int test_part, uint64_t seed,
                             const DebiasOptions& options = {});

}  // namespace recarena::env
