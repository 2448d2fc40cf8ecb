#include "agents/popularity.h"

namespace recarena::agents {

PopularityRecommender::PopularityRecommender(const std::vector<data::Sequence>& train,
                                             int32_t num_items)
    : scores_(static_cast<size_t>(num_items), 0.0f) {
  for (const auto& s : train) {
    for (auto item : s.items) {
      if (item >= 0 && item < num_items) scores_[static_cast<size_t>(item)] += 1.0f;
    }
  }
}

}  // namespace recarena::agents
