// Device selection: config says auto|cpu|cuda (core/device.h); auto picks CUDA when LibTorch sees a
// GPU. One binary serves both: the LibTorch it links (the PyPI torch wheel's, CUDA-enabled) runs on
// the CPU when no GPU is there, so nothing needs a second build.
#pragma once

#include <c10/core/Device.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/device.h"

namespace recarena::models {

// Throws recarena::Error when cuda is requested but unavailable (never silently falls back).
c10::Device ResolveDevice(DeviceKind kind);
bool CudaAvailable();

// One GPU as the CUDA runtime reports it.
struct GpuInfo {
  int index = 0;
  std::string name;
  double memory_gib = 0.0;
  int capability_major = 0, capability_minor = 0;
};

// What the linked LibTorch is and sees (`recarena info`, `recarena --version`).
struct TorchBuildInfo {
  std::string libtorch_version;  // e.g. "2.11.0" (TORCH_VERSION of the headers compiled against)
  bool cuda_compiled = false;    // LibTorch's CUDA library is linked and registered
  std::string cuda_runtime;      // e.g. "13.0" when cuda_compiled, else empty
  std::string cudnn;             // e.g. "9.19.0" when LibTorch has cuDNN, else empty
  std::vector<GpuInfo> gpus;     // empty without a visible GPU (or without cuda_compiled)
};

TorchBuildInfo QueryTorchBuild();
// Human-readable lines, one fact per line, ending in '\n'.
std::string FormatTorchBuild(const TorchBuildInfo& info);

}  // namespace recarena::models
