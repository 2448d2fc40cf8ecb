#include "core/device.h"

#include <torch/cuda.h>

#include "core/error.h"

namespace recarena {

bool CudaAvailable() { return torch::cuda::is_available(); }

c10::Device ResolveDevice(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kCpu:
      return c10::Device(c10::kCPU);
    case DeviceKind::kCuda:
      if (!CudaAvailable()) {
        throw Error("run.device is 'cuda' but LibTorch sees no CUDA device (use 'auto' or 'cpu')");
      }
      return c10::Device(c10::kCUDA, 0);
    case DeviceKind::kAuto:
    default:
      return CudaAvailable() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
}

}  // namespace recarena
