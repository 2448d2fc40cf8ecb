// Multi-objective returns of MODT4R (thesis Sec. 4.4.3, Eqs. 4.3-4.6, and the inference-time
// construction of Sec. 4.4.6, Eq. 4.18 and Algorithm 2). Plain C++: no tensors.
//
// Indexing: a sequence x_1..x_{T+1} gives states x_1..x_T and actions a_t = x_{t+1}. Vectors here
// are 0-based: element i is time step t = i + 1. See docs/decision_transformer.md.
#pragma once

#include <cstdint>
#include <vector>

namespace recarena::agents {

// The three returns of every step of one sequence, each [T] (step order).
struct MoReturns {
  std::vector<float> accuracy;   // R_{t,acc}
  std::vector<float> novelty;    // R_{t,nov}
  std::vector<float> diversity;  // R_{t,div}
};

// Eq. 4.3: R_{t,acc} = T - t + 1, i.e. [T, T-1, ..., 1]. T >= 0.
std::vector<float> AccuracyReturns(int64_t T);

// Eq. 4.4: R_{t,nov} = sum_{t'=t..T} r_{t',nov}, r_{t',nov} = long_tail[a_{t'}]. actions [T] are
// item ids in [0, long_tail.size()); long_tail [num_items] 0/1 (the bottom-90%-by-training-
// popularity set I_nov). Throws recarena::Error for an id out of range.
std::vector<float> NoveltyReturns(const std::vector<int32_t>& actions,
                                  const std::vector<uint8_t>& long_tail);

// Footnote of Eq. 4.5: the mean cosine similarity over the n(n-1)/2 unordered pairs of the first n
// vectors; 1 for n == 1 (Sim(x_1) = 1). A zero vector has cosine 0 with everything. n >= 1 and
// n <= vectors.size(), all vectors of the same size.
double PrefixSimilarity(const std::vector<std::vector<float>>& vectors, int64_t n);

// Eq. 4.6 (Sim of the full sequence plus a_T set to -1): R_{t,div} = 1 + Sim(x_1..x_t) for
// t = 1..T, where state_vectors [T][D] are the item vectors of x_1..x_T in order. O(T^2 D).
std::vector<float> DiversityReturns(const std::vector<std::vector<float>>& state_vectors);

// Training returns of one sequence (Algorithm 1, line 4): states x_1..x_T (their vectors
// state_vectors [T][D]) and actions a_1..a_T.
MoReturns TrainingReturns(const std::vector<int32_t>& actions,
                          const std::vector<std::vector<float>>& state_vectors,
                          const std::vector<uint8_t>& long_tail);

// Eq. 4.18: the novelty reward predicted at position p, 1 when the mean of the previous novelty
// rewards >= epsilon, else 0. previous_rewards are r_{1..p-1,nov}; when empty (p == 1) the
// caller's fallback is used as the mean.
float PredictedNoveltyReward(const std::vector<float>& previous_rewards, double epsilon,
                             float empty_mean);

// Run-time parameters of the inference returns (Sec. 4.4.6).
struct InferenceReturnOptions {
  double epsilon = 0.5;  // novelty threshold of Eq. 4.18
  double lambda = 1.0;   // scale of every diversity return (R_{t,div} = lambda R_{t,div})
};

// Algorithm 2 for one test prefix x_1..x_p (items [p], vectors [p][D]): the returns of steps
// 1..p conditioning the prediction of a_p = x_{p+1}. Choices (docs/decision_transformer.md):
//   accuracy: Eq. 4.3 with T = p (R_{p,acc} = 1, the value every last training step has);
//   novelty:  r_{t,nov} = long_tail[x_{t+1}] for t < p, r_{p,nov} = Eq. 4.18 over r_{1..p-1}
//             (p == 1: the mean is long_tail[x_1]); R_{t,nov} by Eq. 4.4;
//   diversity: R_{t,div} = 1 + Sim(x_1..x_t) for t < p, R_{p,div} = R_{p-1,div} (line 11) and,
//             for p == 1, 1 + Sim(x_1) = 2; then every R_{t,div} is multiplied by lambda.
MoReturns InferenceReturns(const std::vector<int32_t>& items,
                           const std::vector<std::vector<float>>& vectors,
                           const std::vector<uint8_t>& long_tail,
                           const InferenceReturnOptions& options);

// The returns a decision transformer acting in the simulator conditions on (docs/
// decision_transformer.md, "In the simulator"). The context x_1..x_p is the observation's history
// (what the user consumed, newest last) and step p is the recommendation to make. The episode's
// targets minus what the user consumed so far in the episode give the returns-to-go of step p:
//   R_{p,acc} = max(accuracy_to_go, 1)  (1 = the smallest value a training step carries),
//   R_{p,nov} = max(novelty_to_go, 0);
// earlier steps add the rewards observed between them and p, in the units of the logs (each
// consumed item is one unit of accuracy, long_tail[x_{t+1}] one unit of novelty):
//   R_{t,acc} = R_{p,acc} + (p - t),   R_{t,nov} = R_{p,nov} + sum_{t'=t..p-1} long_tail[x_{t'+1}];
// diversity is Algorithm 2's (InferenceReturns, scaled by lambda): recomputed from the consumed
// items. items [p] >= 1, vectors [p][D].
MoReturns OnlineReturns(const std::vector<int32_t>& items,
                        const std::vector<std::vector<float>>& vectors,
                        const std::vector<uint8_t>& long_tail, double accuracy_to_go,
                        double novelty_to_go, double lambda);

}  // namespace recarena::agents
