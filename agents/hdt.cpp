#include "agents/hdt.h"

#include <algorithm>
#include <cmath>

#include "agents/gradient_step.h"
#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::agents {

namespace {

namespace F = torch::nn::functional;

void CheckWeight(double value, const std::string& key) {
  if (!(value >= 0.0)) {
    throw ConfigError("model." + key,
                      "model." + key + " must be >= 0, got " + std::to_string(value));
  }
}

// The last `keep` entries of v.
template <class T>
std::vector<T> Tail(const std::vector<T>& v, size_t keep) {
  const size_t k = std::min(keep, v.size());
  return std::vector<T>(v.end() - static_cast<std::ptrdiff_t>(k), v.end());
}

}  // namespace

void HdtAgentOptions::Validate() const {
  encoder.Validate();
  hdt.Validate();
  CheckWeight(alpha, "alpha");
  CheckWeight(beta, "beta");
  CheckWeight(lambda, "lambda");
  if (!(lr > 0.0)) throw ConfigError("model.lr", "model.lr must be > 0, got " + std::to_string(lr));
  CheckWeight(weight_decay, "weight_decay");
  CheckWeight(grad_clip, "grad_clip");
  if (hdt.dim != encoder.hidden) {
    throw ConfigError("model.hdt.dim", "model.hdt.dim (" + std::to_string(hdt.dim) +
                                           ") must equal model.encoder.hidden (" +
                                           std::to_string(encoder.hidden) + ")");
  }
  if (hdt.max_steps < encoder.state_len - 1) {
    throw ConfigError("model.hdt.max_steps", "model.hdt.max_steps (" +
                                                 std::to_string(hdt.max_steps) +
                                                 ") must be >= model.encoder.state_len - 1 (" +
                                                 std::to_string(encoder.state_len - 1) + ")");
  }
}

HdtAgent::HdtAgent(const HdtAgentOptions& options, torch::Device device)
    : options_(options), device_(device) {
  options_.Validate();
  if (options_.encoder.num_items < 1) throw Error("HdtAgent: encoder.num_items must be >= 1");
  options_.hdt.num_items = options_.encoder.num_items;
  const int64_t d = options_.hdt.dim, n = options_.encoder.num_items;
  encoder_ = models::MakeEncoder(options_.encoder);
  inter_ = models::InterDt(options_.hdt);
  intra_ = models::IntraDt(options_.hdt);
  goal_fusion_ = torch::nn::Linear(2 * d, d);
  goal_head_ = torch::nn::Linear(d, n);
  seq_head_ = torch::nn::Linear(d, n);
  return_head_ = torch::nn::Linear(d, 1);
  action_head_ = torch::nn::Linear(d, n);
  for (auto& [name, module] : Modules()) module->to(device_);
  carried_ = torch::zeros({0, d}, torch::TensorOptions().dtype(torch::kFloat).device(device_));
  std::vector<torch::Tensor> params = parameters();
  optimizer_ = std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(options_.lr).weight_decay(options_.weight_decay));
}

std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> HdtAgent::Modules() const {
  return {{"encoder", encoder_},
          {"inter_dt", inter_.ptr()},
          {"intra_dt", intra_.ptr()},
          {"goal_fusion", goal_fusion_.ptr()},
          {"goal_head", goal_head_.ptr()},
          {"seq_head", seq_head_.ptr()},
          {"return_head", return_head_.ptr()},
          {"action_head", action_head_.ptr()}};
}

std::vector<torch::Tensor> HdtAgent::parameters() const {
  std::vector<torch::Tensor> params;
  for (const auto& [name, module] : Modules()) {
    for (auto& p : module->parameters()) params.push_back(p);
  }
  return params;
}

void HdtAgent::SetTrain(bool on) {
  for (auto& [name, module] : Modules()) module->train(on);
}

void HdtAgent::ResetCarriedStates() { carried_ = carried_.narrow(0, 0, 0).clone(); }

void HdtAgent::SetGradientSync(dist::GradientSync* sync, int64_t num_slots) {
  if (sync != nullptr && num_slots < 1) {
    throw Error("HdtAgent::SetGradientSync: num_slots must be >= 1, got " +
                std::to_string(num_slots));
  }
  sync_ = sync;
  num_slots_ = num_slots;
}

namespace {

// The rows `index` ([n] int64 on the batch's device) of every tensor of batch.
HdtBatch SelectRows(const HdtBatch& batch, const torch::Tensor& index) {
  auto take = [&](const torch::Tensor& t) { return t.index_select(0, index.to(t.device())); };
  HdtBatch out;
  out.slots = take(batch.slots);
  out.new_user = take(batch.new_user);
  out.users = take(batch.users);
  out.items = take(batch.items);
  out.lengths = take(batch.lengths);
  out.actions = take(batch.actions);
  out.first_items = take(batch.first_items);
  out.inter_returns = take(batch.inter_returns);
  out.unexpected_returns = take(batch.unexpected_returns);
  out.novelty_returns = take(batch.novelty_returns);
  return out;
}

}  // namespace

HdtAgent::SessionPass HdtAgent::RunSession(const torch::Tensor& inter_returns,
                                           const torch::Tensor& prev_states,
                                           const torch::Tensor& items,
                                           const torch::Tensor& lengths) {
  const int64_t B = items.size(0), L = items.size(1), d = options_.hdt.dim;
  const models::InterDtOutput goal =
      inter_->forward(inter_returns.view({B, 1}), prev_states.view({B, 1, d}));
  SessionPass pass;
  pass.goal_state = goal.goal_state.select(1, 0);
  pass.goal_return = goal.goal_return.select(1, 0);
  const models::EncoderOutput enc = encoder_->forward(items, lengths);
  const torch::Tensor mask = models::LengthMask(lengths, L).unsqueeze(-1).to(torch::kFloat);
  pass.states = goal_fusion_->forward(
                    torch::cat({enc.states, pass.goal_state.unsqueeze(1).expand({B, L, d})}, -1)) *
                mask;
  pass.last_state = models::GatherLast(pass.states, lengths);
  return pass;
}

MetricList HdtAgent::Update(const HdtBatch& whole) {
  SetTrain(true);
  const int64_t d = options_.hdt.dim;
  if (whole.items.size(0) == 0) throw Error("HdtAgent::Update: empty batch");
  if (whole.items.size(1) != whole.actions.size(1) + 1) {
    throw Error("HdtAgent::Update: actions must be [B, L - 1]");
  }
  if (whole.lengths.min().item<int64_t>() < 2) {
    throw Error("HdtAgent::Update: sessions need >= 2 items");
  }
  // Every slot of the whole batch has a carried state (the same size on every rank).
  const int64_t needed = whole.slots.max().item<int64_t>() + 1;
  if (carried_.size(0) < needed) {
    carried_ =
        torch::cat({carried_, torch::zeros({needed - carried_.size(0), d}, carried_.options())});
  }
  // Sharded: this rank's rows and the weights of its loss terms (see SetGradientSync).
  double w_step = 1.0, w_row = 1.0;
  int64_t lo = 0, hi = 0;
  HdtBatch batch = whole;
  if (sync_ != nullptr) {
    const int64_t W = sync_->group().size(), r = sync_->group().rank();
    lo = num_slots_ * r / W;
    hi = num_slots_ * (r + 1) / W;
    const torch::Tensor s = whole.slots.to(torch::kCPU);
    torch::Tensor own = ((s >= lo) & (s < hi)).nonzero().view({-1});
    const auto rows = static_cast<double>(own.size(0));
    const double steps =
        own.size(0) > 0
            ? (whole.lengths.to(torch::kCPU).index_select(0, own) - 1).sum().item<double>()
            : 0.0;
    const std::vector<double> total = sync_->Sum({rows, steps});
    w_row = rows / total[0];
    w_step = steps / total[1];
    // A rank without rows still joins the all-reduce: a stand-in row with weight 0.
    if (own.size(0) == 0) own = torch::zeros({1}, torch::kInt64);
    batch = SelectRows(whole, own);
    sync_->SetShare(1.0);  // the weights are in the loss; the gradients are summed
  }
  const torch::Tensor slots = batch.slots.to(device_);
  const torch::Tensor items = batch.items.to(device_);
  const torch::Tensor lengths = batch.lengths.to(device_);
  const torch::Tensor actions = batch.actions.to(device_);
  const int64_t T = actions.size(1);

  // s_c: the carried state of each row's slot, 0 for new users and unseen slots.
  const torch::Tensor keep =
      batch.new_user.to(device_).logical_not().unsqueeze(1).to(torch::kFloat);
  const torch::Tensor prev = carried_.index_select(0, slots) * keep;

  const SessionPass pass = RunSession(batch.inter_returns.to(device_), prev, items, lengths);
  const torch::Tensor steps = lengths - 1;
  const torch::Tensor step_states = pass.states.narrow(1, 0, T);  // s_{c,1..T}
  const models::IntraDtOutput intra = intra_->forward(
      pass.goal_return, batch.novelty_returns.to(device_), step_states, actions, steps);
  const torch::Tensor valid = models::LengthMask(steps, T);  // [B, T] bool
  const torch::Tensor targets = actions.masked_select(valid);
  auto rows = [&](const torch::Tensor& x) {  // [B, T, k] -> [n_valid, k]
    return x.index({valid});
  };
  const torch::Tensor l_s = F::cross_entropy(seq_head_->forward(rows(step_states)), targets);
  const torch::Tensor l_a =
      F::cross_entropy(action_head_->forward(rows(intra.state_hidden)), targets);
  const torch::Tensor predicted = return_head_->forward(rows(intra.return_hidden)).squeeze(-1);
  const torch::Tensor l_r =
      F::mse_loss(predicted, batch.unexpected_returns.to(device_).masked_select(valid));
  const torch::Tensor l_g =
      F::cross_entropy(goal_head_->forward(pass.goal_state), batch.first_items.to(device_));
  const torch::Tensor loss =
      l_s + options_.alpha * l_r + options_.beta * l_a + options_.lambda * l_g;
  const torch::Tensor weighted = sync_ == nullptr
                                     ? loss
                                     : w_step * (l_s + options_.alpha * l_r + options_.beta * l_a) +
                                           w_row * options_.lambda * l_g;

  const torch::Tensor norm =
      GradientStep(weighted, parameters(), *optimizer_, options_.grad_clip, sync_);
  {
    torch::NoGradGuard ng;
    carried_.index_copy_(0, slots, pass.last_state.detach());
    if (sync_ != nullptr) {
      // Each slot's state from the rank that owns it (a stand-in row's write is dropped here).
      const torch::Tensor ids = torch::arange(carried_.size(0), slots.options());
      const torch::Tensor mine = ((ids >= lo) & (ids < hi)).unsqueeze(1).to(carried_.dtype());
      std::vector<torch::Tensor> all{carried_ * mine};
      sync_->group().AllReduceSum(all, "HDT carried states");
      carried_ = all[0];
    }
  }
  ++step_;
  MetricList m = ReadMetrics({{"loss", loss},
                              {"l_s", l_s},
                              {"l_r", l_r},
                              {"l_a", l_a},
                              {"l_g", l_g},
                              {"grad_norm", norm}});
  if (sync_ != nullptr) {
    // The whole batch's terms: each rank's weighted by its share of steps or rows.
    const std::vector<double> t = sync_->Sum(
        {w_step * m[1].second, w_step * m[2].second, w_step * m[3].second, w_row * m[4].second});
    for (size_t i = 0; i < t.size(); ++i) m[i + 1].second = t[i];
    m[0].second = t[0] + options_.alpha * t[1] + options_.beta * t[2] + options_.lambda * t[3];
  }
  return m;
}

torch::Tensor HdtAgent::Scores(const std::vector<HdtQuery>& queries) {
  torch::NoGradGuard ng;
  SetTrain(false);
  const int64_t d = options_.hdt.dim, n = options_.encoder.num_items;
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device_);
  const auto float_opts = torch::TensorOptions().dtype(torch::kFloat).device(device_);
  const size_t state_len = static_cast<size_t>(options_.encoder.state_len);
  const size_t keep_current =
      static_cast<size_t>(std::min(options_.encoder.state_len, options_.hdt.max_steps));
  std::vector<torch::Tensor> out;
  out.reserve(queries.size());
  bool have_cached = false;
  std::vector<std::vector<int64_t>> cached_history;
  std::vector<double> cached_returns;
  torch::Tensor cached_prev;
  for (const HdtQuery& q : queries) {
    if (q.history.size() != q.history_returns.size()) {
      throw Error("HdtAgent::Scores: history and history_returns differ in size");
    }
    if (q.current.empty() || q.current.size() != q.novelty_returns.size()) {
      throw Error("HdtAgent::Scores: current must be non-empty and match novelty_returns");
    }
    // Consecutive queries of one user usually share their history (BuildTestQueries): its state
    // s_c is computed once (eval mode, so the result is the same).
    const bool same_history =
        have_cached && q.history == cached_history && q.history_returns == cached_returns;
    torch::Tensor prev = same_history ? cached_prev : torch::zeros({1, d}, float_opts);
    for (size_t k = 0; k < (same_history ? 0 : q.history.size()); ++k) {
      const std::vector<int64_t> session = Tail(q.history[k], state_len);
      if (session.empty()) throw Error("HdtAgent::Scores: empty history session");
      const int64_t len = static_cast<int64_t>(session.size());
      prev = RunSession(torch::full({1}, q.history_returns[k], float_opts), prev,
                        torch::tensor(session, long_opts).view({1, len}),
                        torch::full({1}, len, long_opts))
                 .last_state;
    }
    if (!same_history) {
      cached_history = q.history;
      cached_returns = q.history_returns;
      cached_prev = prev;
      have_cached = true;
    }
    const std::vector<int64_t> current = Tail(q.current, keep_current);
    const std::vector<double> novelty = Tail(q.novelty_returns, keep_current);
    const int64_t t = static_cast<int64_t>(current.size());
    const torch::Tensor items = torch::tensor(current, long_opts).view({1, t});
    const SessionPass pass = RunSession(torch::full({1}, q.inter_return, float_opts), prev, items,
                                        torch::full({1}, t, long_opts));
    // a_{c,k} = x_{c,k+1} for k < t; the action of step t is unknown (padding; never attended).
    const torch::Tensor actions =
        torch::cat({items.narrow(1, 1, t - 1), torch::full({1, 1}, n, long_opts)}, 1);
    const models::IntraDtOutput intra = intra_->forward(
        pass.goal_return, torch::tensor(novelty, torch::kDouble).to(float_opts).view({1, t}),
        pass.states, actions, torch::full({1}, t, long_opts));
    const torch::Tensor seq = torch::log_softmax(seq_head_->forward(pass.last_state), -1);
    const torch::Tensor act =
        torch::log_softmax(action_head_->forward(intra.state_hidden.select(1, t - 1)), -1);
    switch (options_.scoring) {
      case HdtScoring::kSequential:
        out.push_back(seq);
        break;
      case HdtScoring::kAction:
        out.push_back(act);
        break;
      case HdtScoring::kSequentialAction:
        out.push_back(seq + act);
        break;
    }
  }
  if (out.empty()) return torch::zeros({0, n}, float_opts);
  return torch::cat(out, 0);
}

void HdtAgent::Save(torch::serialize::OutputArchive& archive) const {
  for (const auto& [name, module] : Modules()) {
    torch::serialize::OutputArchive sub;
    module->save(sub);
    archive.write(name, sub);
  }
  torch::serialize::OutputArchive opt;
  optimizer_->save(opt);
  archive.write("optimizer", opt);
  archive.write("step", torch::tensor(step_, torch::kInt64));
  archive.write("carried", carried_.cpu());
}

void HdtAgent::Load(torch::serialize::InputArchive& archive) {
  for (const auto& [name, module] : Modules()) {
    torch::serialize::InputArchive sub;
    archive.read(name, sub);
    models::LoadModule(*module, sub);
    module->to(device_);
  }
  torch::serialize::InputArchive opt;
  archive.read("optimizer", opt);
  optimizer_->load(opt);
  torch::Tensor step, carried;
  archive.read("step", step);
  archive.read("carried", carried);
  step_ = step.item<int64_t>();
  carried_ = carried.to(device_);
}

}  // namespace recarena::agents
