// A fitted user simulator: the components of one role (train, test or eval) and their storage.
//
// A Simulator is immutable after construction and shared (std::shared_ptr<const Simulator>) by the
// VectorEnvs that step it; the VectorEnv holds all per-episode state. See env/sim_config.h for the
// roles and docs/simulator.md for the models.
//
// Storage (a directory written by `recarena sim fit`):
//   config.yaml          the resolved SimFitConfig
//   simulator.json       sizes and, per role, what its components are (written last: its presence
//                        marks a complete fit)
//   <role>/components.pt  the role's response models and tensors (hazard, start states, item keys,
//                        logged reference statistics)
// Every file is written atomically.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "env/response_model.h"
#include "env/sim_config.h"

namespace recarena::env {

enum class SimRole { kTrain, kTest, kEval };
std::string RoleName(SimRole role);
// "train" | "test" | "eval"; throws recarena::Error listing the choices otherwise.
SimRole ParseRole(const std::string& name);

// One user an episode can start from: the dense user id and the first logged items.
struct StartState {
  int64_t user = 0;
  std::vector<int64_t> items;  // 1..initial_items items, in time order
};

struct Simulator {
  SimRole role = SimRole::kTrain;
  SimConfig cfg;              // the sim section it was fitted with
  int64_t num_items = 0;      // catalog size; padding id = num_items
  int64_t num_users = 0;      // dense user-id space of the dataset (users index 0..num_users-1)
  int64_t state_len = 10;     // history length the observation and the response model keep
  bool ground_truth = false;  // the response is the synthetic world's true click model
  // sim.eval.leave world (ground truth only): cfg.leave holds the world's patience rule alone, and
  // an accepted item costs patience by 1 - sigmoid(utility) (VectorEnv), as in the world.
  bool world_patience = false;
  std::shared_ptr<ResponseEnsemble> response;
  // h[t-1] = P(the user leaves after step t | reached step t), t = 1..max_length.
  std::vector<double> hazard;
  // sim.leave.hazard.conditional: [c, w_reward, w_satisfaction, w_similar] of the session-
  // conditioned hazard around h (env/leave_model.h); empty = h alone.
  std::vector<double> leave_weights;
  std::vector<StartState> starts;  // never empty
  // Similarity keys for the repetition rule: [num_items, F] float (undefined for kItem). Two
  // different items are similar iff keys[a] . keys[b] >= similarity_threshold.
  torch::Tensor item_keys;
  double similarity_threshold = 0.5;
  // Reference statistics of the logs the role was fitted on (fidelity reports).
  std::vector<int64_t> logged_session_lengths;
  std::vector<int64_t> logged_item_counts;  // [num_items] consumptions per item

  // Moves the models and keys to device (the VectorEnv calls this on its own copy of the
  // pointers' targets only through LoadSimulator(..., device)).
  void to(torch::Device device);
};

// The ground-truth eval role's leave rules under sim.eval.leave world: repetition and hazard off,
// patience from the world's parameters. Used by the fit and by LoadSimulator.
void ApplyWorldLeave(SimConfig& role_cfg, const data::SyntheticConfig& world);

// Writes one role into dir/<role>/components.pt (atomically).
void SaveSimulatorRole(const std::filesystem::path& dir, const Simulator& sim);
// Loads a role of a fitted simulator directory. Throws FileError naming the missing or malformed
// file (no simulator.json: "not a fitted simulator"; a role that was not fitted: lists the roles
// that were).
std::shared_ptr<Simulator> LoadSimulator(const std::filesystem::path& dir, SimRole role,
                                         torch::Device device = torch::kCPU);
// The roles a fitted directory holds, from its simulator.json.
std::vector<SimRole> FittedRoles(const std::filesystem::path& dir);

// Fits the discrete-time hazard (see HazardLeaveConfig) to session lengths, for t = 1..max_len:
//   h(t) = (d_t + k * g) / (n_t + k),
// d_t = sessions of length exactly t, n_t = sessions of length >= t, k = smoothing, and
// g = (#sessions) / (sum of lengths) the geometric (constant-hazard) MLE the estimate shrinks to.
// With k = 0 and no truncation a user following h leaves with exactly the logged length
// distribution. Throws recarena::Error on an empty or non-positive input.
std::vector<double> FitHazard(const std::vector<int64_t>& lengths, int64_t max_len,
                              double smoothing);

// Two-sample Kolmogorov-Smirnov distance sup_x |F_a(x) - F_b(x)| between integer samples.
double KsDistance(std::vector<int64_t> a, std::vector<int64_t> b);

}  // namespace recarena::env
