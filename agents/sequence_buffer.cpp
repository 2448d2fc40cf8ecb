#include "agents/sequence_buffer.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace recarena::agents {

SequenceBuffer::SequenceBuffer(int64_t capacity, int64_t num_items)
    : capacity_(capacity), num_items_(num_items) {
  if (capacity < 1)
    throw Error(fmt::format("SequenceBuffer: capacity must be >= 1, got {}", capacity));
  if (num_items < 1)
    throw Error(fmt::format("SequenceBuffer: num_items must be >= 1, got {}", num_items));
}

bool SequenceBuffer::Add(const std::vector<int32_t>& items) {
  if (items.size() < 2) return false;
  for (int32_t it : items) {
    if (it < 0 || it >= num_items_) {
      throw Error(fmt::format("SequenceBuffer: item id {} outside [0, {})", it, num_items_));
    }
  }
  if (size() == capacity_) seqs_.pop_front();
  seqs_.push_back(items);
  ++num_added_;
  return true;
}

SequenceBatch SequenceBuffer::Sample(int64_t batch_size, int64_t state_len, Rng& rng,
                                     torch::Device device) const {
  if (seqs_.empty()) throw Error("SequenceBuffer: cannot sample from an empty buffer");
  if (batch_size < 1 || state_len < 1) {
    throw Error(fmt::format("SequenceBuffer: batch_size ({}) and state_len ({}) must be >= 1",
                            batch_size, state_len));
  }
  torch::Tensor items = torch::full({batch_size, state_len}, num_items_, torch::kInt64);
  torch::Tensor lengths = torch::empty({batch_size}, torch::kInt64);
  torch::Tensor targets = torch::empty({batch_size}, torch::kInt64);
  auto ia = items.accessor<int64_t, 2>();
  auto la = lengths.accessor<int64_t, 1>();
  auto ta = targets.accessor<int64_t, 1>();
  for (int64_t r = 0; r < batch_size; ++r) {
    const auto& s = seqs_[static_cast<size_t>(rng.UniformInt(seqs_.size()))];
    const auto j = static_cast<int64_t>(1 + rng.UniformInt(s.size() - 1));
    const int64_t from = std::max<int64_t>(0, j - state_len);
    for (int64_t t = from; t < j; ++t) ia[r][t - from] = s[static_cast<size_t>(t)];
    la[r] = j - from;
    ta[r] = s[static_cast<size_t>(j)];
  }
  return {items.to(device), lengths.to(device), targets.to(device)};
}

void SequenceBuffer::Save(torch::serialize::OutputArchive& archive) const {
  std::vector<int64_t> lengths;
  std::vector<int32_t> flat;
  for (const auto& s : seqs_) {
    lengths.push_back(static_cast<int64_t>(s.size()));
    flat.insert(flat.end(), s.begin(), s.end());
  }
  archive.write("seq_buffer_lengths", torch::tensor(lengths, torch::kInt64));
  archive.write("seq_buffer_items", torch::tensor(flat, torch::kInt32));
  archive.write("seq_buffer_added", torch::tensor(num_added_, torch::kInt64));
}

void SequenceBuffer::Load(torch::serialize::InputArchive& archive) {
  torch::Tensor lengths, flat, added;
  archive.read("seq_buffer_lengths", lengths);
  archive.read("seq_buffer_items", flat);
  archive.read("seq_buffer_added", added);
  lengths = lengths.to(torch::kInt64).contiguous();
  flat = flat.to(torch::kInt32).contiguous();
  if (lengths.numel() > 0 && lengths.sum().item<int64_t>() != flat.numel()) {
    throw Error("SequenceBuffer: checkpoint lengths do not add up to its items");
  }
  if (lengths.numel() > capacity_) {
    throw Error(fmt::format("SequenceBuffer: checkpoint holds {} sequences, capacity is {}",
                            lengths.numel(), capacity_));
  }
  seqs_.clear();
  const int32_t* p = flat.data_ptr<int32_t>();
  const int64_t* lp = lengths.data_ptr<int64_t>();
  for (int64_t i = 0; i < lengths.numel(); ++i) {
    seqs_.emplace_back(p, p + lp[i]);
    p += lp[i];
  }
  num_added_ = added.item<int64_t>();
}

}  // namespace recarena::agents
