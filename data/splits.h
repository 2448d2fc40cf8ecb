// Train / validation / test splits of interaction sequences.
//
// Kinds (SplitConfig::kind; YAML names in brackets):
//
//  random [random]  The sequences are shuffled with rng and cut by shares with cumulative
//      rounding: with n sequences, cut1 = R(train * n), cut2 = R((train + valid) * n), where
//      R(x) = floor(x + 0.5 + 1e-9) (round half up, tolerant to float error) clamped to [0, n];
//      shuffled positions [0, cut1) -> train, [cut1, cut2) -> valid, [cut2, n) -> test. So n = 10
//      with 0.8/0.1/0.1 gives 8/1/1, and n = 5 with 0.5/0.25/0.25 gives 3/1/1 (cuts 2.5 -> 3,
//      3.75 -> 4). Each part keeps the sequences in their input order. Sequences are disjoint.
//
//  leave_one_out [leave_one_out]  Per sequence of length L >= 3: train = the first L-2 items
//      (target_from = the input's target_from), valid = the first L-1 items with target_from = L-2
//      (its last item is the one target), test = the full sequence with target_from = L-1 (its last
//      item is the one target). Sequences with L < 3 go to train only, unchanged. Every valid or
//      test target is a position that is not a train target of the same sequence.
//
//  last_session [last_session]  Needs sequences by session (every session >= 0, else Error). Per
//      user, sessions ordered by (first timestamp, session): with k >= 3 sessions the last is test,
//      the second-last valid and the rest train; with k = 2 the last is test and the first train;
//      with k = 1 the session is train. Test / valid sequences hold only the items of that session
//      (the user's earlier sessions are NOT prepended, as in HDT-style session evaluation), with
//      the input's target_from. Sessions are disjoint across parts.
//
//  temporal [temporal]  Per sequence (meant for user sequences) of length L: cut =
//      clamp(ceil(temporal_train_share * L - 1e-9), 1, L); train = the first cut items; when cut <
//      L, test = the full sequence with target_from = max(cut, input target_from) (the history is
//      the train part, the targets the last L - cut items). valid is empty.
//
//  user [user]  The distinct users of the sequences (ascending id) are shuffled with rng; the first
//      R(user_train_share * U) users (R as for random) go to train with all their sequences, the
//      rest to test. valid is empty. Users are disjoint.
//
//  predefined [predefined]  By Dataset part names: train = BuildSequences over the part named
//      train_part, valid over valid_part (empty name = no valid), test over test_part. The unit is
//      session if any input sequence has session >= 0, else user (auto when seqs is empty); seqs is
//      otherwise ignored. An unknown part name throws ConfigError listing the dataset's parts.
//
// Only random and user draw from rng; every kind is deterministic given the rng state.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/sequences.h"

namespace recarena::data {

enum class SplitKind {
  kRandomBySequence,
  kLeaveOneOut,
  kLastSession,
  kTemporal,
  kUser,
  kPredefined
};

struct SplitConfig {
  SplitKind kind = SplitKind::kRandomBySequence;
  double train = 0.8, valid = 0.1, test = 0.1;  // random: shares of sequences
  double temporal_train_share = 0.9;            // temporal: first 90% of each user's items train
  double user_train_share = 0.8;                // user: 80/20 user-level split (simulators)
  std::string train_part = "train", valid_part = "", test_part = "test";  // predefined

  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("train", train);
    v("valid", valid);
    v("test", test);
    v("temporal_train_share", temporal_train_share);
    v("user_train_share", user_train_share);
    v("train_part", train_part);
    v("valid_part", valid_part);
    v("test_part", test_part);
  }
  // Throws ConfigError with key paths "split.<key>".
  void Validate() const;
  // Same, with key paths "<path>.<key>".
  void Validate(const std::string& path) const;
};

struct SequenceSplit {
  std::vector<Sequence> train, valid, test;
};

// See the kinds above. ds is used by predefined only (part names, sequences).
SequenceSplit SplitSequences(const Dataset& ds, const std::vector<Sequence>& seqs,
                             const SplitConfig& cfg, Rng& rng);

}  // namespace recarena::data

namespace recarena::config {
template <>
struct EnumNames<data::SplitKind> {
  static const std::vector<std::pair<data::SplitKind, std::string>>& Table() {
    static const std::vector<std::pair<data::SplitKind, std::string>> t = {
        {data::SplitKind::kRandomBySequence, "random"},
        {data::SplitKind::kLeaveOneOut, "leave_one_out"},
        {data::SplitKind::kLastSession, "last_session"},
        {data::SplitKind::kTemporal, "temporal"},
        {data::SplitKind::kUser, "user"},
        {data::SplitKind::kPredefined, "predefined"}};
    return t;
  }
};
}  // namespace recarena::config
