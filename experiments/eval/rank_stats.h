// Agreement between two rankings of the same policies: Kendall's tau-b and a two-stage bootstrap
// interval for it. This is the acceptance test of a simulator (issue 15, docs/simulator.md
// "Does it rank policies like the truth?"): policies are ranked by their mean return in a learned
// simulator and in the ground truth, and tau says how often a pair is ordered the same way.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace recarena::experiments {

// Kendall's tau-b of paired scores (a[i], b[i]) (Kendall 1945):
//   tau_b = (C - D) / sqrt((n0 - n1) (n0 - n2)),
// C / D the concordant / discordant pairs, n0 = n(n-1)/2, n1 / n2 the pairs tied in a / in b.
// 1: same order; -1: reversed. Throws recarena::Error when the sizes differ or n < 2; returns 0
// when a or b is constant (the denominator is 0: no order to agree with).
double KendallTauB(const std::vector<double>& a, const std::vector<double>& b);

// The per-episode returns of the runs of several policies: samples[policy][seed][episode]. Every
// policy has at least one seed, every seed at least one episode.
using PolicySamples = std::vector<std::vector<std::vector<double>>>;

// Each policy's score: the mean over its seeds of each seed's mean return (seeds weigh the same).
std::vector<double> PolicyMeans(const PolicySamples& samples);

struct TauEstimate {
  double tau = 0.0;           // KendallTauB(PolicyMeans(a), PolicyMeans(b))
  double lo = 0.0, hi = 0.0;  // percentile bootstrap 95% interval
  int64_t replicates = 0;
};

// Tau between the policy scores under a and under b, with a two-stage percentile bootstrap: each
// replicate draws, for every policy, its seeds with replacement (the same seed indices for a and b,
// because seed s is the same trained agent evaluated in both) and then, independently in a and b,
// each drawn seed's episodes with replacement (the two evaluations see different episodes). So the
// interval covers both the training seed-to-seed variation and the evaluation noise. a and b must
// list the same policies with the same number of seeds each; throws recarena::Error otherwise or
// when replicates < 1.
TauEstimate BootstrapKendallTau(const PolicySamples& a, const PolicySamples& b, int64_t replicates,
                                Rng& rng);

}  // namespace recarena::experiments
