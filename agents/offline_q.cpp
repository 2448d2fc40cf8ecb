#include "agents/offline_q.h"

#include <fmt/format.h>

#include <cmath>

#include "agents/gradient_step.h"
#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::agents {

namespace F = torch::nn::functional;

void OfflineQOptions::Validate() const {
  auto bad = [](const std::string& key, const std::string& what, double got) {
    return ConfigError("offline_q." + key,
                       fmt::format("offline_q.{} must be {}, got {}", key, what, got));
  };
  if (!(discount >= 0.0 && discount <= 1.0)) throw bad("discount", "in [0, 1]", discount);
  if (target_update_every < 1) {
    throw bad("target_update_every", ">= 1", static_cast<double>(target_update_every));
  }
  if (!(cql_alpha >= 0.0)) throw bad("cql_alpha", ">= 0", cql_alpha);
  if (!(bcq_threshold > 0.0 && bcq_threshold <= 1.0)) {
    throw bad("bcq_threshold", "in (0, 1]", bcq_threshold);
  }
  if (!(bcq_bc_weight >= 0.0)) throw bad("bcq_bc_weight", ">= 0", bcq_bc_weight);
  if (!(bcq_logit_penalty >= 0.0)) throw bad("bcq_logit_penalty", ">= 0", bcq_logit_penalty);
  if (!std::isfinite(reward.click) || !std::isfinite(reward.purchase) ||
      !std::isfinite(reward.threshold) || !std::isfinite(reward.scale)) {
    throw ConfigError("offline_q.reward", "offline_q.reward values must be finite numbers");
  }
}

torch::Tensor CqlPenalty(const torch::Tensor& q, const torch::Tensor& actions) {
  return torch::logsumexp(q, 1) - q.gather(1, actions.unsqueeze(1)).squeeze(1);
}

torch::Tensor BcqAllowed(const torch::Tensor& bc_logits, double threshold) {
  const torch::Tensor max = std::get<0>(bc_logits.max(1, /*keepdim=*/true));
  return (bc_logits - max) >= std::log(threshold);
}

torch::Tensor BcqScores(const torch::Tensor& q, const torch::Tensor& bc_logits, double threshold) {
  const torch::Tensor allowed = BcqAllowed(bc_logits, threshold);
  const torch::Tensor inf = torch::full_like(q, std::numeric_limits<float>::infinity());
  const torch::Tensor min_allowed = torch::where(allowed, q, inf).amin(1, /*keepdim=*/true);
  const torch::Tensor ratio =
      torch::exp(bc_logits - std::get<0>(bc_logits.max(1, /*keepdim=*/true)));
  return torch::where(allowed, q, min_allowed - 2.0 + ratio);
}

OfflineQAgent::OfflineQAgent(const SupervisedOptions& options, const OfflineQOptions& q,
                             OfflineQVariant variant, torch::Device device)
    : SupervisedAgent(options, device), q_(q), variant_(variant) {
  q_.Validate();
  if (variant_ == OfflineQVariant::kBcq) {
    bc_ = torch::nn::Linear(encoder_->dim(), options_.encoder.num_items);
    bc_->to(device_);
  }
  target_encoder_ = models::CloneEncoder(*encoder_);
  target_head_ = torch::nn::Linear(encoder_->dim(), options_.encoder.num_items);
  target_head_->to(device_);
  models::CopyModuleState(*head_, *target_head_);
  for (auto& p : target_encoder_->parameters()) p.set_requires_grad(false);
  for (auto& p : target_head_->parameters()) p.set_requires_grad(false);
  target_encoder_->eval();
  target_head_->eval();
  optimizer_ = std::make_unique<torch::optim::Adam>(
      parameters(), torch::optim::AdamOptions(options_.lr).weight_decay(options_.weight_decay));
}

std::vector<torch::Tensor> OfflineQAgent::parameters() const {
  std::vector<torch::Tensor> p = SupervisedAgent::parameters();
  if (bc_)
    for (auto& x : bc_->parameters()) p.push_back(x);
  return p;
}

void OfflineQAgent::SyncTarget() {
  models::CopyModuleState(*encoder_, *target_encoder_);
  models::CopyModuleState(*head_, *target_head_);
}

torch::Tensor OfflineQAgent::QValues(const torch::Tensor& items, const torch::Tensor& lengths) {
  return SupervisedAgent::Scores(items, lengths);
}

torch::Tensor OfflineQAgent::Scores(const torch::Tensor& items, const torch::Tensor& lengths) {
  if (variant_ == OfflineQVariant::kCql) return SupervisedAgent::Scores(items, lengths);
  torch::NoGradGuard ng;
  encoder_->eval();
  head_->eval();
  bc_->eval();
  const torch::Tensor h = encoder_->forward(items.to(device_), lengths.to(device_)).last;
  return BcqScores(head_->forward(h), bc_->forward(h), q_.bcq_threshold);
}

MetricList OfflineQAgent::Update(const SequenceBatch& batch) {
  if (!batch.values.defined() || !batch.done.defined()) {
    throw Error("OfflineQAgent::Update: the batch needs values and done (offline trainer)");
  }
  if (step_ % q_.target_update_every == 0) SyncTarget();
  const bool bcq = variant_ == OfflineQVariant::kBcq;
  torch::Tensor selector, target;
  {
    torch::NoGradGuard ng;
    encoder_->eval();
    head_->eval();
    auto [next_items, next_lengths] =
        AppendToWindow(batch.items, batch.lengths, batch.targets, options_.encoder.num_items);
    const torch::Tensor h_next = encoder_->forward(next_items, next_lengths).last;
    selector = head_->forward(h_next);
    if (bcq) {
      bc_->eval();
      const torch::Tensor allowed = BcqAllowed(bc_->forward(h_next), q_.bcq_threshold);
      selector = torch::where(allowed, selector,
                              torch::full_like(selector, -std::numeric_limits<float>::infinity()));
    }
    target = target_head_->forward(target_encoder_->forward(next_items, next_lengths).last);
  }
  encoder_->train();
  head_->train();
  const torch::Tensor h = encoder_->forward(batch.items, batch.lengths).last;
  const torch::Tensor q = head_->forward(h);
  const torch::Tensor q_sa = q.gather(1, batch.targets.unsqueeze(1)).squeeze(1);
  const torch::Tensor not_done = 1.0 - batch.done.to(torch::kFloat);
  const torch::Tensor td =
      DoubleQLoss(q_sa, q_.reward.Rewards(batch.values), q_.discount * not_done, selector, target)
          .mean();
  torch::Tensor extra;
  if (bcq) {
    bc_->train();
    const torch::Tensor g = bc_->forward(h);
    extra = F::cross_entropy(g, batch.targets) + q_.bcq_logit_penalty * g.pow(2).mean();
    extra = q_.bcq_bc_weight * extra;
  } else {
    extra = q_.cql_alpha * CqlPenalty(q, batch.targets).mean();
  }
  const torch::Tensor loss = td + extra;
  const torch::Tensor norm = ApplyLoss(loss);
  return ReadMetrics({{"loss", loss},
                      {"td", td},
                      {bcq ? "bc" : "cql", extra},
                      {"q_mean", q_sa.detach().mean()},
                      {"grad_norm", norm}});
}

void OfflineQAgent::Save(torch::serialize::OutputArchive& archive) const {
  SupervisedAgent::Save(archive);  // encoder, head (= Q), optimizer, step
  torch::serialize::OutputArchive tenc, thead;
  target_encoder_->save(tenc);
  target_head_->save(thead);
  archive.write("target_encoder", tenc);
  archive.write("target_head", thead);
  if (bc_) {
    torch::serialize::OutputArchive bc;
    bc_->save(bc);
    archive.write("bc_head", bc);
  }
}

void OfflineQAgent::Load(torch::serialize::InputArchive& archive) {
  SupervisedAgent::Load(archive);
  torch::serialize::InputArchive tenc, thead;
  archive.read("target_encoder", tenc);
  archive.read("target_head", thead);
  models::LoadModule(*target_encoder_, tenc);
  models::LoadModule(*target_head_, thead);
  target_encoder_->to(device_);
  target_head_->to(device_);
  if (bc_) {
    torch::serialize::InputArchive bc;
    archive.read("bc_head", bc);
    models::LoadModule(*bc_, bc);
    bc_->to(device_);
  }
}

}  // namespace recarena::agents
