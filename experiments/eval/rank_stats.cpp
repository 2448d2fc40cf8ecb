#include "experiments/eval/rank_stats.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "experiments/eval/rollout.h"

namespace recarena::experiments {
namespace {

void CheckSamples(const PolicySamples& s, const char* which) {
  for (size_t p = 0; p < s.size(); ++p) {
    if (s[p].empty()) {
      throw Error(std::string("policy ") + std::to_string(p) + " of " + which + " has no seeds");
    }
    for (const auto& seed : s[p]) {
      if (seed.empty()) {
        throw Error(std::string("policy ") + std::to_string(p) + " of " + which +
                    " has a seed without episodes");
      }
    }
  }
}

// Mean of a bootstrap resample of one policy's samples at the given seed indices.
double ResampledMean(const std::vector<std::vector<double>>& seeds,
                     const std::vector<size_t>& picks, Rng& rng) {
  double total = 0.0;
  for (size_t s : picks) {
    const auto& eps = seeds[s];
    double sum = 0.0;
    for (size_t i = 0; i < eps.size(); ++i) sum += eps[rng.UniformInt(eps.size())];
    total += sum / static_cast<double>(eps.size());
  }
  return total / static_cast<double>(picks.size());
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, v.size() - 1);
  return v[i] + (pos - static_cast<double>(i)) * (v[j] - v[i]);
}

}  // namespace

double KendallTauB(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) {
    throw Error("Kendall's tau: " + std::to_string(a.size()) + " scores against " +
                std::to_string(b.size()));
  }
  if (a.size() < 2) throw Error("Kendall's tau needs at least 2 policies");
  int64_t concordant = 0, discordant = 0, tied_a = 0, tied_b = 0;
  const size_t n = a.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0.0) ++tied_a;
      if (db == 0.0) ++tied_b;
      if (da == 0.0 || db == 0.0) continue;
      if ((da > 0) == (db > 0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  }
  const double n0 = static_cast<double>(n * (n - 1) / 2);
  const double denom =
      std::sqrt((n0 - static_cast<double>(tied_a)) * (n0 - static_cast<double>(tied_b)));
  return denom == 0.0 ? 0.0 : static_cast<double>(concordant - discordant) / denom;
}

std::vector<double> PolicyMeans(const PolicySamples& samples) {
  CheckSamples(samples, "the samples");
  std::vector<double> out;
  out.reserve(samples.size());
  for (const auto& seeds : samples) {
    double total = 0.0;
    for (const auto& eps : seeds) total += Summarize(eps).mean;
    out.push_back(total / static_cast<double>(seeds.size()));
  }
  return out;
}

TauEstimate BootstrapKendallTau(const PolicySamples& a, const PolicySamples& b, int64_t replicates,
                                Rng& rng) {
  if (a.size() != b.size()) {
    throw Error("Kendall's tau bootstrap: " + std::to_string(a.size()) + " policies against " +
                std::to_string(b.size()));
  }
  if (replicates < 1) throw Error("Kendall's tau bootstrap needs replicates >= 1");
  CheckSamples(a, "the first evaluation");
  CheckSamples(b, "the second evaluation");
  for (size_t p = 0; p < a.size(); ++p) {
    if (a[p].size() != b[p].size()) {
      throw Error("policy " + std::to_string(p) + " has " + std::to_string(a[p].size()) +
                  " seeds in the first evaluation and " + std::to_string(b[p].size()) +
                  " in the second");
    }
  }
  TauEstimate est;
  est.tau = KendallTauB(PolicyMeans(a), PolicyMeans(b));
  est.replicates = replicates;
  std::vector<double> taus;
  taus.reserve(static_cast<size_t>(replicates));
  std::vector<double> ma(a.size()), mb(b.size());
  for (int64_t r = 0; r < replicates; ++r) {
    for (size_t p = 0; p < a.size(); ++p) {
      std::vector<size_t> picks(a[p].size());
      for (auto& s : picks) s = rng.UniformInt(a[p].size());
      ma[p] = ResampledMean(a[p], picks, rng);
      mb[p] = ResampledMean(b[p], picks, rng);
    }
    taus.push_back(KendallTauB(ma, mb));
  }
  est.lo = Quantile(taus, 0.025);
  est.hi = Quantile(taus, 0.975);
  return est;
}

}  // namespace recarena::experiments
