// Device choice as configs spell it (`run.device: auto|cpu|cuda`). Resolving it to a LibTorch
// device needs LibTorch, so that lives one layer up (models/device.h); core stays free of LibTorch.
#pragma once

namespace recarena {

enum class DeviceKind { kAuto, kCpu, kCuda };

}  // namespace recarena
