// The config of `recarena online` (one agent in one fitted simulator) and of each cell of
// `recarena experiment`.
#pragma once

#include <string>

#include "agents/online_config.h"
#include "core/config_schema.h"
#include "core/run_config.h"
#include "llm_bridge/llm_config.h"
#include "llm_bridge/prompt.h"
#include "policies/exploration.h"

namespace recarena::experiments {

struct SimulatorRef {
  std::string dir;  // a directory written by `recarena sim fit`
  std::string train_role = "train";
  std::string eval_role = "test";  // "eval" where the simulator has an unbiased/ground-truth role
  template <class V>
  void Visit(V& v) {
    v("dir", dir);
    v("train_role", train_role);
    v("eval_role", eval_role);
  }
};

struct OnlineTrainConfig {
  int64_t total_steps = 2000;     // environment steps (each steps num_envs users)
  int64_t num_envs = 16;          // users stepped at once during training
  int64_t steps_per_epoch = 500;  // environment steps per epoch (R@e, Len@e, R_avg@e)
  int64_t eval_every = 250;       // environment steps between evaluations and checkpoints
  int64_t eval_episodes = 200;    // test episodes per evaluation (episode ids 0..n-1, fixed seed)
  int64_t eval_num_envs = 64;
  bool eval_explore = false;  // evaluate with the exploration strategy instead of greedy
  bool mask_repeats = false;  // training and evaluation envs mask repeated items
  bool leave_enabled = true;
  template <class V>
  void Visit(V& v) {
    v("total_steps", total_steps);
    v("num_envs", num_envs);
    v("steps_per_epoch", steps_per_epoch);
    v("eval_every", eval_every);
    v("eval_episodes", eval_episodes);
    v("eval_num_envs", eval_num_envs);
    v("eval_explore", eval_explore);
    v("mask_repeats", mask_repeats);
    v("leave_enabled", leave_enabled);
  }
  void Validate() const;  // ConfigError("train.<key>", ...)
};

struct OnlineRunConfig {
  RunConfig run;
  SimulatorRef simulator;
  agents::OnlineAgentOptions agent;
  policies::ExplorationOptions exploration;
  OnlineTrainConfig train;
  // agent.kind llm_online only: the LLM and its prompt (docs/llm.md).
  llm_bridge::LlmConfig llm;
  llm_bridge::PromptOptions prompt;
  template <class V>
  void Visit(V& v) {
    v("run", run);
    v("simulator", simulator);
    v("agent", agent);
    v("exploration", exploration);
    v("train", train);
    v("llm", llm);
    v("prompt", prompt);
  }
  void Validate() const;
};

}  // namespace recarena::experiments
