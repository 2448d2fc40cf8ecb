#include "agents/pg.h"
#include "agents/gradient_step.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace recarena::agents {

torch::Tensor DiscountedReturns(const torch::Tensor& rewards, const torch::Tensor& dones,
                                double gamma) {
  if (rewards.dim() != 2 || !dones.defined() || dones.sizes() != rewards.sizes()) {
    throw Error("DiscountedReturns: rewards and dones must both be [T, B]");
  }
  const int64_t T = rewards.size(0);
  auto keep = 1.0 - dones.to(rewards.device(), rewards.scalar_type());  // [T, B]
  auto out = torch::empty_like(rewards);
  auto next = torch::zeros({rewards.size(1)}, rewards.options());
  for (int64_t t = T - 1; t >= 0; --t) {
    next = rewards[t] + gamma * keep[t] * next;
    out[t] = next;
  }
  return out;
}

PgAgent::PgAgent(const OnlineAgentOptions& options, const policies::ExplorationOptions& exploration,
                 int64_t num_items, torch::Device device)
    : options_(options),
      device_(device),
      net_(options.encoder, num_items, options.pg.baseline ? 1 : 0, options.lr, options.grad_clip,
           device),
      explorer_(exploration, num_items) {
  if (options_.pg.episodes_per_update < 1) {
    throw ConfigError("agent.pg.episodes_per_update",
                      "agent.pg.episodes_per_update must be >= 1, got " +
                          std::to_string(options_.pg.episodes_per_update));
  }
  if (!(options_.gamma >= 0.0 && options_.gamma <= 1.0)) {
    throw ConfigError("agent.gamma",
                      "agent.gamma must lie in [0, 1], got " + std::to_string(options_.gamma));
  }
  options_.encoder.num_items = num_items;
}

policies::ActionSelection PgAgent::Act(const env::Observation& obs, const torch::Tensor& mask,
                                       bool explore, Rng& rng) {
  return SelectFromPolicy(Scores(obs), mask, explore, explorer_, step_, rng);
}

torch::Tensor PgAgent::Scores(const env::Observation& obs) {
  torch::NoGradGuard ng;
  return net_.Forward(obs.items, obs.lengths, /*train=*/false).logits;
}

torch::Tensor PgAgent::Baseline(const env::Observation& obs) {
  if (!options_.pg.baseline) throw Error("PgAgent::Baseline: the agent has no baseline");
  torch::NoGradGuard ng;
  return net_.Forward(obs.items, obs.lengths, /*train=*/false).critic.squeeze(1);
}

MetricList PgAgent::Observe(const Transition& t) {
  const Transition d = TransitionToDevice(t, device_);
  const int64_t B = d.actions.size(0);
  if (episode_start_.empty()) {
    episode_start_.assign(static_cast<size_t>(B), step_);
    buffer_base_ = step_;
  } else if (static_cast<int64_t>(episode_start_.size()) != B) {
    throw Error("PgAgent::Observe: the transition has B = " + std::to_string(B) +
                " slots, earlier ones had " + std::to_string(episode_start_.size()));
  }
  buffer_.Add(d);
  explorer_.Observe(d.actions);
  const int64_t now = step_++;
  auto done = (d.terminated | d.truncated).to(torch::kCPU);
  const auto* dp = done.data_ptr<bool>();
  for (int64_t b = 0; b < B; ++b) {
    if (dp[b]) {
      finished_.push_back({b, episode_start_[static_cast<size_t>(b)], now});
      episode_start_[static_cast<size_t>(b)] = now + 1;
    }
  }
  auto pending = static_cast<double>(finished_.size());
  if (auto* sync = net_.gradient_sync()) pending = sync->Sum({pending})[0];
  if (pending < static_cast<double>(options_.pg.episodes_per_update)) return {};
  return Update();
}

MetricList PgAgent::Update() {
  const RolloutBatch batch = buffer_.Stacked();
  const int64_t T = batch.actions.size(0), B = batch.actions.size(1);
  const int64_t L = batch.items.size(2), N = batch.mask.size(2);
  // Returns over the whole stored window: they restart at every episode end, so the rows of a
  // finished episode get exactly that episode's returns.
  auto returns_all = DiscountedReturns(batch.rewards.to(torch::kFloat),
                                       batch.terminated | batch.truncated, options_.gamma);
  std::vector<int64_t> rows;
  for (const auto& [slot, first, last] : finished_) {
    for (int64_t s = first; s <= last; ++s) rows.push_back((s - buffer_base_) * B + slot);
  }
  dist::GradientSync* sync = net_.gradient_sync();
  double share = 1.0;
  if (sync != nullptr) {
    const double global_rows = sync->Sum({static_cast<double>(rows.size())})[0];
    share = static_cast<double>(rows.size()) / global_rows;
    // A rank without finished episodes still joins the all-reduce: a stand-in row, share 0.
    if (rows.empty()) rows.push_back(0);
    sync->SetShare(share);
  }
  auto index = torch::tensor(rows, torch::kInt64).to(device_);
  auto items = batch.items.reshape({T * B, L}).index_select(0, index);
  auto lengths = batch.lengths.reshape({T * B}).index_select(0, index);
  auto mask = batch.mask.reshape({T * B, N}).index_select(0, index);
  auto actions = batch.actions.reshape({T * B}).index_select(0, index);
  auto returns = returns_all.reshape({T * B}).index_select(0, index);
  if (options_.pg.normalize_returns) {
    if (sync != nullptr) {
      // The mean and (biased) spread over every rank's rows; the stand-in row counts for nothing.
      const auto r = returns.to(torch::kCPU, torch::kDouble);
      const double w = share > 0 ? 1.0 : 0.0;
      const auto s = sync->Sum({w * static_cast<double>(r.size(0)), w * r.sum().item<double>(),
                                w * r.square().sum().item<double>()});
      const double mean = s[1] / s[0], var = std::max(0.0, s[2] / s[0] - mean * mean);
      returns = (returns - mean) / (std::sqrt(var) + 1e-8);
    } else {
      returns = (returns - returns.mean()) / (returns.std(/*unbiased=*/false) + 1e-8);
    }
  }

  auto out = net_.Forward(items, lengths, /*train=*/true);
  auto log_probs = MaskedLogSoftmax(out.logits, mask);
  auto log_pi = log_probs.gather(1, actions.unsqueeze(1)).squeeze(1);
  torch::Tensor advantage = returns;
  torch::Tensor critic_loss = torch::zeros({}, returns.options());
  if (options_.pg.baseline) {
    auto b = out.critic.squeeze(1);
    advantage = returns - b.detach();
    critic_loss = torch::mse_loss(b, returns);
  }
  auto actor_loss = -(log_pi * advantage.detach()).mean();
  const torch::Tensor norm = net_.Step(actor_loss + critic_loss);
  const torch::Tensor entropy = MaskedEntropy(log_probs.detach(), mask).mean();
  ++updates_;

  // Drop the steps that no running episode needs any more.
  finished_.clear();
  const int64_t keep_from = *std::min_element(episode_start_.begin(), episode_start_.end());
  buffer_.DropFront(keep_from - buffer_base_);
  buffer_base_ = keep_from;
  return ReadMetrics({{"actor_loss", actor_loss},
                      {"critic_loss", critic_loss},
                      {"entropy", entropy},
                      {"grad_norm", norm}});
}

bool PgAgent::SetGradientSync(dist::GradientSync* sync) {
  net_.SetGradientSync(sync);
  return true;
}

void PgAgent::Save(torch::serialize::OutputArchive& archive) const {
  net_.Save(archive);
  explorer_.Save(archive);
  buffer_.Save(archive, "rollout");
  archive.write("step", torch::tensor(step_, torch::kInt64));
  archive.write("updates", torch::tensor(updates_, torch::kInt64));
  archive.write("buffer_base", torch::tensor(buffer_base_, torch::kInt64));
  archive.write("episode_start", torch::tensor(episode_start_, torch::kInt64));
  auto fin = torch::empty({static_cast<int64_t>(finished_.size()), 3}, torch::kInt64);
  for (size_t i = 0; i < finished_.size(); ++i) {
    for (int j = 0; j < 3; ++j) fin[static_cast<int64_t>(i)][j] = finished_[i][j];
  }
  archive.write("finished_episodes", fin);
}

namespace {
torch::Tensor ReadTensor(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  if (!archive.try_read(key, t)) {
    throw Error("PgAgent::Load: the checkpoint has no '" + key + "' tensor");
  }
  return t.to(torch::kCPU).contiguous();
}
}  // namespace

void PgAgent::Load(torch::serialize::InputArchive& archive) {
  net_.Load(archive);
  explorer_.Load(archive);
  buffer_.Load(archive, "rollout", device_);
  step_ = ReadTensor(archive, "step").item<int64_t>();
  updates_ = ReadTensor(archive, "updates").item<int64_t>();
  buffer_base_ = ReadTensor(archive, "buffer_base").item<int64_t>();
  auto starts = ReadTensor(archive, "episode_start");
  episode_start_.assign(starts.data_ptr<int64_t>(), starts.data_ptr<int64_t>() + starts.numel());
  auto fin = ReadTensor(archive, "finished_episodes");
  if (fin.dim() != 2 || fin.size(1) != 3) {
    throw Error("PgAgent::Load: 'finished_episodes' must be [K, 3]");
  }
  finished_.clear();
  for (int64_t i = 0; i < fin.size(0); ++i) {
    finished_.push_back(
        {fin[i][0].item<int64_t>(), fin[i][1].item<int64_t>(), fin[i][2].item<int64_t>()});
  }
}

void PgOptions::Validate() const {
  if (episodes_per_update < 1)
    BadAgentOption("pg.episodes_per_update", ">= 1", episodes_per_update);
}

std::unique_ptr<OnlineAgent> MakePgAgent(const OnlineAgentContext& c) {
  return std::make_unique<PgAgent>(c.options, c.exploration, c.num_items, c.device);
}

}  // namespace recarena::agents
