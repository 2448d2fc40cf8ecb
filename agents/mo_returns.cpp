#include "agents/mo_returns.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace recarena::agents {

namespace {

uint8_t Flag(const std::vector<uint8_t>& long_tail, int32_t item) {
  if (item < 0 || static_cast<size_t>(item) >= long_tail.size()) {
    throw Error("mo_returns: item id " + std::to_string(item) + " outside the long-tail table of " +
                std::to_string(long_tail.size()) + " items");
  }
  return long_tail[static_cast<size_t>(item)];
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) throw Error("mo_returns: item vectors of different sizes");
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na <= 0.0 || nb <= 0.0) return 0.0;
  return dot / std::sqrt(na * nb);
}

// Sim(x_1..x_t) for t = 1..n, incrementally: [n].
std::vector<double> AllPrefixSimilarities(const std::vector<std::vector<float>>& vectors,
                                          int64_t n) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(n));
  double pair_sum = 0.0;
  for (int64_t t = 1; t <= n; ++t) {
    for (int64_t i = 0; i + 1 < t; ++i) {
      pair_sum += Cosine(vectors[static_cast<size_t>(i)], vectors[static_cast<size_t>(t - 1)]);
    }
    if (t == 1) {
      out.push_back(1.0);
    } else {
      out.push_back(pair_sum / (static_cast<double>(t) * static_cast<double>(t - 1) / 2.0));
    }
  }
  return out;
}

}  // namespace

std::vector<float> AccuracyReturns(int64_t T) {
  if (T < 0) throw Error("AccuracyReturns: T must be >= 0");
  std::vector<float> r(static_cast<size_t>(T));
  for (int64_t i = 0; i < T; ++i) r[static_cast<size_t>(i)] = static_cast<float>(T - i);
  return r;
}

std::vector<float> NoveltyReturns(const std::vector<int32_t>& actions,
                                  const std::vector<uint8_t>& long_tail) {
  std::vector<float> r(actions.size());
  float acc = 0.0F;
  for (size_t i = actions.size(); i-- > 0;) {
    acc += Flag(long_tail, actions[i]) ? 1.0F : 0.0F;
    r[i] = acc;
  }
  return r;
}

double PrefixSimilarity(const std::vector<std::vector<float>>& vectors, int64_t n) {
  if (n < 1 || static_cast<size_t>(n) > vectors.size()) {
    throw Error("PrefixSimilarity: prefix length " + std::to_string(n) + " outside [1, " +
                std::to_string(vectors.size()) + "]");
  }
  return AllPrefixSimilarities(vectors, n).back();
}

std::vector<float> DiversityReturns(const std::vector<std::vector<float>>& state_vectors) {
  const auto sims =
      AllPrefixSimilarities(state_vectors, static_cast<int64_t>(state_vectors.size()));
  std::vector<float> r(sims.size());
  for (size_t i = 0; i < sims.size(); ++i) r[i] = static_cast<float>(1.0 + sims[i]);
  return r;
}

MoReturns TrainingReturns(const std::vector<int32_t>& actions,
                          const std::vector<std::vector<float>>& state_vectors,
                          const std::vector<uint8_t>& long_tail) {
  if (actions.size() != state_vectors.size()) {
    throw Error("TrainingReturns: " + std::to_string(actions.size()) + " actions but " +
                std::to_string(state_vectors.size()) + " state vectors");
  }
  MoReturns r;
  r.accuracy = AccuracyReturns(static_cast<int64_t>(actions.size()));
  r.novelty = NoveltyReturns(actions, long_tail);
  r.diversity = DiversityReturns(state_vectors);
  return r;
}

float PredictedNoveltyReward(const std::vector<float>& previous_rewards, double epsilon,
                             float empty_mean) {
  double mean = empty_mean;
  if (!previous_rewards.empty()) {
    double s = 0.0;
    for (float v : previous_rewards) s += v;
    mean = s / static_cast<double>(previous_rewards.size());
  }
  return mean >= epsilon ? 1.0F : 0.0F;
}

MoReturns InferenceReturns(const std::vector<int32_t>& items,
                           const std::vector<std::vector<float>>& vectors,
                           const std::vector<uint8_t>& long_tail,
                           const InferenceReturnOptions& options) {
  const size_t p = items.size();
  if (p == 0) throw Error("InferenceReturns: empty prefix");
  if (vectors.size() != p) throw Error("InferenceReturns: items and vectors differ in length");
  MoReturns r;
  r.accuracy = AccuracyReturns(static_cast<int64_t>(p));
  // Novelty rewards of the observed steps 1..p-1 (a_t = x_{t+1}), then Eq. 4.18 at step p.
  std::vector<float> rewards;
  for (size_t i = 0; i + 1 < p; ++i) rewards.push_back(Flag(long_tail, items[i + 1]) ? 1.0F : 0.0F);
  const float empty_mean = Flag(long_tail, items[0]) ? 1.0F : 0.0F;
  rewards.push_back(PredictedNoveltyReward(rewards, options.epsilon, empty_mean));
  r.novelty.assign(p, 0.0F);
  float acc = 0.0F;
  for (size_t i = p; i-- > 0;) {
    acc += rewards[i];
    r.novelty[i] = acc;
  }
  // Diversity: Eq. 4.6 on x_1..x_{p-1}; step p repeats step p-1 (Algorithm 2, line 11).
  const auto sims = AllPrefixSimilarities(vectors, static_cast<int64_t>(p));
  r.diversity.assign(p, 0.0F);
  for (size_t i = 0; i < p; ++i) {
    const size_t src = (i + 1 == p && p > 1) ? i - 1 : i;
    r.diversity[i] = static_cast<float>(options.lambda * (1.0 + sims[src]));
  }
  return r;
}

MoReturns OnlineReturns(const std::vector<int32_t>& items,
                        const std::vector<std::vector<float>>& vectors,
                        const std::vector<uint8_t>& long_tail, double accuracy_to_go,
                        double novelty_to_go, double lambda) {
  InferenceReturnOptions div_options;
  div_options.lambda = lambda;
  MoReturns r = InferenceReturns(items, vectors, long_tail, div_options);
  const size_t p = items.size();
  float acc = static_cast<float>(std::max(accuracy_to_go, 1.0));
  float nov = static_cast<float>(std::max(novelty_to_go, 0.0));
  for (size_t i = p; i-- > 0;) {
    if (i + 1 < p) {
      acc += 1.0F;
      nov += Flag(long_tail, items[i + 1]) ? 1.0F : 0.0F;
    }
    r.accuracy[i] = acc;
    r.novelty[i] = nov;
  }
  return r;
}

}  // namespace recarena::agents
