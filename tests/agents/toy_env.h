// A tiny two-preference environment for toy-learning tests of online agents: one user, a catalog
// of num_items items, the true click probability of item `best` is sigmoid(+margin) and of every
// other item sigmoid(-margin); reward = that probability (deterministic expected click), no leave
// rule, episodes of max_length steps (truncated). Built in memory, no fitting.
#pragma once

#include <memory>

#include "agents/online_config.h"
#include "env/simulator.h"
#include "env/vector_env.h"
#include "policies/exploration.h"

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

// Small agent options for ToySimulator (4 items, state_len 3): a GRU4Rec of 16 units, no dropout;
// PG updates every 4 episodes, A2C every 5 steps, DQN from 16 transitions in batches of 16.
inline agents::OnlineAgentOptions ToyAgentOptions() {
  agents::OnlineAgentOptions o;
  o.encoder.kind = models::EncoderKind::kGru4Rec;
  o.encoder.hidden = 16;
  o.encoder.state_len = 3;
  o.encoder.caser_heights = {2, 3};  // validated for every kind; must fit state_len
  o.encoder.dropout = 0.0;
  o.lr = 0.01;
  o.gamma = 0.9;
  o.grad_clip = 10.0;
  o.pg.episodes_per_update = 4;
  o.a2c.rollout_len = 5;
  o.dqn.batch_size = 16;
  o.dqn.learning_starts = 16;
  o.dqn.buffer_size = 1000;
  return o;
}

// Categorical (softmax) exploration at temperature 1.
inline policies::ExplorationOptions ToyCategorical() {
  policies::ExplorationOptions e;
  e.kind = policies::ExplorationKind::kCategorical;
  e.temperature = 1.0;
  return e;
}

}  // namespace recarena::testing
