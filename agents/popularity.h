// The popularity baseline (the floor every learned model must beat): scores every item by its
// number of occurrences as a target in the training sequences, the same list for every user.
#pragma once

#include <cstdint>
#include <vector>

#include "data/sequences.h"

namespace recarena::agents {

class PopularityRecommender {
 public:
  // counts target occurrences (positions >= 1 and the first item too: every item occurrence
  // counts).
  PopularityRecommender(const std::vector<data::Sequence>& train, int32_t num_items);
  // Score of each item: its count (float). Size num_items.
  const std::vector<float>& scores() const { return scores_; }

 private:
  std::vector<float> scores_;
};

}  // namespace recarena::agents
