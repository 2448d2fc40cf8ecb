#include "data/perturb.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <tuple>

#include "core/error.h"

namespace recarena::data {

void PerturbConfig::Validate() const {
  if (!(ratio > 0.0 && ratio <= 1.0)) {
    throw ConfigError("data.perturb.ratio",
                      fmt::format("data.perturb.ratio must be in (0, 1], got {}", ratio));
  }
  if (casper_window < 1) {
    throw ConfigError(
        "data.perturb.casper_window",
        fmt::format("data.perturb.casper_window must be >= 1, got {}", casper_window));
  }
}

namespace {

using Pos = std::pair<int64_t, int32_t>;  // (sequence, position)

// The n positions of candidates in a random order (all of them when n >= size).
std::vector<Pos> RandomOrder(std::vector<Pos> candidates, Rng& rng) {
  rng.Shuffle(candidates);
  return candidates;
}

}  // namespace

ItemId LeastPopularItem(const std::vector<Sequence>& seqs, int32_t num_items) {
  std::vector<int64_t> count(static_cast<size_t>(num_items), 0);
  for (const auto& s : seqs) {
    for (ItemId i : s.items) ++count[static_cast<size_t>(i)];
  }
  ItemId best = -1;
  for (ItemId i = 0; i < num_items; ++i) {
    if (count[i] > 0 && (best < 0 || count[i] < count[best])) best = i;
  }
  if (best < 0) throw Error("the training sequences hold no interaction");
  return best;
}

std::vector<Pos> CasperSelect(const std::vector<Sequence>& train, int64_t n, int64_t window,
                              Rng& rng) {
  // Nodes: the last `window` positions of each sequence.
  std::vector<Pos> nodes;
  std::vector<int64_t> first_node(train.size() + 1, 0);
  for (size_t s = 0; s < train.size(); ++s) {
    first_node[s] = static_cast<int64_t>(nodes.size());
    const int32_t size = train[s].size();
    for (int32_t t =
             std::max<int32_t>(0, size - static_cast<int32_t>(std::min<int64_t>(window, size)));
         t < size; ++t) {
      nodes.emplace_back(static_cast<int64_t>(s), t);
    }
  }
  first_node[train.size()] = static_cast<int64_t>(nodes.size());
  const size_t num = nodes.size();
  std::vector<std::vector<int64_t>> next(num);
  std::vector<int32_t> in_degree(num, 0);
  // Sequence edges.
  for (size_t s = 0; s < train.size(); ++s) {
    for (int64_t v = first_node[s]; v + 1 < first_node[s + 1]; ++v) {
      next[v].push_back(v + 1);
      ++in_degree[v + 1];
    }
  }
  // Item edges: consecutive interactions of an item by (time, sequence, position).
  std::map<ItemId, std::vector<std::tuple<double, int64_t, int32_t, int64_t>>> by_item;
  for (size_t v = 0; v < num; ++v) {
    const auto [s, t] = nodes[v];
    const Sequence& q = train[static_cast<size_t>(s)];
    by_item[q.items[t]].emplace_back(q.timestamps[t], s, t, static_cast<int64_t>(v));
  }
  for (auto& [item, list] : by_item) {
    std::sort(list.begin(), list.end());
    for (size_t i = 0; i + 1 < list.size(); ++i) {
      next[std::get<3>(list[i])].push_back(std::get<3>(list[i + 1]));
      ++in_degree[std::get<3>(list[i + 1])];
    }
  }
  // Descendants of every root (itself included), by breadth-first search.
  std::vector<std::pair<int64_t, int64_t>> roots;  // (-reach, node): sorted = most reach first
  std::vector<int64_t> stamp(num, -1);
  std::deque<int64_t> queue;
  for (size_t r = 0; r < num; ++r) {
    if (in_degree[r] != 0) continue;
    int64_t reach = 0;
    queue.assign(1, static_cast<int64_t>(r));
    stamp[r] = static_cast<int64_t>(r);
    while (!queue.empty()) {
      const int64_t v = queue.front();
      queue.pop_front();
      ++reach;
      for (int64_t w : next[v]) {
        if (stamp[w] != static_cast<int64_t>(r)) {
          stamp[w] = static_cast<int64_t>(r);
          queue.push_back(w);
        }
      }
    }
    roots.emplace_back(-reach, static_cast<int64_t>(r));
  }
  std::sort(roots.begin(), roots.end());
  std::vector<Pos> out;
  std::vector<uint8_t> taken(num, 0);
  for (const auto& [neg_reach, v] : roots) {
    out.push_back(nodes[v]);
    taken[v] = 1;
  }
  std::vector<Pos> rest;
  for (size_t v = 0; v < num; ++v) {
    if (!taken[v]) rest.push_back(nodes[v]);
  }
  for (const Pos& p : RandomOrder(std::move(rest), rng)) out.push_back(p);
  if (static_cast<int64_t>(out.size()) > n)
    out.resize(static_cast<size_t>(std::max<int64_t>(n, 0)));
  return out;
}

std::vector<PerturbedRow> Perturb(std::vector<Sequence>* train, int32_t num_items,
                                  const PerturbConfig& cfg, Rng& rng) {
  if (cfg.kind == PerturbKind::kNone) return {};
  cfg.Validate();
  if (train == nullptr) throw Error("Perturb: train must not be null");
  int64_t total = 0;
  for (const auto& s : *train) total += s.size();
  if (total == 0) throw Error("data.perturb: the training sequences hold no interaction");
  const auto n = std::max<int64_t>(1, std::llround(cfg.ratio * static_cast<double>(total)));
  // Candidates in the order they are taken.
  std::vector<Pos> order;
  if (cfg.select == PerturbSelect::kCasper) {
    order = CasperSelect(*train, total, cfg.casper_window, rng);
  } else {
    std::vector<Pos> candidates;
    for (size_t s = 0; s < train->size(); ++s) {
      const int32_t size = (*train)[s].size();
      if (size == 0) continue;
      if (cfg.select == PerturbSelect::kEarliestRandom) {
        candidates.emplace_back(static_cast<int64_t>(s), 0);
      } else if (cfg.select == PerturbSelect::kLatestRandom) {
        candidates.emplace_back(static_cast<int64_t>(s), size - 1);
      } else {
        for (int32_t t = 0; t < size; ++t) candidates.emplace_back(static_cast<int64_t>(s), t);
      }
    }
    order = RandomOrder(std::move(candidates), rng);
  }
  // Take n candidates; deletions keep every sequence at 2 items or more.
  std::vector<int32_t> left(train->size());
  for (size_t s = 0; s < train->size(); ++s) left[s] = (*train)[s].size();
  std::vector<Pos> chosen;
  for (const Pos& p : order) {
    if (static_cast<int64_t>(chosen.size()) == n) break;
    if (cfg.kind == PerturbKind::kDeletion) {
      if (left[p.first] <= 2) continue;
      --left[p.first];
    }
    chosen.push_back(p);
  }
  const ItemId least = LeastPopularItem(*train, num_items);
  std::vector<PerturbedRow> rows;
  for (const Pos& p : chosen) {
    const ItemId item = (*train)[p.first].items[p.second];
    ItemId with = -1;
    if (cfg.kind != PerturbKind::kDeletion) {
      if (cfg.with == PerturbItem::kLeastPopular) {
        with = least;
      } else if (num_items > 1) {
        with = static_cast<ItemId>(rng.UniformInt(static_cast<uint64_t>(num_items - 1)));
        if (with >= item) ++with;  // never the item it replaces
      } else {
        with = item;
      }
    }
    rows.push_back({p.first, p.second, item, with});
  }
  // Apply from the back of each sequence, so that earlier positions stay valid.
  std::sort(rows.begin(), rows.end(), [](const PerturbedRow& a, const PerturbedRow& b) {
    return std::tie(a.sequence, a.position) > std::tie(b.sequence, b.position);
  });
  for (const PerturbedRow& r : rows) {
    Sequence& q = (*train)[static_cast<size_t>(r.sequence)];
    const auto at = static_cast<size_t>(r.position);
    switch (cfg.kind) {
      case PerturbKind::kDeletion:
        q.items.erase(q.items.begin() + static_cast<std::ptrdiff_t>(at));
        q.timestamps.erase(q.timestamps.begin() + static_cast<std::ptrdiff_t>(at));
        q.values.erase(q.values.begin() + static_cast<std::ptrdiff_t>(at));
        if (r.position < q.target_from) q.target_from = std::max(1, q.target_from - 1);
        break;
      case PerturbKind::kInsertion: {
        // FINEST's time t - 1, kept no earlier than the previous interaction (order stays sorted).
        double ts = q.timestamps[at] - 1.0;
        if (at > 0) ts = std::max(ts, q.timestamps[at - 1]);
        q.items.insert(q.items.begin() + static_cast<std::ptrdiff_t>(at), r.new_item);
        q.timestamps.insert(q.timestamps.begin() + static_cast<std::ptrdiff_t>(at), ts);
        const float value = q.values[at];
        q.values.insert(q.values.begin() + static_cast<std::ptrdiff_t>(at), value);
        if (r.position < q.target_from) ++q.target_from;
        break;
      }
      case PerturbKind::kReplacement:
        q.items[at] = r.new_item;
        break;
      case PerturbKind::kNone:
        break;
    }
  }
  std::reverse(rows.begin(), rows.end());
  return rows;
}

}  // namespace recarena::data
