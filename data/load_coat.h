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
// propensities.ascii [users x items] (the propensities of the self-selected train ratings, P(a
// user rated an item), estimated by Schnabel et al. with naive Bayes) is read separately by
// LoadCoatPropensities.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "data/dataset.h"
#include "data/load_options.h"

namespace recarena::data {

Dataset LoadCoat(const std::filesystem::path& dir, const LoadOptions& opts, LoadReport* report);

// dir/propensities.ascii as a row-major [users x items] matrix, indexed like train.ascii (the
// external ids "0", "1", ... of LoadCoat). FileError (file, line, value) for a missing file, a
// shape that differs from train.ascii or a propensity outside (0, 1].
struct CoatPropensities {
  int64_t users = 0, items = 0;
  std::vector<double> p;
  double at(int64_t user, int64_t item) const {
    return p[static_cast<size_t>(user * items + item)];
  }
  // The propensity of a dataset's dense (user, item) pair, through their external ids; Error when
  // the pair is outside the matrix.
  double OfDense(const Dataset& ds, UserId user, ItemId item) const;
};
CoatPropensities LoadCoatPropensities(const std::filesystem::path& dir);

}  // namespace recarena::data
