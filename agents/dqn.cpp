#include "agents/dqn.h"
#include "agents/gradient_step.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "models/checkpoint.h"
#include "policies/baseline_policies.h"

namespace recarena::agents {
namespace {

// options with encoder.num_items filled in, after the checks the agent itself relies on (the
// config-level validation with key paths is OnlineAgentOptions::Validate).
OnlineAgentOptions Checked(OnlineAgentOptions options, int64_t num_items) {
  if (num_items < 1) throw Error("dqn: num_items must be >= 1, got " + std::to_string(num_items));
  options.encoder.num_items = num_items;
  const DqnOptions& d = options.dqn;
  auto positive = [](const char* key, int64_t v) {
    if (v < 1) {
      throw ConfigError(
          std::string("agent.dqn.") + key,
          std::string("agent.dqn.") + key + " must be >= 1, got " + std::to_string(v));
    }
  };
  positive("buffer_size", d.buffer_size);
  positive("batch_size", d.batch_size);
  positive("train_every", d.train_every);
  positive("updates_per_step", d.updates_per_step);
  positive("target_every", d.target_every);
  positive("n_step", d.n_step);
  if (d.learning_starts < 0) {
    throw ConfigError("agent.dqn.learning_starts", "agent.dqn.learning_starts must be >= 0, got " +
                                                       std::to_string(d.learning_starts));
  }
  if (!(d.tau > 0.0 && d.tau <= 1.0)) {
    throw ConfigError("agent.dqn.tau",
                      "agent.dqn.tau must be in (0, 1], got " + std::to_string(d.tau));
  }
  if (!(options.gamma >= 0.0 && options.gamma <= 1.0)) {
    throw ConfigError("agent.gamma",
                      "agent.gamma must be in [0, 1], got " + std::to_string(options.gamma));
  }
  if (!(options.lr > 0.0)) {
    throw ConfigError("agent.lr", "agent.lr must be > 0, got " + std::to_string(options.lr));
  }
  if (!(options.grad_clip >= 0.0)) {
    throw ConfigError("agent.grad_clip",
                      "agent.grad_clip must be >= 0, got " + std::to_string(options.grad_clip));
  }
  return options;
}

torch::Tensor Int(int64_t v) { return torch::tensor(v, torch::kInt64); }

int64_t ReadInt(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  archive.read(key, t);
  return t.item<int64_t>();
}

}  // namespace

DqnAgent::DqnAgent(const OnlineAgentOptions& options,
                   const policies::ExplorationOptions& exploration, int64_t num_items,
                   torch::Device device, std::optional<uint64_t> replay_seed)
    : options_(Checked(options, num_items)),
      num_items_(num_items),
      device_(device),
      explorer_(exploration, num_items),
      buffer_(options_.dqn.buffer_size, options_.encoder.state_len),
      nstep_(options_.dqn.n_step, options_.gamma) {
  encoder_ = models::MakeEncoder(options_.encoder);
  head_ = torch::nn::Linear(encoder_->dim(), num_items_);
  encoder_->to(device_);
  head_->to(device_);
  target_encoder_ = models::CloneEncoder(*encoder_);
  target_head_ = torch::nn::Linear(encoder_->dim(), num_items_);
  target_head_->to(device_);
  for (auto& p : target_parameters()) p.set_requires_grad(false);
  SyncTarget();
  optimizer_ =
      std::make_unique<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(options_.lr));
  const uint64_t seed =
      replay_seed ? *replay_seed
                  : static_cast<uint64_t>(
                        torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::kInt64)
                            .item<int64_t>());
  rng_ = Rng(seed);
}

std::vector<torch::Tensor> DqnAgent::parameters() const {
  std::vector<torch::Tensor> params = encoder_->parameters();
  for (auto& p : head_->parameters()) params.push_back(p);
  return params;
}

std::vector<torch::Tensor> DqnAgent::target_parameters() const {
  std::vector<torch::Tensor> params = target_encoder_->parameters();
  for (auto& p : target_head_->parameters()) params.push_back(p);
  return params;
}

void DqnAgent::SyncTarget() {
  models::CopyModuleState(*encoder_, *target_encoder_);
  models::CopyModuleState(*head_, *target_head_);
}

void DqnAgent::UpdateTarget() {
  if (options_.dqn.target_update == TargetUpdate::kHard) {
    if (grad_steps_ % options_.dqn.target_every == 0) SyncTarget();
    return;
  }
  torch::NoGradGuard ng;
  const double tau = options_.dqn.tau;
  auto src = parameters(), dst = target_parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].mul_(1.0 - tau).add_(src[i], tau);
  auto sb = encoder_->buffers(), db = target_encoder_->buffers();
  for (size_t i = 0; i < sb.size(); ++i) db[i].copy_(sb[i]);
}

torch::Tensor DqnAgent::Q(models::SequenceEncoderImpl& encoder, torch::nn::Linear& head,
                          const env::Observation& obs) {
  auto out = encoder.forward(obs.items.to(device_), obs.lengths.to(device_));
  return head->forward(out.last);
}

torch::Tensor DqnAgent::QAt(models::SequenceEncoderImpl& encoder, torch::nn::Linear& head,
                            const env::Observation& obs, const torch::Tensor& actions) {
  auto h = encoder.forward(obs.items.to(device_), obs.lengths.to(device_)).last;  // [B, D]
  auto a = actions.to(device_, torch::kInt64);
  auto w = head->weight.index_select(0, a);  // [B, D]
  return (h * w).sum(1) + head->bias.index_select(0, a);
}

torch::Tensor DqnAgent::Scores(const env::Observation& obs) {
  torch::NoGradGuard ng;
  encoder_->eval();
  head_->eval();
  return Q(*encoder_, head_, obs);
}

torch::Tensor DqnAgent::TargetScores(const env::Observation& obs) {
  torch::NoGradGuard ng;
  target_encoder_->eval();
  target_head_->eval();
  return Q(*target_encoder_, target_head_, obs);
}

policies::ActionSelection DqnAgent::Act(const env::Observation& obs, const torch::Tensor& mask,
                                        bool explore, Rng& rng) {
  const torch::Device out_device = obs.items.device();
  auto q = Scores(obs);
  auto m = mask.to(device_, torch::kBool);
  policies::ActionSelection sel;
  if (explore) {
    sel = explorer_.Select(q, m, env_steps_, rng);
  } else {
    if (!m.any(1).all().item<bool>()) throw Error("dqn: a mask row allows no item");
    sel.actions = policies::MaskedArgmax(q, m);
    sel.greedy =
        torch::ones({q.size(0)}, torch::TensorOptions().dtype(torch::kBool).device(device_));
  }
  sel.actions = sel.actions.to(out_device);
  sel.greedy = sel.greedy.to(out_device);
  return sel;
}

torch::Tensor DqnAgent::TdTargets(const ReplayBuffer::Batch& batch) {
  torch::NoGradGuard ng;
  auto next_mask = batch.next_mask.to(device_, torch::kBool);
  torch::Tensor v;
  if (options_.dqn.double_q) {
    auto a_star = policies::MaskedArgmax(Scores(batch.next_obs), next_mask);
    target_encoder_->eval();
    target_head_->eval();
    v = QAt(*target_encoder_, target_head_, batch.next_obs, a_star);
  } else {
    auto q_target = TargetScores(batch.next_obs);
    const auto neg_inf = torch::full_like(q_target, -std::numeric_limits<float>::infinity());
    v = torch::where(next_mask, q_target, neg_inf).amax(1);
  }
  auto r = batch.rewards.to(device_, torch::kFloat);
  auto d = batch.discounts.to(device_, torch::kFloat);
  // discount 0: no bootstrap at all (also keeps a non-finite V(s') out of the target).
  return torch::where(d > 0, r + d * v, r);
}

DqnAgent::Loss DqnAgent::ComputeLoss(const ReplayBuffer::Batch& batch) {
  torch::AutoGradMode grad_mode(true);  // also when the caller holds a NoGradGuard
  Loss l;
  l.y = TdTargets(batch);
  encoder_->train();
  head_->train();
  l.q_sa = QAt(*encoder_, head_, batch.obs, batch.actions);
  // Huber = smooth L1 with beta 1 (passed explicitly, not through SmoothL1LossFuncOptions).
  l.loss = options_.dqn.loss == TdLoss::kMse
               ? torch::mse_loss(l.q_sa, l.y, at::Reduction::Mean)
               : torch::smooth_l1_loss(l.q_sa, l.y, at::Reduction::Mean, /*beta=*/1.0);
  return l;
}

MetricList DqnAgent::Update(const ReplayBuffer::Batch& batch) {
  torch::AutoGradMode grad_mode(true);
  const Loss l = ComputeLoss(batch);
  const torch::Tensor norm =
      GradientStep(l.loss, parameters(), *optimizer_, options_.grad_clip, sync_);
  ++grad_steps_;
  UpdateTarget();
  return ReadMetrics({{"loss", l.loss},
                      {"q_mean", l.q_sa.detach().mean()},
                      {"target_mean", l.y.mean()},
                      {"grad_norm", norm}});
}

MetricList DqnAgent::Observe(const Transition& t) {
  explorer_.Observe(t.actions);
  nstep_.Push(t, buffer_);
  ++env_steps_;
  const DqnOptions& d = options_.dqn;
  // Sharded, every rank adds as many transitions as the others: the job's count is W times this.
  const int64_t world = sync_ != nullptr ? sync_->group().size() : 1;
  if (buffer_.num_added() * world < std::max<int64_t>(d.learning_starts, 1) ||
      env_steps_ % d.train_every != 0) {
    return {};
  }
  int64_t rows = d.batch_size;  // this rank's shard of the global batch
  if (sync_ != nullptr) {
    const int64_t W = sync_->group().size(), r = sync_->group().rank();
    rows = d.batch_size * (r + 1) / W - d.batch_size * r / W;
    sync_->SetShare(static_cast<double>(rows) / static_cast<double>(d.batch_size));
  }
  MetricList sum;
  for (int64_t u = 0; u < d.updates_per_step; ++u) {
    auto m = Update(buffer_.Sample(rows, options_.gamma, rng_, device_));
    if (sum.empty()) {
      sum = m;
    } else {
      for (size_t i = 0; i < m.size(); ++i) sum[i].second += m[i].second;
    }
  }
  for (auto& kv : sum) kv.second /= static_cast<double>(d.updates_per_step);
  sum.emplace_back("grad_steps", static_cast<double>(grad_steps_));
  if (explorer_.options().kind == policies::ExplorationKind::kEpsilonGreedy) {
    sum.emplace_back("epsilon", explorer_.options().epsilon.Value(env_steps_));
  }
  return sum;
}

bool DqnAgent::SetGradientSync(dist::GradientSync* sync) {
  if (sync != nullptr) {
    const int W = sync->group().size();
    if (options_.dqn.batch_size < W) {
      throw ConfigError("agent.dqn.batch_size",
                        "agent.dqn.batch_size must be >= the number of processes (" +
                            std::to_string(W) + ") for sharded training: got " +
                            std::to_string(options_.dqn.batch_size));
    }
    rng_ = rng_.Fork(static_cast<uint64_t>(sync->group().rank()) + 1);
  }
  sync_ = sync;
  return true;
}

void DqnAgent::Save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive enc, head, tenc, thead, opt, replay, nstep, explorer;
  encoder_->save(enc);
  head_->save(head);
  target_encoder_->save(tenc);
  target_head_->save(thead);
  optimizer_->save(opt);
  buffer_.Save(replay);
  nstep_.Save(nstep);
  explorer_.Save(explorer);
  archive.write("encoder", enc);
  archive.write("head", head);
  archive.write("target_encoder", tenc);
  archive.write("target_head", thead);
  archive.write("optimizer", opt);
  archive.write("replay", replay);
  archive.write("nstep", nstep);
  archive.write("explorer", explorer);
  archive.write("env_steps", Int(env_steps_));
  archive.write("grad_steps", Int(grad_steps_));
  const std::string rng = rng_.SerializeState();
  archive.write("rng_state", models::StringToTensor(rng));
}

void DqnAgent::Load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive enc, head, tenc, thead, opt, replay, nstep, explorer;
  archive.read("encoder", enc);
  archive.read("head", head);
  archive.read("target_encoder", tenc);
  archive.read("target_head", thead);
  archive.read("optimizer", opt);
  archive.read("replay", replay);
  archive.read("nstep", nstep);
  archive.read("explorer", explorer);
  models::LoadModule(*encoder_, enc);
  models::LoadModule(*head_, head);
  models::LoadModule(*target_encoder_, tenc);
  models::LoadModule(*target_head_, thead);
  encoder_->to(device_);
  head_->to(device_);
  target_encoder_->to(device_);
  target_head_->to(device_);
  for (auto& p : target_parameters()) p.set_requires_grad(false);
  optimizer_->load(opt);
  buffer_.Load(replay);
  nstep_.Load(nstep);
  explorer_.Load(explorer);
  env_steps_ = ReadInt(archive, "env_steps");
  grad_steps_ = ReadInt(archive, "grad_steps");
  torch::Tensor rng;
  archive.read("rng_state", rng);
  rng_.DeserializeState(models::TensorToString(rng));
}

void DqnOptions::Validate() const {
  if (buffer_size < 1) BadAgentOption("dqn.buffer_size", ">= 1", buffer_size);
  if (batch_size < 1) BadAgentOption("dqn.batch_size", ">= 1", batch_size);
  if (learning_starts < 0) BadAgentOption("dqn.learning_starts", ">= 0", learning_starts);
  if (train_every < 1) BadAgentOption("dqn.train_every", ">= 1", train_every);
  if (updates_per_step < 1) BadAgentOption("dqn.updates_per_step", ">= 1", updates_per_step);
  if (target_every < 1) BadAgentOption("dqn.target_every", ">= 1", target_every);
  if (!(tau > 0 && tau <= 1)) BadAgentOption("dqn.tau", "in (0, 1]", tau);
  if (n_step < 1) BadAgentOption("dqn.n_step", ">= 1", n_step);
  if (learning_starts > buffer_size) {
    BadAgentOption("dqn.learning_starts",
                   "<= agent.dqn.buffer_size (" + std::to_string(buffer_size) + ")",
                   learning_starts);
  }
}

std::unique_ptr<OnlineAgent> MakeDqnAgent(const OnlineAgentContext& c) {
  return std::make_unique<DqnAgent>(c.options, c.exploration, c.num_items, c.device);
}

}  // namespace recarena::agents
