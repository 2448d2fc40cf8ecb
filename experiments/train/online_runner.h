// The online loop of `recarena online`: collect steps from the train simulator, let the agent
// learn, evaluate on the test (or eval) simulator, checkpoint, resume.
//
// Segments. Training is cut into segments of train.eval_every environment steps. A segment starts
// with train_env.Reset(MixSeed(run.seed, segment index)); its last step is passed to the agent with
// every slot marked truncated (a time limit: bootstrapped, not terminal), so no episode spans two
// segments. At every segment boundary (and at step 0, before any training) the agent is evaluated
// on train.eval_episodes test episodes (episode ids 0..n-1 of a fixed evaluation seed, so every
// evaluation sees the same users and draws), then the run is checkpointed. Because segments are
// independent given the agent, a killed run that resumes from its last checkpoint produces exactly
// the results of an uninterrupted run.
//
// Run directory: config.yaml, checkpoint.pt (agent + runner state + history), metrics.jsonl (one
// line per evaluation), metrics.json (R@e, Len@e, R_avg@e for e = 0, 1, 2 and the final
// evaluation; thesis Sec. 7.5.3), report.md. All written atomically.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agents/online_agent.h"
#include "core/rng.h"
#include "env/simulator.h"
#include "experiments/eval/rollout.h"
#include "experiments/train/online_config.h"
#include "experiments/train/online_shard.h"

namespace recarena::experiments {

struct OnlineEvaluation {
  int64_t step = 0;        // environment steps trained so far
  int64_t user_steps = 0;  // step * num_envs
  double return_mean = 0, return_lo = 0, return_hi = 0;
  double length_mean = 0, length_lo = 0, length_hi = 0;
  double ravg_mean = 0, ravg_lo = 0, ravg_hi = 0;
  // Of the evaluation's recommendations: share of long-tail items (the bottom 90% of the train
  // simulator's logged consumption counts) and catalog coverage (distinct items / N).
  double long_tail_share = 0, coverage = 0;
  double train_return = 0;  // mean return of training episodes finished in the segment
  std::map<std::string, double> train_metrics;  // agent metrics averaged over the segment
};
nlohmann::json ToJson(const OnlineEvaluation& e);

struct OnlineRunResult {
  std::vector<OnlineEvaluation> history;
  nlohmann::json summary;  // metrics.json
  bool resumed = false;
};

// Runs (or resumes) cfg in run_dir. stop_after_segments > 0 returns after that many segments in
// this call (simulates a crash in tests). group: this rank's data-parallel group, nullptr for one
// process (experiments/train/online_shard.h: sharded simulation; throws Error naming the agent
// when it cannot learn sharded). Rank 0 alone writes the run directory's files and returns the
// whole history; the other ranks return the (gathered) evaluations of this call.
OnlineRunResult RunOnline(const OnlineRunConfig& cfg, const std::filesystem::path& run_dir,
                          int64_t stop_after_segments = 0, dist::ProcessGroup* group = nullptr);

// Runs episodes 0..episodes-1 of sim (reset with episode_seed) with the agent acting as in the
// runner's evaluations: greedy unless train.eval_explore, train.eval_num_envs users at once,
// train.mask_repeats and train.leave_enabled, every step passed to agent.Track. rng is the
// agent's action stream. shard: this rank runs its episodes only and the statistics are gathered
// over the ranks (every rank returns the whole set).
EpisodeStats RunAgentEpisodes(agents::OnlineAgent& agent, std::shared_ptr<const env::Simulator> sim,
                              const OnlineTrainConfig& train, torch::Device device,
                              int64_t episodes, uint64_t episode_seed, Rng& rng,
                              const OnlineShard& shard = {});

// An online run directory's agent as of its last checkpoint, with the simulator role it is
// evaluated in (for conformal evaluation and other post-hoc analyses). Throws FileError when
// run_dir has no config.yaml or checkpoint.pt.
struct LoadedOnlineRun {
  OnlineRunConfig cfg;
  std::unique_ptr<agents::OnlineAgent> agent;
  std::shared_ptr<const env::Simulator> eval_sim;
  torch::Device device = torch::kCPU;
};
LoadedOnlineRun LoadOnlineRun(const std::filesystem::path& run_dir);

}  // namespace recarena::experiments
