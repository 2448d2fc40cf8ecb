// A tiny two-preference environment for toy-learning tests of online agents: one user, a catalog
// of num_items items, the true click probability of item `best` is sigmoid(+margin) and of every
// other item sigmoid(-margin); reward = that probability (deterministic expected click), no leave
// rule, episodes of max_length steps (truncated). Built in memory, no fitting.
#pragma once

#include <memory>

#include "env/simulator.h"
#include "env/vector_env.h"

namespace recarena::testing {

inline std::shared_ptr<env::Simulator> ToySimulator(int64_t num_items = 4, int64_t best = 1,
                                                    double margin = 2.0, int64_t max_length = 5,
                                                    int64_t state_len = 3) {
  auto sim = std::make_shared<env::Simulator>();
  sim->num_items = num_items;
  sim->num_users = 1;
  sim->state_len = state_len;
  sim->ground_truth = true;
  sim->cfg.max_length = max_length;
  sim->cfg.leave.repetition.enabled = false;
  sim->cfg.leave.hazard.enabled = false;
  sim->cfg.response.encoder.state_len = state_len;
  auto utility = torch::full({1, num_items}, -margin);
  utility[0][best] = margin;
  env::ResponseConfig rc;
  rc.target = env::ResponseTarget::kClick;
  rc.reward = env::RewardMode::kProbability;
  sim->response = std::make_shared<env::ResponseEnsemble>(
      rc, std::vector<std::shared_ptr<env::ResponseModelImpl>>{
              std::make_shared<env::GroundTruthResponseImpl>(utility, 0.0, 1.0)});
  sim->starts.push_back(env::StartState{0, {best == 0 ? 1 : 0}});
  sim->logged_item_counts.assign(static_cast<size_t>(num_items), 1);
  return sim;
}

}  // namespace recarena::testing
