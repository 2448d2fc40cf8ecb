// Non-learning policies for simulated experiments: random, most-popular and the oracle.
//
// All take the VectorEnv's candidate mask ([B, N] bool, true = allowed, every row with at least
// one allowed item) and return actions [B] int64 on the mask's device; none ever picks a masked
// item.
#pragma once

#include <torch/torch.h>

#include "core/rng.h"
#include "env/vector_env.h"

namespace recarena::policies {

// Uniform over each row's allowed items; one rng.Uniform() per row, in row order (inverse CDF over
// the mask), so the result does not depend on the device.
torch::Tensor RandomActions(const torch::Tensor& mask, Rng& rng);

// The allowed item with the largest popularity ([N] float, e.g. logged consumption counts); ties
// go to the smaller item id.
torch::Tensor PopularActions(const torch::Tensor& mask, const torch::Tensor& popularity);

// The allowed item with the highest expected reward under env's own response model (the upper
// bound a comparison table can show); ties go to the smaller item id.
torch::Tensor OracleActions(const env::VectorEnv& venv, const torch::Tensor& mask);

// Row-wise argmax of scores over allowed items, ties to the smaller id (masked entries never win,
// even when their score is NaN or the largest).
torch::Tensor MaskedArgmax(const torch::Tensor& scores, const torch::Tensor& mask);

}  // namespace recarena::policies
