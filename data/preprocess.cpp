#include "data/preprocess.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <unordered_map>

#include "core/error.h"

namespace recarena::data {

namespace {

// One interaction being processed, with its index in the input (the final tie-break) and the dense
// id of the sequence it belongs to.
struct Work {
  Interaction x;
  int64_t orig = 0;
  int32_t seq = 0;
};

struct PairHash {
  size_t operator()(const std::pair<UserId, int64_t>& p) const {
    return std::hash<int64_t>()(p.second * 1000003LL + p.first);
  }
};

// Subsets a per-row vector (titles, texts, ...) to the kept rows. An empty vector stays empty
// (the loader did not fill it); any other size that does not match the table is an error.
template <class T>
std::vector<T> SubsetRows(const std::vector<T>& rows, const std::vector<int32_t>& keep,
                          size_t table_size, const std::string& what, const std::string& ds_name) {
  if (rows.empty()) return {};
  if (rows.size() != table_size) {
    throw Error(fmt::format("dataset '{}': {} has {} rows but the table has {} entries", ds_name,
                            what, rows.size(), table_size));
  }
  std::vector<T> out;
  out.reserve(keep.size());
  for (int32_t i : keep) out.push_back(rows[i]);
  return out;
}

std::vector<float> SubsetFeatureRows(const std::vector<float>& features, int32_t dim,
                                     const std::vector<int32_t>& keep) {
  if (dim <= 0) return features;
  std::vector<float> out;
  out.reserve(keep.size() * static_cast<size_t>(dim));
  for (int32_t i : keep) {
    auto begin = features.begin() + static_cast<ptrdiff_t>(i) * dim;
    out.insert(out.end(), begin, begin + dim);
  }
  return out;
}

int64_t CountDistinctSequences(const std::vector<Work>& xs) {
  if (xs.empty()) return 0;
  int32_t max_seq = 0;
  for (const auto& w : xs) max_seq = std::max(max_seq, w.seq);
  std::vector<uint8_t> seen(static_cast<size_t>(max_seq) + 1, 0);
  int64_t n = 0;
  for (const auto& w : xs) {
    if (!seen[w.seq]) {
      seen[w.seq] = 1;
      ++n;
    }
  }
  return n;
}

}  // namespace

void PreprocessConfig::Validate() const { Validate("preprocess"); }

void PreprocessConfig::Validate(const std::string& path) const {
  auto key = [&](const char* k) { return path.empty() ? std::string(k) : path + "." + k; };
  if (min_item_freq < 1) {
    throw ConfigError(key("min_item_freq"),
                      fmt::format("{} must be >= 1 (1 keeps every item), got {}",
                                  key("min_item_freq"), min_item_freq));
  }
  if (min_seq_len < 1) {
    throw ConfigError(key("min_seq_len"),
                      fmt::format("{} must be >= 1 (1 keeps every sequence), got {}",
                                  key("min_seq_len"), min_seq_len));
  }
  if (!std::isfinite(session_gap_minutes) || session_gap_minutes <= 0.0) {
    throw ConfigError(key("session_gap_minutes"),
                      fmt::format("{} must be a positive number of minutes, got {}",
                                  key("session_gap_minutes"), session_gap_minutes));
  }
  if (!std::isfinite(positive_threshold)) {
    throw ConfigError(
        key("positive_threshold"),
        fmt::format("{} must be finite, got {}", key("positive_threshold"), positive_threshold));
  }
  if (!(long_tail_top_share >= 0.0 && long_tail_top_share <= 1.0)) {
    throw ConfigError(key("long_tail_top_share"),
                      fmt::format("{} must be in [0, 1], got {}", key("long_tail_top_share"),
                                  long_tail_top_share));
  }
}

bool PreprocessConfig::AnyRemovingFilter() const {
  return keep == KeepInteractions::kPositive || min_item_freq > 1 || min_seq_len > 1;
}

SequenceUnit ResolveSequenceUnit(const Dataset& ds, SequenceUnit unit) {
  if (unit != SequenceUnit::kAuto) return unit;
  for (const auto& x : ds.interactions) {
    if (x.session >= 0) return SequenceUnit::kSession;
  }
  return SequenceUnit::kUser;
}

Dataset Preprocess(const Dataset& in, const PreprocessConfig& cfg, PreprocessReport* report) {
  cfg.Validate();
  in.CheckConsistency();
  PreprocessReport rep;
  rep.input_interactions = static_cast<int64_t>(in.interactions.size());

  // 1. keep filter.
  std::vector<Work> xs;
  xs.reserve(in.interactions.size());
  for (size_t i = 0; i < in.interactions.size(); ++i) {
    const auto& x = in.interactions[i];
    if (cfg.keep == KeepInteractions::kPositive && !(x.value >= cfg.positive_threshold)) continue;
    xs.push_back(Work{x, static_cast<int64_t>(i), 0});
  }
  // (user, timestamp, original order): stable sort of a log in input order. Every later step keeps
  // this order, and compaction preserves relative user order, so it is also the output order.
  std::stable_sort(xs.begin(), xs.end(), [](const Work& a, const Work& b) {
    if (a.x.user != b.x.user) return a.x.user < b.x.user;
    return a.x.timestamp < b.x.timestamp;
  });

  // 2. sessionization (ids dense over the whole log, increasing per user in time order).
  if (cfg.sessionize) {
    const double gap_seconds = cfg.session_gap_minutes * 60.0;
    int64_t next_session = -1;
    for (size_t i = 0; i < xs.size(); ++i) {
      const bool new_user = i == 0 || xs[i].x.user != xs[i - 1].x.user;
      if (new_user || xs[i].x.timestamp - xs[i - 1].x.timestamp > gap_seconds) ++next_session;
      xs[i].x.session = next_session;
    }
  }

  // Sequence ids.
  SequenceUnit unit = cfg.sequence_unit;
  if (unit == SequenceUnit::kAuto) {
    unit = cfg.sessionize ? SequenceUnit::kSession : ResolveSequenceUnit(in, SequenceUnit::kAuto);
  }
  if (unit == SequenceUnit::kUser) {
    for (auto& w : xs) w.seq = w.x.user;
  } else {
    std::unordered_map<std::pair<UserId, int64_t>, int32_t, PairHash> ids;
    for (auto& w : xs) {
      if (w.x.session < 0) {
        throw Error(fmt::format(
            "dataset '{}': sequence unit is 'session' but interaction {} (user '{}', item '{}') "
            "has no session id; set preprocess.sessionize: true or sequence_unit: user",
            in.name, w.orig, in.users.external_ids[w.x.user], in.items.external_ids[w.x.item]));
      }
      auto [it, inserted] =
          ids.emplace(std::make_pair(w.x.user, w.x.session), static_cast<int32_t>(ids.size()));
      w.seq = it->second;
    }
  }

  // 3. consecutive-repeat removal within each sequence (xs is in time order per user, hence per
  // sequence).
  if (cfg.remove_consecutive_repeats && !xs.empty()) {
    int32_t max_seq = 0;
    for (const auto& w : xs) max_seq = std::max(max_seq, w.seq);
    std::vector<ItemId> last(static_cast<size_t>(max_seq) + 1, -1);
    std::vector<Work> kept;
    kept.reserve(xs.size());
    for (const auto& w : xs) {
      if (last[w.seq] == w.x.item) {
        ++rep.removed_repeats;
        continue;
      }
      last[w.seq] = w.x.item;
      kept.push_back(w);
    }
    xs.swap(kept);
  }

  // 4. item-frequency and sequence-length filters.
  const int64_t sequences_before = CountDistinctSequences(xs);
  const bool item_filter = cfg.min_item_freq > 1;
  const bool seq_filter = cfg.min_seq_len > 1;
  if (item_filter || seq_filter) {
    bool changed = true;
    while (changed && !xs.empty()) {
      changed = false;
      ++rep.rounds;
      if (item_filter) {
        std::vector<int64_t> count(static_cast<size_t>(in.items.size()), 0);
        for (const auto& w : xs) ++count[w.x.item];
        const size_t before = xs.size();
        xs.erase(std::remove_if(xs.begin(), xs.end(),
                                [&](const Work& w) { return count[w.x.item] < cfg.min_item_freq; }),
                 xs.end());
        changed = changed || xs.size() != before;
      }
      if (seq_filter && !xs.empty()) {
        int32_t max_seq = 0;
        for (const auto& w : xs) max_seq = std::max(max_seq, w.seq);
        std::vector<int64_t> count(static_cast<size_t>(max_seq) + 1, 0);
        for (const auto& w : xs) ++count[w.seq];
        const size_t before = xs.size();
        xs.erase(std::remove_if(xs.begin(), xs.end(),
                                [&](const Work& w) { return count[w.seq] < cfg.min_seq_len; }),
                 xs.end());
        changed = changed || xs.size() != before;
      }
      if (!cfg.filter_until_stable) break;
    }
  }
  rep.removed_sequences = sequences_before - CountDistinctSequences(xs);

  // 5. reward mapping.
  for (auto& w : xs) {
    const double v = w.x.value;
    switch (cfg.reward) {
      case RewardMapping::kRaw:
        break;
      case RewardMapping::kBinary:
        w.x.value = v >= cfg.positive_threshold ? 1.0f : 0.0f;
        break;
      case RewardMapping::kCentered:
        w.x.value = static_cast<float>(v - cfg.positive_threshold);
        break;
    }
  }

  // 6. compaction.
  const bool drop_unused = cfg.AnyRemovingFilter();
  std::vector<uint8_t> item_used(static_cast<size_t>(in.items.size()), drop_unused ? 0 : 1);
  std::vector<uint8_t> user_used(static_cast<size_t>(in.users.size()), drop_unused ? 0 : 1);
  for (const auto& w : xs) {
    item_used[w.x.item] = 1;
    user_used[w.x.user] = 1;
  }
  std::vector<int32_t> keep_items, keep_users;
  std::vector<ItemId> item_map(item_used.size(), -1);
  std::vector<UserId> user_map(user_used.size(), -1);
  for (size_t i = 0; i < item_used.size(); ++i) {
    if (!item_used[i]) continue;
    item_map[i] = static_cast<ItemId>(keep_items.size());
    keep_items.push_back(static_cast<int32_t>(i));
  }
  for (size_t i = 0; i < user_used.size(); ++i) {
    if (!user_used[i]) continue;
    user_map[i] = static_cast<UserId>(keep_users.size());
    keep_users.push_back(static_cast<int32_t>(i));
  }

  Dataset out;
  out.name = in.name;
  out.value_kind = in.value_kind;
  out.parts = in.parts;
  const size_t n_items = item_used.size();
  out.items.external_ids =
      SubsetRows(in.items.external_ids, keep_items, n_items, "item external ids", in.name);
  out.items.titles = SubsetRows(in.items.titles, keep_items, n_items, "item titles", in.name);
  out.items.texts = SubsetRows(in.items.texts, keep_items, n_items, "item texts", in.name);
  out.items.categories =
      SubsetRows(in.items.categories, keep_items, n_items, "item categories", in.name);
  out.items.feature_dim = in.items.feature_dim;
  out.items.features = SubsetFeatureRows(in.items.features, in.items.feature_dim, keep_items);
  out.items.feature_names = in.items.feature_names;
  const size_t n_users = user_used.size();
  out.users.external_ids =
      SubsetRows(in.users.external_ids, keep_users, n_users, "user external ids", in.name);
  out.users.feature_dim = in.users.feature_dim;
  out.users.features = SubsetFeatureRows(in.users.features, in.users.feature_dim, keep_users);
  out.users.feature_names = in.users.feature_names;
  out.RebuildIndex();

  out.interactions.reserve(xs.size());
  for (const auto& w : xs) {
    Interaction x = w.x;
    x.item = item_map[x.item];
    x.user = user_map[x.user];
    out.interactions.push_back(x);
  }
  if (cfg.sessionize) {
    // Dense renumbering after filtering; xs is in (user, time) order and sessionized ids increase
    // along it, so a change of id marks a new session.
    int64_t prev = -2, next = -1;
    for (auto& x : out.interactions) {
      if (x.session != prev) {
        prev = x.session;
        ++next;
      }
      x.session = next;
    }
  }

  // 7. exposures: the same item and user maps (dropped with their item or user). With sessionize
  // the log's sessions are replaced by time-gap ones, so an exposure takes the session of its
  // user's last kept interaction at or before it (-1 when there is none).
  out.exposures.reserve(in.exposures.size());
  std::vector<size_t> user_begin(static_cast<size_t>(out.users.size()) + 1, 0);
  for (const auto& x : out.interactions) ++user_begin[static_cast<size_t>(x.user) + 1];
  for (size_t u = 1; u < user_begin.size(); ++u) user_begin[u] += user_begin[u - 1];
  for (const auto& e : in.exposures) {
    Exposure y = e;
    y.item = item_map[e.item];
    y.user = user_map[e.user];
    if (y.item < 0 || y.user < 0) continue;
    if (cfg.sessionize) {
      const auto b = out.interactions.begin() + static_cast<std::ptrdiff_t>(user_begin[y.user]);
      const auto f = out.interactions.begin() + static_cast<std::ptrdiff_t>(user_begin[y.user + 1]);
      const auto it = std::upper_bound(
          b, f, y.timestamp, [](double t, const Interaction& x) { return t < x.timestamp; });
      y.session = it == b ? -1 : std::prev(it)->session;
    }
    out.exposures.push_back(y);
  }

  rep.output_interactions = static_cast<int64_t>(out.interactions.size());
  rep.removed_items = static_cast<int64_t>(in.items.size()) - out.items.size();
  {
    std::unordered_map<std::pair<UserId, int64_t>, int32_t, PairHash> sessions;
    for (const auto& x : out.interactions) {
      if (x.session >= 0) sessions.emplace(std::make_pair(x.user, x.session), 0);
    }
    rep.sessions = static_cast<int64_t>(sessions.size());
  }
  out.CheckConsistency();
  if (report) *report = rep;
  return out;
}

ItemStats ComputeItemStats(const Dataset& ds, double top_share) {
  if (!(top_share >= 0.0 && top_share <= 1.0)) {
    throw Error(fmt::format("ComputeItemStats: top_share must be in [0, 1], got {}", top_share));
  }
  const size_t n = static_cast<size_t>(ds.items.size());
  ItemStats st;
  st.counts.assign(n, 0);
  for (const auto& x : ds.interactions) {
    if (x.item < 0 || static_cast<size_t>(x.item) >= n) {
      throw Error(fmt::format("dataset '{}': interaction refers to item {} out of range ({} items)",
                              ds.name, x.item, n));
    }
    ++st.counts[x.item];
  }
  std::vector<ItemId> active;
  for (size_t i = 0; i < n; ++i) {
    if (st.counts[i] > 0) active.push_back(static_cast<ItemId>(i));
  }
  // Ties by smaller id: stable sort of the ascending id list by count, descending.
  std::stable_sort(active.begin(), active.end(),
                   [&](ItemId a, ItemId b) { return st.counts[a] > st.counts[b]; });
  const auto head = std::min(
      active.size(), static_cast<size_t>(std::max(
                         0.0, std::ceil(top_share * static_cast<double>(active.size()) - 1e-9))));
  st.long_tail.assign(n, 1);
  for (size_t i = 0; i < head; ++i) st.long_tail[active[i]] = 0;
  int64_t tail_interactions = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!st.long_tail[i]) continue;
    ++st.num_long_tail;
    tail_interactions += st.counts[i];
  }
  st.long_tail_interaction_share =
      ds.interactions.empty()
          ? 0.0
          : static_cast<double>(tail_interactions) / static_cast<double>(ds.interactions.size());
  return st;
}

}  // namespace recarena::data
