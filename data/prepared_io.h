// On-disk format of a prepared dataset directory (written by `recarena data prepare`, read by
// `data stats`, training and simulator commands). Every file is written atomically.
//
//   dataset.json        format_version, name, value_kind, counts, parts, unit, padding_id, reports
//   items.tsv           id, external_id, count, long_tail, title, categories ('|'-joined), text
//   users.tsv           id, external_id
//   item_features.tsv   header of feature names, then one row per item (only when the dataset has
//   them) user_features.tsv   likewise for users interactions.tsv    user, item, timestamp, value,
//   session, part train.tsv valid.tsv test.tsv
//                       user, session, target_from, items (space-separated), timestamps, values
//   exposures.tsv       user, item, timestamp, session, part of Dataset::exposures (only when the
//                       log records them)
//   ground_truth.json   the synthetic world's ground truth (synthetic only)
//   perturbation.tsv    the rows data.perturb changed in train.tsv (only when perturbed)
//   config.yaml         the fully resolved config that produced the directory
//
// Text fields escape '\\', '\t', '\n' and '\r' as \\ \t \n \r. Timestamps are written with full
// precision (%.17g), so a prepared directory reloads bit-identically.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/prepare.h"

namespace recarena::data {

inline constexpr int kPreparedFormatVersion = 1;

void SavePrepared(const std::filesystem::path& dir, const PreparedDataset& prepared);

// Throws FileError (file, line, value) on a missing or malformed file, or a version mismatch.
PreparedDataset LoadPrepared(const std::filesystem::path& dir);

// items.tsv of a prepared directory alone (no interactions): rows aligned with the dense item ids.
// Other tools' files name items by external id; this maps them (`eval rankings --dataset`).
struct PreparedItems {
  std::vector<std::string> external_ids, titles, texts;
  std::vector<std::vector<std::string>> categories;
  std::vector<int64_t> counts;     // interactions per item (the prepared log, all parts)
  std::vector<uint8_t> long_tail;  // 1 = long-tail item
};
// Throws FileError (file, line, value) on a missing or malformed items.tsv.
PreparedItems LoadPreparedItems(const std::filesystem::path& dir);

std::string EscapeField(std::string_view s);
std::string UnescapeField(std::string_view s);

}  // namespace recarena::data
