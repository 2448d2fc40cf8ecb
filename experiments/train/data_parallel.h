// The data-parallel side of one update of a learner that trains on batches of rows (the windowed
// models, session_normal): each rank takes its contiguous shard of the global batch, weights its
// gradients by its share (dist/grad_sync.h) and reports the share-weighted sum of the update's
// metrics over the ranks (docs/distributed.md).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "agents/types.h"
#include "dist/grad_sync.h"

namespace recarena::experiments {

// Rank `rank`'s part of rows: [n rank / size, n (rank + 1) / size) (empty when n < size and this
// rank gets none).
std::vector<int64_t> ShardRows(const std::vector<int64_t>& rows, int rank, int size);

// Reseeds LibTorch's generator from (seed, rank, step): the ranks draw independent dropout / mask
// randomness, and a resumed rank draws what it would have.
void ReseedForRank(uint64_t seed, int rank, int64_t step);

// sync nullptr (one process): update(rows). Otherwise: reseeds LibTorch's generator from (seed,
// rank, step) so that ranks draw independent dropout / mask randomness and a resumed rank draws
// what it would have; runs update on this rank's shard with its share set in sync (a rank with an
// empty shard runs it on the batch's first row with share 0, so it still joins the all-reduce);
// returns the metrics summed over the ranks with the shares as weights. rows must not be empty.
agents::MetricList ShardedUpdate(
    dist::GradientSync* sync, uint64_t seed, int64_t step, const std::vector<int64_t>& rows,
    const std::function<agents::MetricList(const std::vector<int64_t>&)>& update);

}  // namespace recarena::experiments
