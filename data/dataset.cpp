#include "data/dataset.h"

#include <fmt/format.h>

#include "core/error.h"

namespace recarena::data {

ItemId ItemCatalog::Intern(const std::string& external_id) {
  auto [it, inserted] = index_.emplace(external_id, static_cast<ItemId>(external_ids.size()));
  if (inserted) external_ids.push_back(external_id);
  return it->second;
}

ItemId ItemCatalog::Find(const std::string& external_id) const {
  auto it = index_.find(external_id);
  return it == index_.end() ? -1 : it->second;
}

void ItemCatalog::Normalize() {
  const size_t n = external_ids.size();
  titles.resize(n);
  texts.resize(n);
  categories.resize(n);
}

UserId UserTable::Intern(const std::string& external_id) {
  auto [it, inserted] = index_.emplace(external_id, static_cast<UserId>(external_ids.size()));
  if (inserted) external_ids.push_back(external_id);
  return it->second;
}

UserId UserTable::Find(const std::string& external_id) const {
  auto it = index_.find(external_id);
  return it == index_.end() ? -1 : it->second;
}

void Dataset::RebuildIndex() {
  items.index_.clear();
  for (size_t i = 0; i < items.external_ids.size(); ++i) {
    items.index_[items.external_ids[i]] = static_cast<ItemId>(i);
  }
  users.index_.clear();
  for (size_t i = 0; i < users.external_ids.size(); ++i) {
    users.index_[users.external_ids[i]] = static_cast<UserId>(i);
  }
}

void Dataset::CheckConsistency() const {
  const auto n_items = items.size();
  const auto n_users = users.size();
  for (size_t i = 0; i < interactions.size(); ++i) {
    const auto& x = interactions[i];
    if (x.item < 0 || x.item >= n_items || x.user < 0 || x.user >= n_users ||
        x.part >= parts.size()) {
      throw Error(
          fmt::format("dataset '{}': interaction {} refers to user {} / item {} / part {} out of "
                      "range ({} users, {} items, {} parts)",
                      name, i, x.user, x.item, x.part, n_users, n_items, parts.size()));
    }
  }
  for (size_t i = 0; i < exposures.size(); ++i) {
    const auto& x = exposures[i];
    if (x.item < 0 || x.item >= n_items || x.user < 0 || x.user >= n_users ||
        x.part >= parts.size()) {
      throw Error(
          fmt::format("dataset '{}': exposure {} refers to user {} / item {} / part {} out of "
                      "range ({} users, {} items, {} parts)",
                      name, i, x.user, x.item, x.part, n_users, n_items, parts.size()));
    }
  }
  if (items.feature_dim > 0 &&
      items.features.size() != static_cast<size_t>(n_items) * items.feature_dim) {
    throw Error(fmt::format("dataset '{}': item feature matrix has {} values, expected {} x {}",
                            name, items.features.size(), n_items, items.feature_dim));
  }
  if (users.feature_dim > 0 &&
      users.features.size() != static_cast<size_t>(n_users) * users.feature_dim) {
    throw Error(fmt::format("dataset '{}': user feature matrix has {} values, expected {} x {}",
                            name, users.features.size(), n_users, users.feature_dim));
  }
}

std::vector<int64_t> CountByPart(const Dataset& ds) {
  std::vector<int64_t> counts(ds.parts.size(), 0);
  for (const auto& x : ds.interactions) ++counts[x.part];
  return counts;
}

}  // namespace recarena::data
