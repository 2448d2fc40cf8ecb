// Training / evaluation windows: (state, target) pairs cut from sequences for next-item models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/sequences.h"

namespace recarena::data {

struct WindowConfig {
  int state_len = 10;  // number of most recent items in a state

  template <class V>
  void Visit(V& v) {
    v("state_len", state_len);
  }
  // Throws ConfigError with key path "window.state_len".
  void Validate() const;
  // Same, with key path "<path>.state_len".
  void Validate(const std::string& path) const;
};

// One row per target: for every position t >= max(1, target_from) of every sequence, the state is
// the last min(t, state_len) items before t, in time order, RIGHT-padded with padding_id (real
// items first), with that true length. padding_id is normally the catalog size (num_items).
struct Windows {
  int32_t state_len = 10;
  ItemId padding_id = 0;
  std::vector<ItemId> states;           // [size() x state_len] row-major
  std::vector<int32_t> lengths;         // [size()] real items in each state, 1..state_len
  std::vector<ItemId> targets;          // [size()] item at position t
  std::vector<float> values;            // [size()] Interaction::value of the target (reward)
  std::vector<UserId> users;            // [size()]
  std::vector<int32_t> positions;       // [size()] t within its sequence
  std::vector<int32_t> sequence_index;  // [size()] index into the seqs given to MakeWindows

  size_t size() const { return targets.size(); }
};

// Rows are ordered by (sequence index, position). Throws recarena::Error when state_len < 1.
Windows MakeWindows(const std::vector<Sequence>& seqs, int state_len, ItemId padding_id);

}  // namespace recarena::data
