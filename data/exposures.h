// The log's exposures (Dataset::exposures: shown items the user did not pick) grouped like its
// sequences (data/sequences.h), so that each can be paired with the clicks before it: the
// response model's exposure negatives (env/response_training.h) are built from this index.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/preprocess.h"

namespace recarena::data {

class ExposureIndex {
 public:
  ExposureIndex() = default;
  // Groups ds.exposures of the listed parts (empty = all; out of range throws recarena::Error) by
  // sequence: by (user, session) for unit kSession, by user for kUser (kAuto resolved as
  // BuildSequences does). Each group is sorted by timestamp (stable).
  ExposureIndex(const Dataset& ds, SequenceUnit unit, const std::vector<int>& parts = {});

  // The exposures of the sequence with this user and session (Sequence::user, Sequence::session),
  // in time order; empty when there are none. For unit kUser the session is ignored.
  const std::vector<Exposure>& Of(UserId user, int64_t session) const;
  // Number of exposures indexed.
  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  bool by_session_ = true;
  int64_t size_ = 0;
  std::map<std::pair<UserId, int64_t>, std::vector<Exposure>> groups_;
};

}  // namespace recarena::data
