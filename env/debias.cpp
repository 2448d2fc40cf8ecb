#include "env/debias.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "env/calibration.h"

namespace recarena::env {
namespace {

struct Ratings {
  torch::Tensor users, items, values, weights;  // [n] int64, int64, float, float (1 / P)
  int64_t size() const { return users.defined() ? users.size(0) : 0; }
  Ratings Select(const std::vector<int64_t>& idx) const {
    const auto t = torch::tensor(idx, torch::kInt64);
    return {users.index_select(0, t), items.index_select(0, t), values.index_select(0, t),
            weights.index_select(0, t)};
  }
};

Ratings Collect(const data::Dataset& ds, const data::CoatPropensities& prop, int part) {
  std::vector<int64_t> u, i;
  std::vector<float> v, w;
  for (const auto& x : ds.interactions) {
    if (x.part != part) continue;
    u.push_back(x.user);
    i.push_back(x.item);
    v.push_back(x.value);
    w.push_back(static_cast<float>(1.0 / prop.OfDense(ds, x.user, x.item)));
  }
  if (u.empty()) throw Error("CompareNaiveIps: part " + std::to_string(part) + " has no ratings");
  return {torch::tensor(u, torch::kInt64), torch::tensor(i, torch::kInt64),
          torch::tensor(v, torch::kFloat), torch::tensor(w, torch::kFloat)};
}

struct Mf {
  torch::Tensor mu, bu, bi, p, q;
  torch::Tensor Predict(const torch::Tensor& u, const torch::Tensor& i) const {
    return mu + bu.index_select(0, u) + bi.index_select(0, i) +
           (p.index_select(0, u) * q.index_select(0, i)).sum(1);
  }
};

Mf Train(const Ratings& r, bool ips, double lambda, int64_t num_users, int64_t num_items,
         const DebiasOptions& o, uint64_t init_seed) {
  torch::manual_seed(init_seed);
  Mf m;
  const double mean = r.values.mean().item<double>();
  m.mu = torch::full({1}, mean).requires_grad_(true);
  m.bu = torch::zeros({num_users}).requires_grad_(true);
  m.bi = torch::zeros({num_items}).requires_grad_(true);
  m.p = (torch::randn({num_users, o.dim}) * 0.1).requires_grad_(true);
  m.q = (torch::randn({num_items, o.dim}) * 0.1).requires_grad_(true);
  torch::optim::Adam opt({m.mu, m.bu, m.bi, m.p, m.q}, torch::optim::AdamOptions(o.lr));
  const torch::Tensor w = ips ? r.weights : torch::ones_like(r.values);
  for (int64_t step = 0; step < o.steps; ++step) {
    const auto err = r.values - m.Predict(r.users, r.items);
    const auto fit = (err * err * w).sum() / w.sum();
    const auto reg =
        (m.p.index_select(0, r.users).pow(2).sum(1) + m.q.index_select(0, r.items).pow(2).sum(1))
            .mean();
    const auto loss = fit + lambda * reg;
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard no_grad;
  for (auto* t : {&m.mu, &m.bu, &m.bi, &m.p, &m.q}) *t = t->detach();
  return m;
}

double WeightedMse(const Mf& m, const Ratings& r, bool ips) {
  torch::NoGradGuard no_grad;
  const auto err = r.values - m.Predict(r.users, r.items);
  const torch::Tensor w = ips ? r.weights : torch::ones_like(r.values);
  return ((err * err * w).sum() / w.sum()).item<double>();
}

void Evaluate(const Mf& m, const Ratings& test, double liked, DebiasArm& arm) {
  torch::NoGradGuard no_grad;
  const auto pred = m.Predict(test.users, test.items).contiguous();
  const auto err = test.values - pred;
  arm.rmse.push_back(std::sqrt((err * err).mean().item<double>()));
  arm.mae.push_back(err.abs().mean().item<double>());
  std::vector<float> s(pred.data_ptr<float>(), pred.data_ptr<float>() + pred.numel());
  const auto v = test.values.contiguous();
  std::vector<uint8_t> pos(static_cast<size_t>(v.numel()));
  for (int64_t k = 0; k < v.numel(); ++k)
    pos[static_cast<size_t>(k)] = v.data_ptr<float>()[k] >= liked;
  arm.auc.push_back(RocAuc(s, pos));
}

}  // namespace

DebiasResult CompareNaiveIps(const data::Dataset& ds, const data::CoatPropensities& prop,
                             int train_part, int test_part, uint64_t seed, const DebiasOptions& o) {
  if (o.seeds < 1 || o.steps < 1 || o.dim < 1 || o.lambdas.empty()) {
    throw Error("CompareNaiveIps: seeds, steps and dim must be >= 1 and lambdas non-empty");
  }
  const Ratings train = Collect(ds, prop, train_part);
  const Ratings test = Collect(ds, prop, test_part);
  const int64_t U = ds.users.size(), I = ds.items.size();
  DebiasResult out;
  out.train_ratings = train.size();
  out.test_ratings = test.size();
  for (int64_t s = 0; s < o.seeds; ++s) {
    Rng rng = Rng(seed).Fork(static_cast<uint64_t>(s));
    std::vector<int64_t> order(static_cast<size_t>(train.size()));
    std::iota(order.begin(), order.end(), 0);
    rng.Shuffle(order);
    const auto n_val = static_cast<size_t>(std::max<int64_t>(1, train.size() / 10));
    const Ratings val =
        train.Select({order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_val)});
    const Ratings fit =
        train.Select({order.begin() + static_cast<std::ptrdiff_t>(n_val), order.end()});
    const uint64_t init = rng.NextU64();
    for (bool ips : {false, true}) {
      double best = std::numeric_limits<double>::infinity(), best_lambda = o.lambdas[0];
      for (double lambda : o.lambdas) {
        const double l = WeightedMse(Train(fit, ips, lambda, U, I, o, init), val, ips);
        if (l < best) {
          best = l;
          best_lambda = lambda;
        }
      }
      DebiasArm& arm = ips ? out.ips : out.naive;
      arm.lambda.push_back(best_lambda);
      Evaluate(Train(train, ips, best_lambda, U, I, o, init), test, o.liked_threshold, arm);
    }
  }
  return out;
}

}  // namespace recarena::env
