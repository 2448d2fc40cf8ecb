// Off-policy evaluation: a target policy's value estimated from logged decisions made by another
// (behaviour) policy. Inverse propensity scoring (Horvitz-Thompson; IPS), its self-normalised form
// (SNIPS, Swaminathan & Joachims 2015) and doubly robust (DR, Dudik et al. 2011), each also with
// importance weights clipped at `clip` (Ionides 2008; biased towards the behaviour's value, lower
// variance). For logged samples i = 1..n with reward r_i, w_i = pi(a_i|s_i) / mu(a_i|s_i), a reward
// model qhat and its value under the target policy vhat(s) = sum_a pi(a|s) qhat(s, a):
//   IPS    V = (1/n) sum_i w_i r_i
//   SNIPS  V = sum_i w_i r_i / sum_i w_i
//   DR     V = (1/n) sum_i [ vhat(s_i) + w_i (r_i - qhat(s_i, a_i)) ]
// Intervals are normal-approximation (CLT) 95% intervals: mean +- z * sd / sqrt(n) for IPS and DR,
// and the delta-method standard error sqrt(sum_i w_i^2 (r_i - V)^2) / sum_i w_i for SNIPS. The
// effective sample size (sum w)^2 / sum w^2 says how many logged samples the estimate is worth, and
// the mean weight should be near 1 (see OpeEstimate::mean_weight).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recarena::experiments {

struct OpeSample {
  double reward = 0.0;        // r of the logged action
  double behaviour = 1.0;     // mu(a|s) > 0 of the logged action
  double target = 0.0;        // pi(a|s) of the logged action
  double model_logged = 0.0;  // qhat(s, a) of the logged action (DR)
  double model_value = 0.0;   // sum_a pi(a|s) qhat(s, a) (DR)
};

struct OpeOptions {
  double clip = 10.0;     // the clipped estimators use min(w, clip)
  double z = 1.959964;    // two-sided 95% normal quantile
  void Validate() const;  // throws ConfigError naming ope.clip / ope.z
};

struct OpeEstimate {
  std::string estimator;  // ips, snips, dr, ips_clipped, snips_clipped, dr_clipped
  double value = 0.0;
  double std_error = 0.0;
  double low = 0.0, high = 0.0;  // value -+ z * std_error
  double ess = 0.0;              // effective sample size of the (clipped) weights
  int64_t n = 0;
  double max_weight = 0.0;
  // Mean of the (clipped) weights: E_mu[pi / mu] = 1 when mu is the true logging policy and pi's
  // support is covered, so a value far from 1 flags a misspecified behaviour model (or, clipped,
  // how much mass the cap removed).
  double mean_weight = 0.0;
};

// All six estimates, in the order ips, snips, dr, ips_clipped, snips_clipped, dr_clipped. Throws
// recarena::Error for an empty sample list or a behaviour probability <= 0 or non-finite (naming
// the sample).
std::vector<OpeEstimate> EstimatePolicyValue(const std::vector<OpeSample>& samples,
                                             const OpeOptions& options);

}  // namespace recarena::experiments
