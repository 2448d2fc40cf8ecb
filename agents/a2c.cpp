#include "agents/a2c.h"
#include "agents/gradient_step.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "core/error.h"

namespace recarena::agents {

torch::Tensor Gae(const torch::Tensor& rewards, const torch::Tensor& values,
                  const torch::Tensor& next_values, const torch::Tensor& terminated,
                  const torch::Tensor& truncated, double gamma, double lambda) {
  if (rewards.dim() != 2 || values.sizes() != rewards.sizes() ||
      next_values.sizes() != rewards.sizes() || terminated.sizes() != rewards.sizes() ||
      truncated.sizes() != rewards.sizes()) {
    throw Error("Gae: rewards, values, next_values, terminated and truncated must all be [T, B]");
  }
  const auto opts = rewards.options();
  auto term = terminated.to(rewards.device(), rewards.scalar_type());
  auto trunc = truncated.to(rewards.device(), rewards.scalar_type());
  auto not_term = 1.0 - term;
  auto not_done = (1.0 - term) * (1.0 - trunc);
  auto delta = rewards + gamma * next_values.to(opts) * not_term - values.to(opts);
  auto out = torch::empty_like(rewards);
  auto next = torch::zeros({rewards.size(1)}, opts);
  for (int64_t t = rewards.size(0) - 1; t >= 0; --t) {
    next = delta[t] + gamma * lambda * not_done[t] * next;
    out[t] = next;
  }
  return out;
}

namespace {
void CheckUnit(double v, const char* key) {
  if (!(v >= 0.0 && v <= 1.0)) {
    throw ConfigError(key, std::string(key) + " must lie in [0, 1], got " + std::to_string(v));
  }
}
void CheckNonNegative(double v, const char* key) {
  if (!(v >= 0.0) || !std::isfinite(v)) {
    throw ConfigError(key, std::string(key) + " must be >= 0, got " + std::to_string(v));
  }
}
}  // namespace

A2cAgent::A2cAgent(const OnlineAgentOptions& options,
                   const policies::ExplorationOptions& exploration, int64_t num_items,
                   torch::Device device)
    : options_(options),
      device_(device),
      net_(options.encoder, num_items, options.a2c.variant == A2cVariant::kThesis ? num_items : 1,
           options.lr, options.grad_clip, device),
      explorer_(exploration, num_items),
      buffer_(std::max<int64_t>(options.a2c.rollout_len, 1)) {
  if (options_.a2c.rollout_len < 1) {
    throw ConfigError("agent.a2c.rollout_len", "agent.a2c.rollout_len must be >= 1, got " +
                                                   std::to_string(options_.a2c.rollout_len));
  }
  CheckUnit(options_.gamma, "agent.gamma");
  CheckUnit(options_.a2c.gae_lambda, "agent.a2c.gae_lambda");
  CheckNonNegative(options_.a2c.entropy_coef, "agent.a2c.entropy_coef");
  CheckNonNegative(options_.a2c.value_coef, "agent.a2c.value_coef");
  options_.encoder.num_items = num_items;
}

A2cAgent::A2cAgent(const OnlineAgentOptions& options,
                   const policies::ExplorationOptions& exploration, int64_t num_items,
                   torch::Device device, std::string name, bool learns)
    : A2cAgent(options, exploration, num_items, device) {
  name_ = std::move(name);
  learns_ = learns;
  if (!learns_) net_.SetFrozen(true);
}

policies::ActionSelection A2cAgent::Act(const env::Observation& obs, const torch::Tensor& mask,
                                        bool explore, Rng& rng) {
  return SelectFromPolicy(Scores(obs), mask, explore, explorer_, step_, rng);
}

torch::Tensor A2cAgent::Scores(const env::Observation& obs) {
  torch::NoGradGuard ng;
  return net_.Forward(obs.items, obs.lengths, /*train=*/false).logits;
}

torch::Tensor A2cAgent::CriticValues(const env::Observation& obs) {
  torch::NoGradGuard ng;
  return net_.Forward(obs.items, obs.lengths, /*train=*/false).critic;
}

MetricList A2cAgent::Observe(const Transition& t) {
  const Transition d = TransitionToDevice(t, device_);
  explorer_.Observe(d.actions);
  ++step_;
  if (!learns_) return {};
  if (options_.a2c.variant == A2cVariant::kThesis) return UpdateThesis(d);
  buffer_.Add(d);
  if (buffer_.steps() < options_.a2c.rollout_len) return {};
  auto metrics = UpdateStandard();
  buffer_.Clear();
  return metrics;
}

MetricList A2cAgent::UpdateStandard() {
  const RolloutBatch batch = buffer_.Stacked();
  const int64_t T = batch.actions.size(0), B = batch.actions.size(1);
  const int64_t L = batch.items.size(2), N = batch.mask.size(2);
  torch::Tensor next_values;
  {
    torch::NoGradGuard ng;
    next_values = net_.Forward(batch.next_items.reshape({T * B, L}),
                               batch.next_lengths.reshape({T * B}), /*train=*/false)
                      .critic.reshape({T, B});
  }
  auto out = net_.Forward(batch.items.reshape({T * B, L}), batch.lengths.reshape({T * B}), true);
  auto values = out.critic.reshape({T, B});
  auto rewards = batch.rewards.to(torch::kFloat);
  auto advantages = Gae(rewards, values.detach(), next_values, batch.terminated, batch.truncated,
                        options_.gamma, options_.a2c.gae_lambda)
                        .reshape({T * B});
  auto targets = advantages + values.detach().reshape({T * B});
  auto mask = batch.mask.reshape({T * B, N});
  auto log_probs = MaskedLogSoftmax(out.logits, mask);
  auto log_pi = log_probs.gather(1, batch.actions.reshape({T * B, 1})).squeeze(1);
  auto actor_loss = -(log_pi * advantages).mean();
  auto critic_loss = torch::mse_loss(values.reshape({T * B}), targets);
  auto entropy = MaskedEntropy(log_probs, mask).mean();
  auto loss =
      actor_loss + options_.a2c.value_coef * critic_loss - options_.a2c.entropy_coef * entropy;
  const torch::Tensor norm = net_.Step(loss);
  ++updates_;
  return ReadMetrics({{"actor_loss", actor_loss},
                      {"critic_loss", critic_loss},
                      {"entropy", entropy},
                      {"grad_norm", norm}});
}

MetricList A2cAgent::UpdateThesis(const Transition& t) {
  const auto discount =
      torch::where(t.terminated, 0.0, options_.gamma).to(torch::kFloat);  // Eq. 7.12's target
  const torch::Tensor target =
      ThesisTdTarget(net_, t.next_obs.items, t.next_obs.lengths, t.next_mask, t.rewards, discount);
  auto out = net_.Forward(t.obs.items, t.obs.lengths, /*train=*/true);
  auto log_probs = MaskedLogSoftmax(out.logits, t.mask);
  const ThesisA2cLosses l = ThesisA2cLoss(out.critic, log_probs, t.actions, target);
  const torch::Tensor norm = net_.Step(l.actor + options_.a2c.value_coef * l.critic);  // Eq. 7.10
  ++updates_;
  const torch::Tensor entropy = MaskedEntropy(log_probs.detach(), t.mask).mean();
  return ReadMetrics({{"actor_loss", l.actor},
                      {"critic_loss", l.critic},
                      {"entropy", entropy},
                      {"grad_norm", norm}});
}

bool A2cAgent::SetGradientSync(dist::GradientSync* sync) {
  if (sync != nullptr) sync->SetShare(1.0 / static_cast<double>(sync->group().size()));
  net_.SetGradientSync(sync);
  return true;
}

void A2cAgent::Save(torch::serialize::OutputArchive& archive) const {
  net_.Save(archive);
  explorer_.Save(archive);
  buffer_.Save(archive, "rollout");
  archive.write("step", torch::tensor(step_, torch::kInt64));
  archive.write("updates", torch::tensor(updates_, torch::kInt64));
}

void A2cAgent::Load(torch::serialize::InputArchive& archive) {
  net_.Load(archive);
  explorer_.Load(archive);
  buffer_.Load(archive, "rollout", device_);
  for (auto [key, dst] :
       {std::pair<const char*, int64_t*>{"step", &step_}, {"updates", &updates_}}) {
    torch::Tensor v;
    if (!archive.try_read(key, v)) {
      throw Error(std::string("A2cAgent::Load: the checkpoint has no '") + key + "' tensor");
    }
    *dst = v.item<int64_t>();
  }
}

void A2cOptions::Validate() const {
  if (rollout_len < 1) BadAgentOption("a2c.rollout_len", ">= 1", rollout_len);
  if (!(gae_lambda >= 0 && gae_lambda <= 1))
    BadAgentOption("a2c.gae_lambda", "in [0, 1]", gae_lambda);
  if (!(entropy_coef >= 0)) BadAgentOption("a2c.entropy_coef", ">= 0", entropy_coef);
  if (!(value_coef >= 0)) BadAgentOption("a2c.value_coef", ">= 0", value_coef);
}

std::unique_ptr<OnlineAgent> MakeA2cAgent(const OnlineAgentContext& c) {
  return std::make_unique<A2cAgent>(c.options, c.exploration, c.num_items, c.device);
}

}  // namespace recarena::agents
