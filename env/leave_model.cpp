#include "env/leave_model.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace recarena::env {

torch::Tensor SimilarRecentCount(const torch::Tensor& items, const torch::Tensor& recent,
                                 const torch::Tensor& keys, double threshold, bool count_repeats) {
  const auto same = recent == items.unsqueeze(1);
  auto valid = count_repeats ? recent >= 0 : (recent >= 0) & same.logical_not();
  auto similar = same;
  if (keys.defined()) {
    const int64_t B = items.size(0), W = recent.size(1);
    auto ka = keys.index_select(0, items);                                           // [B, F]
    auto kr = keys.index_select(0, recent.clamp_min(0).flatten()).view({B, W, -1});  // [B, W, F]
    auto dot = (kr * ka.unsqueeze(1)).sum(-1);
    similar = similar | (dot >= static_cast<float>(threshold));
  }
  return (similar & valid).sum(1);
}

LeaveStepFeatures LeaveFeatures(const torch::Tensor& reward_norm,
                                const torch::Tensor& prev_satisfaction, const torch::Tensor& first,
                                const torch::Tensor& similar_share, double satisfaction_decay) {
  const auto d = static_cast<float>(satisfaction_decay);
  auto sat = torch::where(first, reward_norm, (1.0f - d) * prev_satisfaction + d * reward_norm);
  return {torch::stack({reward_norm, sat, similar_share}, 1), sat};
}

torch::Tensor ConditionalHazard(const torch::Tensor& base, const torch::Tensor& features,
                                const std::vector<double>& weights) {
  if (weights.size() != static_cast<size_t>(1 + kLeaveFeatures)) {
    throw Error("a conditional leave hazard needs " + std::to_string(1 + kLeaveFeatures) +
                " weights, got " + std::to_string(weights.size()));
  }
  auto logit = torch::logit(base.clamp(1e-6, 1.0 - 1e-6)) + static_cast<float>(weights[0]);
  for (int64_t k = 0; k < kLeaveFeatures; ++k) {
    logit = logit + static_cast<float>(weights[static_cast<size_t>(1 + k)]) * features.select(1, k);
  }
  return torch::sigmoid(logit);
}

std::vector<std::pair<int32_t, int32_t>> SessionPieces(const data::Sequence& seq,
                                                       double gap_minutes) {
  std::vector<std::pair<int32_t, int32_t>> out;
  if (seq.size() == 0) return out;
  int32_t begin = 0;
  for (int32_t t = 1; t < seq.size(); ++t) {
    const double gap =
        seq.timestamps[static_cast<size_t>(t)] - seq.timestamps[static_cast<size_t>(t - 1)];
    if (gap_minutes > 0 && gap > gap_minutes * 60.0) {
      out.emplace_back(begin, t);
      begin = t;
    }
  }
  out.emplace_back(begin, seq.size());
  return out;
}

std::vector<double> FitConditionalHazard(const HazardRows& rows,
                                         const std::vector<double>& baseline, double l2) {
  const int64_t n = rows.size();
  if (n == 0) throw Error("cannot fit a conditional leave hazard to zero logged steps");
  if (baseline.empty()) throw Error("a conditional leave hazard needs a baseline hazard");
  const int64_t P = 1 + kLeaveFeatures;
  auto x = torch::ones({n, P}, torch::kDouble);
  x.slice(1, 1) =
      torch::from_blob(const_cast<float*>(rows.features.data()), {n, kLeaveFeatures}, torch::kFloat)
          .to(torch::kDouble);
  std::vector<double> offset(static_cast<size_t>(n));
  std::vector<double> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto t = static_cast<size_t>(std::max<int64_t>(1, rows.step[static_cast<size_t>(i)]));
    const double h = std::clamp(baseline[std::min(t, baseline.size()) - 1], 1e-6, 1.0 - 1e-6);
    offset[static_cast<size_t>(i)] = std::log(h / (1.0 - h));
    y[static_cast<size_t>(i)] = rows.left[static_cast<size_t>(i)] ? 1.0 : 0.0;
  }
  auto o = torch::tensor(offset, torch::kDouble);
  auto yt = torch::tensor(y, torch::kDouble);
  auto beta = torch::zeros({P}, torch::kDouble);
  auto eye = torch::eye(P, torch::kDouble);
  // Newton-Raphson on the penalised log-likelihood (concave: one maximum). The step is halved
  // while it lowers the objective, so a poor start cannot overshoot.
  auto objective = [&](const torch::Tensor& b) {
    auto eta = o + x.matmul(b);
    auto ll = (yt * eta - torch::nn::functional::softplus(eta)).sum();
    return (ll - 0.5 * l2 * b.dot(b)).item<double>();
  };
  double current = objective(beta);
  for (int iter = 0; iter < 100; ++iter) {
    auto p = torch::sigmoid(o + x.matmul(beta));
    auto grad = x.t().matmul(yt - p) - l2 * beta;
    auto hess = (x * (p * (1 - p)).unsqueeze(1)).t().matmul(x) + l2 * eye;
    auto step = torch::linalg_solve(hess, grad);
    double scale = 1.0, next = current;
    torch::Tensor candidate;
    for (int h = 0; h < 30; ++h, scale *= 0.5) {
      candidate = beta + scale * step;
      next = objective(candidate);
      if (next >= current) break;
    }
    if (next < current) break;
    beta = candidate;
    const double moved = (scale * step).abs().max().item<double>();
    current = next;
    if (moved < 1e-10) break;
  }
  auto b = beta.contiguous();
  return std::vector<double>(b.data_ptr<double>(), b.data_ptr<double>() + P);
}

HazardRows LoggedHazardRows(const std::vector<data::Sequence>& seqs,
                            const ResponseEnsemble& response, int64_t num_items, int64_t state_len,
                            int64_t max_length, double gap_minutes, const torch::Tensor& keys,
                            double threshold, int64_t window, double satisfaction_decay,
                            bool count_repeats, torch::Device device) {
  // Every logged step as a response row (history, user, item) plus its step, piece start and
  // recent items; then the features in piece order.
  const int64_t L = state_len, W = std::max<int64_t>(1, window);
  std::vector<int64_t> hist, lens, users, actions, recent;
  std::vector<uint8_t> first;
  HazardRows rows;
  for (const auto& s : seqs) {
    for (const auto& [begin, end] : SessionPieces(s, gap_minutes)) {
      for (int32_t pos = begin; pos < end; ++pos) {
        const int64_t step = pos - begin + 1;
        if (step > max_length) break;
        // History: the last L items before pos, or the start state {i_1} at the user's first item.
        const int32_t to = pos == 0 ? 1 : pos;
        int64_t k = 0;
        for (int32_t j = std::max<int32_t>(0, to - static_cast<int32_t>(L)); j < to; ++j, ++k) {
          hist.push_back(s.items[static_cast<size_t>(j)]);
        }
        lens.push_back(k);
        for (; k < L; ++k) hist.push_back(num_items);
        users.push_back(s.user);
        actions.push_back(s.items[static_cast<size_t>(pos)]);
        for (int64_t w = W; w >= 1; --w) {
          const int32_t j = pos - static_cast<int32_t>(w);
          recent.push_back(j >= begin ? s.items[static_cast<size_t>(j)] : -1);
        }
        first.push_back(step == 1 ? 1 : 0);
        rows.step.push_back(step);
        rows.left.push_back(pos == end - 1 && step <= max_length ? 1 : 0);
      }
    }
  }
  const int64_t n = rows.size();
  rows.features.resize(static_cast<size_t>(n * kLeaveFeatures));
  if (n == 0) return rows;
  const auto& rc = response.config();
  const double span = std::max(1e-12, rc.reward_max - rc.reward_min);
  auto T = [](std::vector<int64_t>& v, std::vector<int64_t> shape) {
    return torch::from_blob(v.data(), shape, torch::kInt64);
  };
  auto all_hist = T(hist, {n, L}), all_lens = T(lens, {n}), all_users = T(users, {n}),
       all_actions = T(actions, {n}), all_recent = T(recent, {n, W});
  std::vector<float> r_norm(static_cast<size_t>(n)), share(static_cast<size_t>(n));
  const torch::Tensor dev_keys = keys.defined() ? keys.to(device) : torch::Tensor();
  constexpr int64_t kBatch = 8192;
  for (int64_t lo = 0; lo < n; lo += kBatch) {
    const int64_t hi = std::min(n, lo + kBatch);
    auto act = all_actions.slice(0, lo, hi).to(device);
    ResponseInput in{all_hist.slice(0, lo, hi).to(device), all_lens.slice(0, lo, hi).to(device),
                     all_users.slice(0, lo, hi).to(device), act};
    auto r = ((response.Expected(in).to(torch::kDouble) - rc.reward_min) / span)
                 .clamp(0.0, 1.0)
                 .to(torch::kFloat)
                 .to(torch::kCPU)
                 .contiguous();
    std::copy(r.data_ptr<float>(), r.data_ptr<float>() + (hi - lo), r_norm.begin() + lo);
    auto q = (SimilarRecentCount(act, all_recent.slice(0, lo, hi).to(device), dev_keys, threshold,
                                 count_repeats)
                  .to(torch::kFloat) /
              static_cast<float>(W))
                 .to(torch::kCPU)
                 .contiguous();
    std::copy(q.data_ptr<float>(), q.data_ptr<float>() + (hi - lo), share.begin() + lo);
  }
  // Satisfaction through the simulator's update, one step at a time over every session (the rows
  // of a session are consecutive, so step t's predecessor is the row before it).
  auto first_t = torch::from_blob(first.data(), {n}, torch::kUInt8).to(torch::kBool);
  auto r_t = torch::from_blob(r_norm.data(), {n}, torch::kFloat);
  auto q_t = torch::from_blob(share.data(), {n}, torch::kFloat);
  auto step_t = torch::from_blob(rows.step.data(), {n}, torch::kInt64);
  auto sat_t = torch::zeros({n}, torch::kFloat);
  const int64_t last_step = step_t.max().item<int64_t>();
  for (int64_t t = 1; t <= last_step; ++t) {
    auto idx = (step_t == t).nonzero().flatten();
    if (idx.numel() == 0) continue;
    auto prev =
        t == 1 ? torch::zeros({idx.numel()}, torch::kFloat) : sat_t.index_select(0, idx - 1);
    const auto out = LeaveFeatures(r_t.index_select(0, idx), prev, first_t.index_select(0, idx),
                                   q_t.index_select(0, idx), satisfaction_decay);
    sat_t.index_copy_(0, idx, out.satisfaction);
  }
  const float* sat = sat_t.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    rows.features[static_cast<size_t>(i * kLeaveFeatures)] = r_norm[static_cast<size_t>(i)];
    rows.features[static_cast<size_t>(i * kLeaveFeatures + 1)] = sat[i];
    rows.features[static_cast<size_t>(i * kLeaveFeatures + 2)] = share[static_cast<size_t>(i)];
  }
  return rows;
}

}  // namespace recarena::env
