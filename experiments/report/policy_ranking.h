// Does a learned simulator rank policies like the truth? (issue 15; docs/simulator.md "The
// acceptance test"). Every trained run of an experiment grid (and every fixed baseline) is
// evaluated in two roles of its simulator, a learned one (normally test) and a reference one
// (normally eval: the synthetic world's ground truth or an unbiased-feedback role). Policies (agent
// x exploration, pooled over seeds) are ranked by mean return in each role, and Kendall's tau-b
// between the two rankings is reported with a two-stage bootstrap interval
// (experiments/eval/rank_stats.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "experiments/eval/rank_stats.h"
#include "experiments/eval/rollout.h"

namespace recarena::experiments {

// One cell of an experiment grid and the run directory it trained in.
struct ExperimentCell {
  std::string sim, agent, exploration;  // exploration "-" for the non-learning baselines
  int64_t seed = 0;
  std::filesystem::path dir;  // root/<sim>/<agent>/<exploration>/seed-<seed>
};

// The `experiment.ranking` section. Off while roles is empty.
struct RankingOptions {
  // [learned role, reference role], e.g. [test, eval]; empty = no ranking.
  std::vector<std::string> roles;
  int64_t episodes = 200;     // evaluation episodes per run and role (ids 0..n-1)
  int64_t replicates = 1000;  // bootstrap replicates of tau
  int64_t seed = 7;  // one episode seed for every run, so every policy meets the same users
  template <class V>
  void Visit(V& v) {
    v("roles", roles);
    v("episodes", episodes);
    v("replicates", replicates);
    v("seed", seed);
  }
  void Validate() const;  // ConfigError("experiment.ranking.<key>", ...)
};

struct RankedPolicy {
  std::string sim, agent, exploration, kind;  // kind: agent.kind ("random", "dqn", ...)
  bool learns = false;
  std::vector<int64_t> seeds;
  // Per role (RankingOptions::roles order): mean over seeds of each seed's mean return, with a
  // Student-t 95% interval over the seed means (SummarizeT; one seed: no width), and its rank in
  // that role among the simulator's policies (1 = highest mean).
  std::vector<MeanCi> by_role;
  std::vector<int64_t> rank;
  std::vector<double> length_by_role;           // mean episode length
  std::vector<std::vector<double>> seed_means;  // per role, each seed's mean return (seeds order)
};

// One simulator's ranking.
struct SimRanking {
  std::string sim;
  std::vector<RankedPolicy> policies;  // in grid order
  TauEstimate tau;                     // learned role vs reference role
  // Learned policies whose reference-role interval lies entirely above the intervals of every
  // random and popular baseline of this simulator ("agent/exploration").
  std::vector<std::string> above_baselines;
};

struct PolicyRanking {
  RankingOptions options;
  std::vector<SimRanking> sims;  // in grid order
};

// Evaluates every cell's final agent (LoadOnlineRun) in both roles and ranks the policies of each
// simulator. Each (cell, role) evaluation is cached in <cell dir>/ranking-<role>.json (per-episode
// returns and lengths, with the options that produced them; written atomically), so a killed
// ranking resumes and a rerun with the same options only re-aggregates. Throws recarena::Error
// when options.roles does not name two roles, or a simulator has fewer than 2 policies.
PolicyRanking RankPolicies(const std::vector<ExperimentCell>& cells, const RankingOptions& options);

// ranking.json (every number above plus the per-seed means) and ranking.md under root; returns
// the Markdown.
std::string WriteRanking(const PolicyRanking& ranking, const std::filesystem::path& root);

}  // namespace recarena::experiments
