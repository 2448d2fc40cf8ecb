#include "data/stats.h"

#include <algorithm>
#include <unordered_set>

#include "core/config_schema.h"

namespace recarena::data {

DatasetStats ComputeStats(const PreparedDataset& p) {
  const Dataset& ds = p.dataset;
  DatasetStats s;
  s.name = ds.name;
  s.users = ds.users.size();
  s.items = ds.items.size();
  s.interactions = static_cast<int64_t>(ds.interactions.size());
  s.exposures = static_cast<int64_t>(ds.exposures.size());
  const auto by_part = CountByPart(ds);
  for (size_t i = 0; i < ds.parts.size(); ++i) s.interactions_by_part[ds.parts[i]] = by_part[i];

  std::vector<uint8_t> seen(static_cast<size_t>(s.items), 0);
  std::unordered_set<uint64_t> pairs;
  pairs.reserve(ds.interactions.size() * 2);
  for (const auto& x : ds.interactions) {
    seen[x.item] = 1;
    pairs.insert((static_cast<uint64_t>(x.user) << 32) | static_cast<uint32_t>(x.item));
  }
  s.items_with_interactions = std::count(seen.begin(), seen.end(), 1);
  const double cells = static_cast<double>(s.users) * static_cast<double>(s.items);
  s.sparsity = cells > 0 ? 1.0 - static_cast<double>(pairs.size()) / cells : 0.0;

  s.sequence_unit = config::EnumToString(p.unit);
  const auto seqs = BuildSequences(ds, p.unit);
  s.sequences = static_cast<int64_t>(seqs.size());
  std::vector<int64_t> lens;
  lens.reserve(seqs.size());
  for (const auto& q : seqs) lens.push_back(static_cast<int64_t>(q.items.size()));
  if (!lens.empty()) {
    std::sort(lens.begin(), lens.end());
    double total = 0;
    for (auto l : lens) total += static_cast<double>(l);
    s.mean_sequence_length = total / lens.size();
    const size_t n = lens.size();
    s.median_sequence_length = n % 2 ? lens[n / 2] : 0.5 * (lens[n / 2 - 1] + lens[n / 2]);
    s.min_sequence_length = lens.front();
    s.max_sequence_length = lens.back();
  }
  s.train_sequences = static_cast<int64_t>(p.split.train.size());
  s.valid_sequences = static_cast<int64_t>(p.split.valid.size());
  s.test_sequences = static_cast<int64_t>(p.split.test.size());
  s.long_tail_items = p.item_stats.num_long_tail;
  s.long_tail_share = p.item_stats.long_tail_interaction_share;
  return s;
}

nlohmann::json StatsToJson(const DatasetStats& s) {
  nlohmann::json j;
  j["name"] = s.name;
  j["users"] = s.users;
  j["items"] = s.items;
  j["items_with_interactions"] = s.items_with_interactions;
  j["interactions"] = s.interactions;
  j["interactions_by_part"] = s.interactions_by_part;
  j["exposures"] = s.exposures;
  j["sequence_unit"] = s.sequence_unit;
  j["sequences"] = s.sequences;
  j["mean_sequence_length"] = s.mean_sequence_length;
  j["median_sequence_length"] = s.median_sequence_length;
  j["min_sequence_length"] = s.min_sequence_length;
  j["max_sequence_length"] = s.max_sequence_length;
  j["split_sequences"] = {
      {"train", s.train_sequences}, {"valid", s.valid_sequences}, {"test", s.test_sequences}};
  j["sparsity"] = s.sparsity;
  j["long_tail_items"] = s.long_tail_items;
  j["long_tail_share"] = s.long_tail_share;
  return j;
}

}  // namespace recarena::data
