#include "agents/online_agent.h"

namespace recarena::agents {

Transition MakeTransition(const env::StepResult& before, const torch::Tensor& actions,
                          const env::StepResult& after) {
  Transition t;
  t.obs = before.observation;
  t.mask = before.candidate_mask;
  t.actions = actions.to(before.observation.items.device(), torch::kInt64);
  t.rewards = after.reward;
  t.accepted = after.accepted;
  t.next_obs = after.info.final_observation;
  auto done = (after.terminated | after.truncated).unsqueeze(1);
  // For finished slots the next mask would describe the new episode; the ended episode has no
  // next decision, so every item is allowed there (only used for bootstrapping truncated slots).
  t.next_mask = after.candidate_mask | done;
  t.terminated = after.terminated;
  t.truncated = after.truncated;
  return t;
}

}  // namespace recarena::agents
