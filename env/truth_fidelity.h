// How closely a learned simulator's expected rewards follow the synthetic world's true utilities
// (the fidelity report's "truth corr"; tests of what the response model learns).
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <vector>

#include "data/synthetic_world.h"
#include "env/simulator.h"

namespace recarena::env {

// Pearson's correlation of x and y (same length); NaN when shorter than 2 or either is constant.
double Pearson(const std::vector<double>& x, const std::vector<double>& y);

// The mean, over the first min(max_starts, sim.starts.size()) start states (each state's last
// state_len items and its user), of the Pearson correlation over the catalog between the
// simulator's expected rewards (ExpectedAll, computed on device in batches of 50) and the user's
// true utilities; states where it is undefined are skipped. NaN when none is defined.
double TruthCorrelation(const Simulator& sim, const data::SyntheticGroundTruth& truth,
                        torch::Device device, size_t max_starts = 200);

}  // namespace recarena::env
