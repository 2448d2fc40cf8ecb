#include "agents/replay_buffer.h"

#include <string>
#include <vector>

#include "core/error.h"

namespace recarena::agents {
namespace {

torch::Tensor Cpu(const torch::Tensor& t, torch::Dtype dtype) {
  return t.to(torch::kCPU, dtype).contiguous();
}

torch::Tensor Scalar(int64_t v) { return torch::tensor(v, torch::kInt64); }

int64_t ReadInt(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  archive.read(key, t);
  return t.item<int64_t>();
}

env::Observation Rows(const env::Observation& o, const torch::Tensor& idx) {
  return {o.items.index_select(0, idx), o.lengths.index_select(0, idx),
          o.users.index_select(0, idx), o.step.index_select(0, idx)};
}

env::Observation CpuObs(const env::Observation& o) {
  if (!o.items.defined() || !o.lengths.defined() || !o.users.defined() || !o.step.defined()) {
    throw Error("replay: an observation has an undefined tensor (items, lengths, users, step)");
  }
  return {Cpu(o.items, torch::kInt64), Cpu(o.lengths, torch::kInt64), Cpu(o.users, torch::kInt64),
          Cpu(o.step, torch::kInt64)};
}

}  // namespace

ReplayBuffer::ReplayBuffer(int64_t capacity, int64_t state_len)
    : capacity_(capacity), state_len_(state_len) {
  if (capacity < 1)
    throw Error("replay buffer: capacity must be >= 1, got " + std::to_string(capacity));
  if (state_len < 1) {
    throw Error("replay buffer: state_len must be >= 1, got " + std::to_string(state_len));
  }
}

void ReplayBuffer::Allocate(int64_t num_items) {
  num_items_ = num_items;
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  items_ = torch::empty({capacity_, state_len_}, i64);
  next_items_ = torch::empty({capacity_, state_len_}, i64);
  lengths_ = torch::empty({capacity_}, i64);
  users_ = torch::empty({capacity_}, i64);
  steps_ = torch::empty({capacity_}, i64);
  next_lengths_ = torch::empty({capacity_}, i64);
  next_users_ = torch::empty({capacity_}, i64);
  next_steps_ = torch::empty({capacity_}, i64);
  actions_ = torch::empty({capacity_}, i64);
  n_steps_ = torch::empty({capacity_}, i64);
  rewards_ = torch::empty({capacity_}, torch::kFloat);
  terminated_ = torch::empty({capacity_}, torch::kBool);
  blocked_ = torch::full({capacity_, 0}, -1, i64);
}

void ReplayBuffer::WidenBlocked(int64_t k) {
  if (k <= blocked_.size(1)) return;
  auto wider = torch::full({capacity_, k}, -1, torch::kInt64);
  wider.narrow(1, 0, blocked_.size(1)).copy_(blocked_);
  blocked_ = wider;
}

torch::Tensor ReplayBuffer::Blocked(const torch::Tensor& mask) {
  const int64_t B = mask.size(0);
  const auto off = mask.logical_not();
  const auto counts = off.sum(1);  // [B]
  const int64_t k = counts.numel() > 0 ? counts.max().item<int64_t>() : 0;
  WidenBlocked(k);
  auto rows = torch::full({B, blocked_.size(1)}, -1, torch::kInt64);
  if (k == 0) return rows;
  const auto nz = off.nonzero();  // [M, 2], row-major order
  const auto r = nz.select(1, 0);
  const auto starts = counts.cumsum(0) - counts;  // first slot of each row's run
  const auto rank = torch::arange(nz.size(0), torch::kInt64) - starts.index_select(0, r);
  rows.index_put_({r, rank}, nz.select(1, 1));
  return rows;
}

void ReplayBuffer::Add(const Transition& t) {
  Add(t, torch::ones({t.actions.size(0)}, torch::kInt64));
}

void ReplayBuffer::Add(const Transition& t, const torch::Tensor& n_steps) {
  const int64_t B = t.actions.size(0);
  if (B == 0) return;
  const env::Observation obs = CpuObs(t.obs), next = CpuObs(t.next_obs);
  auto check_rows = [&](const torch::Tensor& x, const char* what) {
    if (!x.defined() || x.dim() < 1 || x.size(0) != B) {
      throw Error(std::string("replay buffer: ") + what + " must have " + std::to_string(B) +
                  " rows (the batch of actions)");
    }
  };
  for (const auto* o : {&obs, &next}) {
    if (o->items.dim() != 2 || o->items.size(1) != state_len_) {
      throw Error("replay buffer: observation items must be [B, " + std::to_string(state_len_) +
                  "], got " + std::to_string(o->items.dim()) + "-d with width " +
                  std::to_string(o->items.dim() == 2 ? o->items.size(1) : -1));
    }
    check_rows(o->items, "observation items");
    check_rows(o->lengths, "observation lengths");
    check_rows(o->users, "observation users");
    check_rows(o->step, "observation step");
  }
  check_rows(t.rewards, "rewards");
  check_rows(t.terminated, "terminated");
  check_rows(n_steps, "n_steps");
  check_rows(t.next_mask, "next_mask");
  if (t.next_mask.dim() != 2) throw Error("replay buffer: next_mask must be [B, N]");
  auto mask = Cpu(t.next_mask, torch::kBool);
  if (num_items_ < 0) Allocate(mask.size(1));
  if (mask.size(1) != num_items_) {
    throw Error("replay buffer: next_mask has " + std::to_string(mask.size(1)) +
                " items, the buffer holds " + std::to_string(num_items_));
  }
  if (!mask.any(1).all().item<bool>()) {
    throw Error("replay buffer: a next_mask row allows no item (nothing to bootstrap from)");
  }
  auto ks = Cpu(n_steps, torch::kInt64);
  if (ks.min().item<int64_t>() < 1) throw Error("replay buffer: n_steps must be >= 1");

  // Only the last `capacity` rows survive when B > capacity; they land where they would have.
  const int64_t first = B > capacity_ ? B - capacity_ : 0;
  auto src = torch::arange(first, B, torch::kInt64);
  auto dst = (torch::arange(first, B, torch::kInt64) + pos_) % capacity_;
  auto put = [&](torch::Tensor& store, const torch::Tensor& x, torch::Dtype dtype) {
    store.index_copy_(0, dst, Cpu(x, dtype).index_select(0, src));
  };
  put(items_, obs.items, torch::kInt64);
  put(lengths_, obs.lengths, torch::kInt64);
  put(users_, obs.users, torch::kInt64);
  put(steps_, obs.step, torch::kInt64);
  put(next_items_, next.items, torch::kInt64);
  put(next_lengths_, next.lengths, torch::kInt64);
  put(next_users_, next.users, torch::kInt64);
  put(next_steps_, next.step, torch::kInt64);
  put(actions_, t.actions, torch::kInt64);
  put(rewards_, t.rewards, torch::kFloat);
  put(n_steps_, ks, torch::kInt64);
  put(terminated_, t.terminated, torch::kBool);
  put(blocked_, Blocked(mask), torch::kInt64);
  pos_ = (pos_ + B) % capacity_;
  size_ = std::min(size_ + B, capacity_);
  num_added_ += B;
}

ReplayBuffer::Batch ReplayBuffer::Sample(int64_t batch_size, double gamma, Rng& rng,
                                         torch::Device device) const {
  if (size_ == 0) throw Error("replay buffer: cannot sample from an empty buffer");
  if (batch_size < 1) throw Error("replay buffer: batch_size must be >= 1");
  auto idx = torch::empty({batch_size}, torch::kInt64);
  auto* p = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < batch_size; ++i) {
    p[i] = static_cast<int64_t>(rng.UniformInt(static_cast<uint64_t>(size_)));
  }
  return Gather(idx, gamma, device);
}

ReplayBuffer::Batch ReplayBuffer::Gather(const torch::Tensor& indices, double gamma,
                                         torch::Device device) const {
  auto idx = Cpu(indices, torch::kInt64);
  if (idx.numel() > 0 && (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= size_)) {
    throw Error("replay buffer: index out of range [0, " + std::to_string(size_) + ")");
  }
  auto sel = [&](const torch::Tensor& x) { return x.index_select(0, idx).to(device); };
  Batch b;
  b.obs = {sel(items_), sel(lengths_), sel(users_), sel(steps_)};
  b.next_obs = {sel(next_items_), sel(next_lengths_), sel(next_users_), sel(next_steps_)};
  b.actions = sel(actions_);
  b.rewards = sel(rewards_);
  auto k = n_steps_.index_select(0, idx).to(torch::kDouble);
  auto disc = torch::pow(torch::full_like(k, gamma), k);
  disc = torch::where(terminated_.index_select(0, idx), torch::zeros_like(disc), disc);
  b.discounts = disc.to(torch::kFloat).to(device);
  // Dense next_mask rows rebuilt from the disallowed lists.
  auto mask = torch::ones({idx.size(0), num_items_}, torch::kBool);
  const auto blocked = blocked_.index_select(0, idx);
  if (blocked.size(1) > 0) {  // no stored row disallows anything: nothing to clear
    const auto valid = blocked.ge(0);
    const auto nz = valid.nonzero();
    mask.index_put_({nz.select(1, 0), blocked.index({valid})}, false);
  }
  b.next_mask = mask.to(device);
  return b;
}

void ReplayBuffer::Save(torch::serialize::OutputArchive& archive) const {
  archive.write("capacity", Scalar(capacity_));
  archive.write("state_len", Scalar(state_len_));
  archive.write("num_items", Scalar(num_items_));
  archive.write("pos", Scalar(pos_));
  archive.write("size", Scalar(size_));
  archive.write("num_added", Scalar(num_added_));
  if (num_items_ < 0) return;
  auto head = [&](const torch::Tensor& x) { return x.narrow(0, 0, size_).clone(); };
  archive.write("items", head(items_));
  archive.write("lengths", head(lengths_));
  archive.write("users", head(users_));
  archive.write("steps", head(steps_));
  archive.write("next_items", head(next_items_));
  archive.write("next_lengths", head(next_lengths_));
  archive.write("next_users", head(next_users_));
  archive.write("next_steps", head(next_steps_));
  archive.write("actions", head(actions_));
  archive.write("rewards", head(rewards_));
  archive.write("n_steps", head(n_steps_));
  archive.write("terminated", head(terminated_));
  archive.write("blocked", head(blocked_));
}

void ReplayBuffer::Load(torch::serialize::InputArchive& archive) {
  const int64_t capacity = ReadInt(archive, "capacity");
  const int64_t state_len = ReadInt(archive, "state_len");
  if (capacity != capacity_ || state_len != state_len_) {
    throw Error("replay buffer: checkpoint has capacity " + std::to_string(capacity) +
                " and state_len " + std::to_string(state_len) + ", this buffer " +
                std::to_string(capacity_) + " and " + std::to_string(state_len_));
  }
  const int64_t num_items = ReadInt(archive, "num_items");
  pos_ = ReadInt(archive, "pos");
  size_ = ReadInt(archive, "size");
  num_added_ = ReadInt(archive, "num_added");
  num_items_ = -1;
  if (num_items < 0) return;
  Allocate(num_items);
  auto load = [&](const char* key, torch::Tensor& store) {
    torch::Tensor x;
    archive.read(key, x);
    if (x.size(0) != size_)
      throw Error(std::string("replay buffer: checkpoint field ") + key +
                  " has the wrong number of rows");
    store.narrow(0, 0, size_).copy_(x);
  };
  load("items", items_);
  load("lengths", lengths_);
  load("users", users_);
  load("steps", steps_);
  load("next_items", next_items_);
  load("next_lengths", next_lengths_);
  load("next_users", next_users_);
  load("next_steps", next_steps_);
  load("actions", actions_);
  load("rewards", rewards_);
  load("n_steps", n_steps_);
  load("terminated", terminated_);
  torch::Tensor blocked;
  if (archive.try_read("blocked", blocked)) {
    WidenBlocked(blocked.size(1));
    load("blocked", blocked_);
  } else {
    // A checkpoint from before the sparse masks holds the dense rows.
    torch::Tensor dense;
    archive.read("next_mask", dense);
    if (dense.size(0) != size_ || dense.size(1) != num_items_) {
      throw Error("replay buffer: checkpoint field next_mask has the wrong shape");
    }
    const auto rows = Blocked(dense.to(torch::kBool));
    blocked_.narrow(0, 0, size_).copy_(rows);
  }
}

// ---------------------------------------------------------------------------------------------

NStepAccumulator::NStepAccumulator(int64_t n, double gamma) : n_(n), gamma_(gamma) {
  if (n < 1) throw Error("n-step accumulator: n must be >= 1, got " + std::to_string(n));
  if (!(gamma >= 0.0 && gamma <= 1.0)) {
    throw Error("n-step accumulator: gamma must be in [0, 1], got " + std::to_string(gamma));
  }
}

int64_t NStepAccumulator::pending(int64_t slot) const {
  if (!count_.defined()) return 0;
  return count_[slot].item<int64_t>();
}

void NStepAccumulator::Push(const Transition& t, ReplayBuffer& buffer) {
  const int64_t B = t.actions.size(0);
  if (!count_.defined()) count_ = torch::zeros({B}, torch::kInt64);
  if (count_.size(0) != B) {
    throw Error("n-step accumulator: batch size changed from " + std::to_string(count_.size(0)) +
                " to " + std::to_string(B));
  }
  window_.push_back(
      Step{CpuObs(t.obs), Cpu(t.actions, torch::kInt64), Cpu(t.rewards, torch::kFloat)});
  count_ = count_ + 1;
  const auto terminated = Cpu(t.terminated, torch::kBool);
  const auto done = terminated | Cpu(t.truncated, torch::kBool);
  const env::Observation next = CpuObs(t.next_obs);
  const auto next_mask = Cpu(t.next_mask, torch::kBool);

  // G[a]: the discounted reward sum from the step `a` steps ago up to now (a = 0: this step).
  const int64_t W = static_cast<int64_t>(window_.size());
  std::vector<torch::Tensor> returns(static_cast<size_t>(W));
  for (int64_t a = 0; a < W; ++a) {
    const auto& r = window_[static_cast<size_t>(W - 1 - a)].rewards;
    returns[static_cast<size_t>(a)] =
        a == 0 ? r.clone() : r + static_cast<float>(gamma_) * returns[static_cast<size_t>(a - 1)];
  }
  for (int64_t a = W - 1; a >= 0; --a) {
    auto emit = (done & (count_ > a)) | (~done & (count_ == n_) & (a == n_ - 1));
    auto idx = emit.nonzero().view(-1);
    if (idx.numel() == 0) continue;
    const Step& s = window_[static_cast<size_t>(W - 1 - a)];
    Transition e;
    e.obs = Rows(s.obs, idx);
    e.actions = s.actions.index_select(0, idx);
    e.rewards = returns[static_cast<size_t>(a)].index_select(0, idx);
    e.next_obs = Rows(next, idx);
    e.next_mask = next_mask.index_select(0, idx);
    e.terminated = terminated.index_select(0, idx);
    e.truncated = torch::zeros_like(e.terminated);
    buffer.Add(e, torch::full({idx.numel()}, a + 1, torch::kInt64));
  }
  count_ = torch::where(done, torch::zeros_like(count_), torch::clamp_max(count_, n_ - 1));
  while (static_cast<int64_t>(window_.size()) > n_ - 1) window_.pop_front();
}

void NStepAccumulator::Save(torch::serialize::OutputArchive& archive) const {
  archive.write("n", Scalar(n_));
  archive.write("window_size", Scalar(static_cast<int64_t>(window_.size())));
  archive.write("count", count_.defined() ? count_ : torch::empty({0}, torch::kInt64));
  archive.write("has_count", Scalar(count_.defined() ? 1 : 0));
  for (size_t i = 0; i < window_.size(); ++i) {
    const std::string p = "w" + std::to_string(i) + "_";
    const Step& s = window_[i];
    archive.write(p + "items", s.obs.items);
    archive.write(p + "lengths", s.obs.lengths);
    archive.write(p + "users", s.obs.users);
    archive.write(p + "step", s.obs.step);
    archive.write(p + "actions", s.actions);
    archive.write(p + "rewards", s.rewards);
  }
}

void NStepAccumulator::Load(torch::serialize::InputArchive& archive) {
  const int64_t n = ReadInt(archive, "n");
  if (n != n_) {
    throw Error("n-step accumulator: checkpoint has n = " + std::to_string(n) + ", this one " +
                std::to_string(n_));
  }
  const int64_t w = ReadInt(archive, "window_size");
  torch::Tensor count;
  archive.read("count", count);
  count_ = ReadInt(archive, "has_count") != 0 ? count.clone() : torch::Tensor();
  window_.clear();
  for (int64_t i = 0; i < w; ++i) {
    const std::string p = "w" + std::to_string(i) + "_";
    Step s;
    archive.read(p + "items", s.obs.items);
    archive.read(p + "lengths", s.obs.lengths);
    archive.read(p + "users", s.obs.users);
    archive.read(p + "step", s.obs.step);
    archive.read(p + "actions", s.actions);
    archive.read(p + "rewards", s.rewards);
    window_.push_back(std::move(s));
  }
}

}  // namespace recarena::agents
