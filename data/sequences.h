// Interaction sequences: a dataset's log grouped by user or by session, each in time order.
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "data/preprocess.h"

namespace recarena::data {

struct Sequence {
  UserId user = 0;
  int64_t session = -1;  // the session id for unit=session; -1 for unit=user
  // Parallel arrays, one entry per interaction, in time order.
  std::vector<ItemId> items;
  std::vector<double> timestamps;
  std::vector<float> values;
  int32_t target_from = 1;  // positions t >= target_from are prediction targets (t >= 1 always)

  int32_t size() const { return static_cast<int32_t>(items.size()); }
};

// Groups interactions into sequences by user or by session (kAuto resolved by ResolveSequenceUnit
// over the whole dataset, not just the selected parts, so that every part uses the same unit). Each
// sequence is sorted by timestamp (stable: ties keep the log order); sequences are ordered by
// (user, first timestamp, session). A session sequence is keyed by (user, session).
// parts: which Dataset::parts indices to include (empty = all); an index out of range throws.
// With unit=session every included interaction must have session >= 0 (else recarena::Error).
std::vector<Sequence> BuildSequences(const Dataset& ds, SequenceUnit unit,
                                     const std::vector<int>& parts = {});

}  // namespace recarena::data
