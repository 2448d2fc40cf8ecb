#include "env/response_model.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.h"

namespace recarena::env {

SequentialResponseImpl::SequentialResponseImpl(const models::EncoderOptions& options,
                                               bool history_bag, bool history_encoder,
                                               bool neighbourhood)
    : num_items_(options.num_items) {
  if (!history_bag && !history_encoder) {
    throw Error("a sequential response model needs the history encoder or the history bag");
  }
  if (history_encoder) encoder = register_module("encoder", models::MakeEncoder(options));
  if (history_bag) {
    bag_table_ = register_module(
        "bag_table",
        torch::nn::Embedding(torch::nn::EmbeddingOptions(options.num_items + 1, options.hidden)
                                 .padding_idx(options.num_items)));
  }
  out_table_ = register_module("out_table", torch::nn::Embedding(torch::nn::EmbeddingOptions(
                                                options.num_items, options.hidden)));
  out_bias_ = register_module(
      "out_bias", torch::nn::Embedding(torch::nn::EmbeddingOptions(options.num_items, 1)));
  if (neighbourhood) {
    nb_keys_ = register_buffer("nb_keys", torch::zeros({0}, torch::kInt64));
    nb_values_ = register_buffer("nb_values", torch::zeros({0}, torch::kFloat));
    nb_weight_ = register_parameter("nb_weight", torch::zeros({3}));
  }
  // FISM's small init with the bag, so that rarely sampled items start near zero (header); the
  // plain model keeps the N(0, 1/D) it always had.
  const double table_std =
      history_bag ? 0.05 : 1.0 / std::sqrt(static_cast<double>(options.hidden));
  torch::NoGradGuard no_grad;
  out_table_->weight.normal_(0.0, table_std);
  out_bias_->weight.zero_();
  if (history_bag) {
    bag_table_->weight.normal_(0.0, table_std);
    bag_table_->weight[options.num_items].zero_();
  }
}

torch::Tensor SequentialResponseImpl::State(const ResponseInput& in) {
  torch::Tensor h;
  if (encoder) h = encoder->forward(in.items, in.lengths).last;  // [B, D]
  if (bag_table_) {
    auto bag = Bag(in.items);
    h = h.defined() ? h + bag : bag;
  }
  return h;
}

torch::Tensor SequentialResponseImpl::Bag(const torch::Tensor& items) {
  if (!bag_table_) throw Error("SequentialResponse::Bag: the model has no history bag");
  // Padding positions hit the zero padding row, so the sum covers the real items only.
  auto bag = bag_table_->forward(items).sum(1);  // [B, D]
  auto real = items.lt(num_items_).sum(1).clamp_min(1).to(bag.scalar_type());
  return bag / real.sqrt().unsqueeze(1);
}

void SequentialResponseImpl::SetNeighbourhood(const CoOccurrence& c) {
  if (!nb_weight_.defined()) throw Error("SetNeighbourhood: the model has no neighbourhood term");
  if (c.num_items != num_items_) {
    throw Error("SetNeighbourhood: similarities over " + std::to_string(c.num_items) +
                " items for a model of " + std::to_string(num_items_));
  }
  CheckCoOccurrence(c);
  // The buffers are updated in place so that the module's registered tensors follow.
  torch::NoGradGuard no_grad;
  nb_keys_.set_(c.keys.to(nb_keys_.device()));
  nb_values_.set_(c.values.to(nb_values_.device()));
}

torch::Tensor SequentialResponseImpl::Score(const ResponseInput& in) const {
  if (!in.neighbourhood.defined()) return NeighbourhoodScore(Neighbourhood(), in.items, in.actions);
  if (in.neighbourhood.dim() != 1 || in.neighbourhood.size(0) != in.actions.size(0)) {
    throw Error("SequentialResponse: the given neighbourhood scores must be [B] for " +
                std::to_string(in.actions.size(0)) + " rows");
  }
  return in.neighbourhood;
}

torch::Tensor SequentialResponseImpl::NeighbourhoodFeatures(const torch::Tensor& f) {
  const auto seen = f.gt(0);
  const auto logf = torch::where(seen, f.clamp_min(1e-12).log(), torch::zeros_like(f));
  return torch::stack({seen.to(f.scalar_type()), logf}, -1);
}

torch::Tensor SequentialResponseImpl::NeighbourhoodTerm(const torch::Tensor& f) const {
  return nb_weight_[0] + (NeighbourhoodFeatures(f) * nb_weight_.slice(0, 1)).sum(-1);
}

void SequentialResponseImpl::WarmStart(const ResponseInput& in, const torch::Tensor& targets,
                                       ResponseTarget target) {
  if (!nb_weight_.defined()) return;
  torch::NoGradGuard no_grad;
  const auto f = Score(in);
  const auto x = torch::cat({torch::ones({f.size(0), 1}, f.options()), NeighbourhoodFeatures(f)},
                            1)
                     .to(torch::kDouble);  // [B, 3]
  const auto y = targets.to(x.device(), torch::kDouble);
  const auto n = static_cast<double>(x.size(0));
  const auto ridge = 1e-6 * torch::eye(3, x.options());
  auto w = torch::zeros({3}, x.options());
  if (target == ResponseTarget::kRating) {
    w = torch::linalg_solve(x.t().mm(x) / n + ridge, x.t().mv(y) / n);
  } else {
    // Newton's method on the convex mean BCE (20 steps reach it to rounding at this size).
    for (int it = 0; it < 20; ++it) {
      const auto p = torch::sigmoid(x.mv(w));
      const auto g = x.t().mv(p - y) / n;
      const auto h = (x * (p * (1 - p)).unsqueeze(1)).t().mm(x) / n + ridge;
      w = w - torch::linalg_solve(h, g);
    }
  }
  if (!torch::isfinite(w).all().item<bool>()) return;  // separable rows: keep the zero start
  nb_weight_.copy_(w.to(nb_weight_.options()));
}

torch::Tensor SequentialResponseImpl::forward(const ResponseInput& in) {
  return FromState(State(in), in);
}

torch::Tensor SequentialResponseImpl::FromState(const torch::Tensor& h, const ResponseInput& in) {
  auto out =
      (h * out_table_->forward(in.actions)).sum(-1) + out_bias_->forward(in.actions).squeeze(-1);
  if (nb_weight_.defined()) {
    out = out + NeighbourhoodTerm(Score(in));
  }
  return out;
}

torch::Tensor SequentialResponseImpl::ScoreAll(const ResponseInput& in) {
  auto h = State(in);
  auto out = torch::addmm(out_bias_->weight.squeeze(-1).unsqueeze(0), h, out_table_->weight.t());
  if (nb_weight_.defined()) {
    out = out + NeighbourhoodTerm(NeighbourhoodScoreAll(Neighbourhood(), in.items));
  }
  return out;
}

DeepFmResponseImpl::DeepFmResponseImpl(const DeepFmShape& shape, int64_t dim,
                                       const std::vector<int64_t>& hidden)
    : num_users_(shape.num_users), num_items_(shape.num_items) {
  if (num_users_ < 1 || num_items_ < 1) {
    throw Error("DeepFM needs at least one user and one item (got " + std::to_string(num_users_) +
                " users, " + std::to_string(num_items_) + " items)");
  }
  user_emb_ = register_module("user_emb",
                              torch::nn::Embedding(torch::nn::EmbeddingOptions(num_users_, dim)));
  item_emb_ = register_module("item_emb",
                              torch::nn::Embedding(torch::nn::EmbeddingOptions(num_items_, dim)));
  user_bias_ = register_module("user_bias",
                               torch::nn::Embedding(torch::nn::EmbeddingOptions(num_users_, 1)));
  item_bias_ = register_module("item_bias",
                               torch::nn::Embedding(torch::nn::EmbeddingOptions(num_items_, 1)));
  global_bias_ = register_parameter("global_bias", torch::zeros({1}));
  int64_t fields = 2;
  if (shape.user_features.defined() && shape.user_features.size(1) > 0) {
    user_features_ = register_buffer("user_features", shape.user_features.to(torch::kFloat));
    user_feat_ = register_module(
        "user_feat",
        torch::nn::Linear(torch::nn::LinearOptions(user_features_.size(1), dim).bias(false)));
    ++fields;
  }
  if (shape.item_features.defined() && shape.item_features.size(1) > 0) {
    item_features_ = register_buffer("item_features", shape.item_features.to(torch::kFloat));
    item_feat_ = register_module(
        "item_feat",
        torch::nn::Linear(torch::nn::LinearOptions(item_features_.size(1), dim).bias(false)));
    ++fields;
  }
  torch::nn::Sequential mlp;
  int64_t in = fields * dim;
  for (int64_t width : hidden) {
    mlp->push_back(torch::nn::Linear(in, width));
    mlp->push_back(torch::nn::ReLU());
    in = width;
  }
  mlp->push_back(torch::nn::Linear(in, 1));
  mlp_ = register_module("mlp", mlp);
  torch::NoGradGuard no_grad;
  user_emb_->weight.normal_(0.0, 0.05);
  item_emb_->weight.normal_(0.0, 0.05);
  user_bias_->weight.zero_();
  item_bias_->weight.zero_();
}

torch::Tensor DeepFmResponseImpl::Pairs(const torch::Tensor& users, const torch::Tensor& items) {
  std::vector<torch::Tensor> fields{user_emb_->forward(users), item_emb_->forward(items)};
  if (user_feat_) fields.push_back(user_feat_->forward(user_features_.index_select(0, users)));
  if (item_feat_) fields.push_back(item_feat_->forward(item_features_.index_select(0, items)));
  auto e = torch::stack(fields, 1);  // [N, F, D]
  auto sum = e.sum(1);
  auto fm = 0.5 * (sum * sum - (e * e).sum(1)).sum(-1);  // [N]
  auto first = user_bias_->forward(users).squeeze(-1) + item_bias_->forward(items).squeeze(-1);
  auto deep = mlp_->forward(e.flatten(1)).squeeze(-1);
  return global_bias_ + first + fm + deep;
}

void DeepFmResponseImpl::WarmStart(const ResponseInput& in, const torch::Tensor& targets,
                                   ResponseTarget target) {
  if (targets.numel() == 0) return;
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  const double mean_out = Pairs(in.users, in.actions).mean().item<double>();
  if (was_training) train();
  double goal = targets.to(torch::kDouble).mean().item<double>();
  if (target == ResponseTarget::kClick) {
    goal = std::clamp(goal, 1e-4, 1.0 - 1e-4);
    goal = std::log(goal / (1.0 - goal));
  }
  if (!std::isfinite(goal) || !std::isfinite(mean_out)) return;
  global_bias_.add_(goal - mean_out);
}

torch::Tensor DeepFmResponseImpl::forward(const ResponseInput& in) {
  return Pairs(in.users, in.actions);
}

torch::Tensor DeepFmResponseImpl::ScoreAll(const ResponseInput& in) {
  const int64_t B = in.users.size(0);
  auto items = torch::arange(num_items_, in.users.options()).repeat({B});
  auto users = in.users.repeat_interleave(num_items_);
  return Pairs(users, items).view({B, num_items_});
}

GroundTruthResponseImpl::GroundTruthResponseImpl(torch::Tensor utility, double no_click_utility,
                                                 double temperature)
    : no_click_utility_(no_click_utility), temperature_(temperature) {
  utility_ = register_buffer("utility", utility.to(torch::kFloat));
}

torch::Tensor GroundTruthResponseImpl::forward(const ResponseInput& in) {
  auto u = utility_.index({in.users, in.actions});
  return (u - no_click_utility_) / temperature_;
}

torch::Tensor GroundTruthResponseImpl::ScoreAll(const ResponseInput& in) {
  return (utility_.index_select(0, in.users) - no_click_utility_) / temperature_;
}

std::shared_ptr<ResponseModelImpl> MakeResponseModel(const ResponseConfig& cfg,
                                                     const DeepFmShape& shape,
                                                     const CoOccurrence* neighbourhood) {
  switch (cfg.kind) {
    case ResponseKind::kSequential: {
      auto options = cfg.encoder;
      options.num_items = shape.num_items;
      auto m = std::make_shared<SequentialResponseImpl>(options, cfg.history_bag,
                                                        cfg.history_encoder, cfg.neighbourhood);
      if (cfg.neighbourhood && neighbourhood != nullptr) m->SetNeighbourhood(*neighbourhood);
      return m;
    }
    case ResponseKind::kDeepFm:
      return std::make_shared<DeepFmResponseImpl>(shape, cfg.deepfm_dim, cfg.deepfm_hidden);
  }
  throw Error("unknown response model kind");
}

ResponseEnsemble::ResponseEnsemble(ResponseConfig cfg,
                                   std::vector<std::shared_ptr<ResponseModelImpl>> models)
    : cfg_(std::move(cfg)), models_(std::move(models)) {
  if (models_.empty()) throw Error("a response ensemble needs at least one model");
  for (auto& m : models_) m->eval();
}

void ResponseEnsemble::to(torch::Device device) {
  for (auto& m : models_) m->to(device);
}

torch::Tensor ResponseEnsemble::Combine(const std::vector<torch::Tensor>& outputs) const {
  auto stacked = torch::stack(outputs, 0);  // [K, ...]
  if (cfg_.target == ResponseTarget::kClick) stacked = torch::sigmoid(stacked);
  auto mean = calibration_.Apply(stacked.mean(0));
  if (stacked.size(0) > 1 && cfg_.pessimism != 0.0) {
    mean = mean - cfg_.pessimism * stacked.std(0, /*unbiased=*/false);
  }
  return mean.clamp(cfg_.reward_min, cfg_.reward_max);
}

torch::Tensor ResponseEnsemble::Expected(const ResponseInput& in) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outs;
  outs.reserve(models_.size());
  for (const auto& m : models_) outs.push_back(m->forward(in));
  return Combine(outs);
}

torch::Tensor ResponseEnsemble::ExpectedAll(const ResponseInput& in) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outs;
  outs.reserve(models_.size());
  for (const auto& m : models_) outs.push_back(m->ScoreAll(in));
  return Combine(outs);
}

torch::Tensor ResponseEnsemble::Disagreement(const ResponseInput& in) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outs;
  for (const auto& m : models_) outs.push_back(m->forward(in));
  auto stacked = torch::stack(outs, 0);
  if (cfg_.target == ResponseTarget::kClick) stacked = torch::sigmoid(stacked);
  if (stacked.size(0) == 1) return torch::zeros_like(stacked[0]);
  return stacked.std(0, /*unbiased=*/false);
}

}  // namespace recarena::env
