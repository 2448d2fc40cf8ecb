// Counts, on the calling thread, the ATen calls that make the host wait for a CUDA device: scalar
// reads (Tensor::item, bool(tensor): aten::_local_scalar_dense), data-dependent shapes
// (aten::nonzero, aten::masked_select, aten::unique*), and copies between devices (aten::copy_
// whose source and destination devices differ: .to(kCPU), .cpu(), host -> device uploads). The
// first two are counted on every device, so the guard works on the CPU too (what is a no-op .cpu()
// on the CPU is counted on CUDA only). Implemented with a thread-local RecordFunction observer.
#pragma once

#include <cstdint>
#include <string>

namespace recarena::testing {

struct HostSyncCounts {
  int64_t scalar_reads = 0;
  int64_t data_dependent = 0;
  int64_t device_copies = 0;
  int64_t total() const { return scalar_reads + data_dependent + device_copies; }
  std::string str() const;
};

// Counts while alive (one at a time per thread).
class HostSyncCounter {
 public:
  HostSyncCounter();
  ~HostSyncCounter();
  HostSyncCounter(const HostSyncCounter&) = delete;
  HostSyncCounter& operator=(const HostSyncCounter&) = delete;
  const HostSyncCounts& counts() const { return counts_; }
  void Reset() { counts_ = {}; }

 private:
  HostSyncCounts counts_;
  uint64_t handle_ = 0;
};

}  // namespace recarena::testing
