#include "agents/dt_online.h"

#include <fmt/format.h>

#include <limits>
#include <utility>

#include "agents/actor_critic.h"
#include "agents/online_config.h"
#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::agents {

namespace {
uint64_t SeedFromTorch() {
  return static_cast<uint64_t>(
      torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::kInt64).item<int64_t>());
}
}  // namespace

DtOnlineAgent::DtOnlineAgent(const DtSetup& setup, const policies::ExplorationOptions& exploration,
                             int64_t num_items, torch::Device device)
    : setup_(setup),
      device_(device),
      explorer_(exploration, num_items),
      buffer_(setup.buffer_size, num_items) {
  if (setup_.model.encoder.num_items != num_items) {
    throw Error(fmt::format("dt: the transformer has {} items, the simulator {}",
                            setup_.model.encoder.num_items, num_items));
  }
  if (!(setup_.target_accuracy >= 1.0) || !(setup_.target_novelty >= 0.0)) {
    throw ConfigError("agent.dt.target",
                      fmt::format("agent.dt.target: accuracy must be >= 1 and novelty >= 0, got "
                                  "{} and {}",
                                  setup_.target_accuracy, setup_.target_novelty));
  }
  if (setup_.batch_size < 1 || setup_.train_every < 0 || setup_.learning_starts < 1) {
    throw ConfigError("agent.dt",
                      fmt::format("agent.dt: batch_size ({}) and learning_starts ({}) "
                                  "must be >= 1, train_every ({}) >= 0",
                                  setup_.batch_size, setup_.learning_starts, setup_.train_every));
  }
  model_ = std::make_unique<Modt4rAgent>(setup_.model, setup_.transformer, setup_.order,
                                         setup_.long_tail, device_);
  if (setup_.similarity_vectors.defined()) model_->SetSimilarityVectors(setup_.similarity_vectors);
  if (!setup_.init_checkpoint.empty()) {
    models::LoadArchiveFile(
        setup_.init_checkpoint, [&](torch::serialize::InputArchive& a) { model_->Load(a); },
        "cannot load the decision transformer");
  }
  rng_ = Rng(SeedFromTorch());
}

std::string DtOnlineAgent::name() const {
  return setup_.order == models::TokenOrder::kMrdt ? "mrdt" : "modt4r";
}

void DtOnlineAgent::SetTargets(double accuracy, double novelty) {
  setup_.target_accuracy = accuracy;
  setup_.target_novelty = novelty;
}

void DtOnlineAgent::SyncSlots(const env::Observation& obs) {
  const int64_t B = obs.items.size(0);
  const torch::Tensor steps = obs.step.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor items = obs.items.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor lengths = obs.lengths.to(torch::kCPU, torch::kInt64).contiguous();
  const bool resized = static_cast<int64_t>(consumed_.size()) != B;
  if (resized) {
    consumed_.assign(static_cast<size_t>(B), {});
    got_accuracy_.assign(static_cast<size_t>(B), 0.0);
    got_novelty_.assign(static_cast<size_t>(B), 0.0);
  }
  const auto sa = steps.accessor<int64_t, 1>();
  const auto ia = items.accessor<int64_t, 2>();
  const auto la = lengths.accessor<int64_t, 1>();
  for (int64_t b = 0; b < B; ++b) {
    if (!resized && sa[b] != 0) continue;
    auto& c = consumed_[static_cast<size_t>(b)];
    c.clear();
    for (int64_t t = 0; t < la[b]; ++t) c.push_back(static_cast<int32_t>(ia[b][t]));
    got_accuracy_[static_cast<size_t>(b)] = 0.0;
    got_novelty_[static_cast<size_t>(b)] = 0.0;
  }
}

torch::Tensor DtOnlineAgent::CurrentReturns(const env::Observation& obs) {
  SyncSlots(obs);
  const auto B = static_cast<size_t>(obs.items.size(0));
  std::vector<double> acc(B), nov(B);
  for (size_t b = 0; b < B; ++b) {
    acc[b] = setup_.target_accuracy - got_accuracy_[b];
    nov[b] = setup_.target_novelty - got_novelty_[b];
  }
  return model_->OnlineReturnTensor(obs.items, obs.lengths, acc, nov);
}

torch::Tensor DtOnlineAgent::Scores(const env::Observation& obs) {
  const torch::Tensor returns = CurrentReturns(obs);
  return model_->ScoresWithReturns(obs.items, obs.lengths, returns);
}

policies::ActionSelection DtOnlineAgent::Act(const env::Observation& obs, const torch::Tensor& mask,
                                             bool explore, Rng& rng) {
  const torch::Device out_device = obs.items.device();
  policies::ActionSelection sel =
      SelectFromPolicy(Scores(obs), mask.to(torch::kBool), explore, explorer_, env_steps_, rng);
  sel.actions = sel.actions.to(out_device);
  sel.greedy = sel.greedy.to(out_device);
  return sel;
}

void DtOnlineAgent::Bookkeep(const Transition& t, bool learn) {
  const int64_t B = t.actions.size(0);
  if (static_cast<int64_t>(consumed_.size()) != B) {
    throw Error(
        fmt::format("dt: a transition of {} slots after acting on {}", B, consumed_.size()));
  }
  if (!t.accepted.defined()) {
    throw Error("dt: the transition has no accepted flags (build it with MakeTransition)");
  }
  const torch::Tensor actions = t.actions.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor accepted = t.accepted.to(torch::kCPU, torch::kBool).contiguous();
  const torch::Tensor done =
      (t.terminated | t.truncated).to(torch::kCPU, torch::kBool).contiguous();
  const auto aa = actions.accessor<int64_t, 1>();
  const auto ca = accepted.accessor<bool, 1>();
  const auto da = done.accessor<bool, 1>();
  const auto& tail = model_->long_tail();
  for (int64_t b = 0; b < B; ++b) {
    const auto s = static_cast<size_t>(b);
    if (ca[b]) {
      consumed_[s].push_back(static_cast<int32_t>(aa[b]));
      got_accuracy_[s] += 1.0;
      got_novelty_[s] += tail[static_cast<size_t>(aa[b])] ? 1.0 : 0.0;
    }
    if (da[b]) {
      if (learn) buffer_.Add(consumed_[s]);
      // The slot's next observation starts a new episode (step == 0): SyncSlots resets it.
      consumed_[s].clear();
    }
  }
}

void DtOnlineAgent::Track(const Transition& t) { Bookkeep(t, /*learn=*/false); }

MetricList DtOnlineAgent::Observe(const Transition& t) {
  Bookkeep(t, /*learn=*/true);
  explorer_.Observe(t.actions);
  ++env_steps_;
  if (setup_.train_every == 0 || buffer_.size() < setup_.learning_starts ||
      env_steps_ % setup_.train_every != 0) {
    return {};
  }
  const SequenceBatch batch =
      buffer_.Sample(setup_.batch_size, setup_.model.encoder.state_len, rng_, device_);
  return model_->Update(batch);
}

void DtOnlineAgent::Save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive model;
  model_->Save(model);
  archive.write("dt_model", model);
  buffer_.Save(archive);
  explorer_.Save(archive);
  archive.write("env_steps", torch::tensor(env_steps_, torch::kInt64));
  const std::string rng = rng_.SerializeState();
  archive.write("rng_state", models::StringToTensor(rng));
}

void DtOnlineAgent::Load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive model;
  archive.read("dt_model", model);
  model_->Load(model);
  buffer_.Load(archive);
  explorer_.Load(archive);
  torch::Tensor steps, rng;
  archive.read("env_steps", steps);
  env_steps_ = steps.item<int64_t>();
  archive.read("rng_state", rng);
  rng_.DeserializeState(models::TensorToString(rng));
  consumed_.clear();
  got_accuracy_.clear();
  got_novelty_.clear();
}

void DtOnlineOptions::Validate() const {
  try {
    transformer.Validate();
  } catch (const ConfigError& e) {
    // Modt4rOptions names its keys "dt.<key>" (the offline section); here they live deeper.
    const std::string key = "agent.dt.transformer." + e.path().substr(e.path().find('.') + 1);
    std::string msg = e.what();
    const std::string prefix = e.path() + " ";
    if (msg.rfind(prefix, 0) == 0) msg = key + " " + msg.substr(prefix.size());
    throw ConfigError(key, msg);
  }
  if (!(alpha >= 0)) BadAgentOption("dt.alpha", ">= 0", alpha);
  if (!(lambda >= 0)) BadAgentOption("dt.lambda", ">= 0", lambda);
  if (!(target.accuracy >= 1)) BadAgentOption("dt.target.accuracy", ">= 1", target.accuracy);
  if (!(target.novelty >= 0)) BadAgentOption("dt.target.novelty", ">= 0", target.novelty);
  if (!(target.quantile > 0 && target.quantile <= 1))
    BadAgentOption("dt.target.quantile", "in (0, 1]", target.quantile);
  if (batch_size < 1) BadAgentOption("dt.batch_size", ">= 1", batch_size);
  if (train_every < 0)
    BadAgentOption("dt.train_every", ">= 0 (0 = no online learning)", train_every);
  if (learning_starts < 1) BadAgentOption("dt.learning_starts", ">= 1", learning_starts);
  if (buffer_size < 1) BadAgentOption("dt.buffer_size", ">= 1", buffer_size);
}

std::unique_ptr<OnlineAgent> MakeDtOnlineAgent(const OnlineAgentContext& c) {
  if (c.dt_setup == nullptr) {
    throw Error("agent.kind dt needs its resolved setup (experiments::ResolveDtSetup)");
  }
  return std::make_unique<DtOnlineAgent>(*c.dt_setup, c.exploration, c.num_items, c.device);
}

}  // namespace recarena::agents
