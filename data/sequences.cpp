#include "data/sequences.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <tuple>

#include "core/error.h"

namespace recarena::data {

std::vector<Sequence> BuildSequences(const Dataset& ds, SequenceUnit unit,
                                     const std::vector<int>& parts) {
  unit = ResolveSequenceUnit(ds, unit);
  std::vector<uint8_t> include(ds.parts.size(), parts.empty() ? 1 : 0);
  for (int p : parts) {
    if (p < 0 || static_cast<size_t>(p) >= ds.parts.size()) {
      throw Error(fmt::format("dataset '{}': part index {} out of range ({} parts)", ds.name, p,
                              ds.parts.size()));
    }
    include[p] = 1;
  }

  // Interaction indices of the selected parts, sorted by (user, [session,] timestamp, log order).
  std::vector<size_t> idx;
  idx.reserve(ds.interactions.size());
  for (size_t i = 0; i < ds.interactions.size(); ++i) {
    const auto& x = ds.interactions[i];
    if (x.part >= include.size()) {
      throw Error(fmt::format("dataset '{}': interaction {} refers to part {} ({} parts)", ds.name,
                              i, x.part, ds.parts.size()));
    }
    if (!include[x.part]) continue;
    if (unit == SequenceUnit::kSession && x.session < 0) {
      throw Error(fmt::format(
          "dataset '{}': sequences by session requested but interaction {} (user {}) has no "
          "session id; sessionize the log (preprocess.sessionize: true) or use unit 'user'",
          ds.name, i, x.user));
    }
    idx.push_back(i);
  }
  const bool by_session = unit == SequenceUnit::kSession;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const auto& x = ds.interactions[a];
    const auto& y = ds.interactions[b];
    if (x.user != y.user) return x.user < y.user;
    if (by_session && x.session != y.session) return x.session < y.session;
    return x.timestamp < y.timestamp;
  });

  std::vector<Sequence> seqs;
  for (size_t k = 0; k < idx.size(); ++k) {
    const auto& x = ds.interactions[idx[k]];
    if (seqs.empty() || seqs.back().user != x.user ||
        (by_session && seqs.back().session != x.session)) {
      Sequence s;
      s.user = x.user;
      s.session = by_session ? x.session : -1;
      seqs.push_back(std::move(s));
    }
    Sequence& s = seqs.back();
    s.items.push_back(x.item);
    s.timestamps.push_back(x.timestamp);
    s.values.push_back(x.value);
  }
  // Order by (user, first timestamp, session); sequences of one user are contiguous already, so
  // this only reorders sessions within a user.
  std::stable_sort(seqs.begin(), seqs.end(), [](const Sequence& a, const Sequence& b) {
    return std::make_tuple(a.user, a.timestamps.front(), a.session) <
           std::make_tuple(b.user, b.timestamps.front(), b.session);
  });
  return seqs;
}

}  // namespace recarena::data
