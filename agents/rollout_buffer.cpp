#include "agents/rollout_buffer.h"

#include <string>

#include "core/error.h"

namespace recarena::agents {

namespace {

// The stored fields of a Transition, in a fixed order, with their checkpoint names.
constexpr const char* kFields[] = {"obs_items",    "obs_lengths", "obs_users", "obs_step",
                                   "mask",         "actions",     "rewards",   "next_items",
                                   "next_lengths", "next_users",  "next_step", "next_mask",
                                   "terminated",   "truncated"};
constexpr int kNumFields = 14;

std::vector<torch::Tensor*> Fields(Transition& t) {
  return {
      &t.obs.items,     &t.obs.lengths, &t.obs.users,      &t.obs.step,         &t.mask,
      &t.actions,       &t.rewards,     &t.next_obs.items, &t.next_obs.lengths, &t.next_obs.users,
      &t.next_obs.step, &t.next_mask,   &t.terminated,     &t.truncated};
}

std::vector<const torch::Tensor*> Fields(const Transition& t) {
  std::vector<const torch::Tensor*> out;
  for (auto* p : Fields(const_cast<Transition&>(t))) out.push_back(p);
  return out;
}

torch::Tensor StackField(const std::vector<Transition>& data,
                         const torch::Tensor& (*get)(const Transition&)) {
  std::vector<torch::Tensor> parts;
  parts.reserve(data.size());
  for (const auto& t : data) parts.push_back(get(t));
  return torch::stack(parts, 0);
}

}  // namespace

Transition TransitionToDevice(const Transition& t, torch::Device device) {
  Transition out = t;
  for (auto* p : Fields(out)) {
    if (p->defined()) *p = p->to(device);
  }
  return out;
}

RolloutBuffer::RolloutBuffer(int64_t max_steps) : max_steps_(max_steps) {
  if (max_steps < 0) {
    throw Error("RolloutBuffer: max_steps must be >= 0 (0 = unbounded), got " +
                std::to_string(max_steps));
  }
}

void RolloutBuffer::Add(const Transition& t) {
  const auto fields = Fields(t);
  for (int i = 0; i < kNumFields; ++i) {
    if (!fields[i]->defined()) {
      throw Error(std::string("RolloutBuffer::Add: the transition's '") + kFields[i] +
                  "' tensor is undefined");
    }
  }
  const int64_t B = t.actions.size(0);
  if (!data_.empty() && data_.front().actions.size(0) != B) {
    throw Error("RolloutBuffer::Add: the transition has B = " + std::to_string(B) +
                " slots but the stored steps have " +
                std::to_string(data_.front().actions.size(0)));
  }
  if (max_steps_ > 0 && steps() == max_steps_) data_.erase(data_.begin());
  data_.push_back(t);
}

void RolloutBuffer::DropFront(int64_t k) {
  if (k < 0 || k > steps()) {
    throw Error("RolloutBuffer::DropFront: k = " + std::to_string(k) + " outside [0, " +
                std::to_string(steps()) + "]");
  }
  data_.erase(data_.begin(), data_.begin() + k);
}

RolloutBatch RolloutBuffer::Stacked() const {
  if (data_.empty()) throw Error("RolloutBuffer::Stacked: the buffer is empty");
  RolloutBatch b;
  b.items =
      StackField(data_, [](const Transition& t) -> const torch::Tensor& { return t.obs.items; });
  b.lengths =
      StackField(data_, [](const Transition& t) -> const torch::Tensor& { return t.obs.lengths; });
  b.mask = StackField(data_, [](const Transition& t) -> const torch::Tensor& { return t.mask; });
  b.actions =
      StackField(data_, [](const Transition& t) -> const torch::Tensor& { return t.actions; });
  b.rewards =
      StackField(data_, [](const Transition& t) -> const torch::Tensor& { return t.rewards; });
  b.next_items = StackField(
      data_, [](const Transition& t) -> const torch::Tensor& { return t.next_obs.items; });
  b.next_lengths = StackField(
      data_, [](const Transition& t) -> const torch::Tensor& { return t.next_obs.lengths; });
  b.next_mask =
      StackField(data_, [](const Transition& t) -> const torch::Tensor& { return t.next_mask; });
  b.terminated =
      StackField(data_, [](const Transition& t) -> const torch::Tensor& { return t.terminated; });
  b.truncated =
      StackField(data_, [](const Transition& t) -> const torch::Tensor& { return t.truncated; });
  return b;
}

void RolloutBuffer::Save(torch::serialize::OutputArchive& archive, const std::string& key) const {
  torch::serialize::OutputArchive sub;
  sub.write("num_steps", torch::tensor(steps(), torch::kInt64));
  for (size_t s = 0; s < data_.size(); ++s) {
    const auto fields = Fields(data_[s]);
    for (int i = 0; i < kNumFields; ++i) {
      sub.write("s" + std::to_string(s) + "_" + kFields[i], *fields[i]);
    }
  }
  archive.write(key, sub);
}

void RolloutBuffer::Load(torch::serialize::InputArchive& archive, const std::string& key,
                         torch::Device device) {
  torch::serialize::InputArchive sub;
  if (!archive.try_read(key, sub)) {
    throw Error("RolloutBuffer::Load: the checkpoint has no '" + key + "' section");
  }
  torch::Tensor n;
  if (!sub.try_read("num_steps", n)) {
    throw Error("RolloutBuffer::Load: '" + key + "' has no 'num_steps'");
  }
  const int64_t num_steps = n.item<int64_t>();
  if (num_steps < 0 || (max_steps_ > 0 && num_steps > max_steps_)) {
    throw Error("RolloutBuffer::Load: '" + key + "' holds " + std::to_string(num_steps) +
                " steps, the buffer keeps at most " + std::to_string(max_steps_));
  }
  std::vector<Transition> data(static_cast<size_t>(num_steps));
  for (int64_t s = 0; s < num_steps; ++s) {
    auto fields = Fields(data[static_cast<size_t>(s)]);
    for (int i = 0; i < kNumFields; ++i) {
      const std::string name = "s" + std::to_string(s) + "_" + kFields[i];
      torch::Tensor v;
      if (!sub.try_read(name, v)) {
        throw Error("RolloutBuffer::Load: '" + key + "' has no tensor '" + name + "'");
      }
      *fields[i] = v.to(device);
    }
  }
  data_ = std::move(data);
}

}  // namespace recarena::agents
