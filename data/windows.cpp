#include "data/windows.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace recarena::data {

void WindowConfig::Validate() const { Validate("window"); }

void WindowConfig::Validate(const std::string& path) const {
  const std::string key = path.empty() ? "state_len" : path + ".state_len";
  if (state_len < 1) {
    throw ConfigError(key, fmt::format("{} must be >= 1, got {}", key, state_len));
  }
}

Windows MakeWindows(const std::vector<Sequence>& seqs, int state_len, ItemId padding_id) {
  if (state_len < 1) {
    throw Error(fmt::format("MakeWindows: state_len must be >= 1, got {}", state_len));
  }
  Windows w;
  w.state_len = state_len;
  w.padding_id = padding_id;
  size_t total = 0;
  for (const auto& s : seqs) {
    const int32_t from = std::max<int32_t>(1, s.target_from);
    if (s.size() > from) total += static_cast<size_t>(s.size() - from);
  }
  w.states.reserve(total * static_cast<size_t>(state_len));
  w.lengths.reserve(total);
  w.targets.reserve(total);
  w.values.reserve(total);
  w.users.reserve(total);
  w.positions.reserve(total);
  w.sequence_index.reserve(total);
  for (size_t si = 0; si < seqs.size(); ++si) {
    const Sequence& s = seqs[si];
    if (s.values.size() != s.items.size()) {
      throw Error(fmt::format("MakeWindows: sequence {} has {} items but {} values", si,
                              s.items.size(), s.values.size()));
    }
    for (int32_t t = std::max<int32_t>(1, s.target_from); t < s.size(); ++t) {
      const int32_t len = std::min<int32_t>(t, state_len);
      for (int32_t k = t - len; k < t; ++k) w.states.push_back(s.items[k]);
      for (int32_t k = len; k < state_len; ++k) w.states.push_back(padding_id);
      w.lengths.push_back(len);
      w.targets.push_back(s.items[t]);
      w.values.push_back(s.values[t]);
      w.users.push_back(s.user);
      w.positions.push_back(t);
      w.sequence_index.push_back(static_cast<int32_t>(si));
    }
  }
  return w;
}

}  // namespace recarena::data
