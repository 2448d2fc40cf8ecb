// Tiny hand-made datasets for the preprocessing / split / window tests.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/sequences.h"

namespace recarena::testing {

struct Row {
  data::UserId user;
  data::ItemId item;
  double timestamp;
  float value = 1.0f;
  int64_t session = -1;
  uint8_t part = 0;
};

// A dataset with users "u0".."u{n_users-1}" and items "i0".. titled "T0".. (texts "X0"..,
// categories {"c<i % 2>"}), and the given interactions in the given order.
inline data::Dataset MakeDataset(int n_users, int n_items, const std::vector<Row>& rows) {
  data::Dataset ds;
  ds.name = "tiny";
  for (int u = 0; u < n_users; ++u) ds.users.Intern("u" + std::to_string(u));
  for (int i = 0; i < n_items; ++i) ds.items.Intern("i" + std::to_string(i));
  ds.items.Normalize();
  for (int i = 0; i < n_items; ++i) {
    ds.items.titles[i] = "T" + std::to_string(i);
    ds.items.texts[i] = "X" + std::to_string(i);
    ds.items.categories[i] = {"c" + std::to_string(i % 2)};
  }
  for (const auto& r : rows) {
    data::Interaction x;
    x.user = r.user;
    x.item = r.item;
    x.timestamp = r.timestamp;
    x.value = r.value;
    x.session = r.session;
    x.part = r.part;
    ds.interactions.push_back(x);
  }
  return ds;
}

// A sequence of the given items with timestamps 0, 1, 2, ... and values 1.
inline data::Sequence MakeSequence(data::UserId user, const std::vector<data::ItemId>& items,
                                   int64_t session = -1) {
  data::Sequence s;
  s.user = user;
  s.session = session;
  s.items = items;
  for (size_t i = 0; i < items.size(); ++i) {
    s.timestamps.push_back(static_cast<double>(i));
    s.values.push_back(1.0f);
  }
  return s;
}

}  // namespace recarena::testing
