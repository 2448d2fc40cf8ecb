// Device selection: config says auto|cpu|cuda; auto picks CUDA when LibTorch sees a GPU.
#pragma once

#include <c10/core/Device.h>

#include <string_view>

namespace recarena {

enum class DeviceKind { kAuto, kCpu, kCuda };

// Throws recarena::Error when cuda is requested but unavailable (never silently falls back).
c10::Device ResolveDevice(DeviceKind kind);
bool CudaAvailable();

}  // namespace recarena
