// Item attribute vectors derived from a catalog's categories and dense features, for item-item
// similarity (the simulator's repetition rule, the decision transformers' diversity returns).
#pragma once

#include <torch/types.h>

#include "data/dataset.h"

namespace recarena::models {

// [size(), C] float 0/1: column c = the c-th distinct category in order of first appearance
// (items in id order, their categories in order). Undefined when no item has a category.
torch::Tensor CategoryMultiHot(const data::ItemCatalog& items);

// The catalog's attribute vectors: CategoryMultiHot when any item has a category, else its dense
// features [size(), feature_dim]; undefined when it has neither.
torch::Tensor ItemAttributeVectors(const data::ItemCatalog& items);

}  // namespace recarena::models
