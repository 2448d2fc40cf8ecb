// The interface of online RL agents (DQN, PG, A2C, baselines) driven by
// experiments/train/online_runner.
//
// The runner owns the VectorEnv and the loop (CleanRL/dopamine style); an agent owns its networks,
// optimizers, target networks, its exploration strategy and its storage object (replay buffer or
// rollout buffer, separate classes in agents/). Per environment step the runner calls
//   sel = agent.Act(obs, mask, /*explore=*/true, rng);      // actions [B]
//   res = env.Step(sel.actions);
//   metrics = agent.Observe(Transition{obs, mask, actions, res});  // store, maybe update
// and for evaluation Act(..., explore = false, rng) on the test simulator (the agent's greedy or
// evaluation policy; exploration is applied only when the runner's eval says so) followed by
// agent.Track(transition) after each evaluation step.
//
// Bootstrapping contract: next_obs is the observation the action led to (for finished slots the
// ended episode's final observation, res.info.final_observation); targets bootstrap through
// next_obs unless `terminated` (the user left). `truncated` (the step cap) is NOT a terminal state
// for learning: the value of next_obs is still bootstrapped.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

#include "agents/types.h"
#include "core/rng.h"
#include "dist/grad_sync.h"
#include "env/vector_env.h"
#include "policies/exploration.h"

namespace recarena::agents {

struct Transition {
  env::Observation obs;       // before the step, [B, ...]
  torch::Tensor mask;         // [B, N] bool: the candidate mask at obs
  torch::Tensor actions;      // [B] int64
  torch::Tensor rewards;      // [B] float
  torch::Tensor accepted;     // [B] bool: the user consumed the recommended item
  env::Observation next_obs;  // after the step (final observation for finished slots)
  torch::Tensor next_mask;    // [B, N] bool at next_obs (for finished slots: all true)
  torch::Tensor terminated;   // [B] bool
  torch::Tensor truncated;    // [B] bool
};

// Builds the Transition of one VectorEnv step.
Transition MakeTransition(const env::StepResult& before, const torch::Tensor& actions,
                          const env::StepResult& after);

class OnlineAgent {
 public:
  virtual ~OnlineAgent() = default;
  // Actions [B] int64 on the observation's device, never masked. explore = false: the agent's
  // evaluation policy (greedy over Q for DQN, argmax of the policy for PG/A2C).
  virtual policies::ActionSelection Act(const env::Observation& obs, const torch::Tensor& mask,
                                        bool explore, Rng& rng) = 0;
  // Scores over the catalog [B, N] float that Act ranks (Q-values or policy logits); no grad.
  virtual torch::Tensor Scores(const env::Observation& obs) = 0;
  // Stores the transition and performs whatever updates are due; returns their metrics (empty
  // when no update happened).
  virtual MetricList Observe(const Transition& t) = 0;
  // Per-episode bookkeeping of stateful policies (return-conditioned agents count what the user
  // consumed): the runner calls it after every evaluation step, where Observe is not called;
  // Observe does it itself. Nothing is learned or stored. Default: nothing to track.
  virtual void Track(const Transition& /*t*/) {}
  // Everything needed to resume exactly: networks, optimizers, storage, step, explorer, RNG state.
  virtual void Save(torch::serialize::OutputArchive& archive) const = 0;
  virtual void Load(torch::serialize::InputArchive& archive) = 0;
  // Environment steps observed (the unit of exploration schedules).
  virtual int64_t step() const = 0;
  virtual std::string name() const = 0;
  // Sharded simulation (docs/distributed.md): every rank runs a replica of the agent on its own
  // share of the users, and with sync set each update averages its gradients over the ranks (sync
  // is not owned and must outlive the agent; nullptr = one process), so the replicas stay equal.
  // The runner calls Observe equally often on every rank with the same number of slots, so updates
  // (and their collectives) happen in the same order everywhere. Returns false, changing nothing,
  // when the agent cannot learn sharded (the runner then refuses the job). Default: true only for
  // nullptr.
  virtual bool SetGradientSync(dist::GradientSync* sync) { return sync == nullptr; }
};

}  // namespace recarena::agents
