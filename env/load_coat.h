// Coat shopping (Schnabel et al. 2016) loader.
//
// Files (whitespace-separated integer matrices, CRLF line endings accepted):
//   train.ascii  [users x items] self-selected ratings 1-5, 0 = unobserved  -> part "train" (0)
//   test.ascii   [users x items] ratings on randomly exposed items, 0 = unobserved -> part "test"
//   (1) user_item_features/user_features.ascii [users x U] + user_features_map.txt (U names, one a
//   line) user_item_features/item_features.ascii [items x I] + item_features_map.txt (I names)
// Users and items are the row / column indices (external ids "0", "1", ...). The data has no
// time: timestamp = 0 for every train rating and 1 for every test rating, so that any time-ordered
// consumer sees the self-selected log before the random-exposure one. Interactions are listed
// train first, then test, each user-major. value = rating, ValueKind::kRating. An item's
// categories are the names of its non-zero features (e.g. "gender:women", "jackettype:parkas").
// propensities.ascii is not read.
#pragma once

#include <filesystem>

#include "env/dataset.h"
#include "env/load_options.h"

namespace recarena::env {

Dataset LoadCoat(const std::filesystem::path& dir, const LoadOptions& opts, LoadReport* report);

}  // namespace recarena::env
