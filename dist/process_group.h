// A group of processes running one job: c10d's TCPStore for the rendezvous (rank 0 serves it at
// MASTER_ADDR:MASTER_PORT) and c10d's Gloo backend for the collectives — the engine LibTorch
// ships, not a protocol of recarena's own. Every wait is bounded by World::timeout_s: a peer that
// died makes a collective fail at once (its connection closes), one that hangs makes it fail when
// the timeout ends; either way the call throws recarena::Error naming the operation, this rank and
// the timeout, so no rank hangs silently.
//
// Ownership: the group owns the store and the backend; c10d's headers stay in process_group.cpp.
// Collectives are blocking and must be called by every rank in the same order with tensors of the
// same shapes and dtypes.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "dist/world.h"

namespace recarena::dist {

class ProcessGroup {
 public:
  // Connects to the other world.size - 1 processes; throws Error (naming MASTER_ADDR:MASTER_PORT
  // and the timeout) when they are not all there within world.timeout_s.
  explicit ProcessGroup(const World& world);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return world_.rank; }
  int size() const { return world_.size; }
  const World& world() const { return world_; }

  // In place: each tensor becomes the sum of that tensor over all ranks. `what` names the step in
  // errors ("gradients", "metrics").
  void AllReduceSum(std::vector<torch::Tensor>& tensors, const std::string& what);
  // In place: each tensor becomes root's.
  void Broadcast(std::vector<torch::Tensor>& tensors, int root, const std::string& what);
  void Barrier(const std::string& what);
  // Small strings through the store: Set on one rank, Get (waits up to the timeout) on the others.
  void Set(const std::string& key, const std::string& value);
  std::string Get(const std::string& key);

 private:
  struct Impl;
  World world_;
  std::unique_ptr<Impl> impl_;
};

// The group of this process's world, or nullptr when it runs alone (world.size == 1).
std::unique_ptr<ProcessGroup> JoinGroup(const World& world);

}  // namespace recarena::dist
