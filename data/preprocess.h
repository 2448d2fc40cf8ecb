// Preprocessing of an interaction log: keep filter, sessionization, consecutive-repeat removal,
// item-frequency / sequence-length filters (optionally k-core style), reward mapping and dense id
// compaction; plus item popularity / long-tail statistics.
//
// Pipeline of Preprocess(), in this order:
//   1. keep filter      keep=positive drops interactions with value < positive_threshold.
//   2. sessionization   sessionize=true overwrites Interaction::session: per user, in time order, a
//                       new session starts at the user's first interaction and whenever the gap to
//                       the previous interaction is STRICTLY greater than session_gap_minutes
//                       (a gap of exactly session_gap_minutes stays in the same session).
//   3. repeat removal   remove_consecutive_repeats=true drops an interaction whose item equals the
//                       item of the previous interaction of the same sequence (a,a,b -> a,b).
//                       Repeats that only become adjacent after the filters of step 4 are kept.
//   4. filters          items with fewer than min_item_freq interactions are dropped, then
//                       sequences with fewer than min_seq_len interactions are dropped; with
//                       filter_until_stable both are repeated until a pass removes nothing.
//   5. reward mapping   raw: value; binary: 1 if value >= positive_threshold else 0;
//                       centered: value - positive_threshold. Dataset::value_kind is unchanged.
//   6. compaction       see "Compaction rule" below.
//
// A "sequence" is a user (unit=user) or a (user, session) pair (unit=session); unit=auto resolves
// to session when sessionize is on or any input interaction has session >= 0, else user
// (ResolveSequenceUnit). With unit=session every interaction must carry a session id (else Error).
//
// Compaction rule: surviving items and users are renumbered 0..n-1 preserving their previous
// relative order, and the catalog / user table rows (external ids, titles, texts, categories,
// feature rows) are subset accordingly. Catalog items and users WITHOUT interactions in the output
// are kept when no removing filter is active (keep=all, min_item_freq<=1, min_seq_len<=1: ids are
// then unchanged, so e.g. ml-latest-small keeps its 9,742-movie catalog), and dropped when any of
// those filters is active (the output then only has items and users that occur in the log).
//
// Output interactions are sorted by (user, timestamp, original input order). When sessionize is on,
// the output session ids are renumbered densely 0..S-1 in (user, time) order after filtering;
// pre-existing session ids (sessionize=false) are left as they are.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "data/dataset.h"

namespace recarena::data {

enum class SequenceUnit { kAuto, kUser, kSession };
enum class RewardMapping { kRaw, kBinary, kCentered };
enum class KeepInteractions { kAll, kPositive };

struct PreprocessConfig {
  int min_item_freq = 1;             // drop items with fewer interactions (1 = keep all)
  int min_seq_len = 1;               // drop sequences (users or sessions) shorter than this
  bool filter_until_stable = false;  // repeat both filters until nothing changes (k-core style)
  bool remove_consecutive_repeats = false;  // a,a,b -> a,b within a sequence
  bool sessionize = false;                  // split each user's log at inactivity gaps
  double session_gap_minutes = 60.0;        // gap > this starts a new session
  SequenceUnit sequence_unit = SequenceUnit::kAuto;
  double positive_threshold = 0.0;  // value >= threshold is a positive (e.g. 4.0 for 1-5 ratings)
  KeepInteractions keep = KeepInteractions::kAll;
  RewardMapping reward = RewardMapping::kRaw;
  double long_tail_top_share = 0.1;  // items outside the top share by frequency are long-tail

  template <class V>
  void Visit(V& v) {
    v("min_item_freq", min_item_freq);
    v("min_seq_len", min_seq_len);
    v("filter_until_stable", filter_until_stable);
    v("remove_consecutive_repeats", remove_consecutive_repeats);
    v("sessionize", sessionize);
    v("session_gap_minutes", session_gap_minutes);
    v("sequence_unit", sequence_unit);
    v("positive_threshold", positive_threshold);
    v("keep", keep);
    v("reward", reward);
    v("long_tail_top_share", long_tail_top_share);
  }
  // Throws ConfigError with key paths "preprocess.<key>".
  void Validate() const;
  // Same, with key paths "<path>.<key>" (for configs that nest this section elsewhere).
  void Validate(const std::string& path) const;
  // True when a filter that removes interactions is active (keep=positive, min_item_freq > 1 or
  // min_seq_len > 1): compaction then drops items / users without interactions.
  bool AnyRemovingFilter() const;
};

struct PreprocessReport {
  int64_t input_interactions = 0;
  int64_t output_interactions = 0;
  int64_t removed_items = 0;      // catalog rows dropped by compaction (input size - output size)
  int64_t removed_sequences = 0;  // sequences present before step 4 with no interaction after it
  int64_t removed_repeats = 0;    // interactions dropped by consecutive-repeat removal
  int64_t rounds = 0;             // filter passes run in step 4 (0 when neither filter is active)
  int64_t sessions = 0;           // distinct (user, session >= 0) pairs in the output
};

// unit, with kAuto resolved against ds: kSession when any interaction has session >= 0, else kUser.
SequenceUnit ResolveSequenceUnit(const Dataset& ds, SequenceUnit unit);

// Applies the pipeline above. report may be null. Throws ConfigError for an invalid cfg and
// recarena::Error for an inconsistent dataset or missing session ids with unit=session.
Dataset Preprocess(const Dataset& in, const PreprocessConfig& cfg, PreprocessReport* report);

struct ItemStats {
  std::vector<int64_t> counts;     // [num catalog items] interactions per item
  std::vector<uint8_t> long_tail;  // [num catalog items] 1 = long-tail (not in the head)
  int64_t num_long_tail = 0;
  double long_tail_interaction_share = 0.0;  // interactions on long-tail items / all (0 if none)
};

// Popularity over ds.interactions. The head is the ceil(top_share * K) most frequent items, where K
// is the number of items with at least one interaction (the product is taken with a 1e-9 tolerance
// so that 0.1 * 30 gives 3, not 4); ties in count are broken by smaller item id first. Every other
// catalog item, including those never interacted with, is long-tail. top_share in [0, 1].
ItemStats ComputeItemStats(const Dataset& ds, double top_share);

}  // namespace recarena::data

namespace recarena::config {
template <>
struct EnumNames<data::SequenceUnit> {
  static const std::vector<std::pair<data::SequenceUnit, std::string>>& Table() {
    static const std::vector<std::pair<data::SequenceUnit, std::string>> t = {
        {data::SequenceUnit::kAuto, "auto"},
        {data::SequenceUnit::kUser, "user"},
        {data::SequenceUnit::kSession, "session"}};
    return t;
  }
};
template <>
struct EnumNames<data::RewardMapping> {
  static const std::vector<std::pair<data::RewardMapping, std::string>>& Table() {
    static const std::vector<std::pair<data::RewardMapping, std::string>> t = {
        {data::RewardMapping::kRaw, "raw"},
        {data::RewardMapping::kBinary, "binary"},
        {data::RewardMapping::kCentered, "centered"}};
    return t;
  }
};
template <>
struct EnumNames<data::KeepInteractions> {
  static const std::vector<std::pair<data::KeepInteractions, std::string>>& Table() {
    static const std::vector<std::pair<data::KeepInteractions, std::string>> t = {
        {data::KeepInteractions::kAll, "all"}, {data::KeepInteractions::kPositive, "positive"}};
    return t;
  }
};
}  // namespace recarena::config
