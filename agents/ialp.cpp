#include "agents/ialp.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "agents/a2c.h"
#include "agents/gradient_step.h"
#include "agents/online_config.h"
#include "agents/rollout_buffer.h"
#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::agents {

void LoadDistilledNetworks(const std::string& checkpoint,
                           const std::function<void(torch::serialize::InputArchive&)>& load) {
  if (checkpoint.empty()) return;
  models::LoadArchiveFile(
      checkpoint,
      [&](torch::serialize::InputArchive& archive) {
        torch::serialize::InputArchive net;
        if (!archive.try_read("net", net))
          throw FileError(checkpoint, 0,
                          "agent.ialp.init_from: no 'net' section (not an agent.pt of `recarena "
                          "llm distill`)");
        load(net);
      },
      "agent.ialp.init_from: cannot load the distilled policy");
}

namespace {
OnlineAgentOptions ThesisOptions(const OnlineAgentOptions& o, const IalpSetup& setup) {
  OnlineAgentOptions t = o;
  t.encoder = setup.encoder;
  t.a2c.variant = A2cVariant::kThesis;
  return t;
}

std::unique_ptr<OnlineAgent> MakeThesisA2c(const OnlineAgentContext& c, const char* name,
                                           bool learns) {
  if (c.ialp_setup == nullptr) throw Error(std::string(name) + ": no iALP setup was resolved");
  auto agent = std::make_unique<A2cAgent>(ThesisOptions(c.options, *c.ialp_setup), c.exploration,
                                          c.num_items, c.device, name, learns);
  LoadDistilledNetworks(c.ialp_setup->init_checkpoint,
                        [&](torch::serialize::InputArchive& a) { agent->InitNetworks(a); });
  return agent;
}
}  // namespace

torch::Tensor MixLogProbs(const torch::Tensor& log_theta, const torch::Tensor& log_beta,
                          double alpha) {
  if (alpha <= 0.0) return log_theta;
  if (alpha >= 1.0) return log_beta;
  return torch::logaddexp(log_theta + std::log1p(-alpha), log_beta + std::log(alpha));
}

IalpApAgent::IalpApAgent(const OnlineAgentOptions& options, const IalpSetup& setup,
                         const policies::ExplorationOptions& exploration, int64_t num_items,
                         torch::Device device)
    : alpha0_(options.ialp.alpha0),
      alpha_steps_(options.ialp.alpha_steps),
      gamma_(options.gamma),
      value_coef_(options.a2c.value_coef),
      device_(device),
      theta_(setup.encoder, num_items, num_items, options.lr, options.grad_clip, device),
      beta_(setup.encoder, num_items, num_items, options.lr, options.grad_clip, device),
      explorer_(exploration, num_items) {
  LoadDistilledNetworks(setup.init_checkpoint,
                        [&](torch::serialize::InputArchive& a) { theta_.LoadNetworks(a); });
  if (options.ialp.beta_init == IalpBetaInit::kCopy) {  // Alg. 6, line 2
    torch::NoGradGuard ng;
    const auto from = theta_.parameters();
    auto to = beta_.parameters();
    for (size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
  }
  theta_.SetFrozen(true);
}

double IalpApAgent::Alpha(int64_t step) const {
  if (alpha_steps_ <= 0) return 1.0;
  const double f = std::min(1.0, static_cast<double>(step) / static_cast<double>(alpha_steps_));
  return alpha0_ + (1.0 - alpha0_) * f;
}

torch::Tensor IalpApAgent::MixedLogProbs(const env::Observation& obs, const torch::Tensor& mask,
                                         double alpha, ActorCritic::Output* beta_out) {
  torch::Tensor log_theta;
  {
    torch::NoGradGuard ng;
    log_theta = MaskedLogSoftmax(theta_.Forward(obs.items, obs.lengths, false).logits, mask);
  }
  torch::Tensor beta_logits;
  if (beta_out != nullptr) {
    *beta_out = beta_.Forward(obs.items, obs.lengths, /*train=*/true);
    beta_logits = beta_out->logits;
  } else {
    torch::NoGradGuard ng;
    beta_logits = beta_.Forward(obs.items, obs.lengths, false).logits;
  }
  return MixLogProbs(log_theta, MaskedLogSoftmax(beta_logits, mask), alpha);
}

policies::ActionSelection IalpApAgent::Act(const env::Observation& obs, const torch::Tensor& mask,
                                           bool explore, Rng& rng) {
  torch::NoGradGuard ng;
  const auto m = mask.to(device_);
  return SelectFromPolicy(MixedLogProbs(obs, m, Alpha(step_), nullptr), m, explore, explorer_,
                          step_, rng);
}

torch::Tensor IalpApAgent::Scores(const env::Observation& obs) {
  torch::NoGradGuard ng;
  const auto all = torch::ones({obs.items.size(0), theta_.num_items()},
                               torch::TensorOptions().dtype(torch::kBool).device(device_));
  return MixedLogProbs(obs, all, Alpha(step_), nullptr);
}

MetricList IalpApAgent::Observe(const Transition& t) {
  const Transition d = TransitionToDevice(t, device_);
  const double alpha = Alpha(step_);
  explorer_.Observe(d.actions);
  ++step_;
  const auto discount = torch::where(d.terminated, 0.0, gamma_).to(torch::kFloat);
  const torch::Tensor target =
      ThesisTdTarget(beta_, d.next_obs.items, d.next_obs.lengths, d.next_mask, d.rewards, discount);
  ActorCritic::Output out;
  const torch::Tensor log_mix = MixedLogProbs(d.obs, d.mask, alpha, &out);          // Eq. 7.14
  const ThesisA2cLosses l = ThesisA2cLoss(out.critic, log_mix, d.actions, target);  // Eq. 7.15
  const torch::Tensor norm = beta_.Step(l.actor + value_coef_ * l.critic);
  ++updates_;
  MetricList m =
      ReadMetrics({{"actor_loss", l.actor}, {"critic_loss", l.critic}, {"grad_norm", norm}});
  m.emplace_back("alpha", alpha);
  return m;
}

void IalpApAgent::Save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive theta, beta;
  theta_.Save(theta);
  beta_.Save(beta);
  archive.write("theta", theta);
  archive.write("beta", beta);
  explorer_.Save(archive);
  archive.write("step", torch::tensor(step_, torch::kInt64));
  archive.write("updates", torch::tensor(updates_, torch::kInt64));
}

void IalpApAgent::Load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive theta, beta;
  if (!archive.try_read("theta", theta) || !archive.try_read("beta", beta))
    throw Error("IalpApAgent::Load: the checkpoint has no 'theta' / 'beta' sections");
  theta_.Load(theta);
  beta_.Load(beta);
  theta_.SetFrozen(true);
  explorer_.Load(archive);
  for (auto [key, dst] :
       {std::pair<const char*, int64_t*>{"step", &step_}, {"updates", &updates_}}) {
    torch::Tensor v;
    if (!archive.try_read(key, v))
      throw Error(std::string("IalpApAgent::Load: the checkpoint has no '") + key + "' tensor");
    *dst = v.item<int64_t>();
  }
}

void IalpOptions::Validate() const {
  if (!(alpha0 >= 0 && alpha0 <= 1)) BadAgentOption("ialp.alpha0", "in [0, 1]", alpha0);
  if (alpha_steps < 0)
    BadAgentOption("ialp.alpha_steps", ">= 0 (0 = alpha 1 at once)", alpha_steps);
  if (k < 1 || k > 25) BadAgentOption("ialp.k", "in 1..25 (labels a..y)", k);
}

std::unique_ptr<OnlineAgent> MakeIalpAgent(const OnlineAgentContext& c) {
  return MakeThesisA2c(c, "ialp", /*learns=*/false);
}
std::unique_ptr<OnlineAgent> MakeIalpFtAgent(const OnlineAgentContext& c) {
  return MakeThesisA2c(c, "ialp_ft", /*learns=*/true);
}
std::unique_ptr<OnlineAgent> MakeIalpApAgent(const OnlineAgentContext& c) {
  if (c.ialp_setup == nullptr) throw Error("ialp_ap: no iALP setup was resolved");
  return std::make_unique<IalpApAgent>(c.options, *c.ialp_setup, c.exploration, c.num_items,
                                       c.device);
}

}  // namespace recarena::agents
