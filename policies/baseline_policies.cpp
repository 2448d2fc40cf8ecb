#include "policies/baseline_policies.h"

#include <cmath>
#include <limits>

namespace recarena::policies {

namespace {

// nan_to_num(x, 0.0): NaN -> 0, +-inf -> the largest / lowest finite float.
inline float FiniteScore(float x) {
  if (std::isnan(x)) return 0.0f;
  if (x == std::numeric_limits<float>::infinity()) return std::numeric_limits<float>::max();
  if (x == -std::numeric_limits<float>::infinity()) return std::numeric_limits<float>::lowest();
  return x;
}

// One pass over contiguous CPU rows, with the tensor path's semantics (below): the first
// maximal allowed index, 0 for a row with no allowed item. The tensor path makes four passes
// over [B, N] floats and allocates two [B, N] temporaries; at B = 128, N = 9,742 (a DQN target
// batch) that was the largest part of a DQN update (docs/benchmarks.md, learning loops).
torch::Tensor MaskedArgmaxCpu(const torch::Tensor& scores, const torch::Tensor& mask) {
  const auto s = scores.contiguous();
  const auto m = mask.contiguous();
  const int64_t B = s.size(0), N = s.size(1);
  auto out = torch::zeros({B}, torch::kInt64);
  const float* sp = s.data_ptr<float>();
  const bool* mp = m.data_ptr<bool>();
  int64_t* op = out.data_ptr<int64_t>();
  constexpr float kMasked = -std::numeric_limits<float>::infinity();
  for (int64_t b = 0; b < B; ++b) {
    const float* row = sp + b * N;
    const bool* allowed = mp + b * N;
    // Fast pass: the first strict maximum over allowed finite scores; flags a row with an allowed
    // NaN or infinity, which takes the exact pass with nan_to_num's mapping instead.
    int64_t best = -1;
    float best_score = kMasked;
    bool special = false;
    for (int64_t j = 0; j < N; ++j) {
      const float x = row[j];
      const bool ok = allowed[j];
      special |= ok & !std::isfinite(x);
      const float v = ok ? x : kMasked;
      if (v > best_score) {
        best_score = v;
        best = j;
      }
    }
    if (special) {
      best = -1;
      for (int64_t j = 0; j < N; ++j) {
        if (!allowed[j]) continue;
        const float x = FiniteScore(row[j]);
        if (best < 0 || x > best_score) {
          best = j;
          best_score = x;
        }
      }
    }
    op[b] = best < 0 ? 0 : best;
  }
  return out;
}

}  // namespace

torch::Tensor MaskedArgmax(const torch::Tensor& scores, const torch::Tensor& mask) {
  if (scores.device().is_cpu() && mask.device().is_cpu() && scores.dim() == 2 &&
      scores.scalar_type() == torch::kFloat && mask.scalar_type() == torch::kBool &&
      mask.sizes() == scores.sizes()) {
    return MaskedArgmaxCpu(scores, mask);
  }
  auto s = torch::where(mask, torch::nan_to_num(scores.to(torch::kFloat), 0.0),
                        torch::full_like(scores, -std::numeric_limits<float>::infinity(),
                                         scores.options().dtype(torch::kFloat)));
  // argmax returns the first maximal index on CPU and CUDA alike.
  return s.argmax(1);
}

torch::Tensor RandomActions(const torch::Tensor& mask, Rng& rng) {
  const int64_t B = mask.size(0);
  auto u = torch::empty({B}, torch::kDouble);
  auto* up = u.data_ptr<double>();
  for (int64_t b = 0; b < B; ++b) up[b] = rng.Uniform();
  auto counts = mask.sum(1).to(torch::kDouble);                       // [B]
  auto k = (u.to(mask.device()) * counts).floor().to(torch::kInt64);  // k-th allowed item
  k = torch::minimum(k, counts.to(torch::kInt64) - 1);
  auto cum = mask.to(torch::kInt64).cumsum(1);  // [B, N]
  return (cum <= k.unsqueeze(1)).sum(1);        // index of the (k+1)-th allowed item
}

torch::Tensor PopularActions(const torch::Tensor& mask, const torch::Tensor& popularity) {
  auto pop = popularity.to(mask.device(), torch::kFloat).unsqueeze(0).expand(mask.sizes());
  return MaskedArgmax(pop, mask);
}

torch::Tensor OracleActions(const env::VectorEnv& venv, const torch::Tensor& mask) {
  return MaskedArgmax(venv.ExpectedRewardsAll(), mask);
}

}  // namespace recarena::policies
