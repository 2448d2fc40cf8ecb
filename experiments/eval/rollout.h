// Running episodes of a policy in a VectorEnv and summarising them (Return, Length, R_avg =
// Return / Length, thesis Sec. 7.5.3), shared by `recarena sim rollout`, fidelity reports and the
// online runner's evaluations.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "env/vector_env.h"
#include "experiments/eval/offline_eval.h"

namespace recarena::experiments {

// Maps the env's latest result (observation, candidate mask) to actions [B] int64.
using PolicyFn = std::function<torch::Tensor(const env::StepResult&)>;

// The greedy policy of a scoring model (e.g. a trained run's Scores): the argmax of
// scorer(observation items, lengths) over the allowed items of the candidate mask, ties to the
// smallest id; actions on the observation's device. The scorer gets the observation as the env
// gives it (right-padded with num_items, lengths >= 1), the format of the offline windows.
PolicyFn GreedyScorerPolicy(BatchScorer scorer);

struct EpisodeStats {
  std::vector<double> returns, lengths, avg_rewards;  // one entry per episode, by episode id
  std::vector<int64_t> consumed_counts;  // [num_items] accepted recommendations per item
  std::vector<int64_t> shown_counts;     // [num_items] recommendations per item
  int64_t terminated = 0, truncated = 0;
};

// Resets venv with seed and steps until episodes 0..episodes-1 have all finished; episodes with
// larger ids that finish meanwhile are ignored, so the statistics do not depend on num_envs (for a
// policy that is a function of the observation). With a sharded numbering (VectorEnvOptions::
// episode_offset / episode_stride) only this env's episodes below `episodes` are run; the others'
// entries stay 0, so summing the stats of every shard (SumEpisodeStats) gives the whole set. Throws
// recarena::Error if that takes more than episodes * max_length * 4 + 1000 steps (it cannot, by the
// step cap). observer, when given, sees every step: (result before, actions, result after).
using StepObserver =
    std::function<void(const env::StepResult&, const torch::Tensor&, const env::StepResult&)>;
EpisodeStats RunEpisodes(env::VectorEnv& venv, const PolicyFn& policy, int64_t episodes,
                         uint64_t seed, const StepObserver& observer = {});

// Share of the recommendations in stats.shown_counts that are long-tail items (long_tail [N] 0/1)
// and the catalog coverage (distinct items shown / N). 0 when nothing was shown.
struct ShownStats {
  double long_tail_share = 0.0, coverage = 0.0;
};
ShownStats SummarizeShown(const EpisodeStats& stats, const std::vector<uint8_t>& long_tail);

// Mean with a normal-approximation 95% interval: mean +- 1.96 * sd / sqrt(n) (sd with n - 1).
struct MeanCi {
  double mean = 0.0, lo = 0.0, hi = 0.0, sd = 0.0;
  int64_t n = 0;
};
MeanCi Summarize(const std::vector<double>& values);
// The same with Student's t quantile t_{0.975, n-1} instead of 1.96: the interval for few seeds.
MeanCi SummarizeT(const std::vector<double>& values);

}  // namespace recarena::experiments
