// Core data types of recarena: an interaction log with its item catalog and user table.
//
// Ids: loaders assign dense ids 0..n-1 to users and items (catalog order where a catalog exists,
// first appearance otherwise) and keep the external ids. The padding id for item sequences is
// num_items (one past the last item), so scores over the catalog index items directly and embedding
// tables have num_items + 1 rows (see data/windows.h).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace recarena::data {

using ItemId = int32_t;
using UserId = int32_t;

// What Interaction::value means for a dataset.
enum class ValueKind { kRating, kClick, kCount, kImplicit };

struct Interaction {
  UserId user = 0;
  ItemId item = 0;
  double timestamp = 0.0;  // seconds since the epoch, or an ordinal position when a log has no time
  float value = 1.0f;      // rating, click (1), play count, ... (see Dataset::value_kind)
  int64_t session = -1;    // session id when known or sessionized; -1 otherwise
  uint8_t part = 0;  // index into Dataset::parts (predefined partitions, e.g. coat train/test)
};

// An item the logging policy showed that the user did not pick, in logs that record impressions
// (the synthetic world with data.synthetic.log_exposures). Stamped with the time of the step that
// showed it, so the clicks before it are those with a smaller timestamp.
struct Exposure {
  UserId user = 0;
  ItemId item = 0;
  double timestamp = 0.0;
  int64_t session = -1;  // the session of its step; -1 when the step's session has no click
  uint8_t part = 0;
};

// Items with their external ids and attributes. Row i describes dense item i.
struct ItemCatalog {
  std::vector<std::string> external_ids;
  std::vector<std::string> titles;                   // may be empty strings; UTF-8
  std::vector<std::string> texts;                    // extra text (description, brand, ...)
  std::vector<std::vector<std::string>> categories;  // genres, tags, jacket type, ...
  // Optional dense features, row-major [size() x feature_dim] (e.g. coat's one-hot attributes).
  int32_t feature_dim = 0;
  std::vector<float> features;
  std::vector<std::string> feature_names;

  int32_t size() const { return static_cast<int32_t>(external_ids.size()); }
  // Appends an item (title etc. empty) and returns its dense id; an existing external id returns
  // its id.
  ItemId Intern(const std::string& external_id);
  // Dense id of an external id, or -1.
  ItemId Find(const std::string& external_id) const;
  // Resizes titles/texts/categories to size() (called by loaders after interning).
  void Normalize();

 private:
  std::unordered_map<std::string, ItemId> index_;
  friend struct Dataset;
};

struct UserTable {
  std::vector<std::string> external_ids;
  int32_t feature_dim = 0;
  std::vector<float> features;  // row-major [size() x feature_dim], optional
  std::vector<std::string> feature_names;

  int32_t size() const { return static_cast<int32_t>(external_ids.size()); }
  UserId Intern(const std::string& external_id);
  UserId Find(const std::string& external_id) const;

 private:
  std::unordered_map<std::string, UserId> index_;
  friend struct Dataset;
};

struct Dataset {
  std::string name;
  ValueKind value_kind = ValueKind::kImplicit;
  ItemCatalog items;
  UserTable users;
  std::vector<Interaction> interactions;
  // Shown-but-not-picked items, when the log records them (empty otherwise); not part of
  // interactions, so every consumer of the log sees the same clicks with or without them.
  std::vector<Exposure> exposures;
  // Predefined partitions of the log (Interaction::part indexes this). Default: one part "all".
  std::vector<std::string> parts{"all"};

  // Rebuilds the external-id lookup tables (after the vectors were assigned directly).
  void RebuildIndex();
  // Throws recarena::Error if any interaction or exposure refers to a user/item/part out of range.
  void CheckConsistency() const;
};

// Number of interactions per part (same order as Dataset::parts).
std::vector<int64_t> CountByPart(const Dataset& ds);

}  // namespace recarena::data
