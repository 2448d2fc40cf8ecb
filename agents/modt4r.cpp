#include "agents/modt4r.h"
#include "agents/gradient_step.h"

#include <fmt/format.h>

#include <sstream>
#include <utility>

#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::agents {

void Modt4rOptions::Validate() const {
  if (num_heads < 1)
    throw ConfigError("dt.num_heads", fmt::format("dt.num_heads must be >= 1, got {}", num_heads));
  if (num_blocks < 1) {
    throw ConfigError("dt.num_blocks",
                      fmt::format("dt.num_blocks must be >= 1, got {}", num_blocks));
  }
  if (!(dropout >= 0.0 && dropout < 1.0))
    throw ConfigError("dt.dropout", fmt::format("dt.dropout must be in [0, 1), got {}", dropout));
  if (!(beta >= 0.0))
    throw ConfigError("dt.beta", fmt::format("dt.beta must be >= 0, got {}", beta));
  if (!(alpha >= 0.0))
    throw ConfigError("dt.alpha", fmt::format("dt.alpha must be >= 0, got {}", alpha));
  if (!(lambda >= 0.0))
    throw ConfigError("dt.lambda", fmt::format("dt.lambda must be >= 0, got {}", lambda));
  if (!(epsilon >= 0.0 && epsilon <= 1.0))
    throw ConfigError("dt.epsilon", fmt::format("dt.epsilon must be in [0, 1], got {}", epsilon));
}

Modt4rAgent::Modt4rAgent(const SupervisedOptions& options, const Modt4rOptions& dt,
                         models::TokenOrder order, std::vector<uint8_t> long_tail,
                         torch::Device device)
    : SupervisedAgent(options, device), dt_(dt), long_tail_(std::move(long_tail)) {
  dt_.Validate();
  if (static_cast<int64_t>(long_tail_.size()) != options_.encoder.num_items) {
    throw Error(fmt::format("Modt4rAgent: long_tail has {} entries for {} items", long_tail_.size(),
                            options_.encoder.num_items));
  }
  if (options_.encoder.hidden % dt_.num_heads != 0) {
    throw ConfigError("dt.num_heads",
                      fmt::format("dt.num_heads ({}) must divide model.encoder.hidden ({})",
                                  dt_.num_heads, options_.encoder.hidden));
  }
  inference_.alpha = dt_.alpha;
  inference_.returns.epsilon = dt_.epsilon;
  inference_.returns.lambda = dt_.lambda;
  models::DecisionTransformerOptions o;
  o.hidden = options_.encoder.hidden;
  o.num_heads = dt_.num_heads;
  o.num_blocks = dt_.num_blocks;
  o.dropout = dt_.dropout;
  o.token_order = order;
  o.max_len = options_.encoder.state_len;
  o.num_items = options_.encoder.num_items;
  motrans_ = models::DecisionTransformer(o);
  action_head_ = torch::nn::Linear(o.hidden, o.num_items);
  motrans_->to(device_);
  action_head_->to(device_);
  std::vector<torch::Tensor> params = parameters();
  optimizer_ = std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(options_.lr).weight_decay(options_.weight_decay));
}

std::vector<torch::Tensor> Modt4rAgent::parameters() const {
  std::vector<torch::Tensor> params = SupervisedAgent::parameters();
  for (auto& p : motrans_->parameters()) params.push_back(p);
  for (auto& p : action_head_->parameters()) params.push_back(p);
  return params;
}

void Modt4rAgent::SetSimilarityVectors(const torch::Tensor& vectors) {
  if (vectors.dim() != 2 || vectors.size(0) != options_.encoder.num_items || vectors.size(1) < 1) {
    std::ostringstream got;
    got << vectors.sizes();
    throw Error(fmt::format("Modt4rAgent: similarity vectors must be [{}, F >= 1], got {}",
                            options_.encoder.num_items, got.str()));
  }
  similarity_vectors_ = vectors.detach().to(torch::kCPU, torch::kFloat).contiguous();
}

std::vector<std::vector<std::vector<float>>> Modt4rAgent::RowVectors(
    const torch::Tensor& items, const torch::Tensor& lengths) const {
  torch::NoGradGuard ng;
  const torch::Tensor items_cpu = items.to(torch::kCPU).to(torch::kLong).contiguous();
  const torch::Tensor len_cpu = lengths.to(torch::kCPU).to(torch::kLong).contiguous();
  // Padding ids (num_items) are gathered too and never read; clamp them into the table.
  const torch::Tensor ids = items_cpu.view({-1}).clamp_max(options_.encoder.num_items - 1);
  torch::Tensor vecs;
  if (dt_.similarity == ReturnSimilarity::kFeatures) {
    if (!similarity_vectors_.defined()) {
      throw Error("Modt4rAgent: dt.similarity is features but no item vectors were set");
    }
    vecs = similarity_vectors_.index_select(0, ids);
  } else {
    vecs = encoder_->item_embeddings().detach().index_select(0, ids.to(device_));
  }
  const int64_t B = items.size(0), L = items.size(1), D = vecs.size(1);
  const torch::Tensor v = vecs.to(torch::kCPU).to(torch::kFloat).contiguous().view({B, L, D});
  const auto va = v.accessor<float, 3>();
  const auto la = len_cpu.accessor<int64_t, 1>();
  std::vector<std::vector<std::vector<float>>> out(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    auto& rows = out[static_cast<size_t>(b)];
    rows.resize(static_cast<size_t>(la[b]));
    for (int64_t t = 0; t < la[b]; ++t) {
      rows[static_cast<size_t>(t)].resize(static_cast<size_t>(D));
      for (int64_t d = 0; d < D; ++d)
        rows[static_cast<size_t>(t)][static_cast<size_t>(d)] = va[b][t][d];
    }
  }
  return out;
}

torch::Tensor Modt4rAgent::WindowActions(const SequenceBatch& batch) const {
  const int64_t B = batch.items.size(0), L = batch.items.size(1);
  const int64_t pad = options_.encoder.num_items;
  auto shifted =
      torch::cat({batch.items.slice(1, 1, L), torch::full({B, 1}, pad, batch.items.options())}, 1);
  const torch::Tensor steps = torch::arange(L, batch.lengths.options()).unsqueeze(0);
  const torch::Tensor last = steps == (batch.lengths.unsqueeze(1) - 1);
  const torch::Tensor valid = steps < batch.lengths.unsqueeze(1);
  auto actions = torch::where(last, batch.targets.unsqueeze(1).expand({B, L}), shifted);
  return torch::where(valid, actions, torch::full_like(actions, pad)).to(device_);
}

torch::Tensor Modt4rAgent::ReturnTensor(const torch::Tensor& items, const torch::Tensor& lengths,
                                        const RowReturns& returns_of) const {
  const int64_t B = items.size(0), L = items.size(1);
  const auto vectors = RowVectors(items, lengths);
  const torch::Tensor it = items.to(torch::kCPU).to(torch::kLong).contiguous();
  const auto ia = it.accessor<int64_t, 2>();
  torch::Tensor out = torch::zeros({B, L, 3}, torch::kFloat);
  auto oa = out.accessor<float, 3>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& vec = vectors[static_cast<size_t>(b)];
    const auto n = static_cast<int64_t>(vec.size());
    std::vector<int32_t> x(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) x[static_cast<size_t>(t)] = static_cast<int32_t>(ia[b][t]);
    const MoReturns r = returns_of(b, x, vec);
    for (int64_t t = 0; t < n; ++t) {
      oa[b][t][0] = r.accuracy[static_cast<size_t>(t)];
      oa[b][t][1] = r.novelty[static_cast<size_t>(t)];
      oa[b][t][2] = r.diversity[static_cast<size_t>(t)];
    }
  }
  return out.to(device_);
}

torch::Tensor Modt4rAgent::TrainingReturnTensor(const torch::Tensor& items,
                                                const torch::Tensor& lengths,
                                                const torch::Tensor& actions) const {
  const torch::Tensor act = actions.to(torch::kCPU).to(torch::kLong).contiguous();
  const auto aa = act.accessor<int64_t, 2>();
  return ReturnTensor(
      items, lengths,
      [&](int64_t b, const std::vector<int32_t>& x, const std::vector<std::vector<float>>& vec) {
        std::vector<int32_t> a(x.size());
        for (size_t t = 0; t < x.size(); ++t)
          a[t] = static_cast<int32_t>(aa[b][static_cast<int64_t>(t)]);
        return TrainingReturns(a, vec, long_tail_);
      });
}

torch::Tensor Modt4rAgent::InferenceReturnTensor(const torch::Tensor& items,
                                                 const torch::Tensor& lengths) const {
  return ReturnTensor(
      items, lengths,
      [&](int64_t, const std::vector<int32_t>& x, const std::vector<std::vector<float>>& vec) {
        return InferenceReturns(x, vec, long_tail_, inference_.returns);
      });
}

torch::Tensor Modt4rAgent::OnlineReturnTensor(const torch::Tensor& items,
                                              const torch::Tensor& lengths,
                                              const std::vector<double>& accuracy_to_go,
                                              const std::vector<double>& novelty_to_go) const {
  const auto B = static_cast<size_t>(items.size(0));
  if (accuracy_to_go.size() != B || novelty_to_go.size() != B) {
    throw Error(fmt::format("OnlineReturnTensor: {} rows but {} / {} targets", B,
                            accuracy_to_go.size(), novelty_to_go.size()));
  }
  return ReturnTensor(
      items, lengths,
      [&](int64_t b, const std::vector<int32_t>& x, const std::vector<std::vector<float>>& vec) {
        const auto r = static_cast<size_t>(b);
        return OnlineReturns(x, vec, long_tail_, accuracy_to_go[r], novelty_to_go[r],
                             inference_.returns.lambda);
      });
}

Modt4rLoss Modt4rAgent::Loss(const torch::Tensor& items, const torch::Tensor& lengths,
                             const torch::Tensor& actions, const torch::Tensor& returns) {
  encoder_->train();
  head_->train();
  motrans_->train();
  action_head_->train();
  const auto enc = encoder_->forward(items, lengths);
  const auto dt = motrans_->forward(enc.states, returns, actions, lengths);
  const torch::Tensor valid = models::LengthMask(lengths, items.size(1));  // [B, L]
  const torch::Tensor targets = actions.masked_select(valid);              // [M]
  const torch::Tensor s_rows = enc.states.index({valid});                  // [M, D]
  const torch::Tensor a_rows = dt.action_repr.index({valid});              // [M, D]
  Modt4rLoss r;
  r.l_s = torch::nn::functional::cross_entropy(head_->forward(s_rows), targets);
  r.l_a = torch::nn::functional::cross_entropy(action_head_->forward(a_rows), targets);
  const double m = static_cast<double>(targets.size(0));
  r.l_r = ((dt.return_preds - returns).pow(2) * dt.return_mask).sum() / m;
  r.total = r.l_s + r.l_a + dt_.beta * r.l_r;
  return r;
}

MetricList Modt4rAgent::Update(const SequenceBatch& batch) {
  const torch::Tensor actions = WindowActions(batch);
  const torch::Tensor returns = TrainingReturnTensor(batch.items, batch.lengths, actions);
  const Modt4rLoss loss = Loss(batch.items, batch.lengths, actions, returns);
  const torch::Tensor norm = ApplyLoss(loss.total);
  return ReadMetrics({{"loss", loss.total},
                      {"l_s", loss.l_s},
                      {"l_a", loss.l_a},
                      {"l_r", loss.l_r},
                      {"grad_norm", norm}});
}

torch::Tensor Modt4rAgent::ScoresWithReturns(const torch::Tensor& items_in,
                                             const torch::Tensor& lengths_in,
                                             const torch::Tensor& returns) {
  torch::NoGradGuard ng;
  encoder_->eval();
  head_->eval();
  motrans_->eval();
  action_head_->eval();
  const torch::Tensor items = items_in.to(device_), lengths = lengths_in.to(device_);
  const int64_t B = items.size(0), L = items.size(1);
  const int64_t pad = options_.encoder.num_items;
  // a_t = x_{t+1} for t < p; a_p (the item to predict) is unknown: padding id.
  const torch::Tensor steps = torch::arange(L, lengths.options()).unsqueeze(0);
  auto shifted = torch::cat({items.slice(1, 1, L), torch::full({B, 1}, pad, items.options())}, 1);
  const torch::Tensor known = steps < (lengths.unsqueeze(1) - 1);
  const torch::Tensor actions = torch::where(known, shifted, torch::full_like(shifted, pad));
  const auto enc = encoder_->forward(items, lengths);
  const auto dt = motrans_->forward(enc.states, returns.to(device_), actions, lengths);
  const torch::Tensor y = head_->forward(enc.last);
  const torch::Tensor a = action_head_->forward(models::GatherLast(dt.action_repr, lengths));
  return a + inference_.alpha * y;
}

torch::Tensor Modt4rAgent::Scores(const torch::Tensor& items, const torch::Tensor& lengths) {
  const torch::Tensor returns = InferenceReturnTensor(items, lengths);
  return ScoresWithReturns(items, lengths, returns);
}

void Modt4rAgent::Save(torch::serialize::OutputArchive& archive) const {
  SupervisedAgent::Save(archive);
  torch::serialize::OutputArchive mt, ah;
  motrans_->save(mt);
  action_head_->save(ah);
  archive.write("motrans", mt);
  archive.write("action_head", ah);
}

void Modt4rAgent::Load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive mt, ah;
  archive.read("motrans", mt);
  archive.read("action_head", ah);
  models::LoadModule(*motrans_, mt);
  models::LoadModule(*action_head_, ah);
  motrans_->to(device_);
  action_head_->to(device_);
  SupervisedAgent::Load(archive);
}

}  // namespace recarena::agents
