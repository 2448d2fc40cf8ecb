#include "experiments/eval/ope_coat.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace recarena::experiments {

CoatOpeResult EvaluateCoatOpe(const data::Dataset& coat, const data::CoatPropensities& propensities,
                              const std::vector<std::vector<double>>& pi, double like_threshold,
                              const OpeOptions& options) {
  const auto users = static_cast<size_t>(coat.users.size());
  const size_t items = coat.items.external_ids.size();
  if (pi.size() != users) {
    throw Error(fmt::format("coat OPE: the policy has {} users, Coat {}", pi.size(), users));
  }
  for (const auto& row : pi) {
    if (row.size() != items) {
      throw Error(fmt::format("coat OPE: a policy row has {} items, Coat {}", row.size(), items));
    }
  }
  std::vector<double> n_user(users, 0.0), like(items, 0.0), rated(items, 0.0), ref_sum(users, 0.0),
      ref_n(users, 0.0);
  double n = 0.0, likes = 0.0;
  for (const data::Interaction& x : coat.interactions) {
    const double r = x.value >= like_threshold ? 1.0 : 0.0;
    const auto u = static_cast<size_t>(x.user), i = static_cast<size_t>(x.item);
    if (x.part == 0) {
      n_user[u] += 1.0;
      like[i] += r;
      rated[i] += 1.0;
      n += 1.0;
      likes += r;
    } else {
      ref_sum[u] += pi[u][i] * r;
      ref_n[u] += 1.0;
    }
  }
  // The MCAR reference: (N / |T_u|) sum_{i in T_u} pi(i|u) r(u, i), averaged over users.
  CoatOpeResult out;
  std::vector<double> per_user(users);
  for (size_t u = 0; u < users; ++u) {
    if (ref_n[u] == 0.0) throw Error(fmt::format("coat OPE: user {} has no test ratings", u));
    per_user[u] = static_cast<double>(items) / ref_n[u] * ref_sum[u];
    out.reference += per_user[u] / static_cast<double>(users);
  }
  double ss = 0.0;
  for (double x : per_user) ss += (x - out.reference) * (x - out.reference);
  out.reference_half_width =
      options.z * std::sqrt(ss / static_cast<double>(users - 1) / static_cast<double>(users));

  std::vector<double> qhat(items), vhat(users, 0.0);
  const double base = n > 0.0 ? likes / n : 0.0;
  for (size_t i = 0; i < items; ++i) qhat[i] = (like[i] + 10.0 * base) / (rated[i] + 10.0);
  for (size_t u = 0; u < users; ++u)
    for (size_t i = 0; i < items; ++i) vhat[u] += pi[u][i] * qhat[i];
  const double scale = n / static_cast<double>(users);
  std::vector<OpeSample> with_p, naive;
  for (const data::Interaction& x : coat.interactions) {
    if (x.part != 0) continue;
    const auto u = static_cast<size_t>(x.user), i = static_cast<size_t>(x.item);
    OpeSample s;
    s.reward = x.value >= like_threshold ? 1.0 : 0.0;
    s.target = pi[u][i];
    s.model_logged = qhat[i];
    s.model_value = vhat[u] * scale / n_user[u];
    s.behaviour = propensities.OfDense(coat, x.user, x.item) / scale;
    with_p.push_back(s);
    s.behaviour = n_user[u] / static_cast<double>(items) / scale;
    naive.push_back(s);
  }
  out.estimates = EstimatePolicyValue(with_p, options);
  out.naive = EstimatePolicyValue(naive, options);
  return out;
}

}  // namespace recarena::experiments
