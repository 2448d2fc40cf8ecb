#include "env/truth_fidelity.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace recarena::env {

double Pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  if (x.size() < 2) return std::nan("");
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return (sxx > 0 && syy > 0) ? sxy / std::sqrt(sxx * syy) : std::nan("");
}

double TruthCorrelation(const Simulator& sim, const data::SyntheticGroundTruth& truth,
                        torch::Device device, size_t max_starts) {
  const int64_t L = sim.state_len;
  const size_t m = std::min(sim.starts.size(), max_starts);
  double sum = 0.0;
  int64_t used = 0;
  for (size_t s0 = 0; s0 < m; s0 += 50) {
    const size_t s1 = std::min(m, s0 + 50);
    const auto k = static_cast<int64_t>(s1 - s0);
    auto items = torch::full({k, L}, sim.num_items, torch::kInt64);
    auto lens = torch::empty({k}, torch::kInt64), users = torch::empty({k}, torch::kInt64);
    for (size_t s = s0; s < s1; ++s) {
      const auto& st = sim.starts[s];
      const auto r = static_cast<int64_t>(s - s0);
      const int64_t keep = std::min<int64_t>(L, static_cast<int64_t>(st.items.size()));
      for (int64_t j = 0; j < keep; ++j) items[r][j] = st.items[st.items.size() - keep + j];
      lens[r] = keep;
      users[r] = st.user;
    }
    ResponseInput in{items.to(device), lens.to(device), users.to(device), {}};
    const auto all = sim.response->ExpectedAll(in).to(torch::kCPU, torch::kDouble).contiguous();
    for (int64_t r = 0; r < k; ++r) {
      const double* row = all[r].data_ptr<double>();
      const std::vector<double> x(row, row + sim.num_items);
      const auto y = truth.UserUtilities(static_cast<data::UserId>(users[r].item<int64_t>()));
      const double c = Pearson(x, y);
      if (std::isfinite(c)) {
        sum += c;
        ++used;
      }
    }
  }
  return used > 0 ? sum / static_cast<double>(used) : std::nan("");
}

}  // namespace recarena::env
