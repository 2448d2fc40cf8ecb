#include "models/item_attributes.h"

#include <torch/torch.h>

#include <map>
#include <string>

namespace recarena::models {

torch::Tensor CategoryMultiHot(const data::ItemCatalog& items) {
  std::map<std::string, int64_t> index;
  for (const auto& cats : items.categories) {
    for (const auto& c : cats) index.emplace(c, static_cast<int64_t>(index.size()));
  }
  if (index.empty()) return {};
  const int64_t I = items.size();
  auto keys = torch::zeros({I, static_cast<int64_t>(index.size())}, torch::kFloat);
  auto ka = keys.accessor<float, 2>();
  for (int64_t i = 0; i < I && i < static_cast<int64_t>(items.categories.size()); ++i) {
    for (const auto& c : items.categories[static_cast<size_t>(i)]) ka[i][index.at(c)] = 1.0f;
  }
  return keys;
}

torch::Tensor ItemAttributeVectors(const data::ItemCatalog& items) {
  torch::Tensor multi_hot = CategoryMultiHot(items);
  if (multi_hot.defined()) return multi_hot;
  if (items.feature_dim == 0) return {};
  return torch::from_blob(const_cast<float*>(items.features.data()),
                          {items.size(), items.feature_dim}, torch::kFloat)
      .clone();
}

}  // namespace recarena::models
