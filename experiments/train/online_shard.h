// Sharded simulation for `recarena online` (docs/distributed.md): with WORLD_SIZE = W > 1 every
// rank steps its own share of the simulated users and runs a replica of the agent whose updates
// average their gradients over the ranks (OnlineAgent::SetGradientSync).
//
//   Training: rank r steps train.num_envs / W slots (train.num_envs must be a multiple of W);
//     its episodes are numbered r, r + W, r + 2W, ... (VectorEnvOptions::episode_offset /
//     episode_stride), so the ranks' users are disjoint draws of the same seed. Its exploration
//     stream and LibTorch's generator (dropout) are its own, forked from run.seed by rank.
//   Evaluation: rank r runs the evaluation episodes e < train.eval_episodes with e = r mod W; the
//     per-episode statistics are summed over the ranks (each episode is run on exactly one), so
//     for a policy that is a function of the observation the gathered evaluation is exactly the
//     single-process one.
//   Files: rank 0 writes the run directory as one process does; every other rank keeps its own
//     resumable state (its agent replica with its replay or rollout storage, its streams) in
//     ranks/rank<r>-step<s>.pt, written before rank 0's checkpoint.pt of step s and pruned after
//     it, so a kill at any point leaves, for the step checkpoint.pt names, every rank's file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "agents/online_agent.h"
#include "core/rng.h"
#include "dist/process_group.h"
#include "env/vector_env.h"
#include "experiments/eval/rollout.h"

namespace recarena::experiments {

// Where this process stands: group nullptr = one process.
struct OnlineShard {
  dist::ProcessGroup* group = nullptr;
  int rank() const { return group == nullptr ? 0 : group->rank(); }
  int size() const { return group == nullptr ? 1 : group->size(); }
  bool lead() const { return rank() == 0; }

  // base with this rank's slots and episode numbering: num_envs / W slots (throws ConfigError
  // "train.num_envs" when W does not divide it; with divide = false at least one slot, for the
  // evaluation envs, whose size does not change results), episode offset rank, stride W.
  env::VectorEnvOptions Env(env::VectorEnvOptions base, bool divide) const;
  // base itself for one process; base.Fork(rank + 1) for a rank of a sharded job.
  Rng Stream(const Rng& base) const;
  // In place: every entry becomes its sum over the ranks (per-episode entries are 0 on the ranks
  // that did not run the episode, so the sum is the single-process statistics). No-op alone.
  void Gather(EpisodeStats& stats) const;
  // Sums (first) and counts (second) of a segment's metrics and training returns, summed over the
  // ranks. Every rank must hold the same keys (the agents update in step on every rank); throws
  // Error otherwise. No-op alone.
  void Gather(std::map<std::string, double>& sums, std::map<std::string, int64_t>& counts) const;
  // Rank 0's values of `values` on every rank (the resume point). No-op alone.
  void Broadcast(std::vector<int64_t>& values) const;
  void Barrier(const std::string& what) const;
};

// The part of an online checkpoint that every rank has: the agent ("agent"), the step ("step"),
// the action stream ("act_rng") and LibTorch's generator ("torch_rng"). Rank 0's checkpoint.pt
// adds the runner's segment and history (online_runner.cpp). Read returns the step.
void WriteRankState(torch::serialize::OutputArchive& archive, const agents::OnlineAgent& agent,
                    const Rng& act_rng, int64_t step);
int64_t ReadRankState(torch::serialize::InputArchive& archive, agents::OnlineAgent& agent,
                      Rng& act_rng);

// The file of rank's state at step in run_dir (rank > 0).
std::filesystem::path RankStateFile(const std::filesystem::path& run_dir, int rank, int64_t step);
// Writes (atomically) / reads a rank's agent, action stream and LibTorch generator. Load throws
// FileError naming the file when it is missing (a run directory of another world size).
void SaveRankState(const std::filesystem::path& file, const agents::OnlineAgent& agent,
                   const Rng& act_rng, int64_t step);
void LoadRankState(const std::filesystem::path& file, agents::OnlineAgent& agent, Rng& act_rng,
                   int64_t step);
// Removes rank's state files of other steps than keep_step.
void PruneRankStates(const std::filesystem::path& run_dir, int rank, int64_t keep_step);

}  // namespace recarena::experiments
