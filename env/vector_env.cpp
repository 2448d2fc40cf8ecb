#include "env/vector_env.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/error.h"
#include "env/leave_model.h"

namespace recarena::env {

VectorEnv::VectorEnv(std::shared_ptr<const Simulator> sim, const VectorEnvOptions& options)
    : sim_(std::move(sim)), options_(options) {
  if (!sim_) throw Error("VectorEnv needs a simulator");
  if (options_.num_envs < 1) {
    throw Error("VectorEnv num_envs must be >= 1, got " + std::to_string(options_.num_envs));
  }
  if (options_.episode_offset < 0 || options_.episode_stride < 1) {
    throw Error("VectorEnv episode numbering needs offset >= 0 and stride >= 1, got " +
                std::to_string(options_.episode_offset) + " and " +
                std::to_string(options_.episode_stride));
  }
  max_length_ = options_.max_length > 0 ? options_.max_length : sim_->cfg.max_length;
  if (max_length_ < 1) throw Error("VectorEnv max_length must be >= 1");
  CheckSimulatorDevice();
  i64_ = torch::TensorOptions().dtype(torch::kInt64).device(options_.device);
  f32_ = torch::TensorOptions().dtype(torch::kFloat).device(options_.device);
  b_ = torch::TensorOptions().dtype(torch::kBool).device(options_.device);
  std::vector<float> h(static_cast<size_t>(max_length_));
  for (int64_t t = 0; t < max_length_; ++t) {
    if (sim_->hazard.empty()) {
      h[static_cast<size_t>(t)] = 0.0f;
    } else {
      const auto idx = std::min<size_t>(static_cast<size_t>(t), sim_->hazard.size() - 1);
      h[static_cast<size_t>(t)] = static_cast<float>(sim_->hazard[idx]);
    }
  }
  hazard_ = torch::tensor(h, torch::kFloat).to(options_.device);
}

void VectorEnv::CheckSimulatorDevice() const {
  // The env never moves a shared simulator (another env may use it on another device); a mismatch
  // would otherwise surface as an indexing error deep inside the first Step.
  auto check = [&](const torch::Tensor& t, const std::string& what) {
    if (t.defined() && t.device().type() != options_.device.type()) {
      throw Error("VectorEnv on " + options_.device.str() + " got a simulator whose " + what +
                  " lives on " + t.device().str() +
                  ": load it with LoadSimulator(dir, role, device) or call Simulator::to(device)");
    }
  };
  for (const auto& m : sim_->response->models()) {
    for (const auto& p : m->parameters()) check(p, "response model");
    for (const auto& b : m->buffers()) check(b, "response model");
  }
  check(sim_->item_keys, "item_keys");
}

float VectorEnv::reward_min() const {
  return static_cast<float>(sim_->response->config().reward_min);
}
float VectorEnv::reward_max() const {
  return static_cast<float>(sim_->response->config().reward_max);
}

Observation VectorEnv::CurrentObservation() const {
  return Observation{history_.clone(), lengths_.clone(), users_.clone(), steps_.clone()};
}

torch::Tensor VectorEnv::CandidateMask() const {
  if (options_.mask_repeats) return seen_.logical_not();
  // A fresh row per step: a caller that writes into its mask (fill_ on a broadcast view does not
  // throw) changes only this step's result, never a later step's.
  return torch::ones({1, sim_->num_items}, b_).expand({options_.num_envs, sim_->num_items});
}

torch::Tensor VectorEnv::WorldSatisfaction(const torch::Tensor& actions) const {
  // The world's patience charges 1 - sigmoid(utility(u, i)) for a click on i.
  const auto* gt =
      dynamic_cast<const GroundTruthResponseImpl*>(sim_->response->models().at(0).get());
  if (!gt) throw Error("world_patience needs the ground-truth response model");
  return torch::sigmoid(gt->utility_.index({users_, actions}));
}

ResponseInput VectorEnv::Input(const torch::Tensor& actions) const {
  return ResponseInput{history_, lengths_, users_, actions};
}

torch::Tensor VectorEnv::ExpectedRewardsAll() const {
  return sim_->response->ExpectedAll(Input(torch::Tensor()));
}

void VectorEnv::StartEpisodes(const std::vector<int64_t>& slots) {
  if (slots.empty()) return;
  const int64_t n = static_cast<int64_t>(slots.size());
  const int64_t L = sim_->state_len;
  auto hist = torch::full({n, L}, sim_->num_items, torch::kInt64);
  auto lens = torch::empty({n}, torch::kInt64);
  auto users = torch::empty({n}, torch::kInt64);
  std::vector<std::pair<int64_t, int64_t>> seen_pairs;  // (row, item)
  // Filled through raw pointers: tensor indexing (lens[r] = ...) would be a few dispatcher calls
  // per slot, and a step at large B restarts hundreds of slots.
  auto* hp = hist.data_ptr<int64_t>();
  auto* lp = lens.data_ptr<int64_t>();
  auto* up = users.data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    const auto slot = static_cast<size_t>(slots[static_cast<size_t>(r)]);
    episode_[slot] = options_.episode_offset + options_.episode_stride * next_episode_++;
    rng_[slot] = Rng(seed_).Fork(static_cast<uint64_t>(episode_[slot]));
    const auto& start = sim_->starts[rng_[slot].UniformInt(sim_->starts.size())];
    const int64_t k = static_cast<int64_t>(start.items.size());
    const int64_t keep = std::min(k, L);
    for (int64_t j = 0; j < keep; ++j)
      hp[r * L + j] = start.items[static_cast<size_t>(k - keep + j)];
    for (int64_t item : start.items) seen_pairs.emplace_back(r, item);
    lp[r] = keep;
    up[r] = start.user;
  }
  auto idx = torch::tensor(slots, torch::kInt64).to(options_.device);
  history_.index_put_({idx}, hist.to(options_.device));
  lengths_.index_put_({idx}, lens.to(options_.device));
  users_.index_put_({idx}, users.to(options_.device));
  steps_.index_put_({idx}, torch::zeros({n}, i64_));
  returns_.index_put_({idx}, torch::zeros({n}, f32_));
  patience_.index_put_({idx}, torch::full({n}, sim_->cfg.leave.patience.init, f32_));
  satisfaction_.index_put_({idx}, torch::zeros({n}, f32_));
  recent_.index_put_({idx}, torch::full({n, recent_.size(1)}, -1, i64_));
  if (options_.mask_repeats) {
    seen_.index_put_({idx}, torch::zeros({n, sim_->num_items}, b_));
    if (!seen_pairs.empty()) {
      std::vector<int64_t> rows, cols;
      for (const auto& [r, item] : seen_pairs) {
        rows.push_back(slots[static_cast<size_t>(r)]);
        cols.push_back(item);
      }
      seen_.index_put_({torch::tensor(rows, torch::kInt64).to(options_.device),
                        torch::tensor(cols, torch::kInt64).to(options_.device)},
                       torch::ones({static_cast<int64_t>(rows.size())}, b_));
    }
  }
}

StepResult VectorEnv::Reset(uint64_t seed) {
  const int64_t B = options_.num_envs;
  seed_ = seed;
  next_episode_ = 0;
  episode_.assign(static_cast<size_t>(B), -1);
  rng_.assign(static_cast<size_t>(B), Rng(seed));
  history_ = torch::full({B, sim_->state_len}, sim_->num_items, i64_);
  lengths_ = torch::ones({B}, i64_);
  users_ = torch::zeros({B}, i64_);
  steps_ = torch::zeros({B}, i64_);
  returns_ = torch::zeros({B}, f32_);
  patience_ = torch::zeros({B}, f32_);
  satisfaction_ = torch::zeros({B}, f32_);
  const auto& leave = sim_->cfg.leave;
  const int64_t window = leave.repetition.enabled || !sim_->leave_weights.empty()
                             ? std::max<int64_t>(1, leave.repetition.window)
                             : 1;
  recent_ = torch::full({B, window}, -1, i64_);
  seen_ = options_.mask_repeats ? torch::zeros({B, sim_->num_items}, b_) : torch::Tensor();
  std::vector<int64_t> all(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) all[static_cast<size_t>(b)] = b;
  StartEpisodes(all);
  cache_ = options_.incremental ? ResponseStepCache::Make(*sim_->response, B) : nullptr;
  if (cache_) {
    cache_->Refresh(history_, lengths_, torch::arange(B, i64_), torch::empty({0}, i64_));
  }

  StepResult r;
  r.observation = CurrentObservation();
  r.reward = torch::zeros({B}, f32_);
  r.accepted = torch::zeros({B}, b_);
  r.terminated = torch::zeros({B}, b_);
  r.truncated = torch::zeros({B}, b_);
  r.candidate_mask = CandidateMask();
  r.episode_id = episode_;
  r.info.final_observation = CurrentObservation();
  r.info.episode_return = torch::zeros({B}, f32_);
  r.info.episode_length = torch::zeros({B}, i64_);
  r.info.final_episode_id.assign(static_cast<size_t>(B), -1);
  r.info.expected_reward = torch::zeros({B}, f32_);
  return r;
}

StepResult VectorEnv::Step(const torch::Tensor& actions_in) {
  if (episode_.empty()) throw Error("VectorEnv::Step called before Reset");
  const int64_t B = options_.num_envs;
  const int64_t I = sim_->num_items;
  const int64_t L = sim_->state_len;
  if (actions_in.dim() != 1 || actions_in.size(0) != B) {
    throw Error("VectorEnv::Step expects actions of shape [" + std::to_string(B) + "], got " +
                c10::str(actions_in.sizes()));
  }
  auto a = actions_in.to(options_.device, torch::kInt64);
  {
    auto bad = (a < 0) | (a >= I);
    if (options_.mask_repeats) {
      bad = bad | seen_.gather(1, a.clamp(0, I - 1).unsqueeze(1)).squeeze(1);
    }
    if (bad.any().item<bool>()) {
      const int64_t slot = bad.to(torch::kCPU).nonzero()[0][0].item<int64_t>();
      const int64_t item = a[slot].item<int64_t>();
      throw Error("VectorEnv::Step: action " + std::to_string(item) + " of slot " +
                  std::to_string(slot) +
                  (item < 0 || item >= I ? " is outside the catalog [0, " + std::to_string(I) + ")"
                                         : " is masked (already shown in this episode)"));
    }
  }
  const auto& rcfg = sim_->response->config();
  auto expected =
      (cache_ ? cache_->Expected(Input(a)) : sim_->response->Expected(Input(a))).to(torch::kFloat);

  // Two uniforms per slot from the slot's episode stream: [response, hazard].
  auto u_host = torch::empty({B, 2}, torch::kFloat);
  auto* up = u_host.data_ptr<float>();
  for (int64_t b = 0; b < B; ++b) {
    auto& rng = rng_[static_cast<size_t>(b)];
    up[2 * b] = static_cast<float>(rng.Uniform());
    up[2 * b + 1] = static_cast<float>(rng.Uniform());
  }
  auto u = u_host.to(options_.device);
  auto u_resp = u.select(1, 0), u_leave = u.select(1, 1);

  torch::Tensor accepted, reward;
  if (rcfg.target == ResponseTarget::kClick) {
    accepted = u_resp < expected;
    reward = rcfg.reward == RewardMode::kBernoulli ? accepted.to(torch::kFloat) : expected;
  } else {
    reward = expected;
    if (rcfg.rating_noise > 0) {
      // z = Phi^-1(u) ~ N(0, 1) from the slot's response uniform (clamped off 0 and 1).
      const auto z = torch::special::ndtri(u_resp.clamp(1e-7f, 1.0f - 1e-7f));
      reward = (expected + static_cast<float>(rcfg.rating_noise) * z)
                   .clamp(rcfg.reward_min, rcfg.reward_max);
    }
    accepted = reward >= static_cast<float>(rcfg.accept_threshold);
  }
  steps_ += 1;
  returns_ += reward;

  auto leave = torch::zeros({B}, b_);
  const auto& lc = sim_->cfg.leave;
  if (options_.leave_enabled) {
    const bool conditional = lc.hazard.enabled && !sim_->leave_weights.empty();
    torch::Tensor similar_count;
    if (lc.repetition.enabled || conditional) {
      similar_count = SimilarRecentCount(a, recent_, sim_->item_keys, sim_->similarity_threshold);
    }
    if (lc.repetition.enabled) leave = leave | (similar_count >= lc.repetition.max_similar);
    if (lc.patience.enabled) {
      const double span = std::max(1e-12, rcfg.reward_max - rcfg.reward_min);
      auto r_norm = ((reward - static_cast<float>(rcfg.reward_min)) / static_cast<float>(span))
                        .clamp(0.0, 1.0);
      if (sim_->world_patience) r_norm = WorldSatisfaction(a);
      auto cost = torch::where(accepted, lc.patience.cost_accepted * (1.0 - r_norm),
                               torch::full_like(r_norm, lc.patience.cost_rejected));
      patience_ -= cost;
      leave = leave | (patience_ <= 0);
    }
    if (lc.hazard.enabled && !sim_->hazard.empty()) {
      auto h = hazard_.index_select(0, (steps_ - 1).clamp(0, max_length_ - 1));
      if (conditional) {
        const double span = std::max(1e-12, rcfg.reward_max - rcfg.reward_min);
        auto r_norm = ((expected - static_cast<float>(rcfg.reward_min)) / static_cast<float>(span))
                          .clamp(0.0, 1.0);
        const auto similar_share =
            lc.hazard.share_counts_repeats
                ? similar_count
                : SimilarRecentCount(a, recent_, sim_->item_keys, sim_->similarity_threshold,
                                     /*count_repeats=*/false);
        auto share = similar_share.to(torch::kFloat) / static_cast<float>(recent_.size(1));
        auto f =
            LeaveFeatures(r_norm, satisfaction_, steps_ == 1, share, lc.hazard.satisfaction_decay);
        satisfaction_ = f.satisfaction;
        h = ConditionalHazard(h, f.features, sim_->leave_weights);
      }
      leave = leave | (u_leave < h);
    }
  }
  auto terminated = leave;
  if (options_.mask_repeats) seen_.scatter_(1, a.unsqueeze(1), true);
  auto capped = steps_ >= max_length_;
  if (options_.mask_repeats) capped = capped | seen_.all(1);
  auto truncated = terminated.logical_not() & capped;

  // Transition: the consumed (or, when configured, every shown) item joins the history.
  auto append = sim_->cfg.rejected_in_history ? torch::ones({B}, b_) : accepted;
  const auto full = lengths_ >= L;  // before the append: an append slides the window
  {
    auto shifted = torch::cat({history_.slice(1, 1), a.unsqueeze(1)}, 1);
    auto placed = history_.scatter(1, lengths_.clamp_max(L - 1).unsqueeze(1), a.unsqueeze(1));
    auto next = torch::where(full.unsqueeze(1), shifted, placed);
    history_ = torch::where(append.unsqueeze(1), next, history_);
    lengths_ = torch::where(append, (lengths_ + 1).clamp_max(L), lengths_);
  }
  recent_ = torch::cat({recent_.slice(1, 1), a.unsqueeze(1)}, 1);

  auto done = terminated | truncated;
  StepResult r;
  r.reward = reward;
  r.accepted = accepted;
  r.terminated = terminated;
  r.truncated = truncated;
  r.info.expected_reward = expected;
  r.info.final_observation = CurrentObservation();
  r.info.episode_return = torch::where(done, returns_, torch::zeros_like(returns_));
  r.info.episode_length = torch::where(done, steps_, torch::zeros_like(steps_));
  r.info.final_episode_id.assign(static_cast<size_t>(B), -1);

  // One device -> host copy for the episode bookkeeping and the cache's row lists.
  const auto flags_host = torch::stack({done, append, full}).to(torch::kCPU).contiguous();
  const auto* dp = flags_host.data_ptr<bool>();
  std::vector<int64_t> slots;
  for (int64_t b = 0; b < B; ++b) {
    if (dp[b]) {
      slots.push_back(b);
      r.info.final_episode_id[static_cast<size_t>(b)] = episode_[static_cast<size_t>(b)];
    }
  }
  StartEpisodes(slots);
  if (cache_) {
    // New episodes and slid windows from scratch; plain appends incrementally.
    const bool* ap = dp + B;
    const bool* fp = dp + 2 * B;
    std::vector<int64_t> recompute, grown;
    for (int64_t b = 0; b < B; ++b) {
      if (dp[b] || (ap[b] && fp[b])) {
        recompute.push_back(b);
      } else if (ap[b]) {
        grown.push_back(b);
      }
    }
    auto rows = [&](const std::vector<int64_t>& v) {
      return v.empty() ? torch::empty({0}, i64_)
                       : torch::tensor(v, torch::kInt64).to(i64_.device());
    };
    cache_->Refresh(history_, lengths_, rows(recompute), rows(grown));
  }
  r.observation = CurrentObservation();
  r.candidate_mask = CandidateMask();
  r.episode_id = episode_;
  return r;
}

SessionEnv::SessionEnv(std::shared_ptr<const Simulator> sim, VectorEnvOptions options)
    : env_(std::move(sim), [&] {
        options.num_envs = 1;
        return options;
      }()) {}

SessionStep SessionEnv::Convert(const StepResult& r) const {
  SessionStep s;
  auto items = r.observation.items[0].to(torch::kCPU);
  const int64_t len = r.observation.lengths[0].item<int64_t>();
  for (int64_t j = 0; j < len; ++j) s.history.push_back(items[j].item<int64_t>());
  s.user = r.observation.users[0].item<int64_t>();
  s.reward = r.reward[0].item<float>();
  s.accepted = r.accepted[0].item<bool>();
  s.terminated = r.terminated[0].item<bool>();
  s.truncated = r.truncated[0].item<bool>();
  auto mask = r.candidate_mask[0].to(torch::kCPU).to(torch::kUInt8).contiguous();
  s.candidate_mask.assign(mask.data_ptr<uint8_t>(), mask.data_ptr<uint8_t>() + mask.numel());
  return s;
}

SessionStep SessionEnv::Reset(uint64_t seed) { return Convert(env_.Reset(seed)); }

SessionStep SessionEnv::Step(int64_t action) {
  return Convert(env_.Step(torch::tensor({action}, torch::kInt64)));
}

}  // namespace recarena::env
