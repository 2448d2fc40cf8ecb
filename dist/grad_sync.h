// Data-parallel gradient averaging with DDP's arithmetic (Li et al., PyTorch Distributed, VLDB
// 2020), called explicitly after backward instead of through autograd hooks: each rank scales its
// gradients by its share of the global batch (its rows / the global batch's rows) and the scaled
// gradients are summed over the ranks in flat buckets of at most World::bucket_mb. When the loss is
// a mean over the batch's rows, every rank then holds the gradient of the global batch's mean loss
// — the single-process gradient, up to floating-point summation order — and takes the same
// optimizer step, so the replicas stay identical.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dist/process_group.h"

namespace recarena::dist {

class GradientSync {
 public:
  explicit GradientSync(ProcessGroup& group);  // not owned; must outlive this object

  // This rank's share of the next update's global batch, in [0, 1] (0: a rank whose shard is empty
  // computes its update on a stand-in row and contributes nothing).
  void SetShare(double share);
  double share() const { return share_; }

  // After backward: every parameter's gradient becomes the share-weighted sum over the ranks. A
  // parameter without a gradient on this rank takes zeros (allocated), so every rank reduces the
  // same buckets. parameters: the same list, in the same order, on every rank.
  void Synchronize(const std::vector<torch::Tensor>& parameters);
  // Makes every rank's parameters rank 0's (once, after construction or a load), as DDP does.
  void BroadcastParameters(const std::vector<torch::Tensor>& parameters);
  // The share-weighted sum over the ranks of per-update numbers (the loss terms an update reports).
  std::vector<double> ReduceShares(const std::vector<double>& values);
  // The plain sum over the ranks (counts, sums of squares): every rank gets the same numbers.
  std::vector<double> Sum(const std::vector<double>& values);

  ProcessGroup& group() { return group_; }
  int64_t bytes_reduced() const { return bytes_reduced_; }  // gradient bytes all-reduced so far
  int64_t synchronizations() const { return syncs_; }       // Synchronize calls so far

 private:
  ProcessGroup& group_;
  double share_ = 1.0;
  int64_t bytes_reduced_ = 0;
  int64_t syncs_ = 0;
};

}  // namespace recarena::dist
