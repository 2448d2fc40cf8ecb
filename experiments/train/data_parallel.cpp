#include "experiments/train/data_parallel.h"

#include <torch/torch.h>

#include "core/error.h"
#include "core/rng.h"

namespace recarena::experiments {

std::vector<int64_t> ShardRows(const std::vector<int64_t>& rows, int rank, int size) {
  const auto n = static_cast<int64_t>(rows.size());
  return std::vector<int64_t>(rows.begin() + n * rank / size, rows.begin() + n * (rank + 1) / size);
}

void ReseedForRank(uint64_t seed, int rank, int64_t step) {
  torch::manual_seed(
      MixSeed(MixSeed(seed, 7000 + static_cast<uint64_t>(rank)), static_cast<uint64_t>(step)));
}

agents::MetricList ShardedUpdate(
    dist::GradientSync* sync, uint64_t seed, int64_t step, const std::vector<int64_t>& rows,
    const std::function<agents::MetricList(const std::vector<int64_t>&)>& update) {
  if (sync == nullptr) return update(rows);
  if (rows.empty()) throw Error("ShardedUpdate: an empty global batch");
  const int rank = sync->group().rank();
  ReseedForRank(seed, rank, step);
  std::vector<int64_t> shard = ShardRows(rows, rank, sync->group().size());
  sync->SetShare(static_cast<double>(shard.size()) / static_cast<double>(rows.size()));
  if (shard.empty()) shard.push_back(rows.front());
  agents::MetricList metrics = update(shard);
  std::vector<double> values;
  for (const auto& m : metrics) values.push_back(m.second);
  values = sync->ReduceShares(values);
  for (size_t i = 0; i < metrics.size(); ++i) metrics[i].second = values[i];
  return metrics;
}

}  // namespace recarena::experiments
