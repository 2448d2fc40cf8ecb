#include "env/reference_models.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "core/error.h"

namespace recarena::env {

ItemKnn::ItemKnn(const std::vector<data::Sequence>& seqs, int64_t num_items, int64_t window)
    : s_(BuildCoOccurrence(seqs, num_items, window)) {}

double ItemKnn::Similarity(int64_t j, int64_t a) const {
  if (j < 0 || j >= s_.num_items || a < 0 || a >= s_.num_items) return 0.0;
  return NeighbourhoodScore(s_, torch::tensor({{j}}, torch::kInt64), torch::tensor({a}))
      .item<float>();
}

std::vector<float> ItemKnn::Score(const ResponseRows& rows) const {
  const auto n = static_cast<int64_t>(rows.size());
  auto out =
      NeighbourhoodScore(s_, torch::tensor(rows.items, torch::kInt64).view({n, rows.state_len}),
                         torch::tensor(rows.actions, torch::kInt64))
          .contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + n);
}

HistoryMfImpl::HistoryMfImpl(int64_t num_items, int64_t dim) : num_items_(num_items) {
  history_ = register_module(
      "history",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(num_items + 1, dim).padding_idx(num_items)));
  target_ = register_module("target", torch::nn::Embedding(num_items, dim));
  bias_ = register_module("bias", torch::nn::Embedding(num_items, 1));
  torch::NoGradGuard no_grad;
  history_->weight.normal_(0.0, 0.05);
  history_->weight[num_items].zero_();
  target_->weight.normal_(0.0, 0.05);
  bias_->weight.zero_();
}

torch::Tensor HistoryMfImpl::forward(const torch::Tensor& items, const torch::Tensor& lengths,
                                     const torch::Tensor& actions) {
  // Padding rows of the history table are zero, so the sum covers the real items only.
  auto h = history_->forward(items).sum(1);  // [B, D]
  auto real = items.lt(num_items_).sum(1).clamp_min(1).to(torch::kFloat);
  h = h / real.sqrt().unsqueeze(1);
  (void)lengths;
  return (h * target_->forward(actions)).sum(1) + bias_->forward(actions).squeeze(1);
}

namespace {

struct RowTensors {
  torch::Tensor items, lengths, actions, targets;
};
RowTensors Tensors(const ResponseRows& rows) {
  const auto n = static_cast<int64_t>(rows.size());
  return {torch::tensor(rows.items, torch::kInt64).view({n, rows.state_len}),
          torch::tensor(rows.lengths, torch::kInt64), torch::tensor(rows.actions, torch::kInt64),
          torch::tensor(rows.targets, torch::kFloat)};
}

}  // namespace

HistoryMf TrainHistoryMf(const ResponseRows& rows, ResponseTarget target, int64_t num_items,
                         const HistoryMfOptions& options, Rng& rng) {
  if (rows.size() == 0) throw Error("TrainHistoryMf: no rows");
  torch::manual_seed(rng.NextU64());
  HistoryMf model(num_items, options.dim);
  torch::optim::Adam opt(model->parameters(),
                         torch::optim::AdamOptions(options.lr).weight_decay(options.weight_decay));
  const auto t = Tensors(rows);
  const auto n = static_cast<int64_t>(rows.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  model->train();
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    rng.Shuffle(order);
    const auto perm = torch::tensor(order, torch::kInt64);
    for (int64_t b0 = 0; b0 < n; b0 += options.batch_size) {
      const auto idx = perm.slice(0, b0, std::min(n, b0 + options.batch_size));
      auto out = model->forward(t.items.index_select(0, idx), t.lengths.index_select(0, idx),
                                t.actions.index_select(0, idx));
      const auto y = t.targets.index_select(0, idx);
      auto loss = target == ResponseTarget::kClick ? torch::binary_cross_entropy_with_logits(out, y)
                                                   : torch::mse_loss(out, y);
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
  }
  model->eval();
  return model;
}

std::vector<float> ScoreRows(HistoryMf& model, const ResponseRows& rows) {
  torch::NoGradGuard no_grad;
  const auto t = Tensors(rows);
  auto out = model->forward(t.items, t.lengths, t.actions).contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

ReferenceModels::ReferenceModels(const std::vector<data::Sequence>& seqs, const ResponseConfig& cfg,
                                 int64_t num_items, int64_t state_len, Rng& rng,
                                 int64_t max_cal_rows, const data::ExposureIndex* exposures) {
  std::set<data::UserId> user_set;
  for (const auto& s : seqs) user_set.insert(s.user);
  std::vector<data::UserId> users(user_set.begin(), user_set.end());
  if (users.size() < 2) {
    throw Error("ReferenceModels: needs logs of at least 2 users, got " +
                std::to_string(users.size()));
  }
  rng.Shuffle(users);
  auto n_val =
      static_cast<size_t>(std::llround(cfg.validation_users * static_cast<double>(users.size())));
  n_val = std::clamp<size_t>(n_val, 1, users.size() - 1);
  const std::set<data::UserId> val_users(users.begin(),
                                         users.begin() + static_cast<std::ptrdiff_t>(n_val));
  std::vector<data::Sequence> fit, val;
  for (const auto& s : seqs) (val_users.count(s.user) ? val : fit).push_back(s);

  counts_ = ItemCounts(fit, num_items);
  knn_ = std::make_unique<ItemKnn>(fit, num_items, state_len);
  const NegativeSampler sampler(cfg.negative_sampling, num_items, counts_);
  const auto rows = MakeResponseRows(fit, cfg, num_items, state_len, rng, &sampler, exposures);
  if (rows.size() == 0) throw Error("ReferenceModels: no rows to fit on");
  mf_ = TrainHistoryMf(rows, cfg.target, num_items, HistoryMfOptions{}, rng);
  auto val_rows = MakeResponseRows(val, cfg, num_items, state_len, rng, &sampler, exposures);
  if (val_rows.size() == 0) throw Error("ReferenceModels: no validation rows");
  std::vector<size_t> pick(val_rows.size());
  std::iota(pick.begin(), pick.end(), 0);
  rng.Shuffle(pick);
  pick.resize(
      std::min<size_t>(pick.size(), static_cast<size_t>(std::max<int64_t>(1, max_cal_rows))));
  const ResponseRows sub = SelectRows(val_rows, pick);
  for (const auto& name : Names()) {
    auto raw = Raw(name, sub);
    if (cfg.target == ResponseTarget::kClick) {
      // FitCalibration takes probabilities and works on their logit: sigmoid(raw) makes that
      // logit the raw score, so Platt fits sigmoid(a * raw + b).
      for (auto& x : raw) x = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
    }
    calibration_[name] = FitCalibration(CalibrationKind::kPlatt, cfg.target, raw, sub.targets);
  }
}

const std::vector<std::string>& ReferenceModels::Names() {
  static const std::vector<std::string> names = {"popularity", "item_knn", "mf"};
  return names;
}

std::vector<float> ReferenceModels::Raw(const std::string& name, const ResponseRows& rows) {
  if (name == "popularity") {
    std::vector<float> out(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      out[r] = static_cast<float>(
          std::log1p(static_cast<double>(counts_[static_cast<size_t>(rows.actions[r])])));
    }
    return out;
  }
  if (name == "item_knn") return knn_->Score(rows);
  if (name == "mf") return ScoreRows(mf_, rows);
  throw Error("unknown reference model " + QuoteForError(name));
}

std::vector<float> ReferenceModels::Predict(const std::string& name, const ResponseRows& rows) {
  auto raw = Raw(name, rows);
  const auto& cal = calibration_.at(name);
  for (auto& x : raw) {
    const double v = cal.target == ResponseTarget::kClick
                         ? 1.0 / (1.0 + std::exp(-static_cast<double>(x)))
                         : static_cast<double>(x);
    x = static_cast<float>(cal.Apply(v));
  }
  return raw;
}

}  // namespace recarena::env
