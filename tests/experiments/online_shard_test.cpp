// experiments/train/online_shard.h without processes: the sharded episode numbering gives shards
// whose episodes add up exactly to the single env's, and the per-rank state files round-trip,
// refuse another step and are pruned to one step. The 2-process runs are in
// distributed_online_test.cpp.
#include <catch2/catch.hpp>

#include "agents/baseline_agents.h"
#include "core/error.h"
#include "env/simulator.h"
#include "env/vector_env.h"
#include "experiments/eval/rollout.h"
#include "experiments/train/online_shard.h"
#include "online_fixtures.h"
#include "test_util.h"

namespace fs = std::filesystem;
using recarena::Rng;
using recarena::env::VectorEnv;
using recarena::env::VectorEnvOptions;
using recarena::experiments::EpisodeStats;
using recarena::experiments::RunEpisodes;

namespace {

// A deterministic function of the observation (every item is allowed: repeats are not masked).
torch::Tensor Policy(const recarena::env::StepResult& r, int64_t num_items) {
  return (r.observation.items.select(1, 0) * 7 + r.observation.lengths * 3 + r.observation.step) %
         num_items;
}

EpisodeStats Run(const std::shared_ptr<const recarena::env::Simulator>& sim, int64_t num_envs,
                 int64_t offset, int64_t stride, int64_t episodes) {
  VectorEnvOptions o;
  o.num_envs = num_envs;
  o.episode_offset = offset;
  o.episode_stride = stride;
  VectorEnv venv(sim, o);
  const int64_t n = sim->num_items;
  return RunEpisodes(
      venv, [n](const recarena::env::StepResult& r) { return Policy(r, n); }, episodes, 77);
}

}  // namespace

TEST_CASE("sharded episodes: two shards run disjoint episodes that add up to the single env's") {
  const auto sim = recarena::env::LoadSimulator(recarena::testing::TinyOnlineSim(),
                                                recarena::env::SimRole::kTest, torch::kCPU);
  const int64_t E = 23;
  const auto one = Run(sim, 5, 0, 1, E);
  const auto r0 = Run(sim, 3, 0, 2, E);  // episodes 0, 2, ..., 22
  const auto r1 = Run(sim, 2, 1, 2, E);  // episodes 1, 3, ..., 21
  for (int64_t e = 0; e < E; ++e) {
    INFO("episode " << e);
    const auto& own = e % 2 == 0 ? r0 : r1;
    const auto& other = e % 2 == 0 ? r1 : r0;
    const auto i = static_cast<size_t>(e);
    // The same episode: the same length exactly; the same rewards up to float32 rounding (the
    // response model's batched arithmetic differs with the batch size, as for any two B).
    CHECK(own.lengths[i] == one.lengths[i]);
    CHECK(own.returns[i] == Approx(one.returns[i]).epsilon(1e-6));
    CHECK(own.avg_rewards[i] == Approx(one.avg_rewards[i]).epsilon(1e-6));
    CHECK(own.lengths[i] >= 1.0);
    CHECK(other.lengths[i] == 0.0);  // not run there
    CHECK(other.returns[i] == 0.0);
  }
  for (size_t k = 0; k < one.shown_counts.size(); ++k) {
    CHECK(r0.shown_counts[k] + r1.shown_counts[k] == one.shown_counts[k]);
    CHECK(r0.consumed_counts[k] + r1.consumed_counts[k] == one.consumed_counts[k]);
  }
  CHECK(r0.terminated + r1.terminated == one.terminated);
  CHECK(r0.truncated + r1.truncated == one.truncated);
  // The episodes differ (the test compares something): not all returns are equal.
  CHECK(*std::max_element(one.returns.begin(), one.returns.end()) >
        *std::min_element(one.returns.begin(), one.returns.end()));

  // A shard whose first episode is past the count runs nothing.
  const auto none = Run(sim, 2, 30, 40, E);
  CHECK(none.terminated + none.truncated == 0);

  VectorEnvOptions bad;
  bad.episode_stride = 0;
  CHECK_THROWS_WITH(VectorEnv(sim, bad), Catch::Contains("stride >= 1"));
  bad.episode_stride = 1;
  bad.episode_offset = -1;
  CHECK_THROWS_WITH(VectorEnv(sim, bad), Catch::Contains("offset >= 0"));
}

TEST_CASE("sharded runs: one process is unchanged, a rank's state file round-trips and is pruned") {
  using recarena::experiments::OnlineShard;
  const OnlineShard alone;
  VectorEnvOptions o;
  o.num_envs = 6;
  const auto same = alone.Env(o, true);
  CHECK(same.num_envs == 6);
  CHECK(same.episode_offset == 0);
  CHECK(same.episode_stride == 1);
  const Rng base(9);
  CHECK(alone.Stream(base).Uniform() == Rng(9).Uniform());

  recarena::testing::TempDir tmp;
  recarena::agents::RandomAgent agent(10);
  Rng act(5);
  act.Uniform();
  const auto f40 = recarena::experiments::RankStateFile(tmp.path(), 1, 40);
  CHECK(f40 == tmp.path() / "ranks" / "rank1-step40.pt");
  recarena::experiments::SaveRankState(f40, agent, act, 40);
  Rng loaded(0);
  recarena::agents::RandomAgent other(10);
  recarena::experiments::LoadRankState(f40, other, loaded, 40);
  CHECK(loaded.Uniform() == act.Uniform());
  CHECK_THROWS_WITH(recarena::experiments::LoadRankState(f40, other, loaded, 50),
                    Catch::Contains("rank1-step40.pt") && Catch::Contains("holds step 40"));
  const auto f50 = recarena::experiments::RankStateFile(tmp.path(), 1, 50);
  CHECK_THROWS_AS(recarena::experiments::LoadRankState(f50, other, loaded, 50),
                  recarena::FileError);
  recarena::experiments::SaveRankState(f50, agent, act, 50);
  const auto r2 = recarena::experiments::RankStateFile(tmp.path(), 2, 40);
  recarena::experiments::SaveRankState(r2, agent, act, 40);
  recarena::experiments::PruneRankStates(tmp.path(), 1, 50);
  CHECK_FALSE(fs::exists(f40));
  CHECK(fs::exists(f50));
  CHECK(fs::exists(r2));  // another rank's file is its own to prune
}
