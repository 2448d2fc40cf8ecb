// iALP pre-training from LLM preferences (thesis Alg. 5, Eqs. 7.2-7.10): `recarena llm distill`.
//
// Per iteration, num_envs episodes start from initial user items x_1 (the start states of the
// simulator role's logged users: episode e draws its start from Rng(seed).Fork(7000 + e)) and run
// episode_len steps. At each step the actor proposes k candidates (its top k, or k sampled without
// replacement from its policy), the LLM picks one through the preference prompt (Eq. 7.2; all
// episodes' prompts of a step go to the LLM together; with distill.teacher oracle the simulator
// role distill.oracle_role's expected rewards pick instead, a control, oracle_chooser.h); a pick is
// the action with r^p = 1, "none" or an unusable answer a uniformly random candidate with r^p = 0
// (Eq. 7.3). The action is appended to the history (the next state), the transition is stored in
// D_LLM (a replay buffer), and the thesis A2C (SASRec state encoder by default) takes
// updates_per_step minibatch steps on D_LLM: L = -log pi(a|s) A + value_coef (r^p + gamma max_a'
// Q(s', a') - Q(s, a))^2 (Eqs. 7.6-7.10; log pi over the whole catalog, max over the items allowed
// at s'). The last step of an episode is a time limit (bootstrapped), never a terminal state.
//
// Run directory (all files atomic): config.yaml, checkpoint.pt (networks, optimizer, D_LLM
// buffer, RNG states, the D_LLM rows, the chooser's counts; after every iteration), d_llm.jsonl
// (one line per transition: iteration, episode, step, user, history, candidates, answer, kind,
// position, action, reward; external ids), d_llm.csv (episode,item,step,reward: loadable with
// `dataset: csv`, docs/llm.md), metrics.jsonl (per iteration), agent.pt (section "net": the
// distilled actor-critic, what agent.ialp.init_from loads), distill.json (parse rate, position
// bias, LLM metrics, wall time), report.md. A killed run resumes from checkpoint.pt; with the same
// LLM cache it ends with the same D_LLM and networks as an uninterrupted run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "agents/online_config.h"
#include "core/config_schema.h"
#include "core/run_config.h"
#include "experiments/train/llm_chooser.h"
#include "llm_bridge/llm_config.h"
#include "llm_bridge/prompt.h"

namespace recarena::experiments {

// Who states the preferences: the configured LLM (thesis Alg. 5), or the simulator role
// distill.oracle_role's expected rewards (a perfect teacher; a control, oracle_chooser.h).
enum class DistillTeacher { kLlm, kOracle };

struct DistillOptions {
  std::string sim;             // a `recarena sim fit` directory: catalog, users, start states
  std::string role = "train";  // whose start states begin the episodes
  int64_t iterations = 20;     // Alg. 5's outer loop (the thesis trains 100 epochs)
  int64_t num_envs = 16;       // episodes per iteration, stepped together
  int64_t episode_len = 10;    // T
  int64_t k = 10;              // candidates per prompt (labels a..)
  agents::CandidateSampling candidates = agents::CandidateSampling::kTopK;
  bool mask_history = true;  // candidates exclude the episode's history
  int64_t batch_size = 64;   // minibatch from D_LLM
  int64_t updates_per_step = 1;
  int64_t learning_starts = 64;  // transitions in D_LLM before the first update
  int64_t buffer_size = 100000;
  DistillTeacher teacher = DistillTeacher::kLlm;
  std::string oracle_role = "eval";  // teacher oracle: whose expected rewards are the truth
  double oracle_min = 0.0;           // teacher oracle: a best candidate below this is "none"
  template <class V>
  void Visit(V& v) {
    v("sim", sim);
    v("role", role);
    v("iterations", iterations);
    v("num_envs", num_envs);
    v("episode_len", episode_len);
    v("k", k);
    v("candidates", candidates);
    v("mask_history", mask_history);
    v("batch_size", batch_size);
    v("updates_per_step", updates_per_step);
    v("learning_starts", learning_starts);
    v("buffer_size", buffer_size);
    v("teacher", teacher);
    v("oracle_role", oracle_role);
    v("oracle_min", oracle_min);
  }
  void Validate() const;  // ConfigError("distill.<key>")
};

struct DistillConfig {
  RunConfig run;
  DistillOptions distill;
  // The actor-critic: encoder (SASRec by default, thesis Eq. 7.4), lr, gamma, grad_clip,
  // a2c.value_coef. kind and the other agents' sections are not used.
  agents::OnlineAgentOptions agent;
  llm_bridge::LlmConfig llm;
  llm_bridge::PromptOptions prompt;  // empty wording fields: the dataset's defaults
  template <class V>
  void Visit(V& v) {
    v("run", run);
    v("distill", distill);
    v("agent", agent);
    v("llm", llm);
    v("prompt", prompt);
  }
  void Validate() const;
};

struct DistillResult {
  int64_t iterations_done = 0;
  int64_t transitions = 0;
  bool resumed = false, finished = false;
  nlohmann::json summary;  // distill.json
};

// Runs (or resumes) cfg in dir. stop_after_iterations > 0 returns after that many iterations in
// this call, as a crash would (tests).
DistillResult RunDistill(const DistillConfig& cfg, const std::filesystem::path& dir,
                         int64_t stop_after_iterations = 0);

}  // namespace recarena::experiments

namespace recarena::config {
template <>
struct EnumNames<experiments::DistillTeacher> {
  static const std::vector<std::pair<experiments::DistillTeacher, std::string>>& Table() {
    static const std::vector<std::pair<experiments::DistillTeacher, std::string>> t = {
        {experiments::DistillTeacher::kLlm, "llm"},
        {experiments::DistillTeacher::kOracle, "oracle"}};
    return t;
  }
};
}  // namespace recarena::config
