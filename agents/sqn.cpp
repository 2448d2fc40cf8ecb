#include "agents/sqn.h"

#include <fmt/format.h>

#include "agents/gradient_step.h"
#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::agents {

namespace F = torch::nn::functional;

torch::Tensor RewardOptions::Rewards(const torch::Tensor& values) const {
  const torch::Tensor v = values.to(torch::kFloat);
  switch (kind) {
    case RewardKind::kConstant:
      return torch::full_like(v, click);
    case RewardKind::kThreshold:
      return torch::where(v >= threshold, torch::full_like(v, purchase),
                          torch::full_like(v, click));
    case RewardKind::kValue:
      return v * scale;
  }
  throw Error("RewardOptions: unknown kind");
}

void SqnOptions::Validate() const {
  auto bad = [](const std::string& key, const std::string& what, double got) {
    return ConfigError("rl." + key, fmt::format("rl.{} must be {}, got {}", key, what, got));
  };
  if (!(discount >= 0.0 && discount <= 1.0)) throw bad("discount", "in [0, 1]", discount);
  if (num_negatives < 0) throw bad("num_negatives", ">= 0", static_cast<double>(num_negatives));
  if (sa2c_switch_step < 0) {
    throw bad("sa2c_switch_step", ">= 0", static_cast<double>(sa2c_switch_step));
  }
  if (!(lr2 > 0.0)) throw bad("lr2", "> 0", lr2);
  if (!(q_weight >= 0.0)) throw bad("q_weight", ">= 0", q_weight);
  if (!(advantage_max >= advantage_min)) {
    throw bad("advantage_max", ">= rl.advantage_min", advantage_max);
  }
  if (!(ips_smooth >= 0.0)) throw bad("ips_smooth", ">= 0", ips_smooth);
  if (!(ips_min > 0.0)) throw bad("ips_min", "> 0", ips_min);
  if (!(ips_max >= ips_min)) throw bad("ips_max", ">= rl.ips_min", ips_max);
  for (const auto& [key, w] : {std::pair<const char*, double>{"w_accuracy", smorl.w_accuracy},
                               {"w_diversity", smorl.w_diversity},
                               {"w_novelty", smorl.w_novelty},
                               {"alpha", smorl.alpha}}) {
    if (!(w >= 0.0) || !std::isfinite(w)) throw bad(std::string("smorl.") + key, ">= 0", w);
  }
  if (!std::isfinite(reward.click) || !std::isfinite(reward.purchase) ||
      !std::isfinite(reward.threshold) || !std::isfinite(reward.scale)) {
    throw ConfigError("rl.reward", "rl.reward values must be finite numbers");
  }
}

// --- losses --------------------------------------------------------------------------------------

torch::Tensor DoubleQLoss(const torch::Tensor& q_sa, const torch::Tensor& rewards,
                          const torch::Tensor& discounts, const torch::Tensor& selector,
                          const torch::Tensor& target) {
  torch::Tensor y;
  {
    torch::NoGradGuard ng;
    const torch::Tensor best = selector.argmax(1, /*keepdim=*/true);
    y = rewards + discounts * target.gather(1, best).squeeze(1);
  }
  if (q_sa.dim() == 2) y = y.unsqueeze(1);
  return 0.5 * (y - q_sa).pow(2);
}

std::pair<torch::Tensor, torch::Tensor> AppendToWindow(const torch::Tensor& items,
                                                       const torch::Tensor& lengths,
                                                       const torch::Tensor& targets,
                                                       int64_t padding_id) {
  const int64_t L = items.size(1);
  torch::Tensor full =
      torch::cat({items, torch::full({items.size(0), 1}, padding_id, items.options())}, 1);
  full.scatter_(1, lengths.unsqueeze(1), targets.unsqueeze(1));
  const torch::Tensor is_full = (lengths >= L).unsqueeze(1);
  torch::Tensor next = torch::where(is_full, full.slice(1, 1, L + 1), full.slice(1, 0, L));
  return {next, torch::clamp_max(lengths + 1, L)};
}

SqnLossTerms SqnLoss(const SqnLossInputs& in, SqnVariant variant, const SqnOptions& o) {
  SqnLossTerms t;
  const torch::Tensor ce =
      F::cross_entropy(in.logits, in.actions, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  const torch::Tensor q_sa = in.q.gather(1, in.actions.unsqueeze(1)).squeeze(1);
  const torch::Tensor q_pos =
      DoubleQLoss(q_sa, in.rewards, o.discount * in.not_done, in.next_selector, in.next_target);
  const bool with_negatives = variant == SqnVariant::kSnqn || variant == SqnVariant::kSa2c;
  torch::Tensor q_neg = torch::zeros_like(q_pos), q_neg_sa;
  if (with_negatives && in.negatives.defined() && in.negatives.size(1) > 0) {
    q_neg_sa = in.q.gather(1, in.negatives);
    q_neg = DoubleQLoss(q_neg_sa, torch::zeros_like(in.rewards),
                        torch::full_like(in.rewards, o.discount), in.cur_selector, in.cur_target)
                .sum(1);
  }
  t.advantage = torch::zeros({}, ce.options());
  t.ips = torch::ones({}, ce.options());
  torch::Tensor per_row;
  switch (variant) {
    case SqnVariant::kSqn:
      per_row = ce + q_pos;
      break;
    case SqnVariant::kSac:
      per_row = ce * q_sa.detach() + q_pos;
      break;
    case SqnVariant::kSnqn:
      per_row = ce + q_pos + q_neg;
      break;
    case SqnVariant::kSa2c: {
      torch::Tensor adv;
      {
        torch::NoGradGuard ng;
        const int64_t k = q_neg_sa.defined() ? q_neg_sa.size(1) : 0;
        const torch::Tensor sum_q = k > 0 ? q_sa + q_neg_sa.sum(1) : q_sa;
        adv = (q_sa - sum_q / static_cast<double>(1 + k)).clamp(o.advantage_min, o.advantage_max);
      }
      torch::Tensor w = torch::ones_like(adv);
      if (o.ips_smooth > 0.0) {
        torch::NoGradGuard ng;
        const torch::Tensor pi =
            torch::softmax(in.logits.detach(), 1).gather(1, in.actions.unsqueeze(1)).squeeze(1);
        w = (pi / in.behaviour.index_select(0, in.actions))
                .clamp(o.ips_min, o.ips_max)
                .pow(o.ips_smooth);
      }
      per_row = o.q_weight * (q_pos + q_neg) + ce * w * adv;
      t.advantage = adv.mean();
      t.ips = w.mean();
      break;
    }
    case SqnVariant::kSmorl:
      throw Error("SqnLoss: SMORL has its own loss (SmorlQLoss)");
  }
  t.total = per_row.mean();
  t.ce = ce.mean();
  t.q_pos = q_pos.mean();
  t.q_neg = q_neg.mean();
  return t;
}

torch::Tensor SmorlRewards(const torch::Tensor& accuracy, const torch::Tensor& last_items,
                           const torch::Tensor& top1, const torch::Tensor& item_vectors,
                           const torch::Tensor& long_tail) {
  const torch::Tensor cos = F::cosine_similarity(
      item_vectors.index_select(0, last_items), item_vectors.index_select(0, top1),
      F::CosineSimilarityFuncOptions().dim(1).eps(1e-12));
  return torch::stack({accuracy.to(torch::kFloat), (1.0 - cos).to(torch::kFloat),
                       long_tail.index_select(0, top1).to(torch::kFloat)},
                      1);
}

torch::Tensor SmorlQLoss(const torch::Tensor& q_sa, const torch::Tensor& rewards,
                         const torch::Tensor& discounts, const torch::Tensor& selector,
                         const torch::Tensor& target, const torch::Tensor& weights) {
  torch::Tensor y;
  {
    torch::NoGradGuard ng;
    const torch::Tensor w = weights.view({1, -1, 1});
    const torch::Tensor best = (selector * w).sum(1).argmax(1);  // [B]
    const torch::Tensor idx = best.view({-1, 1, 1}).expand({target.size(0), target.size(1), 1});
    y = rewards + discounts.unsqueeze(1) * target.gather(2, idx).squeeze(2);  // [B, 3]
  }
  return (0.5 * (y - q_sa).pow(2) * weights.view({1, -1})).sum(1);
}

// --- agent ---------------------------------------------------------------------------------------

std::vector<torch::Tensor> SqnAgent::Net::parameters() const {
  std::vector<torch::Tensor> p = encoder->parameters();
  for (const auto& m : {ce, q})
    for (auto& x : m->parameters()) p.push_back(x);
  return p;
}

SqnAgent::SqnAgent(const SupervisedOptions& options, const SqnOptions& rl, SqnVariant variant,
                   std::vector<float> behaviour, uint64_t seed, torch::Device device,
                   const std::vector<uint8_t>& long_tail, const torch::Tensor& item_vectors)
    : SupervisedAgent(options, device), rl_(rl), variant_(variant), seed_(seed) {
  rl_.Validate();
  const int64_t n = options_.encoder.num_items;
  if (rl_.num_negatives > 0 && n < 2) {
    throw ConfigError("rl.num_negatives", "negative sampling needs a catalog of >= 2 items");
  }
  if (static_cast<int64_t>(behaviour.size()) != n) {
    throw Error(
        fmt::format("SqnAgent: behaviour has {} entries for {} items", behaviour.size(), n));
  }
  behaviour_ = torch::tensor(behaviour, torch::kFloat).to(device_);
  const int64_t heads = variant_ == SqnVariant::kSmorl ? 3 : 1;
  if (variant_ == SqnVariant::kSmorl) {
    if (static_cast<int64_t>(long_tail.size()) != n) {
      throw Error(fmt::format("SqnAgent: SMORL needs a long-tail flag per item ({} for {} items)",
                              long_tail.size(), n));
    }
    long_tail_ =
        torch::tensor(std::vector<float>(long_tail.begin(), long_tail.end()), torch::kFloat)
            .to(device_);
    if (rl_.smorl.similarity == ReturnSimilarity::kFeatures) {
      if (!item_vectors.defined() || item_vectors.size(0) != n) {
        throw ConfigError("rl.smorl.similarity",
                          "rl.smorl.similarity is features, but no item vectors were given");
      }
      item_vectors_ = item_vectors.to(device_, torch::kFloat);
    }
    smorl_weights_ =
        torch::tensor({rl_.smorl.w_accuracy, rl_.smorl.w_diversity, rl_.smorl.w_novelty},
                      torch::TensorOptions().dtype(torch::kFloat).device(device_));
  }
  // Network 0 reuses the base's encoder and supervised head (Scores ranks with them).
  nets_[0].encoder = encoder_;
  nets_[0].ce = head_;
  nets_[0].q = torch::nn::Linear(encoder_->dim(), heads * n);
  nets_[1].encoder = models::MakeEncoder(options_.encoder);
  nets_[1].ce = torch::nn::Linear(nets_[1].encoder->dim(), n);
  nets_[1].q = torch::nn::Linear(nets_[1].encoder->dim(), heads * n);
  optimizer_.reset();  // replaced by one Adam per network (and per SA2C phase)
  for (Net& net : nets_) {
    net.encoder->to(device_);
    net.ce->to(device_);
    net.q->to(device_);
    net.opt = std::make_unique<torch::optim::Adam>(
        net.parameters(),
        torch::optim::AdamOptions(options_.lr).weight_decay(options_.weight_decay));
    if (variant_ == SqnVariant::kSa2c) {
      net.opt2 = std::make_unique<torch::optim::Adam>(
          net.parameters(), torch::optim::AdamOptions(rl_.lr2).weight_decay(options_.weight_decay));
    }
  }
}

std::vector<torch::Tensor> SqnAgent::parameters() const {
  std::vector<torch::Tensor> p = nets_[0].parameters();
  for (auto& x : nets_[1].parameters()) p.push_back(x);
  return p;
}

void SqnAgent::SetMode(Net& n, bool train) {
  n.encoder->train(train);
  n.ce->train(train);
  n.q->train(train);
}

torch::Tensor SqnAgent::Heads(Net& n, const torch::Tensor& h) const {
  const torch::Tensor q = n.q->forward(h);
  return variant_ == SqnVariant::kSmorl ? q.view({h.size(0), 3, -1}) : q;
}

torch::Tensor SqnAgent::ObjectiveQValues(int net, const torch::Tensor& items,
                                         const torch::Tensor& lengths) {
  if (variant_ != SqnVariant::kSmorl) throw Error("SqnAgent::ObjectiveQValues: SMORL only");
  torch::NoGradGuard ng;
  Net& n = nets_[net];
  SetMode(n, false);
  return Heads(n, n.encoder->forward(items.to(device_), lengths.to(device_)).last);
}

torch::Tensor SqnAgent::QValues(int net, const torch::Tensor& items, const torch::Tensor& lengths) {
  if (variant_ == SqnVariant::kSmorl) {
    return (ObjectiveQValues(net, items, lengths) * smorl_weights_.view({1, -1, 1})).sum(1);
  }
  torch::NoGradGuard ng;
  Net& n = nets_[net];
  SetMode(n, false);
  return n.q->forward(n.encoder->forward(items.to(device_), lengths.to(device_)).last);
}

torch::Tensor SqnAgent::SampleNegatives(const torch::Tensor& actions, Rng& rng) const {
  const torch::Tensor a = actions.to(torch::kCPU).contiguous();
  const int64_t b = a.size(0), k = rl_.num_negatives;
  const auto n = static_cast<uint64_t>(options_.encoder.num_items);
  torch::Tensor neg = torch::empty({b, k}, torch::kInt64);
  const int64_t* pa = a.data_ptr<int64_t>();
  int64_t* pn = neg.data_ptr<int64_t>();
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      // Uniform over the n - 1 items other than the logged one.
      auto x = static_cast<int64_t>(rng.UniformInt(n - 1));
      pn[i * k + j] = x >= pa[i] ? x + 1 : x;
    }
  }
  return neg.to(device_);
}

MetricList SqnAgent::Update(const SequenceBatch& batch) {
  if (!batch.values.defined() || !batch.done.defined()) {
    throw Error("SqnAgent::Update: the batch needs values and done (offline trainer)");
  }
  Rng rng = Rng(seed_).Fork(static_cast<uint64_t>(step_));
  const int main = static_cast<int>(rng.UniformInt(2));
  Net& m = nets_[main];
  Net& t = nets_[1 - main];
  if (variant_ == SqnVariant::kSmorl) return SmorlUpdate(batch, m, t);
  const bool sa2c_phase = variant_ == SqnVariant::kSa2c && step_ >= rl_.sa2c_switch_step;
  const bool with_negatives =
      (variant_ == SqnVariant::kSnqn || variant_ == SqnVariant::kSa2c) && rl_.num_negatives > 0;

  SqnLossInputs in;
  in.actions = batch.targets;
  in.rewards = rl_.reward.Rewards(batch.values);
  in.not_done = 1.0 - batch.done.to(torch::kFloat);
  in.behaviour = behaviour_;
  {
    torch::NoGradGuard ng;
    SetMode(m, false);
    SetMode(t, false);
    auto [next_items, next_lengths] =
        AppendToWindow(batch.items, batch.lengths, batch.targets, options_.encoder.num_items);
    in.next_selector = m.q->forward(m.encoder->forward(next_items, next_lengths).last);
    in.next_target = t.q->forward(t.encoder->forward(next_items, next_lengths).last);
    if (with_negatives) {
      in.negatives = SampleNegatives(batch.targets, rng);
      in.cur_selector = m.q->forward(m.encoder->forward(batch.items, batch.lengths).last);
      in.cur_target = t.q->forward(t.encoder->forward(batch.items, batch.lengths).last);
    }
  }
  SetMode(m, true);
  const torch::Tensor h = m.encoder->forward(batch.items, batch.lengths).last;
  in.logits = m.ce->forward(h);
  in.q = m.q->forward(h);
  const SqnVariant loss_kind =
      variant_ == SqnVariant::kSa2c && !sa2c_phase ? SqnVariant::kSnqn : variant_;
  const SqnLossTerms terms = SqnLoss(in, loss_kind, rl_);
  torch::optim::Adam& opt = sa2c_phase ? *m.opt2 : *m.opt;
  const torch::Tensor norm =
      GradientStep(terms.total, m.parameters(), opt, options_.grad_clip, grad_sync_);
  ++step_;
  const torch::Tensor q_mean = in.q.detach().gather(1, in.actions.unsqueeze(1)).mean();
  return ReadMetrics({{"loss", terms.total},
                      {"ce", terms.ce},
                      {"q_pos", terms.q_pos},
                      {"q_neg", terms.q_neg},
                      {"advantage", terms.advantage},
                      {"ips", terms.ips},
                      {"q_mean", q_mean},
                      {"grad_norm", norm}});
}

MetricList SqnAgent::SmorlUpdate(const SequenceBatch& batch, Net& m, Net& t) {
  torch::Tensor selector, target;
  {
    torch::NoGradGuard ng;
    SetMode(m, false);
    SetMode(t, false);
    auto [next_items, next_lengths] =
        AppendToWindow(batch.items, batch.lengths, batch.targets, options_.encoder.num_items);
    selector = Heads(m, m.encoder->forward(next_items, next_lengths).last);
    target = Heads(t, t.encoder->forward(next_items, next_lengths).last);
  }
  SetMode(m, true);
  const torch::Tensor h = m.encoder->forward(batch.items, batch.lengths).last;
  const torch::Tensor logits = m.ce->forward(h);
  const torch::Tensor q = Heads(m, h);  // [B, 3, N]
  const int64_t b = q.size(0);
  const torch::Tensor q_sa =
      q.gather(2, batch.targets.view({-1, 1, 1}).expand({b, 3, 1})).squeeze(2);  // [B, 3]
  torch::Tensor rewards;
  {
    torch::NoGradGuard ng;
    const int64_t n = options_.encoder.num_items;
    const torch::Tensor vectors = item_vectors_.defined()
                                      ? item_vectors_
                                      : nets_[0].encoder->item_embeddings().slice(0, 0, n);
    const torch::Tensor last = batch.items.gather(1, (batch.lengths - 1).unsqueeze(1)).squeeze(1);
    rewards = SmorlRewards(rl_.reward.Rewards(batch.values), last, logits.detach().argmax(1),
                           vectors, long_tail_);
  }
  const torch::Tensor not_done = 1.0 - batch.done.to(torch::kFloat);
  const torch::Tensor ce = F::cross_entropy(logits, batch.targets);
  const torch::Tensor lq =
      SmorlQLoss(q_sa, rewards, rl_.discount * not_done, selector, target, smorl_weights_).mean();
  const torch::Tensor loss = ce + rl_.smorl.alpha * lq;
  const torch::Tensor norm =
      GradientStep(loss, m.parameters(), *m.opt, options_.grad_clip, grad_sync_);
  ++step_;
  const torch::Tensor q_mean = (q_sa.detach() * smorl_weights_.view({1, -1})).sum(1).mean();
  return ReadMetrics({{"loss", loss},
                      {"ce", ce},
                      {"q", lq},
                      {"r_div", rewards.select(1, 1).mean()},
                      {"r_nov", rewards.select(1, 2).mean()},
                      {"q_mean", q_mean},
                      {"grad_norm", norm}});
}

void SqnAgent::Save(torch::serialize::OutputArchive& archive) const {
  for (int i = 0; i < 2; ++i) {
    const Net& n = nets_[i];
    // Network 0's encoder and head keep the base's names ("encoder", "head").
    const std::string p = i == 0 ? "" : "net1_";
    torch::serialize::OutputArchive enc, ce, q, opt;
    n.encoder->save(enc);
    n.ce->save(ce);
    n.q->save(q);
    n.opt->save(opt);
    archive.write(p + "encoder", enc);
    archive.write(p + "head", ce);
    archive.write(p + "q_head", q);
    archive.write(p + "optimizer", opt);
    if (n.opt2) {
      torch::serialize::OutputArchive opt2;
      n.opt2->save(opt2);
      archive.write(p + "optimizer_sa2c", opt2);
    }
  }
  archive.write("step", torch::tensor(step_, torch::kInt64));
}

void SqnAgent::Load(torch::serialize::InputArchive& archive) {
  for (int i = 0; i < 2; ++i) {
    Net& n = nets_[i];
    const std::string p = i == 0 ? "" : "net1_";
    torch::serialize::InputArchive enc, ce, q, opt;
    archive.read(p + "encoder", enc);
    archive.read(p + "head", ce);
    archive.read(p + "q_head", q);
    archive.read(p + "optimizer", opt);
    models::LoadModule(*n.encoder, enc);
    models::LoadModule(*n.ce, ce);
    models::LoadModule(*n.q, q);
    n.opt->load(opt);
    if (n.opt2) {
      torch::serialize::InputArchive opt2;
      archive.read(p + "optimizer_sa2c", opt2);
      n.opt2->load(opt2);
    }
    n.encoder->to(device_);
    n.ce->to(device_);
    n.q->to(device_);
  }
  torch::Tensor step;
  archive.read("step", step);
  step_ = step.item<int64_t>();
}

}  // namespace recarena::agents
