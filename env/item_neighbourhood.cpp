#include "env/item_neighbourhood.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "env/response_training.h"

namespace recarena::env {
namespace {

// [B, L] bool: a real item not seen earlier in its row (a repeated history item counts once).
torch::Tensor DistinctReal(const torch::Tensor& items, int64_t num_items) {
  const int64_t L = items.size(1);
  const auto earlier =
      torch::ones({L, L}, torch::TensorOptions().dtype(torch::kBool).device(items.device()))
          .tril(-1);  // [l, l'] = l' < l
  const auto dup = (items.unsqueeze(2) == items.unsqueeze(1)).logical_and(earlier).any(2);
  return items.ge(0).logical_and(items.lt(num_items)).logical_and(dup.logical_not());
}

}  // namespace

CoOccurrence BuildCoOccurrence(const std::vector<data::Sequence>& seqs, int64_t num_items,
                               int64_t window) {
  if (window < 1)
    throw Error("item co-occurrence: window must be >= 1, got " + std::to_string(window));
  if (num_items < 1) throw Error("item co-occurrence: needs at least one item");
  std::unordered_map<int64_t, float> pairs;  // j * num_items + a -> c(j, a)
  for (const auto& s : seqs) {
    for (size_t t = 0; t < s.items.size(); ++t) {
      const int64_t a = s.items[t];
      if (a < 0 || a >= num_items) {
        throw Error("item co-occurrence: item " + std::to_string(a) + " of user " +
                    std::to_string(s.user) + " is outside [0, " + std::to_string(num_items) + ")");
      }
      std::set<int64_t> before;
      for (size_t j = t >= static_cast<size_t>(window) ? t - static_cast<size_t>(window) : 0; j < t;
           ++j) {
        before.insert(s.items[j]);
      }
      for (int64_t j : before) pairs[j * num_items + a] += 1.0f;
    }
  }
  const auto counts = ItemCounts(seqs, num_items);
  std::vector<std::pair<int64_t, float>> sorted(pairs.begin(), pairs.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> keys;
  std::vector<float> values;
  keys.reserve(sorted.size());
  values.reserve(sorted.size());
  for (const auto& [key, c] : sorted) {
    const auto j = static_cast<size_t>(key / num_items), a = static_cast<size_t>(key % num_items);
    keys.push_back(key);
    values.push_back(static_cast<float>(
        c / std::sqrt(static_cast<double>(counts[j]) * static_cast<double>(counts[a]))));
  }
  return {torch::tensor(keys, torch::kInt64), torch::tensor(values, torch::kFloat), num_items};
}

void CheckCoOccurrence(const CoOccurrence& c) {
  if (c.num_items < 1) throw Error("item co-occurrence: needs at least one item");
  if (!c.keys.defined() || !c.values.defined() || c.keys.dim() != 1 ||
      c.keys.sizes() != c.values.sizes() || c.keys.scalar_type() != torch::kInt64 ||
      c.values.scalar_type() != torch::kFloat) {
    throw Error("item co-occurrence: keys must be [nnz] int64 and values [nnz] float");
  }
  const auto k = c.keys.cpu();
  if (k.numel() == 0) return;
  if (k.min().item<int64_t>() < 0 || k.max().item<int64_t>() >= c.num_items * c.num_items) {
    throw Error("item co-occurrence: a key lies outside [0, " +
                std::to_string(c.num_items * c.num_items) + ")");
  }
  if (k.numel() > 1 && !(k.slice(0, 1) > k.slice(0, 0, -1)).all().item<bool>()) {
    throw Error("item co-occurrence: keys are not strictly increasing");
  }
  if (!(c.values.cpu() > 0).all().item<bool>() ||
      !torch::isfinite(c.values.cpu()).all().item<bool>()) {
    throw Error("item co-occurrence: a similarity is not a finite positive number");
  }
}

torch::Tensor NeighbourhoodScore(const CoOccurrence& c, const torch::Tensor& items,
                                 const torch::Tensor& actions) {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(items.device());
  const int64_t nnz = c.keys.numel();
  if (nnz == 0) return torch::zeros({items.size(0)}, opts);
  const auto use = DistinctReal(items, c.num_items);
  const auto query = items.clamp(0, c.num_items - 1) * c.num_items + actions.unsqueeze(1);
  const auto at = torch::searchsorted(c.keys, query).clamp_max(nnz - 1);  // [B, L]
  const auto hit = c.keys.index({at}).eq(query).logical_and(use);
  return torch::where(hit, c.values.index({at}), torch::zeros({}, opts)).sum(1);
}

torch::Tensor NeighbourhoodScoreAll(const CoOccurrence& c, const torch::Tensor& items) {
  const int64_t B = items.size(0), N = c.num_items;
  auto out =
      torch::zeros({B, N}, torch::TensorOptions().dtype(torch::kFloat).device(items.device()));
  if (c.keys.numel() == 0) return out;
  // Row j of S is the key range [j N, (j + 1) N): gather every used history item's row and add it
  // to its batch row.
  const auto use = DistinctReal(items, N).flatten();
  const auto j = items.flatten().index({use});  // [U]
  const auto row = torch::arange(B, items.options()).repeat_interleave(items.size(1)).index({use});
  const auto lo = torch::searchsorted(c.keys, j * N);
  const auto len = torch::searchsorted(c.keys, (j + 1) * N) - lo;  // [U]
  const auto total = len.sum().item<int64_t>();
  if (total == 0) return out;
  const auto start = len.cumsum(0) - len;
  const auto offset = torch::arange(total, items.options()) - start.repeat_interleave(len);
  const auto at = lo.repeat_interleave(len) + offset;  // [total]
  out.index_put_({row.repeat_interleave(len), c.keys.index({at}).remainder(N)},
                 c.values.index({at}), /*accumulate=*/true);
  return out;
}

std::vector<float> OutOfFoldScores(const std::vector<data::Sequence>& seqs, int64_t num_items,
                                   int64_t window, int64_t folds, const torch::Tensor& items,
                                   const torch::Tensor& users, const torch::Tensor& actions) {
  if (folds < 2) throw Error("item co-occurrence: out-of-fold scores need >= 2 folds");
  auto out = torch::zeros({actions.size(0)}, torch::kFloat);
  const auto fold_of_row = users.remainder(folds);
  for (int64_t k = 0; k < folds; ++k) {
    std::vector<data::Sequence> rest;
    for (const auto& s : seqs) {
      if (static_cast<int64_t>(s.user) % folds != k) rest.push_back(s);
    }
    const auto rows = fold_of_row.eq(k).nonzero().squeeze(1);
    if (rows.numel() == 0) continue;
    const auto c = BuildCoOccurrence(rest, num_items, window);
    out.index_put_(
        {rows}, NeighbourhoodScore(c, items.index_select(0, rows), actions.index_select(0, rows)));
  }
  return {out.data_ptr<float>(), out.data_ptr<float>() + out.numel()};
}

}  // namespace recarena::env
