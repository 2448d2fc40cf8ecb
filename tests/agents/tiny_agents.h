// Fixtures shared by the offline learners' unit tests (sqn_test, offline_q_test): a tiny GRU4Rec
// model, a checkpoint round trip through an in-memory archive and tensor literals for hand-made
// batches.
#pragma once

#include <torch/torch.h>

#include <initializer_list>
#include <sstream>
#include <vector>

#include "agents/supervised.h"

namespace recarena::testing {

// GRU4Rec with hidden 8, no dropout, Adam lr 0.01.
inline agents::SupervisedOptions TinyGruOptions(int64_t items, int64_t state_len) {
  agents::SupervisedOptions m;
  m.encoder.kind = models::EncoderKind::kGru4Rec;
  m.encoder.num_items = items;
  m.encoder.state_len = state_len;
  m.encoder.hidden = 8;
  m.encoder.dropout = 0.0;
  m.lr = 0.01;
  return m;
}

// A float32 [rows, cols] tensor from its rows.
inline torch::Tensor M(const std::vector<std::vector<float>>& rows) {
  std::vector<torch::Tensor> r;
  for (const auto& x : rows) r.push_back(torch::tensor(x));
  return torch::stack(r);
}
// An int64 [n] tensor.
inline torch::Tensor I(std::initializer_list<int64_t> v) {
  return torch::tensor(std::vector<int64_t>(v), torch::kInt64);
}

// Saves `from` and loads the archive into `to` (an agent built the same way).
inline void CopyThroughArchive(const agents::SupervisedAgent& from, agents::SupervisedAgent& to) {
  std::stringstream buf;
  {
    torch::serialize::OutputArchive a;
    from.Save(a);
    a.save_to(buf);
  }
  torch::serialize::InputArchive in;
  in.load_from(buf);
  to.Load(in);
}

}  // namespace recarena::testing
