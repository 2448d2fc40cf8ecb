#include "data/exposures.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "core/error.h"

namespace recarena::data {

ExposureIndex::ExposureIndex(const Dataset& ds, SequenceUnit unit, const std::vector<int>& parts)
    : by_session_(ResolveSequenceUnit(ds, unit) == SequenceUnit::kSession) {
  std::vector<char> include(ds.parts.size(), parts.empty() ? 1 : 0);
  for (int p : parts) {
    if (p < 0 || p >= static_cast<int>(ds.parts.size())) {
      throw Error(fmt::format("dataset '{}': part {} out of range ({} parts)", ds.name, p,
                              ds.parts.size()));
    }
    include[static_cast<size_t>(p)] = 1;
  }
  for (const auto& e : ds.exposures) {
    if (e.part >= include.size() || !include[e.part]) continue;
    groups_[{e.user, by_session_ ? e.session : -1}].push_back(e);
    ++size_;
  }
  for (auto& [key, group] : groups_) {
    std::stable_sort(group.begin(), group.end(), [](const Exposure& a, const Exposure& b) {
      return a.timestamp < b.timestamp;
    });
  }
}

const std::vector<Exposure>& ExposureIndex::Of(UserId user, int64_t session) const {
  static const std::vector<Exposure> kNone;
  const auto it = groups_.find({user, by_session_ ? session : -1});
  return it == groups_.end() ? kNone : it->second;
}

}  // namespace recarena::data
