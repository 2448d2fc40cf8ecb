#include "experiments/eval/ope.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace recarena::experiments {

void OpeOptions::Validate() const {
  if (!(clip > 0.0) || !std::isfinite(clip)) {
    throw ConfigError("ope.clip", fmt::format("ope.clip must be a positive number, got {}", clip));
  }
  if (!(z > 0.0) || !std::isfinite(z)) {
    throw ConfigError("ope.z", fmt::format("ope.z must be a positive number, got {}", z));
  }
}

namespace {

struct MeanSe {
  double mean = 0.0, se = 0.0;
};

// Mean and standard error (sample sd / sqrt(n); 0 for n = 1) of xs.
MeanSe MeanAndError(const std::vector<double>& xs) {
  const auto n = static_cast<double>(xs.size());
  double m = 0.0;
  for (double x : xs) m += x;
  m /= n;
  double ss = 0.0;
  for (double x : xs) ss += (x - m) * (x - m);
  return {m, xs.size() > 1 ? std::sqrt(ss / (n - 1.0) / n) : 0.0};
}

OpeEstimate Make(const std::string& name, double value, double se, const std::vector<double>& w,
                 const OpeOptions& o) {
  OpeEstimate e;
  e.estimator = name;
  e.value = value;
  e.std_error = se;
  e.low = value - o.z * se;
  e.high = value + o.z * se;
  double sw = 0.0, sw2 = 0.0;
  for (double x : w) {
    sw += x;
    sw2 += x * x;
    e.max_weight = std::max(e.max_weight, x);
  }
  e.ess = sw2 > 0.0 ? sw * sw / sw2 : 0.0;
  e.n = static_cast<int64_t>(w.size());
  e.mean_weight = sw / static_cast<double>(w.size());
  return e;
}

// IPS, SNIPS and DR with the weights w.
void Estimate(const std::vector<OpeSample>& s, const std::vector<double>& w,
              const std::string& suffix, const OpeOptions& o, std::vector<OpeEstimate>* out) {
  const size_t n = s.size();
  std::vector<double> ips(n), dr(n);
  double sw = 0.0, swr = 0.0;
  for (size_t i = 0; i < n; ++i) {
    ips[i] = w[i] * s[i].reward;
    dr[i] = s[i].model_value + w[i] * (s[i].reward - s[i].model_logged);
    sw += w[i];
    swr += w[i] * s[i].reward;
  }
  const MeanSe a = MeanAndError(ips);
  out->push_back(Make("ips" + suffix, a.mean, a.se, w, o));
  const double v = sw > 0.0 ? swr / sw : 0.0;
  double num = 0.0;
  for (size_t i = 0; i < n; ++i) num += w[i] * w[i] * (s[i].reward - v) * (s[i].reward - v);
  out->push_back(Make("snips" + suffix, v, sw > 0.0 ? std::sqrt(num) / sw : 0.0, w, o));
  const MeanSe d = MeanAndError(dr);
  out->push_back(Make("dr" + suffix, d.mean, d.se, w, o));
}

}  // namespace

std::vector<OpeEstimate> EstimatePolicyValue(const std::vector<OpeSample>& samples,
                                             const OpeOptions& options) {
  options.Validate();
  if (samples.empty()) throw Error("off-policy evaluation: no logged samples");
  std::vector<double> w(samples.size()), wc(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const OpeSample& s = samples[i];
    if (!(s.behaviour > 0.0) || !std::isfinite(s.behaviour)) {
      throw Error(fmt::format(
          "off-policy evaluation: sample {} has behaviour probability {} (must be > 0: the "
          "behaviour policy must give every logged action a chance)",
          i, s.behaviour));
    }
    w[i] = s.target / s.behaviour;
    wc[i] = std::min(w[i], options.clip);
  }
  std::vector<OpeEstimate> out;
  Estimate(samples, w, "", options, &out);
  Estimate(samples, wc, "_clipped", options, &out);
  return out;
}

}  // namespace recarena::experiments
