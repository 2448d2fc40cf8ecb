#include "policies/baseline_policies.h"

#include <limits>

namespace recarena::policies {

torch::Tensor MaskedArgmax(const torch::Tensor& scores, const torch::Tensor& mask) {
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
