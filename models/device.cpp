#include "models/device.h"

#include <ATen/Context.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/version.h>

#ifdef RECARENA_HAS_CUDA_RUNTIME
#include <cuda_runtime_api.h>
#endif

#include "core/error.h"

namespace recarena::models {

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

namespace {
// CUDA encodes versions as major*1000 + minor*10 (runtime) and major*10000 + minor*100 + patch
// (cuDNN 9).
std::string CudaVersionString(long v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }
std::string CudnnVersionString(long v) {
  return fmt::format("{}.{}.{}", v / 10000, (v % 10000) / 100, v % 100);
}
}  // namespace

TorchBuildInfo QueryTorchBuild() {
  TorchBuildInfo info;
  info.libtorch_version = TORCH_VERSION;
  // hasCUDART() is true when LibTorch's CUDA library (libtorch_cuda) registered its hooks, with or
  // without a GPU; the default hooks of a CPU-only LibTorch answer false.
  const auto& ctx = at::globalContext();
  info.cuda_compiled = ctx.hasCUDART();
  if (info.cuda_compiled) {
    info.cuda_runtime = CudaVersionString(ctx.versionCUDART());
    if (ctx.hasCuDNN()) info.cudnn = CudnnVersionString(ctx.versionCuDNN());
  }
#ifdef RECARENA_HAS_CUDA_RUNTIME
  if (info.cuda_compiled && CudaAvailable()) {
    const int n = static_cast<int>(torch::cuda::device_count());
    for (int i = 0; i < n; ++i) {
      cudaDeviceProp p{};
      if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
      info.gpus.push_back({i, p.name,
                           static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024 * 1024), p.major,
                           p.minor});
    }
  }
#else
  if (info.cuda_compiled && CudaAvailable()) {
    const int n = static_cast<int>(torch::cuda::device_count());
    for (int i = 0; i < n; ++i) info.gpus.push_back({i, "(name unknown: built without cudart)"});
  }
#endif
  return info;
}

std::string FormatTorchBuild(const TorchBuildInfo& info) {
  std::string s = fmt::format("libtorch: {}\n", info.libtorch_version);
  s += fmt::format("cuda compiled in: {}", info.cuda_compiled ? "yes" : "no");
  if (info.cuda_compiled) s += fmt::format(" (CUDA runtime {})", info.cuda_runtime);
  s += "\n";
  if (!info.cudnn.empty()) s += fmt::format("cudnn: {}\n", info.cudnn);
  s += fmt::format("gpus: {}\n", info.gpus.size());
  for (const auto& g : info.gpus) {
    s += fmt::format("  cuda:{}: {}, {:.1f} GiB, compute capability {}.{}\n", g.index, g.name,
                     g.memory_gib, g.capability_major, g.capability_minor);
  }
  return s;
}

}  // namespace recarena::models
