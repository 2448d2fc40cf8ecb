// Summary statistics of a prepared dataset (`recarena data stats DIR`). Definitions:
//   users, items           sizes of the user table and the item catalog (catalog items without
//                          interactions count: ml-latest-small has 9,742 movies, 9,724 rated)
//   items_with_interactions distinct items in the log
//   interactions           rows of the log; interactions_by_part per predefined part
//   sequences              sequences of the resolved unit (user or session) over the whole log;
//                          mean/median length over those (median of an even count = mean of the two
//                          middle values)
//   split_sequences        train/valid/test sequence counts of the split
//   sparsity               1 - distinct (user, item) pairs / (users * items)
//   long_tail_items        catalog items outside the top share by frequency (see ComputeItemStats)
//   long_tail_share        share of interactions whose item is long-tail
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "data/prepare.h"

namespace recarena::data {

struct DatasetStats {
  std::string name;
  int64_t users = 0, items = 0, items_with_interactions = 0, interactions = 0;
  int64_t exposures = 0;  // shown and not picked (Dataset::exposures; 0 when not recorded)
  std::map<std::string, int64_t> interactions_by_part;
  std::string sequence_unit;
  int64_t sequences = 0;
  double mean_sequence_length = 0.0, median_sequence_length = 0.0;
  int64_t min_sequence_length = 0, max_sequence_length = 0;
  int64_t train_sequences = 0, valid_sequences = 0, test_sequences = 0;
  double sparsity = 0.0;
  int64_t long_tail_items = 0;
  double long_tail_share = 0.0;
};

DatasetStats ComputeStats(const PreparedDataset& prepared);
nlohmann::json StatsToJson(const DatasetStats& stats);

}  // namespace recarena::data
