// Perturbations of training data (issue 18; CASPER, Oh et al. CIKM 2022, and FINEST Sec. 3): how
// much do a model's recommendations change when a tiny share of its training data changes? A
// `perturb:` section under `data:` perturbs the training sequences of the split (SequenceSplit::
// train) after the split; validation and test sequences, and so the inputs and targets every
// model is compared on, stay as they are. docs/stability.md describes the choices.
//
//   kind       deletion | insertion (an item inserted just before the chosen interaction, at
//              time t - 1) | replacement (the chosen interaction's item replaced)
//   with       the inserted / replacing item: least_popular (fewest training interactions, ties
//              by smaller id) or random (uniform over the catalog, never the item it replaces)
//   select     random | earliest_random (among each training sequence's first interaction) |
//              latest_random (among each one's last) | casper (the roots of the interaction
//              graph that reach the most later interactions, below)
//   ratio      share of the training interactions perturbed: round(ratio * N), at least 1, and
//              at most the candidates there are (earliest_random / latest_random: one per
//              sequence; deletions: those that leave every sequence 2 items)
//
// CASPER's interaction graph: the nodes are the training interactions in the last `casper_window`
// positions of each training sequence; an edge runs from an interaction to the next one of the
// same sequence and to the next one (by time, then sequence, then position) of the same item. A
// root has no incoming edge; roots are ranked by the number of nodes they reach (themselves
// included), ties by sequence then position, and the first n are perturbed. When n exceeds the
// number of roots, the rest are drawn at random from the other nodes.
//
// A deletion never leaves a training sequence with fewer than 2 items: a candidate that would is
// skipped (the next one is taken), so a sequence keeps a target.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/sequences.h"

namespace recarena::data {

enum class PerturbKind { kNone, kDeletion, kInsertion, kReplacement };
enum class PerturbSelect { kRandom, kEarliestRandom, kLatestRandom, kCasper };
enum class PerturbItem { kLeastPopular, kRandom };

struct PerturbConfig {
  PerturbKind kind = PerturbKind::kNone;  // none: the data are not perturbed
  PerturbSelect select = PerturbSelect::kRandom;
  double ratio = 0.001;  // FINEST's 0.1% of the training interactions
  PerturbItem with = PerturbItem::kLeastPopular;
  int64_t casper_window = 50;  // CASPER's max_seq_len
  // 0: the perturbation draws from the run seed's stream 7 (Rng(run.seed).Fork(7)); otherwise
  // from Rng(seed), so one run seed (one set of initial weights) meets several perturbations.
  uint64_t seed = 0;

  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("select", select);
    v("ratio", ratio);
    v("with", with);
    v("casper_window", casper_window);
    v("seed", seed);
  }
  void Validate() const;  // ConfigError("data.perturb.<key>", ...)
};

// One perturbed training interaction, at its position before any change.
struct PerturbedRow {
  int64_t sequence = 0;  // index into the training sequences
  int32_t position = 0;  // position in that sequence
  ItemId item = 0;       // the interaction's item
  ItemId new_item = -1;  // inserted / replacing item; -1 for a deletion
};

// The CASPER selection alone: the n (sequence, position) pairs ranked as above (no randomness
// when the roots suffice; rng draws the rest).
std::vector<std::pair<int64_t, int32_t>> CasperSelect(const std::vector<Sequence>& train, int64_t n,
                                                      int64_t window, Rng& rng);

// The least-popular item of the sequences: fewest occurrences among the items that occur, ties by
// smaller id (the item FINEST and CASPER insert). Error when the sequences hold no item.
ItemId LeastPopularItem(const std::vector<Sequence>& seqs, int32_t num_items);

// Applies cfg to train (num_items: the catalog size) and returns the rows perturbed, ordered by
// (sequence, position). Deterministic for rng's state.
std::vector<PerturbedRow> Perturb(std::vector<Sequence>* train, int32_t num_items,
                                  const PerturbConfig& cfg, Rng& rng);

}  // namespace recarena::data

namespace recarena::config {
template <>
struct EnumNames<data::PerturbKind> {
  static const std::vector<std::pair<data::PerturbKind, std::string>>& Table() {
    static const std::vector<std::pair<data::PerturbKind, std::string>> t = {
        {data::PerturbKind::kNone, "none"},
        {data::PerturbKind::kDeletion, "deletion"},
        {data::PerturbKind::kInsertion, "insertion"},
        {data::PerturbKind::kReplacement, "replacement"}};
    return t;
  }
};
template <>
struct EnumNames<data::PerturbSelect> {
  static const std::vector<std::pair<data::PerturbSelect, std::string>>& Table() {
    static const std::vector<std::pair<data::PerturbSelect, std::string>> t = {
        {data::PerturbSelect::kRandom, "random"},
        {data::PerturbSelect::kEarliestRandom, "earliest_random"},
        {data::PerturbSelect::kLatestRandom, "latest_random"},
        {data::PerturbSelect::kCasper, "casper"}};
    return t;
  }
};
template <>
struct EnumNames<data::PerturbItem> {
  static const std::vector<std::pair<data::PerturbItem, std::string>>& Table() {
    static const std::vector<std::pair<data::PerturbItem, std::string>> t = {
        {data::PerturbItem::kLeastPopular, "least_popular"},
        {data::PerturbItem::kRandom, "random"}};
    return t;
  }
};
}  // namespace recarena::config
