#include "agents/actor_critic.h"
#include "agents/gradient_step.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "core/error.h"
#include "models/checkpoint.h"
#include "policies/baseline_policies.h"

namespace recarena::agents {

torch::Tensor MaskedLogSoftmax(const torch::Tensor& logits, const torch::Tensor& mask) {
  return logits.masked_fill(mask.logical_not(), -std::numeric_limits<float>::infinity())
      .log_softmax(1);
}

torch::Tensor MaskedEntropy(const torch::Tensor& log_probs, const torch::Tensor& mask) {
  // p * log p is 0 * -inf = NaN at masked entries: replace log p there by 0 before multiplying,
  // with torch::where, whose backward sends no gradient into the unused branch.
  auto safe = torch::where(mask, log_probs, torch::zeros_like(log_probs));
  return -(log_probs.exp() * safe).sum(1);
}

policies::ActionSelection SelectFromPolicy(const torch::Tensor& logits, const torch::Tensor& mask,
                                           bool explore, policies::Explorer& explorer, int64_t step,
                                           Rng& rng) {
  auto m = mask.to(logits.device());
  if (explore) return explorer.Select(logits, m, step, rng);
  policies::ActionSelection sel;
  sel.actions = policies::MaskedArgmax(logits, m);
  sel.greedy = torch::ones({logits.size(0)}, logits.options().dtype(torch::kBool));
  return sel;
}

torch::Tensor ThesisTdTarget(ActorCritic& net, const torch::Tensor& next_items,
                             const torch::Tensor& next_lengths, const torch::Tensor& next_mask,
                             const torch::Tensor& rewards, const torch::Tensor& discount) {
  torch::NoGradGuard ng;
  auto q_next = net.Forward(next_items, next_lengths, /*train=*/false).critic;
  auto best = q_next
                  .masked_fill(next_mask.to(q_next.device()).logical_not(),
                               -std::numeric_limits<float>::infinity())
                  .amax(1);
  auto d = discount.to(q_next.device(), torch::kFloat);
  // where (not a product) so that a row without bootstrap never multiplies anything by 0.
  best = torch::where(d > 0, best * d, torch::zeros_like(best));
  return rewards.to(q_next.device(), torch::kFloat) + best;
}

ThesisA2cLosses ThesisA2cLoss(const torch::Tensor& q, const torch::Tensor& log_probs,
                              const torch::Tensor& actions, const torch::Tensor& targets) {
  auto a = actions.to(q.device()).unsqueeze(1);
  auto q_sa = q.gather(1, a).squeeze(1);
  auto td = targets - q_sa;  // Eq. 7.9 (and the residual of Eq. 7.8)
  ThesisA2cLosses out;
  out.critic = td.pow(2).mean();
  out.actor = -(log_probs.gather(1, a).squeeze(1) * td.detach()).mean();
  return out;
}

ActorCritic::ActorCritic(models::EncoderOptions encoder, int64_t num_items, int64_t critic_outputs,
                         double lr, double grad_clip, torch::Device device)
    : num_items_(num_items), grad_clip_(grad_clip), device_(device) {
  if (num_items < 1)
    throw Error("ActorCritic: num_items must be >= 1, got " + std::to_string(num_items));
  if (critic_outputs < 0) {
    throw Error("ActorCritic: critic_outputs must be >= 0, got " + std::to_string(critic_outputs));
  }
  if (!(lr > 0.0) || !std::isfinite(lr))
    throw Error("ActorCritic: lr must be > 0, got " + std::to_string(lr));
  if (!(grad_clip >= 0.0) || !std::isfinite(grad_clip)) {
    throw Error("ActorCritic: grad_clip must be >= 0, got " + std::to_string(grad_clip));
  }
  encoder.num_items = num_items;
  encoder_ = models::MakeEncoder(encoder);
  actor_ = torch::nn::Linear(encoder_->dim(), num_items);
  if (critic_outputs > 0) critic_ = torch::nn::Linear(encoder_->dim(), critic_outputs);
  encoder_->to(device_);
  actor_->to(device_);
  if (critic_) critic_->to(device_);
  optimizer_ = std::make_unique<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(lr));
}

std::vector<torch::Tensor> ActorCritic::parameters() const {
  std::vector<torch::Tensor> params = encoder_->parameters();
  for (auto& p : actor_->parameters()) params.push_back(p);
  if (critic_) {
    for (auto& p : critic_->parameters()) params.push_back(p);
  }
  return params;
}

ActorCritic::Output ActorCritic::Forward(const torch::Tensor& items, const torch::Tensor& lengths,
                                         bool train) {
  encoder_->train(train);
  actor_->train(train);
  if (critic_) critic_->train(train);
  auto h = encoder_->forward(items.to(device_), lengths.to(device_)).last;
  Output out;
  out.logits = actor_->forward(h);
  if (critic_) out.critic = critic_->forward(h);
  return out;
}

torch::Tensor ActorCritic::Step(const torch::Tensor& loss) {
  return GradientStep(loss, parameters(), *optimizer_, grad_clip_, sync_);
}

void ActorCritic::Save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive enc, actor, critic, opt;
  encoder_->save(enc);
  actor_->save(actor);
  if (critic_) critic_->save(critic);
  optimizer_->save(opt);
  archive.write("encoder", enc);
  archive.write("actor", actor);
  archive.write("critic", critic);
  archive.write("optimizer", opt);
}

void ActorCritic::LoadNetworks(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive enc, actor, critic;
  for (auto [key, sub] : {std::pair<const char*, torch::serialize::InputArchive*>{"encoder", &enc},
                          {"actor", &actor},
                          {"critic", &critic}}) {
    if (!archive.try_read(key, *sub)) {
      throw Error(std::string("ActorCritic::LoadNetworks: the checkpoint has no '") + key +
                  "' section");
    }
  }
  models::LoadModule(*encoder_, enc);
  models::LoadModule(*actor_, actor);
  if (critic_) models::LoadModule(*critic_, critic);
  encoder_->to(device_);
  actor_->to(device_);
  if (critic_) critic_->to(device_);
}

void ActorCritic::SetFrozen(bool frozen) {
  for (auto& p : parameters()) p.set_requires_grad(!frozen);
}

void ActorCritic::Load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive enc, actor, critic, opt;
  for (auto [key, sub] : {std::pair<const char*, torch::serialize::InputArchive*>{"encoder", &enc},
                          {"actor", &actor},
                          {"critic", &critic},
                          {"optimizer", &opt}}) {
    if (!archive.try_read(key, *sub)) {
      throw Error(std::string("ActorCritic::Load: the checkpoint has no '") + key + "' section");
    }
  }
  models::LoadModule(*encoder_, enc);
  models::LoadModule(*actor_, actor);
  if (critic_) models::LoadModule(*critic_, critic);
  optimizer_->load(opt);
  encoder_->to(device_);
  actor_->to(device_);
  if (critic_) critic_->to(device_);
}

}  // namespace recarena::agents
