// Fixtures shared by the offline learners' unit tests (sqn_test, offline_q_test): a tiny GRU4Rec
// model and a checkpoint round trip through an in-memory archive.
#pragma once

#include <torch/torch.h>

#include <sstream>

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
