#include "env/response_training.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <string>

#include "core/error.h"
#include "env/item_neighbourhood.h"

namespace recarena::env {

NegativeSampler::NegativeSampler(NegativeSampling kind, int64_t num_items,
                                 const std::vector<int64_t>& counts)
    : kind_(kind), num_items_(num_items) {
  if (num_items < 1) throw Error("NegativeSampler: num_items must be >= 1");
  if (kind_ == NegativeSampling::kUniform || kind_ == NegativeSampling::kExposure) return;
  if (static_cast<int64_t>(counts.size()) != num_items) {
    throw Error("NegativeSampler: " + std::to_string(counts.size()) + " item counts for " +
                std::to_string(num_items) + " items");
  }
  cdf_.resize(counts.size());
  double total = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] < 0) throw Error("NegativeSampler: negative count for item " + std::to_string(i));
    total += static_cast<double>(counts[i]) + 1.0;
    cdf_[i] = total;
  }
  for (auto& c : cdf_) c /= total;
  cdf_.back() = 1.0;
}

int64_t NegativeSampler::Draw(Rng& rng) const {
  if (kind_ == NegativeSampling::kExposure) {
    throw Error("NegativeSampler: exposure negatives come from the log, not from Draw");
  }
  if (kind_ == NegativeSampling::kUniform ||
      (kind_ == NegativeSampling::kMixed && rng.Uniform() < 0.5)) {
    return static_cast<int64_t>(rng.UniformInt(static_cast<uint64_t>(num_items_)));
  }
  const double u = rng.Uniform();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min<int64_t>(static_cast<int64_t>(it - cdf_.begin()), num_items_ - 1);
}

ResponseRows SelectRows(const ResponseRows& rows, const std::vector<size_t>& pick) {
  ResponseRows out;
  out.state_len = rows.state_len;
  const auto L = static_cast<size_t>(rows.state_len);
  for (size_t r : pick) {
    if (r >= rows.size())
      throw Error("SelectRows: row " + std::to_string(r) + " of " + std::to_string(rows.size()));
    out.items.insert(out.items.end(), rows.items.begin() + static_cast<std::ptrdiff_t>(r * L),
                     rows.items.begin() + static_cast<std::ptrdiff_t>((r + 1) * L));
    out.lengths.push_back(rows.lengths[r]);
    out.users.push_back(rows.users[r]);
    out.actions.push_back(rows.actions[r]);
    out.targets.push_back(rows.targets[r]);
    if (!rows.weights.empty()) out.weights.push_back(rows.weights[r]);
    if (!rows.neighbourhood.empty()) out.neighbourhood.push_back(rows.neighbourhood[r]);
  }
  return out;
}

ResponseRows HeadRows(const ResponseRows& rows, size_t n) {
  std::vector<size_t> pick(std::min(n, rows.size()));
  std::iota(pick.begin(), pick.end(), 0);
  return SelectRows(rows, pick);
}

std::vector<int64_t> ItemCounts(const std::vector<data::Sequence>& seqs, int64_t num_items) {
  std::vector<int64_t> counts(static_cast<size_t>(num_items), 0);
  for (const auto& s : seqs) {
    for (auto item : s.items) ++counts[static_cast<size_t>(item)];
  }
  return counts;
}

ResponseRows MakeResponseRows(const std::vector<data::Sequence>& seqs, const ResponseConfig& cfg,
                              int64_t num_items, int64_t state_len, Rng& rng,
                              const NegativeSampler* sampler,
                              const data::ExposureIndex* exposures) {
  const NegativeSampler uniform(NegativeSampling::kUniform, num_items);
  if (sampler == nullptr) sampler = &uniform;
  const bool from_log = sampler->kind() == NegativeSampling::kExposure;
  if (from_log && (exposures == nullptr || exposures->empty())) {
    throw Error(
        "MakeResponseRows: exposure negatives need a log that records exposures, and none were "
        "given");
  }
  ResponseRows rows;
  rows.state_len = state_len;
  const bool from_first = cfg.kind == ResponseKind::kDeepFm;
  auto add = [&](const data::Sequence& s, int32_t t, int64_t action, float target) {
    const int64_t start = std::max<int64_t>(0, t - state_len);
    const int64_t len = t - start;
    for (int64_t j = 0; j < state_len; ++j) {
      rows.items.push_back(j < len ? s.items[static_cast<size_t>(start + j)] : num_items);
    }
    rows.lengths.push_back(std::max<int64_t>(1, len));
    rows.users.push_back(s.user);
    rows.actions.push_back(action);
    rows.targets.push_back(target);
  };
  const float negative =
      cfg.target == ResponseTarget::kClick ? 0.0f : static_cast<float>(cfg.negative_value);
  const int32_t first = from_first ? 0 : 1;
  for (const auto& s : seqs) {
    // Exposure negatives: e's history is the clicks strictly before its step (a click and the
    // rest of its slate share one timestamp); merged in time order with the positives.
    static const std::vector<data::Exposure> kNone;
    const auto& shown = from_log ? exposures->Of(s.user, s.session) : kNone;
    size_t e = 0;
    auto add_shown_before = [&](int32_t t_end) {
      for (; e < shown.size(); ++e) {
        const auto t = static_cast<int32_t>(
            std::lower_bound(s.timestamps.begin(), s.timestamps.end(), shown[e].timestamp) -
            s.timestamps.begin());
        if (t > t_end) break;
        if (t >= first) add(s, t, shown[e].item, negative);
      }
    };
    for (int32_t t = first; t < s.size(); ++t) {
      add_shown_before(t);
      const float positive =
          cfg.target == ResponseTarget::kClick ? 1.0f : s.values[static_cast<size_t>(t)];
      add(s, t, s.items[static_cast<size_t>(t)], positive);
      for (int64_t k = 0; !from_log && k < cfg.negatives; ++k) {
        add(s, t, sampler->Draw(rng), negative);
      }
    }
    add_shown_before(s.size());
  }
  return rows;
}

// Each row's f(h, a) from the other folds' similarities (5 folds; env/item_neighbourhood.h),
// with the same window as the model's similarities (the state length).
std::vector<float> OutOfFoldNeighbourhood(const std::vector<data::Sequence>& seqs,
                                          const ResponseRows& rows, int64_t num_items) {
  const auto n = static_cast<int64_t>(rows.size());
  auto blob = [](const std::vector<int64_t>& v, torch::IntArrayRef shape) {
    return torch::from_blob(const_cast<int64_t*>(v.data()), shape, torch::kInt64);
  };
  return OutOfFoldScores(seqs, num_items, rows.state_len, 5, blob(rows.items, {n, rows.state_len}),
                         blob(rows.users, {n}), blob(rows.actions, {n}));
}

namespace {

// Rows [b0, b1) as a response-model input on device.
ResponseInput RowsInput(const ResponseRows& rows, int64_t b0, int64_t b1, torch::Device device) {
  const int64_t L = rows.state_len, m = b1 - b0;
  auto slice = [&](const std::vector<int64_t>& v, int64_t width) {
    return torch::tensor(std::vector<int64_t>(v.begin() + b0 * width, v.begin() + b1 * width))
        .to(device);
  };
  return {slice(rows.items, L).view({m, L}), slice(rows.lengths, 1), slice(rows.users, 1),
          slice(rows.actions, 1)};
}

double RowsLoss(ResponseModelImpl& model, const ResponseRows& rows, const ResponseConfig& cfg,
                torch::Device device) {
  torch::NoGradGuard no_grad;
  model.eval();
  const auto n = static_cast<int64_t>(rows.size());
  torch::Tensor sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device));
  for (int64_t b0 = 0; b0 < n; b0 += 4096) {
    const int64_t b1 = std::min(n, b0 + 4096);
    const ResponseInput in = RowsInput(rows, b0, b1, device);
    auto y = torch::tensor(std::vector<float>(rows.targets.begin() + b0, rows.targets.begin() + b1))
                 .to(device);
    auto out = model.forward(in);
    auto loss = cfg.target == ResponseTarget::kClick
                    ? torch::binary_cross_entropy_with_logits(out, y, {}, {}, at::Reduction::Sum)
                    : torch::mse_loss(out, y, at::Reduction::Sum);
    sum += loss.to(torch::kDouble);  // one read after the loop
  }
  model.train();
  return sum.item<double>() / static_cast<double>(std::max<int64_t>(1, n));
}

}  // namespace

double TrainResponseModel(ResponseModelImpl& model, const ResponseRows& rows,
                          const ResponseConfig& cfg, torch::Device device, Rng& rng,
                          const std::function<void(int64_t, double)>& progress,
                          const ResponseRows* validation,
                          const std::function<void(int64_t, double)>& validation_progress) {
  const auto n = static_cast<int64_t>(rows.size());
  if (n == 0) throw Error("no training rows for the response model");
  model.to(device);
  model.train();
  torch::optim::Adam opt(model.parameters(),
                         torch::optim::AdamOptions(cfg.lr).weight_decay(cfg.weight_decay));
  const int64_t L = rows.state_len;
  auto items = torch::from_blob(const_cast<int64_t*>(rows.items.data()), {n, L}, torch::kInt64);
  auto lengths = torch::from_blob(const_cast<int64_t*>(rows.lengths.data()), {n}, torch::kInt64);
  auto users = torch::from_blob(const_cast<int64_t*>(rows.users.data()), {n}, torch::kInt64);
  auto actions = torch::from_blob(const_cast<int64_t*>(rows.actions.data()), {n}, torch::kInt64);
  auto targets = torch::from_blob(const_cast<float*>(rows.targets.data()), {n}, torch::kFloat);
  if (!rows.weights.empty() && static_cast<int64_t>(rows.weights.size()) != n) {
    throw Error("TrainResponseModel: " + std::to_string(rows.weights.size()) + " weights for " +
                std::to_string(n) + " rows");
  }
  const torch::Tensor given_nb =
      rows.neighbourhood.empty()
          ? torch::Tensor()
          : torch::from_blob(const_cast<float*>(rows.neighbourhood.data()), {n}, torch::kFloat);
  if (given_nb.defined() && static_cast<int64_t>(rows.neighbourhood.size()) != n) {
    throw Error("TrainResponseModel: " + std::to_string(rows.neighbourhood.size()) +
                " neighbourhood scores for " + std::to_string(n) + " rows");
  }
  model.WarmStart({items.to(device), lengths.to(device), users.to(device), actions.to(device),
                   given_nb.defined() ? given_nb.to(device) : torch::Tensor()},
                  targets.to(device), cfg.target);
  const torch::Tensor weights =
      rows.weights.empty()
          ? torch::Tensor()
          : torch::from_blob(const_cast<float*>(rows.weights.data()), {n}, torch::kFloat);
  std::vector<int64_t> order(static_cast<size_t>(n));
  double last = 0.0;
  const bool stopping = validation != nullptr && validation->size() > 0 && cfg.early_stopping > 0;
  double best_loss = std::numeric_limits<double>::infinity();
  int64_t since_best = 0;
  std::map<std::string, torch::Tensor> best;
  // Early stopping on the validation users: keeps the best epoch's parameters.
  auto keep_if_best = [&](int64_t epoch) {
    const double val = RowsLoss(model, *validation, cfg, device);
    if (validation_progress) validation_progress(epoch, val);
    if (val < best_loss) {
      best_loss = val;
      since_best = 0;
      best.clear();
      torch::NoGradGuard no_grad;
      for (const auto& p : model.named_parameters()) best[p.key()] = p.value().detach().clone();
      return true;
    }
    return ++since_best < cfg.early_stopping;
  };
  for (int64_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    rng.Shuffle(order);
    auto perm = torch::tensor(order, torch::kInt64);
    double sum = 0.0;
    int64_t batches = 0;
    for (int64_t b0 = 0; b0 < n; b0 += cfg.batch_size) {
      auto idx = perm.slice(0, b0, std::min(n, b0 + cfg.batch_size));
      ResponseInput in{
          items.index_select(0, idx).to(device), lengths.index_select(0, idx).to(device),
          users.index_select(0, idx).to(device), actions.index_select(0, idx).to(device),
          given_nb.defined() ? given_nb.index_select(0, idx).to(device) : torch::Tensor()};
      auto y = targets.index_select(0, idx).to(device);
      auto out = model.forward(in);
      torch::Tensor loss;
      if (weights.defined()) {
        const auto w = weights.index_select(0, idx).to(device);
        auto l = cfg.target == ResponseTarget::kClick
                     ? torch::binary_cross_entropy_with_logits(out, y, {}, {}, at::Reduction::None)
                     : torch::mse_loss(out, y, at::Reduction::None);
        loss = (l * w).sum() / w.sum();
      } else {
        loss = cfg.target == ResponseTarget::kClick
                   ? torch::binary_cross_entropy_with_logits(out, y)
                   : torch::mse_loss(out, y);
      }
      opt.zero_grad();
      loss.backward();
      opt.step();
      sum += loss.item<double>();
      ++batches;
    }
    last = sum / static_cast<double>(std::max<int64_t>(1, batches));
    if (progress) progress(epoch, last);
    if (stopping && !keep_if_best(epoch)) break;
  }
  if (stopping && !best.empty()) {
    torch::NoGradGuard no_grad;
    for (auto& p : model.named_parameters()) p.value().copy_(best.at(p.key()));
  }
  model.eval();
  return last;
}

std::vector<float> PredictRows(const ResponseEnsemble& response, const ResponseRows& rows,
                               torch::Device device, int64_t max_rows) {
  const int64_t n = max_rows >= 0 ? std::min<int64_t>(static_cast<int64_t>(rows.size()), max_rows)
                                  : static_cast<int64_t>(rows.size());
  std::vector<float> pred(static_cast<size_t>(n));
  for (int64_t b0 = 0; b0 < n; b0 += 4096) {
    const int64_t b1 = std::min(n, b0 + 4096);
    auto p = response.Expected(RowsInput(rows, b0, b1, device))
                 .to(torch::kCPU, torch::kFloat)
                 .contiguous();
    std::copy(p.data_ptr<float>(), p.data_ptr<float>() + (b1 - b0), pred.begin() + b0);
  }
  return pred;
}

}  // namespace recarena::env
