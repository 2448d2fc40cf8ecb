// Item attribute vectors (models/item_attributes.h): multi-hot categories, dense-feature fallback.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "models/item_attributes.h"

using recarena::data::ItemCatalog;
using recarena::models::CategoryMultiHot;
using recarena::models::ItemAttributeVectors;

TEST_CASE("item attributes: multi-hot categories in order of first appearance", "[models]") {
  ItemCatalog items;
  for (const char* id : {"a", "b", "c"}) items.Intern(id);
  items.Normalize();
  items.categories[0] = {"Drama", "War"};
  items.categories[2] = {"Comedy", "Drama"};
  const auto m = CategoryMultiHot(items);
  REQUIRE(m.sizes() == torch::IntArrayRef({3, 3}));  // Drama, War, Comedy
  CHECK(
      torch::equal(m, torch::tensor({{1.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 0.0f}, {1.0f, 0.0f, 1.0f}})));
  CHECK(torch::equal(ItemAttributeVectors(items), m));
  // No categories: the dense features; neither: undefined.
  ItemCatalog plain;
  for (const char* id : {"x", "y"}) plain.Intern(id);
  plain.Normalize();
  CHECK_FALSE(CategoryMultiHot(plain).defined());
  CHECK_FALSE(ItemAttributeVectors(plain).defined());
  plain.feature_dim = 2;
  plain.features = {0.5f, 1.0f, 2.0f, 0.0f};
  CHECK(torch::equal(ItemAttributeVectors(plain), torch::tensor({{0.5f, 1.0f}, {2.0f, 0.0f}})));
}
