// Item attribute vectors derived from a catalog's categories and dense features, for item-item
// similarity (the simulator's repetition rule, the decision transformers' diversity returns).
#pragma once

#include <torch/types.h>

#include "env/dataset.h"

namespace recarena::env {

// [size(), C] float 0/1: column c = the c-th distinct category in order of first appearance
// (items in id order, their categories in order). Undefined when no item has a category.
torch::Tensor CategoryMultiHot(const ItemCatalog& items);

// The catalog's attribute vectors: CategoryMultiHot when any item has a category, else its dense
// features [size(), feature_dim]; undefined when it has neither.
torch::Tensor ItemAttributeVectors(const ItemCatalog& items);

}  // namespace recarena::env
