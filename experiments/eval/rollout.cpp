#include "experiments/eval/rollout.h"

#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace recarena::experiments {

EpisodeStats RunEpisodes(env::VectorEnv& venv, const PolicyFn& policy, int64_t episodes,
                         uint64_t seed, const StepObserver& observer) {
  if (episodes < 1) throw Error("episodes must be >= 1, got " + std::to_string(episodes));
  EpisodeStats stats;
  stats.returns.assign(static_cast<size_t>(episodes), 0.0);
  stats.lengths.assign(static_cast<size_t>(episodes), 0.0);
  stats.avg_rewards.assign(static_cast<size_t>(episodes), 0.0);
  stats.consumed_counts.assign(static_cast<size_t>(venv.num_items()), 0);
  stats.shown_counts.assign(static_cast<size_t>(venv.num_items()), 0);
  const int64_t B = venv.num_envs();
  // The episodes below `episodes` this env numbers (all of them with the default numbering).
  const int64_t offset = venv.episode_offset(), stride = venv.episode_stride();
  const int64_t owned = offset < episodes ? (episodes - offset - 1) / stride + 1 : 0;
  if (owned == 0) return stats;
  auto r = venv.Reset(seed);
  int64_t finished = 0;
  const int64_t limit = owned * venv.max_length() * 4 + 1000;
  for (int64_t step = 0; finished < owned; ++step) {
    if (step > limit) throw Error("RunEpisodes: episodes did not finish within the step limit");
    const auto ids = r.episode_id;
    auto actions = policy(r);
    if (observer) {
      env::StepResult before = r;
      r = venv.Step(actions);
      observer(before, actions, r);
    } else {
      r = venv.Step(actions);
    }
    auto a = actions.to(torch::kCPU, torch::kInt64);
    auto acc = r.accepted.to(torch::kCPU);
    auto ret = r.info.episode_return.to(torch::kCPU, torch::kDouble);
    auto len = r.info.episode_length.to(torch::kCPU);
    auto term = r.terminated.to(torch::kCPU);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t e = ids[static_cast<size_t>(b)];
      if (e >= episodes) continue;
      const int64_t item = a[b].item<int64_t>();
      ++stats.shown_counts[static_cast<size_t>(item)];
      if (acc[b].item<bool>()) ++stats.consumed_counts[static_cast<size_t>(item)];
      if (r.info.final_episode_id[static_cast<size_t>(b)] >= 0) {
        const double l = static_cast<double>(len[b].item<int64_t>());
        stats.returns[static_cast<size_t>(e)] = ret[b].item<double>();
        stats.lengths[static_cast<size_t>(e)] = l;
        stats.avg_rewards[static_cast<size_t>(e)] = ret[b].item<double>() / l;
        (term[b].item<bool>() ? stats.terminated : stats.truncated) += 1;
        ++finished;
      }
    }
  }
  return stats;
}

ShownStats SummarizeShown(const EpisodeStats& stats, const std::vector<uint8_t>& long_tail) {
  if (long_tail.size() != stats.shown_counts.size()) {
    throw Error("SummarizeShown: " + std::to_string(long_tail.size()) + " long-tail flags for " +
                std::to_string(stats.shown_counts.size()) + " items");
  }
  ShownStats out;
  int64_t shown = 0, tail = 0, distinct = 0;
  for (size_t i = 0; i < stats.shown_counts.size(); ++i) {
    const int64_t c = stats.shown_counts[i];
    shown += c;
    if (long_tail[i]) tail += c;
    if (c > 0) ++distinct;
  }
  if (shown == 0) return out;
  out.long_tail_share = static_cast<double>(tail) / static_cast<double>(shown);
  out.coverage = static_cast<double>(distinct) / static_cast<double>(stats.shown_counts.size());
  return out;
}

PolicyFn GreedyScorerPolicy(BatchScorer scorer) {
  return [scorer = std::move(scorer)](const env::StepResult& r) {
    const torch::Device device = r.observation.items.device();
    torch::Tensor scores = scorer(r.observation.items.cpu(), r.observation.lengths.cpu())
                               .to(torch::kCPU, torch::kFloat);
    scores.masked_fill_(r.candidate_mask.cpu().logical_not(),
                        -std::numeric_limits<float>::infinity());
    return scores.argmax(1).to(device);
  };
}

MeanCi Summarize(const std::vector<double>& values) {
  MeanCi s;
  s.n = static_cast<int64_t>(values.size());
  if (values.empty()) return s;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(s.n);
  double ss = 0.0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.sd = s.n > 1 ? std::sqrt(ss / static_cast<double>(s.n - 1)) : 0.0;
  const double half = 1.96 * s.sd / std::sqrt(static_cast<double>(s.n));
  s.lo = s.mean - half;
  s.hi = s.mean + half;
  return s;
}

MeanCi SummarizeT(const std::vector<double>& values) {
  MeanCi s = Summarize(values);
  if (s.n < 2) return s;
  // t_{0.975, df} for df = 1..30 (two-sided 95%); 1.96 beyond.
  static const double kT[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  const int64_t df = s.n - 1;
  const double t = df <= 30 ? kT[df - 1] : 1.96;
  const double half = t * s.sd / std::sqrt(static_cast<double>(s.n));
  s.lo = s.mean - half;
  s.hi = s.mean + half;
  return s;
}

}  // namespace recarena::experiments
